"""The eval report as text: one table row per setup, the verdict, each fusion setup by
agreement, and what failed or was degraded."""

from __future__ import annotations

from collections.abc import Sequence

from fusion_ls.cli.evaluation.runner import EvalReport, SetupResult
from fusion_ls.cli.evaluation.scoring import Metrics

__all__ = ["render_eval"]

_HEADER = ("setup", "TP", "FP", "FN", "precision", "recall", "F1", "mean s", "p95 s",
           "tokens in", "tokens out", "cost", "failed")  # fmt: skip


def _row(result: SetupResult) -> tuple[str, ...]:
    m = result.metrics
    cost = "-" if m.cost_usd is None else f"${m.cost_usd:.4f}"
    return (
        result.name, str(m.tp), str(m.fp), str(m.fn), f"{m.precision:.3f}", f"{m.recall:.3f}",
        f"{m.f1:.3f}", f"{m.latency_mean_s:.2f}", f"{m.latency_p95_s:.2f}",
        str(m.prompt_tokens), str(m.completion_tokens), cost, str(m.failed),
    )  # fmt: skip


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            [
                row[0].ljust(widths[0]),
                *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)),
            ]
        ).rstrip()
        for row in rows
    ]


def _tokens(metrics: Metrics) -> int:
    return metrics.prompt_tokens + metrics.completion_tokens


def _verdict(setups: Sequence[SetupResult]) -> list[str]:
    """The answer the command exists for: best fusion against the best single model."""
    singles = [s for s in setups if s.mode is None]
    fused = [s for s in setups if s.mode is not None]
    if not singles or not fused:
        return []
    single = max(singles, key=lambda s: s.metrics.f1)
    best = max(fused, key=lambda s: s.metrics.f1)
    gain = best.metrics.f1 - single.metrics.f1
    line = (
        f"best fusion: {best.name}, F1 {best.metrics.f1:.3f} vs {single.metrics.f1:.3f} for the "
        f"best single model {single.name} ({gain:+.3f})"
    )
    if _tokens(single.metrics):
        line += f", at {_tokens(best.metrics) / _tokens(single.metrics):.1f}x its tokens"
    return ["", line]


_AGREEMENT_HEADER = ("k", "found", "defects", "precision", "|", "TP", "FP", "FN", "precision",
                     "recall", "F1")  # fmt: skip


def _agreement(setups: Sequence[SetupResult]) -> list[str]:
    """Per fusion setup and k: the findings raised by exactly k models and how many were
    defects; then the scores had only those raised by at least k been kept."""
    lines: list[str] = []
    for setup in setups:
        if not setup.agreement:
            continue
        rows = [_AGREEMENT_HEADER]
        for level, kept in zip(setup.agreement, setup.min_agreement, strict=True):
            precision = f"{level.precision:.3f}" if level.findings else "-"
            rows.append(
                (str(level.models), str(level.findings), str(level.matched), precision, "|",
                 str(kept.tp), str(kept.fp), str(kept.fn), f"{kept.precision:.3f}",
                 f"{kept.recall:.3f}", f"{kept.f1:.3f}")
            )  # fmt: skip
        lines += [
            "",
            f"{setup.name} by agreement: found by exactly k of {len(setup.models)} models and "
            "how many were defects | the scores keeping those found by at least k "
            "(min_agreement = k)",
            *_table(rows),
        ]
    return lines


def _failures(setups: Sequence[SetupResult]) -> list[str]:
    lines: list[str] = []
    for setup in setups:
        failed = [case for case in setup.cases if case.failed]
        if failed:
            first = failed[0]
            lines.append(
                f"{setup.name}: {len(failed)}/{len(setup.cases)} cases failed (no model "
                f"answered), e.g. {first.file}: {first.error}"
            )
        degraded = [case for case in setup.cases if case.degraded]
        if degraded:
            first = degraded[0]
            lines.append(
                f"{setup.name}: {len(degraded)}/{len(setup.cases)} cases degraded, e.g. "
                f"{first.file}: {first.degraded}"
            )
    return ["", *lines] if lines else []


def render_eval(report: EvalReport) -> str:
    """The comparison table, the verdict, each fusion setup by agreement, and what failed."""
    head = (
        f"{report.dataset}: {report.cases} cases ({report.clean} clean), "
        f"{report.labels} labelled defects, {len(report.setups)} setups"
    )
    table = _table([_HEADER, *(_row(s) for s in report.setups)])
    return "\n".join(
        [
            head,
            "",
            *table,
            *_verdict(report.setups),
            *_agreement(report.setups),
            *_failures(report.setups),
        ]
    )
