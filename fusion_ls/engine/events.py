"""Progress events of a review or explanation, and the one-line text both adapters show for them.

The engine yields these; the CLI turns them into a stderr line and the server into `$/progress`.
Neither the pool nor the engine knows which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fusion_ls.findings import FusedExplanation, FusedReview, ModelRun, ProposedFinding

__all__ = [
    "Event",
    "ExplanationFinished",
    "JudgeStarted",
    "ModelFinished",
    "Notice",
    "Progress",
    "ReviewFinished",
    "RoundStarted",
]


@dataclass(frozen=True)
class Notice:
    """Something the person should know before the results, e.g. that no model could be asked."""

    text: str


@dataclass(frozen=True)
class RoundStarted:
    round: int
    rounds: int
    models: int


@dataclass(frozen=True)
class ModelFinished:
    """One model answered or failed; `findings` are its anchored findings (provisional results)."""

    round: int
    run: ModelRun
    answered: int
    total: int
    findings: tuple[ProposedFinding, ...] = ()


@dataclass(frozen=True)
class JudgeStarted:
    judge: str


@dataclass(frozen=True)
class ReviewFinished:
    review: FusedReview


@dataclass(frozen=True)
class ExplanationFinished:
    explanation: FusedExplanation


Event = Notice | RoundStarted | ModelFinished | JudgeStarted | ReviewFinished | ExplanationFinished


@dataclass
class Progress:
    """Folds events into the current progress text, e.g. `round 1: 2/3 answered · judging…`."""

    parts: list[str] = field(default_factory=list)

    def update(self, event: Event) -> str:
        if isinstance(event, Notice):
            return " · ".join(self.parts)
        if isinstance(event, RoundStarted):
            self.parts = [f"round {event.round}: 0/{event.models} answered"]
        elif isinstance(event, ModelFinished):
            self.parts = [f"round {event.round}: {event.answered}/{event.total} answered"]
        elif isinstance(event, JudgeStarted):
            self.parts = [*self.parts[:1], "judging…"]
        elif isinstance(event, ReviewFinished):
            count = len(event.review.findings)
            self.parts = [f"{count} finding{'' if count == 1 else 's'}"]
        else:
            self.parts = ["explained"]
        return " · ".join(self.parts)
