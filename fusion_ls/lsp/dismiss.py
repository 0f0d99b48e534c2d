"""Dismissals: "Fusion: dismiss — not a problem" on a finding, and on every finding of a file.

A dismissal is written where it outlives the session, as `review.dismiss_with` says: an entry in
the project's baseline (the default: the code stays clean, and the entry follows the code
through edits), or a `fusion: ignore[category]` comment above the finding (visible to the whole
team in review). Either way the diagnostic goes at once, and later reviews of the same code do
not bring it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types

from fusion_ls.config.settings import Settings
from fusion_ls.engine.project_rules import record_in_baseline
from fusion_ls.engine.request import language_for
from fusion_ls.engine.suppressions import suppression_comment
from fusion_ls.findings import Finding
from fusion_ls.lsp.session import DocumentState, Published

__all__ = ["DISMISS", "dismiss_actions", "write_dismissal"]

DISMISS = "fusion.dismiss"
_writing = asyncio.Lock()
"""One baseline write at a time: two quick dismissals must not lose one another's entry."""


def _comment_edit(
    uri: str, version: int, lines: Sequence[str], findings: Sequence[Finding]
) -> types.WorkspaceEdit | None:
    """`fusion: ignore[…]` lines above each finding's first line, indented like it; None
    where the file's language has no comments."""
    by_line: dict[int, set[str]] = {}
    for finding in findings:
        by_line.setdefault(finding.line_start, set()).add(finding.category)
    edits = []
    for line, categories in sorted(by_line.items()):
        comment = suppression_comment(language_for(uri), categories)
        if comment is None or line > len(lines):
            return None
        code = lines[line - 1]
        indent = code[: len(code) - len(code.lstrip())]
        start = types.Position(line=line - 1, character=0)
        where = types.Range(start=start, end=start)
        edits.append(types.TextEdit(range=where, new_text=f"{indent}{comment}\n"))
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(
        document_changes=[types.TextDocumentEdit(text_document=document, edits=edits)]
    )


def _action(
    title: str,
    uri: str,
    targets: Sequence[Published],
    state: DocumentState,
    lines: Sequence[str],
    dismiss_with: str,
    diagnostics: list[types.Diagnostic],
) -> types.CodeAction:
    ids = [p.finding.id for p in targets]
    edit = None
    if dismiss_with == "comment":
        edit = _comment_edit(uri, state.log.version, lines, [p.finding for p in targets])
    how = "comment" if edit is not None else "baseline"
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=diagnostics,
        edit=edit,
        command=types.Command(title=title, command=DISMISS, arguments=[uri, ids, how]),
    )


def dismiss_actions(
    uri: str,
    state: DocumentState,
    diagnostics: Sequence[types.Diagnostic],
    lines: Sequence[str],
    dismiss_with: str,
) -> list[types.CodeAction]:
    """A dismiss action per finding under the cursor, and one for every finding of the file."""
    actions = []
    for diagnostic in diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        published = state.by_id(str(data.get("id", "")))
        if published is not None:
            title = f"Fusion: dismiss — not a problem ({published.finding.message})"
            actions.append(
                _action(title, uri, [published], state, lines, dismiss_with, [diagnostic])
            )
    if actions and len(state.published) > 1:
        title = f"Fusion: dismiss everywhere in this file ({len(state.published)} findings)"
        actions.append(
            _action(title, uri, state.published, state, lines, dismiss_with, list(diagnostics))
        )
    return actions


async def write_dismissal(
    state: DocumentState,
    ids: Sequence[str],
    how: str,
    *,
    file: Path | None,
    workspace: Path | None,
    settings: Settings,
    lines: Sequence[str],
) -> tuple[int, Path | None]:
    """Record the findings `ids` in the project's baseline (for `how = "baseline"`), then take
    them off the document. How many were dismissed, and the baseline written (if any)."""
    chosen = [p for p in state.published if p.finding.id in set(ids)]
    written = None
    if how == "baseline" and chosen and file is not None:
        findings = [p.finding for p in chosen]
        async with _writing:  # recorded first: a failed write leaves the findings shown
            written = await asyncio.to_thread(
                record_in_baseline, settings, file, workspace, list(lines), findings
            )
    state.published = [p for p in state.published if p not in chosen]
    return len(chosen), written
