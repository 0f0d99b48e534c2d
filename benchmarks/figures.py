"""Figures, their targets, and the tables printed for them (Markdown, so they paste as-is)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fake_openai import RecordedRequest
from reviewers import is_round

from .harness import JUDGE

__all__ = ["Figure", "TokenUse", "figure_table", "p99", "token_table", "token_use"]


@dataclass(frozen=True)
class Figure:
    """One measured figure: the target is `value <= limit`; without a limit it is reported."""

    key: str
    label: str
    value: float
    unit: str
    limit: float | None = None
    detail: str = ""

    @property
    def ratio(self) -> float | None:
        """The value as a share of its limit: above 1 fails; the quick test allows 3."""
        if self.limit is None or self.limit == 0:
            return None  # a count that must be 0 has no meaningful share
        return self.value / self.limit

    @property
    def passed(self) -> bool | None:
        return None if self.limit is None else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "passed": self.passed}


def p99(samples: Sequence[float]) -> float:
    """Nearest-rank 99th percentile: of 200 samples, the second slowest."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def _number(value: float, unit: str) -> str:
    if unit == "ratio":
        return f"{value:.3f}"
    if unit in ("ms", "MB"):
        return f"{value:.1f} {unit}"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:g}{f' {unit}' if unit else ''}"


def _row(figure: Figure) -> list[str]:
    measured = _number(figure.value, figure.unit)
    if figure.detail:
        measured = f"{measured} ({figure.detail})"
    if figure.limit is None:
        return [figure.label, measured, "reported", "", ""]
    target = f"≤ {_number(figure.limit, figure.unit)}"
    ratio = figure.ratio
    share = "" if ratio is None else f"{ratio:.2f}"
    return [figure.label, measured, target, share, "PASS" if figure.passed else "FAIL"]


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def figure_table(figures: Sequence[Figure]) -> str:
    header = ["figure", "measured", "target", "of target", "result"]
    return _markdown(header, [_row(f) for f in figures])


@dataclass(frozen=True)
class TokenUse:
    """Prompt tokens sent for one review in a mode (characters / 4, as the fake server counts)."""

    mode: str
    reviews: int
    pool_calls: int
    first_round_call: int
    later_round_call: int | None
    judge_call: int
    per_review: int


def _tokens(request: RecordedRequest) -> int:
    return len(request.prompt_text) // 4


def token_use(mode: str, requests: Sequence[RecordedRequest], reviews: int) -> TokenUse:
    pool = [r for r in requests if r.model != JUDGE]
    judge = [r for r in requests if r.model == JUDGE]
    first = [r for r in pool if _round_of(r) == 1]
    later = [r for r in pool if _round_of(r) > 1]
    total = sum(_tokens(r) for r in requests)
    return TokenUse(
        mode=mode,
        reviews=reviews,
        pool_calls=len(pool) // max(1, reviews),
        first_round_call=_mean_tokens(first),
        later_round_call=_mean_tokens(later) if later else None,
        judge_call=_mean_tokens(judge),
        per_review=total // max(1, reviews),
    )


def _round_of(request: RecordedRequest) -> int:
    """Which debate round a pool request belongs to (1 outside debates)."""
    return next((n for n in range(2, 6) if is_round(request, n)), 1)


def _mean_tokens(requests: Sequence[RecordedRequest]) -> int:
    return round(statistics.mean(_tokens(r) for r in requests)) if requests else 0


def token_table(uses: Sequence[TokenUse]) -> str:
    header = [
        "mode",
        "pool calls / review",
        "pool prompt, round 1",
        "pool prompt, round 2",
        "judge prompt",
        "sent / review",
    ]
    rows = [
        [
            u.mode,
            str(u.pool_calls),
            str(u.first_round_call),
            "—" if u.later_round_call is None else str(u.later_round_call),
            str(u.judge_call) if u.judge_call else "—",
            str(u.per_review),
        ]
        for u in uses
    ]
    return _markdown(header, rows)
