"""Text reports for the terminal: linter-style finding lines, the summary, each model's status.

Under a finding, `--show-fixes` adds its rationale and its fix as a unified diff; on a terminal
that is the default for errors, the findings someone is about to act on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TextIO

from fusion_ls.cli.colour import PLAIN, Palette
from fusion_ls.findings import (
    SEVERITIES,
    Finding,
    FusedExplanation,
    FusedReview,
    ModelRun,
    Severity,
    Usage,
    counted_as,
    is_analyzer,
)

__all__ = [
    "Details",
    "TextStyle",
    "details_for",
    "exit_code",
    "finding_line",
    "first_column",
    "models_answered",
    "render_explanation",
    "render_review",
    "status_line",
]


def first_column(lines: Sequence[str], line: int) -> int:
    """1-based column of the first non-blank character, as linters report it."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text) - len(text.lstrip()) + 1


def finding_line(
    path: str,
    finding: Finding,
    lines: Sequence[str],
    *,
    provisional: bool = False,
    palette: Palette = PLAIN,
) -> str:
    column = first_column(lines, finding.line_start)
    severity = palette.severity(finding.severity, finding.severity)
    agreement = palette.dim(f"({finding.agreement_label(provisional)})")
    return (
        f"{palette.bold(path)}:{finding.line_start}:{column}: {severity} [{finding.category}] "
        f"{finding.message} {agreement}"
    )


Details = Literal["all", "errors", "none"]
"""Which findings show their rationale and fix: `--show-fixes`, the terminal's default, or
`--no-show-fixes` (and the default in a pipe)."""


def details_for(show_fixes: bool | None, stdout: TextIO) -> Details:
    """`--show-fixes` / `--no-show-fixes`, else errors' details on a terminal and none in a
    pipe, where the lines are read by a program."""
    if show_fixes is not None:
        return "all" if show_fixes else "none"
    return "errors" if stdout.isatty() else "none"


def _details(path: str, finding: Finding, lines: Sequence[str], palette: Palette) -> list[str]:
    """The rationale, then the fix as a diff, indented under the finding's line."""
    out = [f"    {line}".rstrip() for line in finding.rationale.strip().splitlines()]
    if finding.fix is not None:
        diff = finding.fix.diff(lines, f"a/{path}", f"b/{path}")
        out += [f"    {palette.diff_line(line)}" for line in diff]
    return out


def _shown(finding: Finding, details: Details) -> bool:
    return details == "all" or (details == "errors" and finding.severity == "error")


def _usage_text(usage: Usage) -> str:
    text = f"{usage.prompt_tokens} in / {usage.completion_tokens} out tokens"
    if usage.cost_usd is not None:
        text += f", ${usage.cost_usd:.4f}"
    return text


def status_line(run: ModelRun, width: int, *, said_below: bool = False) -> str:
    latency = f"{run.latency_s:.2f} s" if run.latency_s is not None else "-"
    spent = run.status == "ok" and not is_analyzer(run.model)  # an analyzer spends no tokens
    detail = _usage_text(run.usage) if spent else ""
    error = "(see below)" if said_below else run.error
    if error:
        detail = f"{detail}; {error}" if detail else error
    status = "cached" if run.cached else run.status
    return f"  {status:<9} {run.model:<{width}}  {latency:>8}  {detail}".rstrip()


def _status_block(models: Sequence[ModelRun], judge: ModelRun | None) -> list[str]:
    """Each model's status; an error several share (a missing key, say) is said once, below."""
    runs = [*models, *([judge] if judge else [])]
    width = max((len(run.model) for run in runs), default=0)
    errors = Counter(run.error for run in runs if run.error)
    shared = [error for error, count in errors.items() if count > 1]

    def line(run: ModelRun) -> str:
        return status_line(run, width, said_below=run.error in shared)

    block = [f"{counted_as(run.model for run in models)}:", *(line(run) for run in models)]
    if judge is not None:
        block += ["judge:", line(judge)]
    for error in shared:
        block.append(f"{', '.join(run.model for run in runs if run.error == error)}: {error}")
    return block


