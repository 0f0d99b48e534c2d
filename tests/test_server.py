"""The language server end to end: a real subprocess over stdio, driven like VS Code and Neovim.

One server per client profile serves the whole module; each test works on its own file.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from fake_openai import FakeOpenAI, Reply
from lsp_client import (
    PROFILES,
    apply_edit,
    change,
    code_actions,
    command,
    hover,
    lines,
    open_document,
    project_with_fake_models,
    server_env,
    start,
    until,
)
from lsprotocol import types
from pytest_lsp import LanguageClient
from reviewers import DIV, DIV_B, SAMPLE, SQLI, merging_judge, review

pytestmark = pytest.mark.asyncio(loop_scope="module")

KEY = "sk-or-v1-server-test-key"
TEXT = SAMPLE.read_text()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI) -> Path:
    folder = tmp_path_factory.mktemp("project")
    pool = ["alpha", "beta", "gamma"]
    return project_with_fake_models(
        folder, fake.base_url, pool, "judge", "straggler_grace_s = 30\n"
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=PROFILES)
async def client(request: pytest.FixtureRequest, root: Path) -> AsyncIterator[LanguageClient]:
    lsp = await start(root, server_env(root / "xdg", KEY), request.param)
    yield lsp
    await lsp.shutdown_session()
    await lsp.stop()


@pytest.fixture(autouse=True)
def fresh(fake: FakeOpenAI) -> None:
    fake.reset()


def script(fake: FakeOpenAI, delay: float = 0.0) -> None:
    fake.script("alpha", Reply(content=review(DIV, SQLI), delay_s=delay))
    fake.script("beta", Reply(content=review(SQLI), delay_s=delay))
    fake.script("gamma", Reply(content=review(DIV_B), delay_s=delay))
    fake.script("judge", merging_judge)


def document(client: LanguageClient, root: Path, name: str, text: str = TEXT) -> str:
    return open_document(client, root / name, text)


async def test_code_actions_offer_review_and_explain_on_a_selection(
    client: LanguageClient, root: Path
) -> None:
    uri = document(client, root, "actions.py")

    on_selection = await code_actions(client, uri, 1, 5)
    on_cursor = await code_actions(client, uri, 3, 3)

    assert [a.title for a in on_selection] == [
        "Fusion: review selection",
        "Fusion: explain selection",
        "Fusion: review file",
    ]
    review_action = on_selection[0]
    assert review_action.command is not None and review_action.command.command == "fusion.review"
    assert review_action.command.arguments and review_action.command.arguments[0] == uri
    assert [a.title for a in on_cursor] == ["Fusion: review file"]


async def test_review_publishes_versioned_diagnostics_with_agreement(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    uri = document(client, root, "review.py")

    result = await command(client, "fusion.review", uri, lines(1, 10))

    assert result["status"] == "ok" and result["findings"] == 2
    diagnostics = sorted(client.diagnostics[uri], key=lambda d: d.range.start.line)
    assert [(d.range.start.line, d.range.start.character) for d in diagnostics] == [(4, 4), (8, 4)]
    first = diagnostics[0]
    assert first.source == "fusion" and first.code == "bug"
    assert first.severity == types.DiagnosticSeverity.Error
    assert first.message == "Division by zero when values is empty (2/3 models)"
    assert diagnostics[1].message.endswith("(2/3 models)")
    assert isinstance(first.data, dict) and len(first.data["id"]) == 12


async def test_hover_shows_reasoning_models_fix_and_cost(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    uri = document(client, root, "hover.py")
    await command(client, "fusion.review", uri, lines(1, 10))

    text = await hover(client, uri, 5)

    assert text is not None
    assert "Division by zero when values is empty" in text
    assert "`len(values)` is 0 for an empty list." in text
    assert "`alpha`" in text and "`gamma`" in text
    assert "ZeroDivisionError on an empty list" in text  # what gamma said, differently
    assert "```diff" in text and "+    return total / len(values) if values else 0.0" in text
    assert "| `judge` (judge) | ok |" in text and "tokens" in text
    assert await hover(client, uri, 2) is None


async def test_quick_fix_applies_the_fused_fix(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    uri = document(client, root, "fix.py")
    await command(client, "fusion.review", uri, lines(1, 10))
    diagnostic = next(d for d in client.diagnostics[uri] if d.code == "bug")

    actions = await code_actions(client, uri, 5, 5, [diagnostic])

    [fix] = [a for a in actions if a.title.startswith("Fusion: apply fix")]
    assert fix.title == "Fusion: apply fix — Division by zero when values is empty"
    assert fix.kind == types.CodeActionKind.QuickFix
    assert fix.is_preferred is False  # 2 of 3 models, not all
    assert fix.edit is not None
    change_ = fix.edit.document_changes[0]  # type: ignore[index]
    assert isinstance(change_, types.TextDocumentEdit) and change_.text_document.version == 1
    fixed = apply_edit(TEXT, fix.edit)
    assert fixed.splitlines()[4] == "    return total / len(values) if values else 0.0"
    assert fixed.splitlines()[:4] == TEXT.splitlines()[:4]
    assert fixed.splitlines()[5:] == TEXT.splitlines()[5:]


async def test_review_with_the_cursor_after_the_last_newline(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    """Ctrl+End in a file ending with a newline: the cursor is on a line with no text, and the
    review covers the last line instead of failing with "past the end"."""
    script(fake)
    uri = document(client, root, "ctrl_end.py")
    after_last = len(TEXT.splitlines())  # 0-based: the line after the last one
    cursor = {"line": after_last, "character": 0}

    result = await command(client, "fusion.review", uri, {"start": cursor, "end": cursor})

    assert result["status"] == "ok", result


async def test_columns_are_utf16_whatever_encoding_the_client_prefers(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    """Neovim offers UTF-8 first and eglot UTF-32; the server counts in UTF-16, so it must say
    so, or a finding on a line with non-ASCII text ends short of the line's end."""
    script(fake)
    line = '    qüéry😀 = "SELECT * FROM users WHERE id = " + user_id'
    text = TEXT.replace('    query = "SELECT * FROM users WHERE id = " + user_id', line)
    uri = document(client, root, "unicode.py", text)

    await command(client, "fusion.review", uri, lines(1, 10))

    assert client.server_capabilities.position_encoding == "utf-16"  # type: ignore[attr-defined]
    [sqli] = [d for d in client.diagnostics[uri] if d.range.start.line == 8]
    assert sqli.range.end.character == len(line.encode("utf-16-le")) // 2


