"""What the light bulb offers on a document, and the dismiss command behind some of it.

On a finding: its fix (only while its lines hold the text the fix was made for) and the
dismissals; on a selection: review and explain it; anywhere: review the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from fusion_ls.errors import FusionError
from fusion_ls.lsp import mapping as lsp_mapping
from fusion_ls.lsp.dismiss import DISMISS, dismiss_actions, write_dismissal
from fusion_ls.lsp.results import CommandResult, Dismissed

if TYPE_CHECKING:
    from fusion_ls.lsp.server import FusionServer

__all__ = ["DISMISS", "EXPLAIN", "REVIEW", "REVIEW_FILE", "code_actions", "dismiss"]

REVIEW, EXPLAIN, REVIEW_FILE = "fusion.review", "fusion.explain", "fusion.reviewFile"


def code_actions(ls: FusionServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    actions: list[types.CodeAction] = []
    state = ls.documents.get(uri)
    if state is not None:
        lines: list[str] | None = None  # the text is split only for a diagnostic with a fix
        for diagnostic in params.context.diagnostics:
            data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
            published = state.by_id(str(data.get("id", "")))
            if published is None or published.finding.fix is None:
                continue
            lines = ls.lines_of(uri) if lines is None else lines
            if not published.fix_fits(lines):
                continue  # a fix is only offered on the very text it was computed for
            edit = lsp_mapping.fix_edit(uri, state.log.version, lines, published.finding.fix)
            actions.append(lsp_mapping.apply_fix_action(published.finding, diagnostic, edit))
        ours = [d for d in params.context.diagnostics if d.source == lsp_mapping.SOURCE]
        if ours and state.published:
            dismiss_with = ls.settings_for(_file(uri)).review.dismiss_with
            lines = ls.lines_of(uri) if lines is None else lines
            actions += dismiss_actions(uri, state, ours, lines, dismiss_with)
    selection = params.range
    if selection.start != selection.end:
        span = {"start": _position(selection.start), "end": _position(selection.end)}
        actions.append(lsp_mapping.command_action("Fusion: review selection", REVIEW, [uri, span]))
        actions.append(
            lsp_mapping.command_action("Fusion: explain selection", EXPLAIN, [uri, span])
        )
    actions.append(lsp_mapping.command_action("Fusion: review file", REVIEW_FILE, [uri]))
    changes = ls.changes.action(uri)
    return [*actions, changes] if changes is not None else actions


def _position(position: types.Position) -> dict[str, int]:
    return {"line": position.line, "character": position.character}


def _file(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


async def dismiss(ls: FusionServer, uri: str, ids: list[str], how: str) -> CommandResult:
    state = ls.documents.get(uri)
    if state is None:
        return Dismissed(dismissed=0)
    file = _file(uri)
    try:
        count, written = await write_dismissal(
            state, ids, how, file=file, workspace=ls.root_path(),
            settings=ls.settings_for(file), lines=ls.lines_of(uri),
        )  # fmt: skip
    except (FusionError, OSError) as error:
        ls.show(f"fusion-ls: could not record the dismissal: {error}", types.MessageType.Error)
        return Dismissed(status="error", dismissed=0, message=str(error))
    finally:
        ls.publish(uri)
    return Dismissed(dismissed=count, baseline=str(written) if written else None)
