"""Bookkeeping of a review's rounds: each model's run across rounds, and result summaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fusion_ls.engine.fusion.panel import Answer
from fusion_ls.findings import Finding, ModelRun, Usage, counted_as

__all__ = ["Runs", "consensus_summary", "quorum_shortfall", "total_usage"]


class Runs:
    """Each model's status across rounds: usage and latency add up, the last good answer counts."""

    def __init__(self) -> None:
        self._runs: dict[str, ModelRun] = {}

    def record(self, run: ModelRun, round_number: int) -> None:
        before = self._runs.get(run.model)
        if before is None or before.status != "ok":
            self._runs[run.model] = run
            return
        error = before.error
        if run.status != "ok":
            error = (
                f"round {round_number}: {run.error}; its round {round_number - 1} answer was kept"
            )
        self._runs[run.model] = before.model_copy(
            update={
                "latency_s": round((before.latency_s or 0) + (run.latency_s or 0), 3),
                "usage": before.usage + run.usage,
                "error": error,
            }
        )

    def in_order(self, models: Sequence[str]) -> list[ModelRun]:
        return [self._runs[m] for m in models if m in self._runs]

    def failed(self) -> int:
        """Models that did not answer (a reviewer that declined the file did not fail)."""
        return sum(1 for run in self._runs.values() if run.status not in ("ok", "skipped"))


def total_usage(runs: Sequence[ModelRun], judge: ModelRun | None) -> Usage:
    total = Usage()
    for run in [*runs, *([judge] if judge else [])]:
        total = total + run.usage
    return total


def quorum_shortfall(answered: int, pool: int, quorum: int) -> str | None:
    needed = min(quorum, pool)
    if answered == 0:
        return "no model answered"
    if answered < needed:
        return f"only {answered} of {pool} models answered (quorum is {needed})"
    return None


def consensus_summary(final: Mapping[str, Answer], findings: Sequence[Finding]) -> str:
    if len(final) == 1:
        return next(iter(final.values())).summary
    shared = sum(1 for f in findings if len(f.models) > 1)
    count = len(findings)
    noun = counted_as(final)
    return (
        f"Consensus of {len(final)} {noun}: {count} finding{'' if count == 1 else 's'}, "
        f"{shared} raised by more than one {noun.removesuffix('s')}."
    )
