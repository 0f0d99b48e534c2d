"""Malformed editor input never crashes or hangs the server: it answers, drops, or explains.

Hypothesis throws odd ranges, unknown URIs, stale versions and empty selections at one real
server process; after every case the server must still answer a hover promptly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fake_openai import FakeOpenAI, Reply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_client import (
    command,
    hover,
    open_document,
    project_with_fake_models,
    server_env,
    start,
)
from lsprotocol import types
from pytest_lsp import LanguageClient
from reviewers import SAMPLE, finding, review

pytestmark = pytest.mark.asyncio(loop_scope="module")

TEXT = SAMPLE.read_text()
TRIED: dict[str, int] = {}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.script("alpha", Reply(content=review(finding(5, "len(values)", "Division"))))
        yield server


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI) -> Path:
    folder = tmp_path_factory.mktemp("robust")
    return project_with_fake_models(folder, fake.base_url, ["alpha"], "alpha")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(root: Path) -> AsyncIterator[LanguageClient]:
    lsp = await start(root, server_env(root / "xdg", "sk-test"), "neovim")
    yield lsp
    await lsp.shutdown_session()
    await lsp.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def uri(client: LanguageClient, root: Path) -> str:
    return open_document(client, root / "target.py", TEXT)


async def still_answers(client: LanguageClient, uri: str) -> None:
    await asyncio.wait_for(hover(client, uri, 1), 5)


def count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


positions = st.builds(
    types.Position, line=st.integers(0, 2**31 - 1), character=st.integers(0, 2**31 - 1)
)
ranges = st.builds(types.Range, start=positions, end=positions)
uris = st.one_of(
    st.just("file:///no/such/file.py"),
    st.just("untitled:Untitled-1"),
    st.text(max_size=40),
    st.from_regex(r"file:///[a-z/]{0,20}\.py", fullmatch=True),
)
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@PROPERTY
@given(selection=ranges)
async def test_any_range_is_answered_or_refused(
    client: LanguageClient, uri: str, selection: types.Range
) -> None:
    count("ranges")
    arguments: list[Any] = [uri, selection]
    try:
        result = await asyncio.wait_for(command(client, "fusion.review", *arguments), 10)
    except asyncio.TimeoutError:
        pytest.fail(f"no answer for {selection}")
    except Exception as error:  # a JSON-RPC error response is a clear refusal
        assert "Invalid" in str(error) or "Error" in type(error).__name__
    else:
        assert result["status"] in {"ok", "error"}
        if result["status"] == "error":
            assert "past the end" in result["message"] or "nothing to do" in result["message"]
    await still_answers(client, uri)


@PROPERTY
@given(target=uris, selection=ranges)
async def test_unknown_uris_are_refused(
    client: LanguageClient, uri: str, target: str, selection: types.Range
) -> None:
    count("uris")
    try:
        result = await asyncio.wait_for(command(client, "fusion.explain", target, selection), 10)
    except Exception as error:
        assert "Invalid" in str(error) or "Error" in type(error).__name__
    else:
        assert result["status"] == "error" and result["message"]
    await asyncio.wait_for(hover(client, target, 1) if target.startswith("file:") else
                           still_answers(client, uri), 5)  # fmt: skip
    await still_answers(client, uri)


@PROPERTY
@given(version=st.integers(-5, 10**6), start=positions, text=st.text(max_size=30))
async def test_stale_or_odd_changes_never_break_the_document(
    client: LanguageClient, root: Path, version: int, start: types.Position, text: str
) -> None:
    count("changes")
    doc = open_document(client, root / "changing.py", TEXT, version=1)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=doc, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=start, end=start), text=text
                )
            ],
        )
    )
    await still_answers(client, doc)


async def test_empty_selection_and_huge_or_binary_files(
    client: LanguageClient, root: Path, fake: FakeOpenAI
) -> None:
    doc = open_document(client, root / "empty-selection.py", TEXT)
    point = {"line": 3, "character": 2}
    result = await command(client, "fusion.review", doc, {"start": point, "end": point})
    assert result["status"] in {"ok", "error"}

    big = "x = 1\n" * 900_000  # about 5 MB
    huge = open_document(client, root / "huge.py", big)
    refused = await asyncio.wait_for(command(client, "fusion.reviewFile", huge), 30)
    assert refused["status"] == "error" and "max_input_tokens" in refused["message"]

    binary = root / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00\x81 not utf-8")
    unread = await command(client, "fusion.reviewFile", binary.as_uri())
    assert unread["status"] == "error"
    await still_answers(client, doc)


async def test_zz_report_how_many_cases_were_tried() -> None:
    print(f"\nmalformed LSP input cases tried: {TRIED}")
    assert sum(TRIED.values()) > 0
