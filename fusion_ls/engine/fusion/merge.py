"""merge (and the end of debate): the judge's union of findings, attributed to real models.

The judge names supporters by anonymous label. A finding whose labels name nobody is credited
through consensus instead; one that no pool model supports at all is the judge's own invention
and is dropped, because fusion-ls reports what the pool found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fusion_ls.engine.anchoring import anchor_all
from fusion_ls.engine.answers import ParsedReview, parse_judged_review
from fusion_ls.engine.fusion.consensus import Cluster, find_cluster, sort_findings, to_finding
from fusion_ls.engine.fusion.labels import read_label
from fusion_ls.engine.fusion.panel import Fused, Panel
from fusion_ls.engine.prompts import JUDGED_REVIEW_SCHEMA, asking, judge_merge_messages
from fusion_ls.findings import Finding, JudgedFinding
from fusion_ls.reviewers.base import Prompt

__all__ = ["Merge", "merged_findings"]


def _supporters(
    finding: JudgedFinding, labels: Mapping[str, str], clusters: Sequence[Cluster]
) -> set[str]:
    named = {labels[label] for label in map(read_label, finding.supporters) if label in labels}
    if not named:
        home = find_cluster(clusters, finding)
        named = set(home.models) if home else set()
    return named


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
        named = _supporters(finding, labels, clusters)
        if not named:
            unsupported += 1
            continue
        key = Finding.make_id(path, finding.line_start, finding.category, finding.message)
        if key in fused:  # the judge stated one problem twice: pool its supporters
            named |= set(fused[key].models)
        models = [m for m in pool_order if m in named]
        fused[key] = to_finding(path, finding, models, len(labels))
    return sort_findings(list(fused.values())), unsupported


class Merge:
    """The judge states every real problem once, naming its supporters by label."""

    def prompt(self, panel: Panel) -> Prompt[ParsedReview[JudgedFinding]]:
        answers = {label: a.findings for label, a in panel.by_label().items()}
        return asking(
            judge_merge_messages(panel.excerpt, panel.instructions, answers),
            JUDGED_REVIEW_SCHEMA,
            lambda text, salvage: parse_judged_review(text, salvage=salvage),
        )

    def fuse(self, panel: Panel, answer: ParsedReview[JudgedFinding]) -> Fused:
        kept, lost = anchor_all(answer.findings, panel.doc)
        merged, unsupported = merged_findings(
            panel.excerpt.path, kept, panel.labels, panel.clusters, list(panel.answers)
        )
        return Fused(merged, answer.summary, dropped=lost + answer.skipped + unsupported)
