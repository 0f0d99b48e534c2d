"""merge (and the end of debate): the judge's union of findings, attributed to real models.

The judge names supporters by anonymous label. A finding whose labels name nobody is credited
through consensus instead; one that no pool model supports at all is the judge's own invention
and is dropped, because fusion-ls reports what the pool found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..findings import Finding, JudgedFinding
from .consensus import Cluster, find_cluster, sort_findings, to_finding

__all__ = ["merged_findings"]


def _supporters(
    finding: JudgedFinding, labels: Mapping[str, str], clusters: Sequence[Cluster]
) -> list[str]:
    named = {
        labels[s.strip().strip("[]").upper()]
        for s in finding.supporters
        if s.strip().strip("[]").upper() in labels
    }
    if not named:
        home = find_cluster(clusters, finding)
        named = set(home.models) if home else set()
    return [model for model in labels.values() if model in named]


def merged_findings(
    path: str,
    judged: Sequence[JudgedFinding],
    labels: Mapping[str, str],
    clusters: Sequence[Cluster],
    pool_order: Sequence[str],
) -> tuple[list[Finding], int]:
    """Fused findings from the judge's answer, and how many were dropped as unsupported."""
    fused: dict[str, Finding] = {}
    unsupported = 0
    for finding in judged:
        models = _supporters(finding, labels, clusters)
        if not models:
            unsupported += 1
            continue
        ordered = [m for m in pool_order if m in models]
        result = to_finding(path, finding, ordered, len(labels))
        fused.setdefault(result.id, result)
    return sort_findings(list(fused.values())), unsupported