async def test_no_quick_fix_once_its_text_was_rewritten(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    """The fix was computed for line 5 as it was; after the user rewrote that line, applying
    it would overwrite their edit, so it is not offered (the finding itself may stay)."""
    script(fake)
    uri = document(client, root, "rewritten.py")
    await command(client, "fusion.review", uri, lines(1, 10))
    diagnostic = next(d for d in client.diagnostics[uri] if d.code == "bug")

    change(client, uri, 2, 5, "    return total / max(len(values), 1)")
    actions = await code_actions(client, uri, 5, 5, [diagnostic])

    assert [a for a in actions if a.title.startswith("Fusion: apply fix")] == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500, error="down"),
        Reply(content=json.dumps({"explanation": " \n"})),  # blank: an invalid answer
    ],
    ids=["failing", "blank"],
)
async def test_an_explanation_no_model_gave_is_an_error_not_an_empty_window(
    client: LanguageClient, root: Path, fake: FakeOpenAI, reply: Reply
) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake.script(model, reply)
    uri = document(client, root, "unexplained.py")
    known, shown = set(client.progress_reports), len(client.messages)

    result = await command(client, "fusion.explain", uri, lines(1, 5))

    assert result["status"] == "error" and result["message"], result
    assert await hover(client, uri, 3) is None
    [token] = set(client.progress_reports) - known
    end = client.progress_reports[token][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message == "no explanation"
    [told] = client.messages[shown:]  # said once, as an error
    assert told.type == types.MessageType.Error and "no model answered" in told.message


async def test_explain_then_hover_shows_the_explanation(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    for model in ("alpha", "beta"):
        fake.script(model, Reply(content=json.dumps({"explanation": f"{model} says: averages."})))
    fake.script("gamma", Reply(status=500, error="down"))
    fake.script("judge", Reply(content=json.dumps({"explanation": "Computes a mean [A][B]."})))
    uri = document(client, root, "explain.py")

    result = await command(client, "fusion.explain", uri, lines(1, 5))

    assert result["status"] == "ok"
    for line in (1, 3, 5):
        text = await hover(client, uri, line)
        assert text is not None and "Computes a mean [" in text and "[A]" not in text
    assert await hover(client, uri, 9) is None


async def test_cancel_request_aborts_the_model_calls(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake, delay=10)
    uri = document(client, root, "cancel.py")
    params = types.ExecuteCommandParams(command="fusion.review", arguments=[uri, lines(1, 10)])
    future = client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="c-1")
    await until(lambda: len(fake.requests) == 3)

    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="c-1"))

    await until(lambda: fake.disconnects == 3)
    await until(future.done)
    assert not client.diagnostics.get(uri)


