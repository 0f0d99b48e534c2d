"""`fusion-ls init`: a starter .fusion.toml that passes `config check` as written, with a local
provider when Ollama or LM Studio answers (played by the fake server on a port of its own)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from cli_workspace import Workspace
from fake_openai import FakeOpenAI, Reply
from reviewers import DIV, review

from fusion_ls.cli.init import PORTS_ENV
from fusion_ls.config.settings import FusionSettings
from fusion_ls.config.toml_lines import tomllib

LOCAL_MODELS = ("qwen2.5-coder:7b", "llama3.1:8b", "deepseek-coder-v2:16b", "phi3:mini")


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_of(fake: FakeOpenAI) -> int:
    return int(urlsplit(fake.base_url).port or 0)


def nothing_local(workspace: Workspace) -> Workspace:
    """Neither local server answers, whatever runs on this machine's default ports."""
    ports = f"{closed_port()},{closed_port()}"
    return Workspace(workspace.root, {**workspace.env, PORTS_ENV: ports})


def test_init_writes_a_commented_file_that_config_check_accepts(workspace: Workspace) -> None:
    space = nothing_local(workspace)

    made = space.run("init")
    checked = space.run("config", "check")

    assert made.code == 0, made.err
    written = (workspace.root / ".fusion.toml").read_text()
    data = tomllib.loads(written)
    assert data["fusion"]["mode"] == "merge"
    assert data["fusion"]["pool"] == [ref.model for ref in FusionSettings().pool]
    assert "providers" not in data
    assert '#   "debate": ' in written and '"tool:ruff"' in written  # the choices, commented
    assert checked.code == 0, checked.err
    assert "anthropic/claude-sonnet-4.5" in checked.out


def test_init_never_overwrites(workspace: Workspace) -> None:
    space = nothing_local(workspace)
    target = workspace.root / ".fusion.toml"
    target.write_text('[fusion]\nmode = "debate"\n')

    result = space.run("init")

    assert result.code == 2
    assert "already exists; edit it, or remove it and run `fusion-ls init` again" in result.err
    assert target.read_text() == '[fusion]\nmode = "debate"\n'


@pytest.mark.parametrize(("slot", "name"), [(0, "Ollama"), (1, "LM Studio")])
def test_init_finds_a_local_server_and_uses_its_models_without_a_key(
    workspace: Workspace, fake_openai: FakeOpenAI, slot: int, name: str
) -> None:
    for model in LOCAL_MODELS:
        fake_openai.script(model, Reply(content=review(DIV)))
    ports = [str(closed_port()), str(closed_port())]
    ports[slot] = str(port_of(fake_openai))
    env = {k: v for k, v in workspace.env.items() if k != "OPENROUTER_API_KEY"}
    space = Workspace(workspace.root, {**env, PORTS_ENV: ",".join(ports)})

    made = space.run("init")

    assert made.code == 0, made.err
    assert f"found {name} at http://127.0.0.1:{ports[slot]} (4 models)" in made.out
    data = tomllib.loads((workspace.root / ".fusion.toml").read_text())
    assert data["providers"]["local"] == {"base_url": f"http://127.0.0.1:{ports[slot]}/v1"}
    assert data["fusion"]["pool"] == [
        {"model": model, "provider": "local"} for model in sorted(LOCAL_MODELS)[:3]
    ]  # the first three the server lists (the fake lists them sorted)
    checked = space.run("config", "check")
    assert checked.code == 0, checked.err
    assert "providers in this project file are ignored" not in checked.err  # init trusted it
    # And a review works at once, with no key: the local models answer.
    reviewed = space.run("review", "sample.py", "--format", "json", "--quiet")
    assert reviewed.code == 0, reviewed.err
    assert {run.status for run in reviewed.json().models} == {"ok"}


def test_with_a_key_set_the_cloud_pool_stays_and_the_local_one_is_offered(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(LOCAL_MODELS[0], Reply(content=review()))
    ports = f"{port_of(fake_openai)},{closed_port()}"
    space = Workspace(workspace.root, {**workspace.env, PORTS_ENV: ports})

    assert space.run("init").code == 0

    written = (workspace.root / ".fusion.toml").read_text()
    assert tomllib.loads(written)["fusion"]["pool"] == [ref.model for ref in FusionSettings().pool]
    assert f'# pool = [{{ model = "{LOCAL_MODELS[0]}", provider = "local" }}]' in written
