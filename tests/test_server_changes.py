"""Reviewing what changed, through the real server: `fusion.reviewChanges`, its code action and
`review.on_save`, in a git repository each test makes (a commit, then edits on disk and in the
editor, a new file, a deleted one, an excluded one)."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fake_openai import FakeOpenAI, RecordedRequest, Reply
from lsp_client import (
    change,
    code_actions,
    command,
    project_with_fake_models,
    server_env,
    start,
    until,
)
from lsprotocol import types
from pytest_lsp import LanguageClient
from reviewers import SAMPLE, finding, merging_judge, review

pytestmark = pytest.mark.asyncio(loop_scope="module")

KEY = "sk-or-v1-changes-test-key"
TEXT = SAMPLE.read_text()
_REVIEWED = re.compile(r"^>\s*(\d+) \| (.*)$", re.MULTILINE)
_HEADER = re.compile(r'<code path="([^"]+)" [^>]*reviewed="([^"]+)">')


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def on_every_reviewed_line(request: RecordedRequest) -> Reply:
    """A finding on each line marked as reviewed, and one on the first line of context, which
    is not the reviewer's to judge (the engine drops it)."""
    marked = [(int(n), text) for n, text in _REVIEWED.findall(request.prompt_text)]
    found = [finding(n, text.strip(), f"look at line {n}") for n, text in marked if text.strip()]
    first = 1 if all(n != 1 for n, _ in marked) else None
    if first is not None:
        found.append(finding(1, "def average(values):", "an unchanged line"))
    return Reply(content=review(*found))


def reviewed(fake: FakeOpenAI, model: str = "alpha") -> set[tuple[str, str]]:
    """(path, reviewed lines) of each code block `model` was sent."""
    return {header for r in fake.requests_for(model) for header in _HEADER.findall(r.prompt_text)}


@pytest.fixture(autouse=True)
def scripted(fake: FakeOpenAI) -> None:
    fake.reset()
    for model in ("alpha", "beta", "gamma"):
        fake.script(model, on_every_reviewed_line)
    fake.script("judge", merging_judge)


@pytest.fixture
def repo(tmp_path: Path, fake: FakeOpenAI) -> Path:
    """A committed repository; the user config (outside it) turns review.on_save on."""
    project_with_fake_models(
        tmp_path,
        fake.base_url,
        ["alpha", "beta", "gamma"],
        "judge",
        "straggler_grace_s = 30\n\n[review]\non_save = true\non_save_debounce_ms = 50\n",
    )
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("sample.py", "buffer.py", "same.py"):
        (root / name).write_text(TEXT)
    (root / "gone.py").write_text("x = 1\n")
    git(root, "init", "-q")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    git(root, "add", ".")
    git(root, "commit", "-qm", "start")
    return root


async def server(repo: Path, options: dict[str, Any] | None = None) -> LanguageClient:
    return await start(repo, server_env(repo.parent / "xdg", KEY), "visual-studio-code", options)


@pytest_asyncio.fixture(loop_scope="module")
async def client(repo: Path) -> AsyncIterator[LanguageClient]:
    lsp = await server(repo)
    yield lsp
    await lsp.shutdown_session()
    await lsp.stop()


def open_buffer(client: LanguageClient, path: Path, text: str) -> str:
    """Open `path` in the editor with `text`, whatever the disk holds."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(), language_id="python", version=1, text=text
            )
        )
    )
    return path.as_uri()


def save(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


def shown(client: LanguageClient, uri: str) -> list[int]:
    """The 1-based lines of the diagnostics shown on `uri`."""
    return sorted(d.range.start.line + 1 for d in client.diagnostics.get(uri, []))


def edited(line: int, text: str, source: str = TEXT) -> str:
    lines = source.splitlines(keepends=True)
    lines[line - 1] = text + "\n"
    return "".join(lines)


async def actions_once_known(client: LanguageClient, uri: str) -> list[str]:
    """The code actions' titles, once the server learnt what HEAD holds (in the background)."""
    for _ in range(100):
        titles = [a.title for a in await code_actions(client, uri, 3, 3)]
        if "Fusion: review changes" in titles:
            return titles
        await asyncio.sleep(0.05)
    return titles