async def test_cancelling_the_progress_aborts_the_review(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake, delay=10)
    uri = document(client, root, "progress-cancel.py")
    known = set(client.progress_reports)
    task = asyncio.ensure_future(command(client, "fusion.review", uri, lines(1, 10)))
    await until(lambda: len(fake.requests) == 3 and len(client.progress_reports) > len(known))
    [token] = set(client.progress_reports) - known

    client.protocol.notify(
        types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token=token)
    )

    assert (await asyncio.wait_for(task, 10))["status"] == "cancelled"
    await until(lambda: fake.disconnects == 3)
    begin = client.progress_reports[token][0]
    assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable


async def test_progress_reports_models_and_judging(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    # Reports made before the editor has agreed to the progress are folded into its begin (the
    # models are not kept waiting for that round trip); models as slow as real ones answer after.
    script(fake, delay=0.2)
    uri = document(client, root, "progress.py")
    known = set(client.progress_reports)

    await command(client, "fusion.review", uri, lines(1, 10))

    [token] = set(client.progress_reports) - known
    messages = [getattr(r, "message", None) for r in client.progress_reports[token]]
    assert "round 1: 3/3 answered" in messages
    assert "round 1: 3/3 answered · judging…" in messages
    assert messages[-1] == "2 findings"


async def test_an_edit_during_the_review_moves_its_results(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake, delay=0.5)
    uri = document(client, root, "edit-during.py")
    task = asyncio.ensure_future(command(client, "fusion.review", uri, lines(1, 10)))
    await until(lambda: len(fake.requests) == 3)

    change(client, uri, 2, 1, "import math\n\n")  # two lines above everything
    result = await asyncio.wait_for(task, 10)

    assert result["status"] == "ok"
    diagnostics = sorted(client.diagnostics[uri], key=lambda d: d.range.start.line)
    assert [d.range.start.line for d in diagnostics] == [6, 10]


async def test_edits_after_publishing_move_or_drop_diagnostics(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    uri = document(client, root, "edit-after.py")
    await command(client, "fusion.review", uri, lines(1, 10))

    change(client, uri, 2, 1, "# header\n")
    await until(lambda: [d.range.start.line for d in client.diagnostics[uri]] == [5, 9])
    change(client, uri, 3, 10, "    query = query.strip()  # edited\n    ")  # edits line 9 → 10

    await until(lambda: [d.range.start.line for d in client.diagnostics[uri]] == [5])


async def test_a_new_review_of_the_same_range_cancels_the_old(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake, delay=1.0)
    uri = document(client, root, "again.py")
    first = asyncio.ensure_future(command(client, "fusion.review", uri, lines(1, 10)))
    await until(lambda: len(fake.requests) == 3)

    second = await command(client, "fusion.review", uri, lines(1, 10))

    assert (await asyncio.wait_for(first, 10))["status"] == "cancelled"
    assert second["status"] == "ok"
    await until(lambda: fake.disconnects == 3)


async def test_closing_clears_diagnostics_and_cancels_reviews(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    uri = document(client, root, "close.py")
    await command(client, "fusion.review", uri, lines(1, 10))
    assert client.diagnostics[uri]
    script(fake, delay=10)
    task = asyncio.ensure_future(command(client, "fusion.review", uri, lines(1, 3)))
    await until(lambda: len(fake.requests) == 3 + 1 + 3)

    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )

    assert (await asyncio.wait_for(task, 10))["status"] == "cancelled"
    await until(lambda: not client.diagnostics[uri])


async def test_clear_command_removes_findings(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    uri = document(client, root, "clear.py")
    await command(client, "fusion.review", uri, lines(1, 10))

    await command(client, "fusion.clear", uri)

    assert not client.diagnostics[uri]
    assert await hover(client, uri, 5) is None


async def test_hover_and_code_actions_answer_while_reviews_run(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake, delay=3)
    uris = [document(client, root, f"busy{n}.py") for n in range(3)]
    running = [
        asyncio.ensure_future(command(client, "fusion.review", uri, lines(1, 10))) for uri in uris
    ]
    await until(lambda: len(fake.requests) == 9)

    actions = await asyncio.wait_for(code_actions(client, uris[0], 1, 5), 2)
    text = await asyncio.wait_for(hover(client, uris[1], 5), 2)

    assert actions and text is None
    assert not any(task.done() for task in running)
    await asyncio.gather(*running)


async def test_review_file_covers_the_whole_document(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    uri = document(client, root, "whole.py")

    result = await command(client, "fusion.reviewFile", uri)

    assert result["status"] == "ok"
    sent = fake.requests_for("alpha")[0].prompt_text
    assert 'reviewed="1-14"' in sent


async def test_no_model_answering_is_one_clear_message(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake.script(model, Reply(status=401, error="bad key"))
    uri = document(client, root, "nokey.py")
    before = len(client.messages)

    await command(client, "fusion.review", uri, lines(1, 10))

    new = client.messages[before:]
    errors = [m for m in new if m.type == types.MessageType.Error]
    assert len(errors) == 1
    assert "no model answered" in errors[0].message
    assert "OPENROUTER_API_KEY" in errors[0].message and KEY not in errors[0].message
    assert await hover(client, uri, 1) is None  # the server still answers


async def test_invalid_fusion_toml_gets_diagnostics_and_last_good_settings_stay(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    sub = root / "sub"
    sub.mkdir(exist_ok=True)
    config = sub / ".fusion.toml"
    config.write_text('[fusion]\nmode = "best-of"\n')
    script(fake)
    fake.script("judge", Reply(content=json.dumps({"winner": "A", "scores": {}, "reason": "r"})))
    uri = open_document(client, sub / "code.py", TEXT)
    first = await command(client, "fusion.review", uri, lines(1, 10))
    assert first["status"] == "ok"

    config.write_text('[fusion]\nmode = "best-of"\ntimeout_s = "soon"\n')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await until(lambda: bool(client.diagnostics.get(config.as_uri())))
    [problem] = client.diagnostics[config.as_uri()]
    assert problem.range.start.line == 2 and "timeout_s" in problem.message

    second = await command(client, "fusion.review", uri, lines(1, 10))
    assert second["status"] == "ok"
    judge_prompt = fake.requests_for("judge")[-1].prompt_text
    assert "Score each whole answer" in judge_prompt  # still best-of: the last good settings

    config.write_text('[fusion]\nmode = "merge"\n')
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await until(
        lambda: (
            client.diagnostics.get(config.as_uri()) is not None
            and not client.diagnostics[config.as_uri()]
        )
    )


async def test_configuration_change_overrides_the_mode(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    fake.script("judge", Reply(content=json.dumps({"winner": "B", "scores": {}, "reason": "r"})))
    uri = document(client, root, "override.py")
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"fusion": {"mode": "best-of"}})
    )
    try:
        await command(client, "fusion.review", uri, lines(1, 10))
        assert "Score each whole answer" in fake.requests_for("judge")[-1].prompt_text
    finally:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"fusion": {}})
        )


async def test_bad_command_arguments_are_a_clear_error(client: LanguageClient, root: Path) -> None:
    with pytest.raises(Exception, match="Expected 2 arguments, got 1"):
        await command(client, "fusion.review", "file:///nowhere.py")
    missing = await command(client, "fusion.reviewFile", (root / "not-there.py").as_uri())
    assert missing["status"] == "error" and "cannot read" in missing["message"]
    (root / "closed.py").write_text(TEXT)
    closed = await command(client, "fusion.reviewFile", (root / "closed.py").as_uri())
    assert closed["status"] == "error" and "not open in the editor" in closed["message"]


async def test_provisional_findings_appear_first_then_the_fused_set(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    fake.script("alpha", Reply(content=review(DIV)))
    fake.script("beta", Reply(content=review(SQLI), delay_s=0.5))
    fake.script("gamma", Reply(content=review(DIV_B), delay_s=0.5))
    fake.script("judge", merging_judge)
    uri = document(client, root, "provisional.py")
    task = asyncio.ensure_future(command(client, "fusion.review", uri, lines(1, 10)))

    await until(lambda: bool(client.diagnostics.get(uri)))
    early = [d.message for d in client.diagnostics[uri]]
    result = await asyncio.wait_for(task, 10)

    assert early == ["Division by zero when values is empty (1/3 models so far)"]
    assert result["status"] == "ok"
    final = sorted(client.diagnostics[uri], key=lambda d: d.range.start.line)
    assert [d.message.rsplit("(", 1)[1] for d in final] == [
        "2/3 models)",
        "1/3 models · below min_agreement)",  # the default dial: "majority"
    ]


async def test_clear_cache_command(client: LanguageClient, root: Path, fake: FakeOpenAI) -> None:
    script(fake)
    uri = document(client, root, "cached.py")
    await command(client, "fusion.review", uri, lines(1, 10))
    sent = len(fake.requests)
    await command(client, "fusion.review", uri, lines(1, 10))
    assert len(fake.requests) == sent  # answered from the cache

    cleared = await command(client, "fusion.clearCache")
    await command(client, "fusion.review", uri, lines(1, 10))

    assert cleared["status"] == "ok" and cleared["cleared"] >= 4
    assert len(fake.requests) == 2 * sent
