"""Text reports for the terminal: linter-style finding lines, the summary, each model's status."""

from __future__ import annotations

from collections.abc import Sequence

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
    path: str, finding: Finding, lines: Sequence[str], *, provisional: bool = False
) -> str:
    column = first_column(lines, finding.line_start)
    return (
        f"{path}:{finding.line_start}:{column}: {finding.severity} [{finding.category}] "
        f"{finding.message} ({finding.agreement_label(provisional)})"
    )


def _usage_text(usage: Usage) -> str:
    text = f"{usage.prompt_tokens} in / {usage.completion_tokens} out tokens"
    if usage.cost_usd is not None:
        text += f", ${usage.cost_usd:.4f}"
    return text


def status_line(run: ModelRun, width: int) -> str:
    latency = f"{run.latency_s:.2f} s" if run.latency_s is not None else "-"
    spent = run.status == "ok" and not is_analyzer(run.model)  # an analyzer spends no tokens
    detail = _usage_text(run.usage) if spent else ""
    if run.error:
        detail = f"{detail}; {run.error}" if detail else run.error
    status = "cached" if run.cached else run.status
    return f"  {status:<9} {run.model:<{width}}  {latency:>8}  {detail}".rstrip()


def _status_block(models: Sequence[ModelRun], judge: ModelRun | None) -> list[str]:
    runs = [*models, *([judge] if judge else [])]
    width = max((len(run.model) for run in runs), default=0)
    heading = f"{counted_as(run.model for run in models)}:"
    block = [heading, *(status_line(run, width) for run in models)]
    if judge is not None:
        block += ["judge:", status_line(judge, width)]
    return block


def _totals(usage: Usage, elapsed_s: float) -> str:
    return f"{elapsed_s:.2f} s · {usage.total_tokens} tokens" + (
        f" · ${usage.cost_usd:.4f}" if usage.cost_usd is not None else ""
    )


def _redaction_note(count: int) -> list[str]:
    if not count:
        return []
    return [f"{count} secret{'' if count == 1 else 's'} replaced by placeholders before sending"]


def render_review(review: FusedReview, lines: Sequence[str], *, notice: bool = True) -> str:
    """The text report; `notice=False` leaves the note out (a many-file run says it once)."""
    out = [f"note: {review.notice}"] if review.notice and notice else []
    out += [finding_line(review.path, finding, lines) for finding in review.findings]
    if out:
        out.append("")
    if review.summary:
        out += [review.summary, ""]
    out += _status_block(review.models, review.judge)
    count = len(review.findings)
    tail = f"{count} finding{'' if count == 1 else 's'} · {review.mode}"
    if review.hidden:
        tail += f" · {review.hidden} hidden below review.min_agreement"
    if review.dropped:
        tail += f" · {review.dropped} dropped (their quote was not at or near the cited lines)"
    out.append(f"{tail} · {_totals(review.usage, review.elapsed_s)}")
    out += _redaction_note(review.redacted)
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


def models_answered(runs: Sequence[ModelRun], *, analyzers_count: bool = False) -> bool:
    """Whether a model (not a local analyzer, named `tool:…`) answered; with
    `analyzers_count`, whether anyone did."""
    return any(
        run.status == "ok" and (analyzers_count or not is_analyzer(run.model)) for run in runs
    )
