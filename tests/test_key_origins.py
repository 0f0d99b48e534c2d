"""Keys stay with their origin: the attack matrix of hostile project files, untrusted and trusted.

Two loopback servers: `home`, where the user's config sends their key, and `attacker`, which a
repository's `.fusion.toml` tries to point at. For every hostile file, before and after
`fusion-ls trust`, the attacker must never see the key. It may see requests: a trusted project
may point models at its own server; only the key may not follow.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cli_workspace import Run, Workspace
from fake_openai import FakeOpenAI, Reply
from reviewers import DIV, SAMPLE, review

from fusion_ls.config.keys import bind_keys, origin
from fusion_ls.config.settings import ProviderSettings, Settings
from fusion_ls.config.trust import is_trusted, trust_file

KEY = "sk-or-v1-home-key-0123456789abcdef0123456789"
POOL = '["alpha", "beta"]'


@pytest.fixture
def home() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        for model in ("alpha", "beta", "judge"):
            fake.script(model, Reply(content=review(DIV)))
        yield fake


@pytest.fixture
def attacker() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        for model in ("alpha", "beta", "judge"):
            fake.script(model, Reply(content=review(DIV)))
        yield fake


def hostile_files(attacker: str, home: str) -> dict[str, str]:
    """Each attack as a project `.fusion.toml` (the symlink case links to one elsewhere)."""
    same_name = f'[providers.openrouter]\nbase_url = "{attacker}"\n'
    return {
        "same-name provider": same_name,
        "same name and extra headers": same_name + 'headers = { "X-Forwarded-Host" = "evil" }\n',
        "new provider reusing the key variable": (
            f'[fusion]\npool = [{{ model = "alpha", provider = "evil" }}]\n\n'
            f'[providers.evil]\nbase_url = "{attacker}"\napi_key_env = "OPENROUTER_API_KEY"\n'
        ),
        "kind switch": same_name + 'kind = "openrouter"\n',
        "headers on the home origin": (
            f'[providers.openrouter]\nbase_url = "{home}"\n'
            f'headers = {{ "Authorization" = "Bearer steal", "X-Relay" = "{attacker}" }}\n'
        ),
        "symlinked file": same_name,
        "port change": same_name.replace("127.0.0.1", "localhost"),
        "dot-dot path from the home origin": (
            f'[providers.openrouter]\nbase_url = "{home}/../../{urlsplit(attacker).netloc}/v1"\n'
        ),
        "dot-dot path to the attacker": f'[providers.openrouter]\nbase_url = "{attacker}/../v1"\n',
    }


def workspace(tmp_path: Path, home: FakeOpenAI, name: str, text: str) -> Workspace:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(SAMPLE, root / "sample.py")
    if name == "symlinked file":
        elsewhere = tmp_path / "elsewhere" / "shared.toml"
        elsewhere.parent.mkdir()
        elsewhere.write_text(text)
        (root / ".fusion.toml").symlink_to(elsewhere)
    else:
        (root / ".fusion.toml").write_text(text)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(root / "xdg"),  # where Workspace.user_config writes
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "OPENROUTER_API_KEY": KEY,
    }
    space = Workspace(root, env)
    space.user_config(
        f'[providers.openrouter]\nbase_url = "{home.base_url}"\nkind = "compatible"\n'
        f'max_retries = 0\n\n[fusion]\npool = {POOL}\njudge = "judge"\n'
    )
    return space


def keys_seen(fake: FakeOpenAI) -> list[str]:
    return [
        value
        for request in [*fake.requests, *fake.lookups]
        for value in request.headers.values()
        if KEY in value
    ]


ATTACKS = list(hostile_files("ATTACKER", "HOME"))


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_project_file_sends_the_key_to_another_origin(
    tmp_path: Path, home: FakeOpenAI, attacker: FakeOpenAI, attack: str
) -> None:
    text = hostile_files(attacker.base_url, home.base_url)[attack]
    space = workspace(tmp_path, home, attack, text)

    untrusted = space.run("review", "sample.py", "--quiet", "--no-cache")
    trusting = space.run("trust")
    if attack == "symlinked file":  # a link out of the repository is not trusted at all
        assert trusting.code == 2 and "outside this repository" in trusting.err
    else:
        assert trusting.code == 0, trusting.err
    trusted = space.run("review", "sample.py", "--quiet", "--no-cache")

    assert keys_seen(attacker) == [], attack
    for run in (untrusted, trusted):
        assert KEY not in run.out + run.err
    assert "API key" not in untrusted.err or "fusion-ls trust" in untrusted.err
    if attacker.requests:  # trusted, the models went to the project's server, keyless
        assert "API key" in trusted.err  # the warning says the key stayed home
    assert all(KEY not in r.headers.get("authorization", "") for r in attacker.requests)


def test_a_redirect_from_home_is_not_followed(
    tmp_path: Path, home: FakeOpenAI, attacker: FakeOpenAI
) -> None:
    home.script("alpha", Reply(status=307, headers={"Location": f"{attacker.base_url}/chat"}))
    space = workspace(tmp_path, home, "plain", "")

    result: Run = space.run("review", "sample.py", "--format", "json", "--no-cache")

    assert keys_seen(attacker) == [] and attacker.requests == []
    assert "redirects to" in result.out


def test_the_home_origin_keeps_its_key(tmp_path: Path, home: FakeOpenAI) -> None:
    """A trusted project may change the path on the same origin, or add a keyless provider."""
    text = (
        f'[providers.openrouter]\nbase_url = "{home.base_url}"\nmax_retries = 0\n\n'
        '[providers.local]\nbase_url = "http://127.0.0.1:9/v1"\n'
    )
    space = workspace(tmp_path, home, "plain", text)
    assert space.run("trust").code == 0

    result = space.run("review", "sample.py", "--quiet", "--no-cache")

    assert result.code == 0, result.err
    assert home.requests and all(
        r.headers["authorization"] == f"Bearer {KEY}" for r in home.requests
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://openrouter.ai/api/v1", ("https", "openrouter.ai", 443)),
        ("https://OpenRouter.ai:443/other", ("https", "openrouter.ai", 443)),
        ("http://localhost:11434/v1", ("http", "localhost", 11434)),
        ("http://127.0.0.1/v1", ("http", "127.0.0.1", 80)),
    ],
)
def test_origin(url: str, expected: tuple[str, str, int]) -> None:
    assert origin(url) == expected


def test_bind_keys_keeps_what_user_config_gave() -> None:
    user_level = Settings().providers
    moved = ProviderSettings(base_url="https://openrouter.ai.evil.example/api/v1")
    kept, dropped = bind_keys(Settings(), user_level)
    assert dropped == {} and kept.providers["openrouter"].api_key_env == "OPENROUTER_API_KEY"

    key = {"api_key_env": "OPENROUTER_API_KEY"}
    hostile = Settings().model_copy(
        update={"providers": {"openrouter": moved.model_copy(update=key)}}
    )
    bound, dropped = bind_keys(hostile, user_level)
    assert bound.providers["openrouter"].api_key_env is None
    assert (
        "not the origin your user config gives it (https://openrouter.ai:443)"
        in (dropped["openrouter"])
    )


# -- trust of links ----------------------------------------------------------------------------


def test_a_link_is_trusted_by_its_own_path_not_its_targets(tmp_path: Path) -> None:

    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    repo = tmp_path / "repo"
    (repo / "config").mkdir(parents=True)
    (repo / "config" / "fusion.toml").write_text('[fusion]\nmode = "merge"\n')
    (repo / ".fusion.toml").symlink_to(repo / "config" / "fusion.toml")
    other = tmp_path / "other"
    other.mkdir()
    (other / ".fusion.toml").symlink_to(repo / "config" / "fusion.toml")

    trust_file(repo / ".fusion.toml", env)

    assert is_trusted(repo / ".fusion.toml", env)
    assert not is_trusted(other / ".fusion.toml", env)  # same target, another repository
    assert not is_trusted(repo / "config" / "fusion.toml", env)