def _totals(usage: Usage, elapsed_s: float) -> str:
    return f"{elapsed_s:.2f} s · {usage.total_tokens} tokens" + (
        f" · ${usage.cost_usd:.4f}" if usage.cost_usd is not None else ""
    )


def _redaction_note(count: int) -> list[str]:
    if not count:
        return []
    return [f"{count} secret{'' if count == 1 else 's'} replaced by placeholders before sending"]


@dataclass(frozen=True)
class TextStyle:
    """How this run's text report looks: its colours, and which findings show their details."""

    palette: Palette = PLAIN
    details: Details = "none"


def render_review(
    review: FusedReview,
    lines: Sequence[str],
    style: TextStyle = TextStyle(),
    *,
    notice: bool = True,
) -> str:
    """The report of one file; `notice` False when the run already said it once."""
    out = [f"note: {review.notice}"] if review.notice and notice else []
    for finding in review.findings:
        out.append(finding_line(review.path, finding, lines, palette=style.palette))
        if _shown(finding, style.details):
            out += _details(review.path, finding, lines, style.palette)
    out += [
        f"{review.path}:{note.line}: unused suppression `{note.comment}` ({note.reason})"
        for note in review.unused_suppressions
    ]
    if out:
        out.append("")
    if review.summary:
        out += [review.summary, ""]
    out += _status_block(review.models, review.judge)
    count = len(review.findings)
    tail = f"{count} finding{'' if count == 1 else 's'} · {review.mode}"
    if review.hidden:
        tail += f" · {review.hidden} hidden below review.min_agreement"
    if review.suppressed:
        tail += f" · {review.suppressed} suppressed"
    if review.baselined:
        tail += f" · {review.baselined} in the baseline"
    if review.outside:
        tail += f" · {review.outside} outside the reviewed lines"
    if review.dropped:
        tail += f" · {review.dropped} dropped (their quote was not at or near the cited lines)"
    out.append(f"{tail} · {_totals(review.usage, review.elapsed_s)}")
    out += _redaction_note(review.redacted)
    if review.rule_files:
        out.append(f"conventions sent from: {', '.join(review.rule_files)}")
    if review.degraded:
        out.append(f"degraded: {review.degraded_reason}")
    return "\n".join(out)


def render_explanation(explanation: FusedExplanation) -> str:
    out = [explanation.explanation, ""] if explanation.explanation else []
    out += _status_block(explanation.models, explanation.judge)
    out.append(_totals(explanation.usage, explanation.elapsed_s))
    out += _redaction_note(explanation.redacted)
    if explanation.degraded:
        out.append(f"degraded: {explanation.degraded_reason}")
    return "\n".join(out)


def exit_code(review: FusedReview, fail_on: Severity | None) -> int:
    """1 when any finding is at least as severe as `fail_on`, else 0."""
    if fail_on is None:
        return 0
    threshold = SEVERITIES.index(fail_on)
    return int(any(SEVERITIES.index(f.severity) <= threshold for f in review.findings))


def analyzers_only(required: str, reason: str | None) -> str:
    """Why a run that asks for models (`required`: `CI=true` or `--require-models`) fails when
    only local analyzers answered, and the two ways out."""
    accept = "drop --require-models" if required == "--require-models" else "set CI=false"
    why = f": {reason}" if reason else ""
    return (
        f"only local analyzers ({required} asks for models){why}; set the provider's key (a "
        f"fork's pull request gets no secrets) or {accept} to accept the analyzers' review"
    )


def models_answered(runs: Sequence[ModelRun], *, analyzers_count: bool = False) -> bool:
    """Whether a model (not a local analyzer, named `tool:…`) answered; with
    `analyzers_count`, whether anyone did."""
    return any(
        run.status == "ok" and (analyzers_count or not is_analyzer(run.model)) for run in runs
    )
