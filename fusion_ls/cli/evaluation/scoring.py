"""Eval scoring: findings matched to labels by line overlap, counted into precision, recall, F1.

Pure functions of a case and a review, so every number can be checked by hand; the rules are in
this package's docstring and `eval/README.md`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypedDict

from pydantic import BaseModel, ConfigDict, Field

from fusion_ls.cli.evaluation.dataset import LoadedCase
from fusion_ls.findings import FusedReview, LineRange, Usage

__all__ = [
    "AgreementLevel",
    "CaseOutcome",
    "Metrics",
    "MinAgreement",
    "Result",
    "ScoredFinding",
    "by_agreement",
    "by_min_agreement",
    "match",
    "score",
    "summarise",
]


def _overlap(a: LineRange, b: LineRange) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start) + 1)


def match(findings: Sequence[LineRange], labels: Sequence[LineRange]) -> list[tuple[int, int]]:
    """(finding index, label index) pairs: greedy by overlap size, each side used at most once.

    Ties go to the earlier label, then the earlier finding, so a run scores the same every time.
    """
    candidates = sorted(
        (-_overlap(found, label), label_index, finding_index)
        for finding_index, found in enumerate(findings)
        for label_index, label in enumerate(labels)
        if _overlap(found, label) > 0
    )
    used_findings: set[int] = set()
    used_labels: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, label_index, finding_index in candidates:
        if finding_index in used_findings or label_index in used_labels:
            continue
        used_findings.add(finding_index)
        used_labels.add(label_index)
        pairs.append((finding_index, label_index))
    return sorted(pairs)


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScoredFinding(Result):
    """One reported finding: where, how many pool models raised it, whether it matched a label."""

    lines: LineRange
    models: int
    matched: bool


class CaseOutcome(Result):
    """One setup on one case: the counts, and which lines were missed or wrongly flagged;
    every finding and label, so agreement levels can be scored after the fact."""

    file: str
    lines: LineRange
    labels: list[LineRange]
    findings: list[ScoredFinding]
    tp: int
    fp: int
    fn: int
    missed: list[LineRange]
    false_positives: list[LineRange]
    failed: bool
    error: str | None
    degraded: str | None = Field(
        description="why the result is not the full fusion (a judge that failed, a quorum not "
        "met), for a case where some model answered"
    )
    elapsed_s: float
    usage: Usage


def _failure(review: FusedReview) -> str | None:
    """Why no model answered, model by model; None when one did."""
    if any(run.status == "ok" for run in review.models):
        return None
    reasons = [f"{run.model}: {run.error or run.status}" for run in review.models]
    return "; ".join(reasons) or "no model answered"


def score(case: LoadedCase, review: FusedReview) -> CaseOutcome:
    found = [
        LineRange(start=f.line_start, end=max(f.line_start, f.line_end)) for f in review.findings
    ]
    labels = [label.lines for label in case.spec.labels]
    pairs = match(found, labels)
    matched_findings = {f for f, _ in pairs}
    matched_labels = {label for _, label in pairs}
    error = _failure(review)
    return CaseOutcome(
        file=case.spec.file,
        lines=case.reviewed,
        labels=labels,
        findings=[
            ScoredFinding(lines=span, models=len(f.models), matched=i in matched_findings)
            for i, (span, f) in enumerate(zip(found, review.findings, strict=True))
        ],
        tp=len(pairs),
        fp=len(found) - len(pairs),
        fn=len(labels) - len(pairs),
        missed=[span for i, span in enumerate(labels) if i not in matched_labels],
        false_positives=[span for i, span in enumerate(found) if i not in matched_findings],
        failed=error is not None,
        error=error,
        degraded=review.degraded_reason if error is None else None,
        elapsed_s=review.elapsed_s,
        usage=review.usage,
    )


class Metrics(Result):
    """One setup over the whole dataset. Ratios are 0 when undefined."""

    cases: int
    failed: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    latency_mean_s: float
    latency_p95_s: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = Field(
        description="summed from the providers' reported cost; None when none reported any"
    )


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


class _Scores(TypedDict):
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float


def _scores(tp: int, fp: int, fn: int) -> _Scores:
    """The counts and the precision, recall and F1 they give (Metrics and MinAgreement)."""
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),  # = 2PR/(P+R), exact from the counts
    }


def _p95(values: Sequence[float]) -> float:
    """Nearest-rank percentile: a value that really occurred, no interpolation."""
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1] if ordered else 0.0


def summarise(outcomes: Sequence[CaseOutcome]) -> Metrics:
    tp = sum(o.tp for o in outcomes)
    fp = sum(o.fp for o in outcomes)
    fn = sum(o.fn for o in outcomes)
    usage = sum((o.usage for o in outcomes), Usage())
    latencies = [o.elapsed_s for o in outcomes]
    return Metrics(
        cases=len(outcomes),
        failed=sum(1 for o in outcomes if o.failed),
        **_scores(tp, fp, fn),
        latency_mean_s=round(sum(latencies) / len(latencies), 3) if latencies else 0.0,
        latency_p95_s=_p95(latencies),
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=usage.cost_usd,
    )


class AgreementLevel(Result):
    """The findings raised by exactly `models` pool models, and how many were real defects."""

    models: int
    findings: int
    matched: int
    precision: float = Field(description="matched / findings; 0 when there are none")


class MinAgreement(Result):
    """The scores had only findings raised by at least `min_agreement` models been kept."""

    min_agreement: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float


def by_agreement(outcomes: Sequence[CaseOutcome], pool: int) -> list[AgreementLevel]:
    """For k = 1..pool: of the findings raised by exactly k models, how many matched a label
    (in the case's matching of all its findings)."""
    levels: list[AgreementLevel] = []
    for k in range(1, pool + 1):
        found = [f for o in outcomes for f in o.findings if f.models == k]
        matched = sum(1 for f in found if f.matched)
        levels.append(
            AgreementLevel(
                models=k,
                findings=len(found),
                matched=matched,
                precision=_ratio(matched, len(found)),
            )
        )
    return levels


def by_min_agreement(outcomes: Sequence[CaseOutcome], pool: int) -> list[MinAgreement]:
    """For k = 1..pool: precision, recall and F1 keeping only the findings raised by at least
    k models, each case matched again (a dropped finding can free its label for another)."""
    rows: list[MinAgreement] = []
    for k in range(1, pool + 1):
        tp = fp = fn = 0
        for outcome in outcomes:
            kept = [f.lines for f in outcome.findings if f.models >= k]
            pairs = len(match(kept, outcome.labels))
            tp, fp, fn = tp + pairs, fp + len(kept) - pairs, fn + len(outcome.labels) - pairs
        rows.append(MinAgreement(min_agreement=k, **_scores(tp, fp, fn)))
    return rows
