"""What the `fusion.*` commands answer, as pydantic models: the contract with editor clients.

Every result has a `kind` (which command answered) and a `status`; the VS Code client declares
the same shapes in `editors/vscode/src/results.ts`, and a test holds the two together. The
server sends `model_dump(mode="json")` of these, never a loose dict.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from fusion_ls.findings import FusedReview, Mode, ModelStatus

__all__ = [
    "CacheCleared",
    "ChangesReviewed",
    "Cleared",
    "CommandResult",
    "Dismissed",
    "Explained",
    "ModelState",
    "NotDone",
    "NotReviewed",
    "ReviewKind",
    "Reviewed",
    "UsageSummary",
    "as_json",
]


ReviewKind = Literal["review", "explain", "reviewChanges"]
"""The commands that may answer `NotDone`."""


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelState(_Result):
    model: str
    status: ModelStatus
    cached: bool


class UsageSummary(_Result):
    total_tokens: int
    cost_usd: float | None


class Reviewed(_Result):
    """A review landed: `findings` are shown now, `stale` were dropped because their text
    changed while the review ran."""

    kind: Literal["review"] = "review"
    status: Literal["ok"] = "ok"
    findings: int
    stale: int
    degraded: bool
    mode: Mode
    models: list[ModelState]
    elapsed_s: float
    usage: UsageSummary

    @classmethod
    def of(cls, review: FusedReview, stale: int) -> Reviewed:
        return cls(
            findings=len(review.findings) - stale,
            stale=stale,
            degraded=review.degraded,
            mode=review.mode,
            models=[
                ModelState(model=r.model, status=r.status, cached=r.cached) for r in review.models
            ],
            elapsed_s=review.elapsed_s,
            usage=UsageSummary(
                total_tokens=review.usage.total_tokens, cost_usd=review.usage.cost_usd
            ),
        )


class Explained(_Result):
    kind: Literal["explain"] = "explain"
    status: Literal["ok"] = "ok"
    explanation: str


class NotReviewed(_Result):
    """A changed file a review of changes left out, and why (deleted, binary, excluded…)."""

    path: str
    reason: str


class ChangesReviewed(_Result):
    """A review of the uncommitted changes landed: `files` reviewed, `findings` shown on their
    changed lines, `stale` dropped after edits, `skipped` changed files and why."""

    kind: Literal["reviewChanges"] = "reviewChanges"
    status: Literal["ok"] = "ok"
    files: int
    findings: int
    stale: int
    skipped: list[NotReviewed]
    elapsed_s: float
    usage: UsageSummary


class NotDone(_Result):
    """Nothing was published: cancelled, the document changed too much (`stale`), or an error
    the person was also shown (`message`)."""

    kind: ReviewKind
    status: Literal["cancelled", "stale", "error"]
    message: str | None = None


class Cleared(_Result):
    kind: Literal["clear"] = "clear"
    status: Literal["ok"] = "ok"


class CacheCleared(_Result):
    kind: Literal["clearCache"] = "clearCache"
    status: Literal["ok"] = "ok"
    cleared: int


class Dismissed(_Result):
    """Findings taken off a document; `baseline` is the file they were recorded in (None when
    a `fusion: ignore` comment, applied by the client, records them)."""

    kind: Literal["dismiss"] = "dismiss"
    status: Literal["ok", "error"] = "ok"
    dismissed: int
    baseline: str | None = None
    message: str | None = None


CommandResult = (
    Reviewed | ChangesReviewed | Explained | NotDone | Cleared | CacheCleared | Dismissed
)


def as_json(
    command: Callable[..., Awaitable[CommandResult]],
) -> Callable[..., Awaitable[dict[str, Any]]]:
    """A command whose result crosses the wire as the JSON of its model (pygls reads the
    arguments' types from the wrapped command's signature)."""

    @functools.wraps(command)
    async def run(ls: Any, *args: Any) -> dict[str, Any]:
        return (await command(ls, *args)).model_dump(mode="json")

    return run