def ends_of(client: LanguageClient, title: str) -> list[str]:
    """The end messages of every finished progress called `title`."""
    return [
        end.message or ""
        for reports in client.progress_reports.values()
        if reports  # a progress created and not begun yet has none
        and isinstance(begin := reports[0], types.WorkDoneProgressBegin)
        and begin.title == title
        and isinstance(end := reports[-1], types.WorkDoneProgressEnd)
    ]


async def test_the_server_advertises_the_command_and_save_notifications(
    client: LanguageClient,
) -> None:
    capabilities: types.ServerCapabilities = client.server_capabilities  # type: ignore[attr-defined]
    assert capabilities.execute_command_provider is not None
    assert "fusion.reviewChanges" in capabilities.execute_command_provider.commands
    sync = capabilities.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions) and sync.save


async def test_review_changes_sends_only_the_changed_hunks_and_shows_findings_only_on_them(
    client: LanguageClient, repo: Path, fake: FakeOpenAI
) -> None:
    (repo / "sample.py").write_text(edited(2, "    total = 0  # changed on disk"))
    buffer = open_buffer(client, repo / "buffer.py", edited(13, "def greet(name, title):"))
    same = open_buffer(client, repo / "same.py", TEXT)
    (repo / "new.py").write_text("def added():\n    return 1\n")
    (repo / ".env").write_text("TOKEN=abc\n")
    (repo / "gone.py").unlink()

    result = await command(client, "fusion.reviewChanges")

    assert result["status"] == "ok" and result["kind"] == "reviewChanges", result
    assert (result["files"], result["findings"], result["stale"]) == (3, 4, 0)
    skipped = {item["path"]: item["reason"] for item in result["skipped"]}
    assert skipped["gone.py"] == "deleted"
    assert "excluded by default" in skipped[".env"]
    assert reviewed(fake) == {("sample.py", "2-2"), ("buffer.py", "13-13"), ("new.py", "1-2")}
    [buffer_prompt] = [r for r in fake.requests_for("alpha") if "buffer.py" in r.prompt_text]
    assert "def greet(name, title):" in buffer_prompt.prompt_text  # the editor's text, not disk
    assert shown(client, (repo / "sample.py").as_uri()) == [2]
    assert shown(client, buffer) == [13]
    assert shown(client, (repo / "new.py").as_uri()) == [1, 2]
    assert shown(client, same) == []
    [ended] = ends_of(client, "Fusion: review changes")
    assert ended == "4 findings in 3 files"


async def test_the_baseline_a_dismissal_wrote_is_not_reviewed_as_a_change(
    client: LanguageClient, repo: Path, fake: FakeOpenAI
) -> None:
    """Found in the VS Code workbench: the next review of changes sent the new, untracked
    .fusion-baseline.json to the models, and put a finding on the quote it records."""
    (repo / "sample.py").write_text(edited(9, "    query = 'SELECT 1'"))
    await command(client, "fusion.reviewChanges")
    uri = (repo / "sample.py").as_uri()
    [diagnostic] = client.diagnostics[uri]
    await command(client, "fusion.dismiss", uri, [diagnostic.data["id"]], "baseline")
    assert (repo / ".fusion-baseline.json").is_file()

    result = await command(client, "fusion.reviewChanges")

    assert (result["files"], result["findings"]) == (1, 0), result
    assert result["skipped"] == [
        {"path": ".fusion-baseline.json", "reason": "the baseline of dismissed findings"}
    ]
    assert {path for path, _ in reviewed(fake)} == {"sample.py"}


async def test_the_code_action_is_offered_while_a_file_differs_from_head(
    client: LanguageClient, repo: Path
) -> None:
    uri = open_buffer(client, repo / "same.py", TEXT)
    change(client, uri, 2, 5, "    # edited\n")

    titles = await actions_once_known(client, uri)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=TEXT)],
        )
    )  # undone: the buffer is HEAD's text again
    undone = [a.title for a in await code_actions(client, uri, 1, 1)]

    assert titles[-1] == "Fusion: review changes"
    assert "Fusion: review changes" not in undone


