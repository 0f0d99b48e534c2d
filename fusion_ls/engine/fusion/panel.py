"""What the judge is shown and what fusion gives back, shared by every mode."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from fusion_ls.engine.anchoring import SentText
from fusion_ls.engine.fusion.consensus import Cluster
from fusion_ls.engine.prompts import CodeExcerpt
from fusion_ls.findings import Finding, ProposedFinding
from fusion_ls.reviewers.base import Prompt

__all__ = ["Answer", "Fused", "Judging", "Panel"]

T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    """A pool model's review after anchoring: kept findings, how many it lost (a bad quote, an
    unusable finding), and how many were about lines outside the reviewed ones."""

    findings: list[ProposedFinding]
    summary: str
    dropped: int
    outside: int = 0


@dataclass(frozen=True)
class Panel:
    """The last round's answers, in pool order, under anonymous labels (label → model)."""

    excerpt: CodeExcerpt
    instructions: str
    doc: SentText
    answers: Mapping[str, Answer]
    labels: Mapping[str, str]
    clusters: Sequence[Cluster]

    def by_label(self) -> dict[str, Answer]:
        return {label: self.answers[model] for label, model in self.labels.items()}


@dataclass(frozen=True)
class Fused:
    """What a judge's answer became: findings credited to pool models, and what was dropped."""

    findings: list[Finding]
    summary: str
    dropped: int = 0
    outside: int = 0


class Judging(Protocol[T]):
    """How a mode asks its judge, and how it turns the judge's answer into fused findings."""

    def prompt(self, panel: Panel) -> Prompt[T]: ...

    def fuse(self, panel: Panel, answer: T) -> Fused: ...


AnyJudging = Judging[Any]
