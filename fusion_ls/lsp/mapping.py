"""FusedReview ↔ LSP: diagnostics, hover markdown, code actions, edits. The only 0-based code.

Everything else in fusion-ls counts lines from 1; LSP counts lines from 0 and characters in
UTF-16 code units. This module converts at that one boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from fusion_ls.errors import ConfigIssue
from fusion_ls.findings import (
    Finding,
    Fix,
    FusedExplanation,
    FusedReview,
    LineRange,
    Mode,
    ModelRun,
    SuppressionNote,
    Usage,
    counted_as,
    is_analyzer,
)
from fusion_ls.lsp.tracking import LineEdit

__all__ = [
    "SOURCE",
    "apply_fix_action",
    "command_action",
    "config_diagnostic",
    "diagnostic",
    "explanation_hover",
    "finding_hover",
    "fix_edit",
    "line_edits",
    "lsp_range",
    "selected_lines",
    "unused_suppression",
]

SOURCE = "fusion"
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def lsp_range(lines: Sequence[str], start: int, end: int) -> types.Range:
    """1-based inclusive lines → an LSP range from the first non-blank character to line end."""
    first = lines[start - 1] if 0 < start <= len(lines) else ""
    last = lines[end - 1] if 0 < end <= len(lines) else ""
    indent = utf16_length(first) - utf16_length(first.lstrip())
    return types.Range(
        start=types.Position(line=start - 1, character=indent),
        end=types.Position(line=end - 1, character=utf16_length(last)),
    )


def selected_lines(selection: types.Range, line_count: int | None = None) -> LineRange:
    """The 1-based lines a selection covers; one ending at column 0 stops the line before.

    With `line_count`, lines past the end are clamped to the last line: in a file that ends with
    a newline, the cursor after it (where Ctrl+End lands) sits on a line that has no text.
    """
    start = selection.start.line + 1
    end = selection.end.line + 1
    if selection.end.character == 0 and selection.end.line > selection.start.line:
        end -= 1
    if line_count:
        start, end = min(start, line_count), min(end, line_count)
    return LineRange(start=start, end=max(start, end))


def line_edits(
    changes: Sequence[types.TextDocumentContentChangeEvent], line_count: int
) -> list[LineEdit]:
    """LSP content changes as line edits, applied in order (each range is in the text before it).

    An edit from column 0 to column 0 whose text ends a line (Vim's `dd`, pasting whole lines,
    Enter at the start of a line) touches only the lines it covers, so a line below it that
    reads the same as one inside it is not mistaken for it.
    """
    edits = []
    for change in changes:
        text = change.text
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
        ends_line = text == "" or text.endswith(("\n", "\r"))
        if isinstance(change, types.TextDocumentContentChangePartial):
            start, end = change.range.start, change.range.end
            if start.character == 0 and end.character == 0 and ends_line:
                edit = LineEdit(start=start.line + 1, end=end.line, new_count=breaks)
            else:
                edit = LineEdit(start=start.line + 1, end=end.line + 1, new_count=breaks + 1)
        else:
            new_count = breaks + (0 if ends_line else 1)
            edit = LineEdit(start=1, end=max(line_count, 1), new_count=new_count)
        edits.append(edit)
        line_count += edit.delta
    return edits


def diagnostic(
    finding: Finding, lines: Sequence[str], *, provisional: bool = False
) -> types.Diagnostic:
    return types.Diagnostic(
        range=lsp_range(lines, finding.line_start, finding.line_end),
        message=f"{finding.message} ({finding.agreement_label(provisional)})",
        severity=_SEVERITY[finding.severity],
        code=finding.category,
        source=SOURCE,
        data={"id": finding.id},
    )


def unused_suppression(note: SuppressionNote, line: int, lines: Sequence[str]) -> types.Diagnostic:
    """A `fusion: ignore` that hid nothing, greyed out as editors show unused code (RUF100)."""
    return types.Diagnostic(
        range=lsp_range(lines, line, line),
        message=f"unused suppression `{note.comment}`: {note.reason}",
        severity=types.DiagnosticSeverity.Hint,
        code="unused-suppression",
        source=SOURCE,
        tags=[types.DiagnosticTag.Unnecessary],
    )


def _usage(usage: Usage) -> str:
    text = f"{usage.prompt_tokens} in / {usage.completion_tokens} out tokens"
    return text + (f", ${usage.cost_usd:.4f}" if usage.cost_usd is not None else "")


def _status_table(models: Sequence[ModelRun], judge: ModelRun | None) -> list[str]:
    noun = counted_as(run.model for run in models).removesuffix("s")
    rows = [f"| {noun} | status | latency | detail |", "| --- | --- | --- | --- |"]
    for run in [*models, *([judge] if judge else [])]:
        latency = f"{run.latency_s:.2f} s" if run.latency_s is not None else ""
        spent = run.status == "ok" and not is_analyzer(run.model)  # an analyzer spends nothing
        detail = _usage(run.usage) if spent else (run.error or "")
        name = f"`{run.model}` (judge)" if run is judge else f"`{run.model}`"
        rows.append(f"| {name} | {run.status} | {latency} | {detail.replace('|', '/')} |")
    return rows


def _fix_diff(finding: Finding, lines: Sequence[str]) -> list[str]:
    if finding.fix is None:
        return []
    diff = finding.fix.diff(lines, "current", "fixed")
    return ["**Fix**", "", "```diff", *diff, "```", ""]


def _statements(finding: Finding) -> list[str]:
    """What each model said about this problem, when they said it differently."""
    if len({said.message for said in finding.statements}) < 2:
        return []
    rows = ["**What each model said**", ""]
    rows += [f"- `{said.model}` ({said.severity}): {said.message}" for said in finding.statements]
    return [*rows, ""]


def finding_hover(finding: Finding, review: FusedReview, lines: Sequence[str]) -> str:
    """Markdown for a hover on a finding: the reasoning, who agreed, the fix, what it cost."""
    parts = [
        f"**{finding.severity} · {finding.category}** — {finding.message}",
        "",
        f"Raised by {finding.agreement_label()}: {', '.join(f'`{m}`' for m in finding.models)}",
        "",
    ]
    if finding.demoted_from is not None:
        parts += [
            f"_Shown as a hint: a {finding.demoted_from} that fewer models raised than "
            "`review.min_agreement` asks for._",
            "",
        ]
    if finding.rationale:
        parts += [finding.rationale, ""]
    parts += _statements(finding)
    parts += _fix_diff(finding, lines)
    parts += _review_footer(review.mode, review.models, review.judge, review.usage)
    if review.rule_files:
        parts += [f"Conventions sent from: {', '.join(f'`{f}`' for f in review.rule_files)}", ""]
    if review.degraded:
        parts.append(f"_Degraded: {review.degraded_reason}_")
    return "\n".join(parts).rstrip()


def _review_footer(
    mode: Mode | None, models: Sequence[ModelRun], judge: ModelRun | None, usage: Usage
) -> list[str]:
    title = f"**Review** ({mode}) — {_usage(usage)}" if mode else f"**Models** — {_usage(usage)}"
    return ["---", title, "", *_status_table(models, judge), ""]


def explanation_hover(explanation: FusedExplanation) -> str:
    parts = [f"**Fusion: explanation of lines {explanation.lines}**", "", explanation.explanation]
    parts += ["", *_review_footer(None, explanation.models, explanation.judge, explanation.usage)]
    if explanation.degraded:
        parts.append(f"_Degraded: {explanation.degraded_reason}_")
    return "\n".join(parts).rstrip()


def fix_edit(uri: str, version: int, lines: Sequence[str], fix: Fix) -> types.WorkspaceEdit:
    """Replace the fix's whole lines with its replacement, as a versioned document edit."""
    start, end, replacement = fix.line_start, fix.line_end, fix.replacement
    if end < len(lines):
        span = types.Range(
            start=types.Position(line=start - 1, character=0),
            end=types.Position(line=end, character=0),
        )
        new_text = replacement + "\n"
    else:  # the last line may have no newline after it
        span = types.Range(
            start=types.Position(line=start - 1, character=0),
            end=types.Position(line=end - 1, character=utf16_length(lines[end - 1])),
        )
        new_text = replacement
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri, version=version
                ),
                edits=[types.TextEdit(range=span, new_text=new_text)],
            )
        ]
    )


def apply_fix_action(
    finding: Finding, diagnostic_: types.Diagnostic, edit: types.WorkspaceEdit
) -> types.CodeAction:
    return types.CodeAction(
        title=f"Fusion: apply fix — {finding.message}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic_],
        edit=edit,
        is_preferred=finding.unanimous,
    )


def command_action(title: str, command: str, arguments: list[Any]) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.Empty,
        command=types.Command(title=title, command=command, arguments=arguments),
    )


def config_diagnostic(issue: ConfigIssue, lines: Sequence[str]) -> types.Diagnostic:
    """A `.fusion.toml` problem shown on its own line."""
    line = min(max(issue.line or 1, 1), max(len(lines), 1))
    return types.Diagnostic(
        range=lsp_range(lines, line, line),
        message=f"{issue.key}: {issue.message}" if issue.key else issue.message,
        severity=_SEVERITY["error" if issue.severity == "error" else "warning"],
        source=SOURCE,
    )