async def test_a_file_opened_after_the_review_keeps_its_findings(
    client: LanguageClient, repo: Path
) -> None:
    (repo / "sample.py").write_text(edited(9, "    query = 'SELECT 1'"))
    await command(client, "fusion.reviewChanges")
    uri = (repo / "sample.py").as_uri()
    assert shown(client, uri) == [9]
    [published] = client.diagnostics[uri]

    open_buffer(client, repo / "sample.py", (repo / "sample.py").read_text())

    assert shown(client, uri) == [9]
    assert client.diagnostics[uri][0].data == published.data  # the same finding, hover and all
    assert "Fusion: review changes" in await actions_once_known(client, uri)
    git(repo, "commit", "-qam", "reviewed")
    await command(client, "fusion.reviewChanges")
    assert shown(client, uri) == [9]  # open now: edits, not commits, take findings away


async def test_nothing_to_review_says_so(client: LanguageClient) -> None:
    result = await command(client, "fusion.reviewChanges")

    assert (result["status"], result["files"], result["skipped"]) == ("ok", 0, [])


async def test_on_save_reviews_the_saved_hunks_and_a_second_save_costs_nothing(
    client: LanguageClient, repo: Path, fake: FakeOpenAI
) -> None:
    uri = open_buffer(client, repo / "sample.py", TEXT)
    change(client, uri, 2, 2, "    # a comment\n")  # line 2 is new
    (repo / "sample.py").write_text(edited(2, "    # a comment\n    total = 0"))

    save(client, uri)
    await until(lambda: len(ends_of(client, "Fusion: review on save")) == 1)
    sent = len(fake.requests)
    save(client, uri)
    await until(lambda: len(ends_of(client, "Fusion: review on save")) == 2)

    assert reviewed(fake) == {("sample.py", "2-2")}
    assert shown(client, uri) == [2]
    assert sent >= 3 and len(fake.requests) == sent  # the second save hit the cache


async def test_a_new_save_supersedes_the_running_on_save_review(
    client: LanguageClient, repo: Path, fake: FakeOpenAI
) -> None:
    fake.script("alpha", Reply(content=review(), delay_s=10), on_every_reviewed_line)
    uri = open_buffer(client, repo / "new.py", "first = 1\n")
    (repo / "new.py").write_text("first = 1\n")
    save(client, uri)  # untracked: the whole file
    await until(lambda: len(fake.requests_for("alpha")) == 1)

    change(client, uri, 2, 2, "second = 2\n")
    (repo / "new.py").write_text("first = 1\nsecond = 2\n")
    save(client, uri)

    await until(lambda: shown(client, uri) == [1, 2])
    assert fake.disconnects >= 1  # the first review's slow call was hung up
    assert ("new.py", "1-2") in reviewed(fake)


async def test_an_untrusted_workspace_runs_no_git(repo: Path, fake: FakeOpenAI) -> None:
    lsp = await server(repo, {"trusted": False})
    try:
        uri = open_buffer(lsp, repo / "buffer.py", edited(5, "    return 0"))
        result = await command(lsp, "fusion.reviewChanges")
        titles = [a.title for a in await code_actions(lsp, uri, 3, 3)]
        save(lsp, uri)
        save(lsp, uri)
        await until(lambda: any("review.on_save is off" in m.message for m in lsp.messages))
    finally:
        await lsp.shutdown_session()
        await lsp.stop()

    assert result["status"] == "error" and "trust this workspace" in result["message"]
    assert "Fusion: review changes" not in titles
    assert len([m for m in lsp.messages if "review.on_save is off" in m.message]) == 1
    assert fake.requests == []


async def test_a_folder_outside_git_is_told_what_to_do(tmp_path: Path, fake: FakeOpenAI) -> None:
    project_with_fake_models(tmp_path, fake.base_url, ["alpha"], "judge")
    folder = tmp_path / "plain"
    folder.mkdir()
    lsp = await start(folder, server_env(tmp_path / "xdg", KEY), "neovim")
    try:
        result = await command(lsp, "fusion.reviewChanges")
    finally:
        await lsp.shutdown_session()
        await lsp.stop()

    assert result["status"] == "error"
    assert "not in a git work tree" in result["message"]
