"""Deterministic consensus: cluster different models' findings that describe the same problem.

Two findings from different models match when their lines overlap (one line of slack) and they
share the category or most of their wording. Clusters give every fused finding its `models` and
`agreement`, and they are the whole result when the judge is skipped or fails.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fusion_ls.findings import SEVERITIES, Finding, ProposedFinding

__all__ = [
    "Cluster",
    "all_agree",
    "cluster",
    "consensus",
    "find_cluster",
    "sort_findings",
    "to_finding",
]

_WORD = re.compile(r"[a-z0-9_]+")
_STOPWORDS = frozenset(
    ["a", "an", "the", "is", "are", "be", "to", "of", "in", "on", "at", "for", "and", "or", "if"]
)
SIMILAR_WORDING = 0.3


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower())) - _STOPWORDS


def wording(a: str, b: str) -> float:
    """Jaccard similarity of the content words of two messages."""
    left, right = _words(a), _words(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def _overlap(a: ProposedFinding, b: ProposedFinding) -> bool:
    return a.line_start <= b.line_end + 1 and b.line_start <= a.line_end + 1


def similarity(a: ProposedFinding, b: ProposedFinding) -> float | None:
    """How alike two findings are, or None when they cannot be the same problem."""
    if not _overlap(a, b):
        return None
    words = wording(a.message, b.message)
    same_category = a.category == b.category
    if not same_category and words < SIMILAR_WORDING:
        return None
    return (1.0 if same_category else 0.0) + words


@dataclass
class Cluster:
    """One problem as several models stated it: (model, finding) pairs, at most one per model."""

    members: list[tuple[str, ProposedFinding]]

    @property
    def models(self) -> list[str]:
        return [model for model, _ in self.members]

    def score(self, finding: ProposedFinding) -> float | None:
        scores = [similarity(finding, member) for _, member in self.members]
        valid = [s for s in scores if s is not None]
        return max(valid) if valid else None

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


def find_cluster(clusters: Sequence[Cluster], finding: ProposedFinding) -> Cluster | None:
    """The cluster that `finding` best matches, if any."""
    best: tuple[float, int] | None = None
    for index, candidate in enumerate(clusters):
        score = candidate.score(finding)
        if score is not None and (best is None or score > best[0]):
            best = (score, index)
    return clusters[best[1]] if best else None


def cluster(answers: Mapping[str, Sequence[ProposedFinding]]) -> list[Cluster]:
    """Group findings across models; the order of `answers` (pool order) makes it deterministic."""
    clusters: list[Cluster] = []
    for model, findings in answers.items():
        for finding in findings:
            open_ = [c for c in clusters if model not in c.models]
            home = find_cluster(open_, finding)
            if home is None:
                clusters.append(Cluster([(model, finding)]))
            else:
                home.members.append((model, finding))
    return clusters


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
