"""Server behaviour that depends on how it is started: initializationOptions, a client without
work-done progress, trust warnings and `.fusion.toml` saved in the editor."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from fake_openai import FakeOpenAI, Reply
from lsp_client import (
    code_actions,
    command,
    lines,
    open_document,
    project_with_fake_models,
    server_env,
    start,
    until,
)
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from reviewers import SAMPLE, finding, review

pytestmark = pytest.mark.asyncio(loop_scope="module")

TEXT = SAMPLE.read_text()
FIX = {"line_start": 5, "line_end": 5, "replacement": "    return 0.0"}
DIV = finding(5, "return total / len(values)", "Division by zero", fix=FIX)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI) -> Path:
    folder = tmp_path_factory.mktemp("options")
    return project_with_fake_models(folder, fake.base_url, ["alpha", "beta"], "judge")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(root: Path) -> AsyncIterator[LanguageClient]:
    lsp = await start(
        root, server_env(root / "xdg", "sk-test"), "visual-studio-code", {"mode": "best-of"}
    )
    yield lsp
    await lsp.shutdown_session()
    await lsp.stop()


def without_progress() -> types.ClientCapabilities:
    """A client like VS Code, but one that cannot show work-done progress."""
    capabilities = client_capabilities("visual-studio-code")
    assert capabilities.window is not None
    capabilities.window.work_done_progress = False
    return capabilities


@pytest.fixture(autouse=True)
def fresh(fake: FakeOpenAI) -> None:
    fake.reset()


async def test_initialization_options_choose_the_mode(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    fake.script("alpha", Reply(content=review(DIV)))
    fake.script("beta", Reply(content=review()))
    fake.script("judge", Reply(content=json.dumps({"winner": "A", "scores": {}, "reason": "r"})))
    uri = open_document(client, root / "init.py", TEXT)

    await command(client, "fusion.review", uri, lines(1, 10))

    assert "Score each whole answer" in fake.requests_for("judge")[0].prompt_text


async def test_quick_fix_is_preferred_when_every_model_agreed(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    fake.script("alpha", Reply(content=review(DIV)))
    fake.script("beta", Reply(content=review(DIV)))
    uri = open_document(client, root / "preferred.py", TEXT)
    await command(client, "fusion.review", uri, lines(1, 10))
    [diagnostic] = client.diagnostics[uri]

    actions = await code_actions(client, uri, 5, 5, [diagnostic])

    [fix] = [a for a in actions if a.title.startswith("Fusion: apply fix")]
    assert diagnostic.message.endswith("(2/2 models)")
    assert fix.is_preferred is True
    assert fake.requests_for("judge") == []  # every model agreed: no judge call


async def test_untrusted_project_providers_warn_once(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    project = root / "untrusted"
    project.mkdir()
    config = project / ".fusion.toml"
    config.write_text('[providers.evil]\nbase_url = "http://127.0.0.1:9/v1"\n')
    fake.script("alpha", Reply(content=review()))
    fake.script("beta", Reply(content=review()))
    uri = open_document(client, project / "code.py", TEXT)
    before = len(client.messages)

    await command(client, "fusion.review", uri, lines(1, 3))
    await command(client, "fusion.review", uri, lines(1, 4))

    warnings = [m for m in client.messages[before:] if "fusion-ls trust" in m.message]
    assert len(warnings) == 1 and warnings[0].type == types.MessageType.Warning
    [shown] = client.diagnostics[config.as_uri()]
    assert shown.severity == types.DiagnosticSeverity.Warning and shown.range.start.line == 0


async def test_saving_fusion_toml_reloads_it(client: LanguageClient, root: Path) -> None:
    project = root / "saved"
    project.mkdir()
    config = project / ".fusion.toml"
    uri = open_document(client, config, '[fusion]\nmode = "merge"\n')
    config.write_text('[fusion]\nmode = "loud"\n')

    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )

    await until(lambda: bool(client.diagnostics.get(uri)))
    [problem] = client.diagnostics[uri]
    assert problem.range.start.line == 1 and "fusion.mode" in problem.message


async def test_without_progress_support_a_summary_message_is_shown(
    root: Path, fake: FakeOpenAI
) -> None:
    fake.script("alpha", Reply(content=review(DIV)))
    fake.script("beta", Reply(content=review(DIV)))
    lsp = await start(root, server_env(root / "xdg", "sk-test"), without_progress())
    try:
        uri = open_document(lsp, root / "plain.py", TEXT)
        await command(lsp, "fusion.review", uri, lines(1, 10))
        summaries = [m.message for m in lsp.messages if "finding" in m.message]
        assert summaries and summaries[-1].startswith("fusion-ls: 1 finding (merge,")
        assert lsp.progress_reports == {}
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


async def test_invalid_editor_options_are_reported_and_ignored(
    root: Path, fake: FakeOpenAI
) -> None:
    fake.script("alpha", Reply(content=review(DIV)))
    fake.script("beta", Reply(content=review()))
    fake.script("judge", Reply(content=review(DIV)))
    lsp = await start(root, server_env(root / "xdg", "sk-test"), "neovim", {"mode": "vote"})
    try:
        await until(lambda: any("editor settings ignored" in m.message for m in lsp.messages))
        uri = open_document(lsp, root / "still-works.py", TEXT)
        result = await command(lsp, "fusion.review", uri, lines(1, 10))
        assert result["status"] == "ok"
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


async def test_shutdown_with_reviews_in_flight_closes_every_connection(
    root: Path, fake: FakeOpenAI
) -> None:
    fake.script("alpha", Reply(content=review(DIV), delay_s=10))
    fake.script("beta", Reply(content=review(DIV), delay_s=10))
    lsp = await start(root, server_env(root / "xdg", "sk-test"), "neovim")
    uri = open_document(lsp, root / "shutdown.py", TEXT)
    params = types.ExecuteCommandParams(command="fusion.review", arguments=[uri, lines(1, 10)])
    lsp.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params)
    await until(lambda: len(fake.requests) == 2)

    await lsp.shutdown_session()  # shutdown, exit, and wait for the process to end
    await lsp.stop()

    await until(lambda: fake.disconnects == 2)
    assert lsp._server is not None and lsp._server.returncode == 0


async def test_the_server_never_prints_a_key(
    root: Path, fake: FakeOpenAI, capfd: pytest.CaptureFixture[str]
) -> None:
    key = "sk-or-v1-" + "e" * 64
    fake.script("alpha", Reply(status=401, error=f"Incorrect API key provided: {key}"))
    fake.script("beta", Reply(status=500, error=f"upstream said {key}"))
    env = {**server_env(root / "xdg", key), "FUSION_LS_LOG": "DEBUG"}
    lsp = await start(root, env, "neovim")
    try:
        uri = open_document(lsp, root / "keyscan.py", TEXT)
        result = await command(lsp, "fusion.review", uri, lines(1, 10))
        assert result["status"] == "ok"
    finally:
        await lsp.shutdown_session()
        await lsp.stop()

    printed = capfd.readouterr()
    said = [m.message for m in lsp.messages]
    everything = "\n".join([printed.out, printed.err, *said, str(lsp.diagnostics)])
    assert "OPENROUTER_API_KEY" in "\n".join(said)  # the 401 names the variable to check
    assert "DEBUG" in printed.err  # the server's debug log was captured and scanned
    assert key not in everything and key[-24:] not in everything


async def test_offline_review_with_local_analyzers_is_announced_once(
    root: Path, fake: FakeOpenAI
) -> None:
    env = server_env(root / "xdg", "unused")
    del env["OPENROUTER_API_KEY"]
    lsp = await start(root, env, "neovim")
    try:
        uri = open_document(lsp, root / "offline.py", TEXT)
        first = await command(lsp, "fusion.review", uri, lines(1, 10))
        await command(lsp, "fusion.review", uri, lines(1, 12))
        notices = [m.message for m in lsp.messages if "local analyzers only" in m.message]
        assert first["status"] == "ok"
        assert len(notices) == 1 and "OPENROUTER_API_KEY is not set" in notices[0]
        sql = [d.message for d in lsp.diagnostics[uri] if "SQL injection" in d.message]
        assert len(sql) == 1 and sql[0].endswith("(2/2 analyzers)")  # ruff's S608, bandit's B608
        assert fake.requests == []
    finally:
        await lsp.shutdown_session()
        await lsp.stop()
