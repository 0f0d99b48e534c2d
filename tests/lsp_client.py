"""Driving the real server over stdio with pytest-lsp's client: start-up and small helpers."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

PROFILES = ("visual-studio-code", "neovim")


def project_with_fake_models(
    folder: Path, base_url: str, pool: list[str], judge: str, extra: str = ""
) -> Path:
    """`folder`, with a user config (in `folder/xdg`) that sends the pool to the fake server."""
    user = folder / "xdg" / "fusion-ls" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text(
        f'[providers.openrouter]\nbase_url = "{base_url}"\nkind = "compatible"\nmax_retries = 0\n\n'
        f"[fusion]\npool = {json.dumps(pool)}\njudge = {json.dumps(judge)}\n{extra}"
    )
    return folder


def server_env(xdg: Path, key: str) -> dict[str, str]:
    """The server's environment: fusion-ls config under `xdg`; a response cache of its own, so
    one server's cached answers never stand in for another's requests."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        {
            "XDG_CONFIG_HOME": str(xdg),
            "XDG_STATE_HOME": str(xdg.parent / "state"),
            "XDG_CACHE_HOME": tempfile.mkdtemp(prefix="cache-", dir=xdg.parent),
            "OPENROUTER_API_KEY": key,
            "FUSION_LS_LOG": "WARNING",
        }
    )
    return env


async def start(
    root: Path,
    env: dict[str, str],
    profile: str | types.ClientCapabilities,
    options: dict[str, Any] | None = None,
) -> LanguageClient:
    """The real server as a subprocess, initialised with an editor's capabilities."""
    config = ClientServerConfig(server_command=[sys.executable, "-m", "fusion_ls"], server_env=env)
    client = await config.start()
    client.feature(types.CLIENT_REGISTER_CAPABILITY)(_accept_registration)
    converter = client.protocol._converter
    converter.register_structure_hook(
        Union[types.Command, types.CodeAction],  # noqa: UP007 - the key lsprotocol registered
        lambda obj, _: converter.structure(obj, _command_or_action(obj)),
    )
    initialized = await client.initialize_session(
        types.InitializeParams(
            capabilities=(client_capabilities(profile) if isinstance(profile, str) else profile),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="project")],
            initialization_options=options,
        )
    )
    client.server_capabilities = initialized.capabilities  # type: ignore[attr-defined]
    return client


def _command_or_action(obj: dict[str, Any]) -> type[types.Command] | type[types.CodeAction]:
    """lsprotocol 2025.0.0 reads any object with a "command" key as a Command, so a CodeAction
    that carries a command arrives mangled; a Command's "command" is a string, an action's not."""
    return types.Command if isinstance(obj.get("command"), str) else types.CodeAction


def _accept_registration(client: LanguageClient, params: types.RegistrationParams) -> None:
    """Editors accept dynamic registrations (the server asks to watch .fusion.toml files)."""
    client.registrations = [*getattr(client, "registrations", []), *params.registrations]


def open_document(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    path.write_text(text)
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=version, text=text
            )
        )
    )
    return uri


def lines(start: int, end: int) -> dict[str, Any]:
    """A selection of 1-based lines start..end, as an editor sends it (0-based, end exclusive)."""
    return {"start": {"line": start - 1, "character": 0}, "end": {"line": end, "character": 0}}


async def command(client: LanguageClient, name: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=list(arguments))
    )


async def hover(client: LanguageClient, uri: str, line: int) -> str | None:
    result = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line - 1, character=4),
        )
    )
    if result is None:
        return None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


async def code_actions(
    client: LanguageClient,
    uri: str,
    start: int,
    end: int,
    diagnostics: list[types.Diagnostic] | None = None,
) -> list[types.CodeAction]:
    selection = types.Range(
        start=types.Position(line=start - 1, character=0),
        end=types.Position(line=end - 1, character=0 if end == start else 3),
    )
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=selection,
            context=types.CodeActionContext(diagnostics=diagnostics or []),
        )
    )
    assert all(isinstance(a, types.CodeAction) for a in result or []), result
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def change(client: LanguageClient, uri: str, version: int, line: int, text: str) -> None:
    """Insert `text` at the start of 1-based `line`."""
    at = types.Position(line=line - 1, character=0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text=text
                )
            ],
        )
    )


def apply_edit(text: str, edit: types.WorkspaceEdit) -> str:
    """Apply a one-document edit the way an editor would (positions in UTF-16 = ASCII here)."""
    assert edit.document_changes is not None
    [document_edit] = edit.document_changes
    assert isinstance(document_edit, types.TextDocumentEdit)
    lines_ = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines_:
        offsets.append(offsets[-1] + len(line))

    def offset(position: types.Position) -> int:
        return offsets[min(position.line, len(lines_))] + position.character

    for text_edit in sorted(document_edit.edits, key=lambda e: offset(e.range.start), reverse=True):
        assert isinstance(text_edit, types.TextEdit)
        start, end = offset(text_edit.range.start), offset(text_edit.range.end)
        text = text[:start] + text_edit.new_text + text[end:]
    return text


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition the server brings about (bounded; no fixed sleeps)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


async def in_background(coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(coroutine)
    await asyncio.sleep(0)
    return task
