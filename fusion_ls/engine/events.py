"""Progress events of a review or explanation, and the one-line text both adapters show for them.

The engine yields these; the CLI turns them into a stderr line and the server into `$/progress`.
Neither the pool nor the engine knows which.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field

from fusion_ls.errors import FusionError
from fusion_ls.findings import Finding, FusedExplanation, FusedReview, ModelRun, ProposedFinding

__all__ = [
    "Event",
    "ExplanationFinished",
    "JudgeStarted",
    "ModelFinished",
    "Notice",
    "Progress",
    "Provisional",
    "ReviewFinished",
    "RoundStarted",
    "drain",
    "merged_notices",
    "offline_notice",
]


@dataclass(frozen=True)
class Notice:
    """Something the person should know before the results, e.g. that no model could be asked."""

    text: str


_ONLY_ANALYZERS = "; reviewing with local analyzers only: "


def offline_notice(reasons: str, analyzers: Iterable[str]) -> str:
    """The notice of a review that no model can take: why, and which analyzers review instead."""
    return f"no model provider can be used ({reasons}){_ONLY_ANALYZERS}{', '.join(analyzers)}"


def merged_notices(notices: Iterable[str]) -> list[str]:
    """Each notice once, for a run over many files. Offline notices that differ only in their
    analyzers (a .py file's and a .sh file's) are one, naming them all: the missing key is
    said once, not once per language."""
    merged: dict[str, list[str]] = {}
    for notice in notices:
        reason, _, analyzers = notice.partition(_ONLY_ANALYZERS)
        names = merged.setdefault(reason, [])
        names += [name for name in analyzers.split(", ") if name and name not in names]
    return [
        f"{reason}{_ONLY_ANALYZERS}{', '.join(sorted(names))}" if names else reason
        for reason, names in merged.items()
    ]


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
class Provisional:
    """The consensus of the answers so far, post-processed like the final findings: what an
    editor shows (`2/3 models so far`) until the fused set replaces it."""

    findings: tuple[Finding, ...]
    answered: int
    pool: int


@dataclass(frozen=True)
class JudgeStarted:
    judge: str


@dataclass(frozen=True)
class ReviewFinished:
    review: FusedReview


@dataclass(frozen=True)
class ExplanationFinished:
    explanation: FusedExplanation


Event = (
    Notice
    | RoundStarted
    | ModelFinished
    | Provisional
    | JudgeStarted
    | ReviewFinished
    | ExplanationFinished
)


async def drain(
    events: AsyncGenerator[Event, None], on_event: Callable[[Event], None] = lambda _: None
) -> FusedReview | FusedExplanation:
    """Run an engine call to its end, handing each event to `on_event`; the result.

    The generator is closed however this ends, which cancels every model call still running.
    """
    async with aclosing(events):
        async for event in events:
            on_event(event)
            if isinstance(event, ReviewFinished):
                return event.review
            if isinstance(event, ExplanationFinished):
                return event.explanation
    raise FusionError("the engine stopped without a result")


@dataclass
class Progress:
    """Folds events into the current progress text, e.g. `round 1: 2/3 answered · judging…`."""

    parts: list[str] = field(default_factory=list)

    def update(self, event: Event) -> str:
        if isinstance(event, Notice | Provisional):
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
            explained = event.explanation.explanation.strip()
            self.parts = ["explained" if explained else "no explanation"]
        return " · ".join(self.parts)
