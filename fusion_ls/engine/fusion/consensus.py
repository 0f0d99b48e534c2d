"""Deterministic consensus: cluster different models' findings that describe the same issue.

Findings match through `matching.Matcher` (same place, similar content, IDF over this review's
findings). Clusters are built best-first: of every pair of clusters whose models do not
overlap, the pair with the highest average score merges first, as long as that average reaches
`SAME_ISSUE` and every cross pair is at the same place; so a finding joins the cluster it is
most like, whatever order the models answered in, and a cluster never holds two findings of one
model. Clusters give every fused finding its `models` and `agreement`, and they are the whole
result when the judge is skipped or fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from fusion_ls.engine.fusion.matching import SAME_ISSUE, Matcher
from fusion_ls.findings import SEVERITIES, Finding, ProposedFinding

__all__ = [
    "Cluster",
    "all_agree",
    "cluster",
    "consensus",
    "sort_findings",
    "to_finding",
]


@dataclass
class Cluster:
    """One issue as several models stated it: (model, finding) pairs, at most one per model."""

    members: list[tuple[str, ProposedFinding]]

    @property
    def models(self) -> list[str]:
        return [model for model, _ in self.members]

    def holds(self, model: str, finding: ProposedFinding) -> bool:
        return any(m == model and f is finding for m, f in self.members)

    def representative(self) -> ProposedFinding:
        """The most severe statement; among equals the fullest rationale, then the first."""
        ranked = sorted(
            enumerate(self.members),
            key=lambda item: (
                SEVERITIES.index(item[1][1].severity),
                -len(item[1][1].rationale),
                item[0],
            ),
        )
        return ranked[0][1][1]


def cluster(
    answers: Mapping[str, Sequence[ProposedFinding]], matcher: Matcher | None = None
) -> list[Cluster]:
    """Group findings across models, best match first; `answers` in pool order, which is the
    order of each cluster's members."""
    items = [(m, f) for m, found in answers.items() for f in found]
    matcher = matcher or Matcher.over(f for _, f in items)
    score = {
        (i, j): matcher.score(items[i][1], items[j][1])
        for i, j in combinations(range(len(items)), 2)
        if items[i][0] != items[j][0]
    }

    def linkage(left: list[int], right: list[int]) -> float | None:
        """The average score of every cross pair; None when one pair is not at the same place."""
        pairs = [score[min(a, b), max(a, b)] for a in left for b in right]
        if any(p is None for p in pairs):
            return None
        return sum(p for p in pairs if p is not None) / len(pairs)

    groups = [[i] for i in range(len(items))]
    while True:
        best: tuple[float, int, int] | None = None
        for (x, left), (y, right) in combinations(enumerate(groups), 2):
            if {items[i][0] for i in left} & {items[i][0] for i in right}:
                continue
            value = linkage(left, right)
            if value is not None and value >= SAME_ISSUE and (best is None or value > best[0]):
                best = (value, x, y)
        if best is None:
            break
        _, x, y = best
        groups[x] = sorted(groups[x] + groups[y])
        del groups[y]
    return [Cluster([items[i] for i in group]) for group in groups]


def to_finding(
    path: str, finding: ProposedFinding, models: Sequence[str], answered: int
) -> Finding:
    return Finding(
        id=Finding.make_id(path, finding.line_start, finding.category, finding.message),
        line_start=finding.line_start,
        line_end=finding.line_end,
        quote=finding.quote,
        severity=finding.severity,
        category=finding.category,
        message=finding.message,
        rationale=finding.rationale,
        fix=finding.fix,
        models=list(models),
        answered=answered,
    )


def _by_place(finding: Finding) -> tuple[int, int, int]:
    return (finding.line_start, SEVERITIES.index(finding.severity), finding.line_end)


def consensus(path: str, clusters: Sequence[Cluster], answered: int) -> list[Finding]:
    """Every cluster as one finding, most agreed-upon information attached, in line order."""
    return sort_findings(
        [to_finding(path, c.representative(), c.models, answered) for c in clusters]
    )


def all_agree(clusters: Sequence[Cluster], answered: int) -> bool:
    """True when every problem was raised by every model that answered (or nobody raised any)."""
    return all(len(c.members) == answered for c in clusters)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=_by_place)
