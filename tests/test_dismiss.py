"""Dismissals through the real server: "Fusion: dismiss — not a problem" writes the baseline
(or a `fusion: ignore` comment), the diagnostic goes, and a later review of the same code does
not bring it back, even after lines were inserted above it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from fake_openai import FakeOpenAI, Reply
from lsp_client import (
    apply_edit,
    change,
    code_actions,
    command,
    hover,
    open_document,
    project_with_fake_models,
    server_env,
    start,
    until,
)
from lsprotocol import types
from pytest_lsp import LanguageClient
from reviewers import DIV, SAMPLE, SQLI, merging_judge, review

pytestmark = pytest.mark.asyncio(loop_scope="module")

TEXT = SAMPLE.read_text()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI) -> Path:
    folder = tmp_path_factory.mktemp("dismiss")
    (folder / ".git").mkdir()  # the project root: where the baseline is written
    (folder / "commented").mkdir()
    (folder / "commented" / ".fusion.toml").write_text('[review]\ndismiss_with = "comment"\n')
    (folder / "strict").mkdir()
    (folder / "strict" / ".fusion.toml").write_text("[review]\nreport_unused_suppressions = true\n")
    (folder / "strict" / "AGENTS.md").write_text("Names are snake_case.\n")
    return project_with_fake_models(folder, fake.base_url, ["alpha", "beta"], "judge")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(root: Path) -> AsyncIterator[LanguageClient]:
    lsp = await start(root, server_env(root / "xdg", "sk-or-v1-dismiss"), "visual-studio-code")
    yield lsp
    await lsp.shutdown_session()
    await lsp.stop()


def script(fake: FakeOpenAI, shift: int = 0) -> None:
    moved = [{**f, "line_start": f["line_start"] + shift, "line_end": f["line_end"] + shift}
             for f in (DIV, SQLI)]  # fmt: skip
    fake.reset()
    for model in ("alpha", "beta"):
        fake.script(model, Reply(content=review(*moved)))
    fake.script("judge", merging_judge)


def bug(client: LanguageClient, uri: str) -> types.Diagnostic:
    return next(d for d in client.diagnostics[uri] if d.code == "bug")


async def test_dismiss_writes_the_baseline_and_survives_edits_and_new_reviews(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    uri = open_document(client, root / "kept.py", TEXT)
    await command(client, "fusion.reviewFile", uri)
    diagnostic = bug(client, uri)

    actions = await code_actions(client, uri, 5, 5, [diagnostic])
    titles = [a.title for a in actions]
    [dismiss] = [a for a in actions if a.title.startswith("Fusion: dismiss — not a problem")]
    assert "Fusion: dismiss everywhere in this file (2 findings)" in titles
    assert dismiss.edit is None and dismiss.command is not None
    result = await command(client, dismiss.command.command, *dismiss.command.arguments or [])

    assert result["kind"] == "dismiss" and result["dismissed"] == 1, result
    assert result["baseline"] == str(root / ".fusion-baseline.json")
    await until(lambda: [d.code for d in client.diagnostics[uri]] == ["security"])
    [entry] = json.loads((root / ".fusion-baseline.json").read_text())["findings"]
    assert entry["path"] == "kept.py" and entry["code"] == "return total / len(values)"

    change(client, uri, 2, 1, "import os\n\n")  # the finding's code moves two lines down
    script(fake, shift=2)
    again = await command(client, "fusion.reviewFile", uri)

    assert again["status"] == "ok" and again["findings"] == 1, again
    assert [d.code for d in client.diagnostics[uri]] == ["security"]


async def test_dismiss_with_a_comment_inserts_fusion_ignore_above_the_finding(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    uri = open_document(client, root / "commented" / "noted.py", TEXT)
    await command(client, "fusion.reviewFile", uri)
    diagnostic = bug(client, uri)

    actions = await code_actions(client, uri, 5, 5, [diagnostic])
    [dismiss] = [a for a in actions if a.title.startswith("Fusion: dismiss — not a problem")]
    assert dismiss.edit is not None and dismiss.command is not None
    commented = apply_edit(TEXT, dismiss.edit)
    result = await command(client, dismiss.command.command, *dismiss.command.arguments or [])

    assert commented.splitlines()[4] == "    # fusion: ignore[bug]"
    assert commented.splitlines()[5] == TEXT.splitlines()[4]
    assert result["dismissed"] == 1 and result["baseline"] is None
    assert not (root / "commented" / ".fusion-baseline.json").exists()
    await until(lambda: [d.code for d in client.diagnostics[uri]] == ["security"])

    script(fake, shift=1)
    reviewed = open_document(client, root / "commented" / "reviewed.py", commented)
    again = await command(client, "fusion.reviewFile", reviewed)

    assert again["findings"] == 1 and [d.code for d in client.diagnostics[reviewed]] == ["security"]


async def test_a_whole_file_review_greys_out_suppressions_that_hid_nothing(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    script(fake)
    text = TEXT.replace("def greet(name):", "def greet(name):  # fusion: ignore[style]")
    uri = open_document(client, root / "strict" / "unused.py", text)

    await command(client, "fusion.reviewFile", uri)

    [unused] = [d for d in client.diagnostics[uri] if d.code == "unused-suppression"]
    assert unused.range.start.line == text.splitlines().index(
        "def greet(name):  # fusion: ignore[style]"
    )
    assert list(unused.tags or []) == [types.DiagnosticTag.Unnecessary]
    assert unused.message == "unused suppression `# fusion: ignore[style]`: it suppressed nothing"
    assert {d.code for d in client.diagnostics[uri]} == {"bug", "security", "unused-suppression"}
    shown = await hover(client, uri, 5)
    assert shown is not None and "Conventions sent from: `AGENTS.md`" in shown
