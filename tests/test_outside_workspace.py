"""Files outside the workspace: refused by the server unless the user allows them, and excludes
hold for them too (an editor opens `/etc/passwd` as readily as project code)."""

from __future__ import annotations

from pathlib import Path

from fake_openai import FakeOpenAI, Reply
from lsp_client import command, lines, open_document, project_with_fake_models, server_env, start
from reviewers import DIV, review

from fusion_ls.engine.exclude import excluded_by

TEXT = "def mean(values):\n    return sum(values) / len(values)\n"


def scripted(fake: FakeOpenAI) -> None:
    for model in ("alpha", "beta", "judge"):
        fake.script(model, Reply(content=review(DIV)))


async def test_a_file_outside_the_workspace_is_refused_unless_allowed(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    scripted(fake_openai)
    root = project_with_fake_models(tmp_path / "ws", fake_openai.base_url, ["alpha"], "judge")
    outside = tmp_path / "elsewhere" / "notes.py"
    outside.parent.mkdir()
    outside.write_text(TEXT)
    env = server_env(root / "xdg", "sk-test")

    lsp = await start(root, env, "visual-studio-code")
    try:
        uri = open_document(lsp, outside, TEXT)
        refused = await command(lsp, "fusion.review", uri, lines(1, 2))
    finally:
        await lsp.shutdown_session()
        await lsp.stop()
    assert refused["status"] == "error"
    assert "outside every workspace folder" in refused["message"]
    assert "fusion.allowOutsideWorkspace" in refused["message"]
    assert fake_openai.requests == []

    lsp = await start(root, env, "visual-studio-code", {"allow_outside_workspace": True})
    try:
        uri = open_document(lsp, outside, TEXT)
        allowed = await command(lsp, "fusion.review", uri, lines(1, 2))
    finally:
        await lsp.shutdown_session()
        await lsp.stop()
    assert allowed["status"] == "ok"
    assert fake_openai.requests_for("alpha")


async def test_excludes_hold_outside_the_workspace_even_when_allowed(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    scripted(fake_openai)
    root = project_with_fake_models(tmp_path / "ws", fake_openai.base_url, ["alpha"], "judge")
    secret = tmp_path / "etc" / "passwd"
    secret.parent.mkdir()
    secret.write_text(TEXT)
    (root / ".fusionignore").write_text(f"{secret.resolve().as_posix()}\n")
    options = {"allow_outside_workspace": True}

    lsp = await start(root, server_env(root / "xdg", "sk-test"), "neovim", options)
    try:
        uri = open_document(lsp, secret, TEXT)
        result = await command(lsp, "fusion.reviewFile", uri)
    finally:
        await lsp.shutdown_session()
        await lsp.stop()
    assert result["status"] == "error" and "never sent to a model" in result["message"]
    assert fake_openai.requests == []


def test_anchored_patterns_match_a_file_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    key = tmp_path / "home" / "me" / ".ssh" / "config"
    key.parent.mkdir(parents=True)
    key.touch()
    home = tmp_path.resolve().as_posix()

    assert excluded_by(key, root, [f"{home}/home/*/.ssh/"]) is not None
    assert excluded_by(key, root, ["config"]) is not None  # unanchored: any file so named
    assert excluded_by(key, root, ["/config"]) is None  # anchored at the root: not this one
    assert excluded_by(tmp_path / "x" / "server.pem", root, []) is not None  # built-in
