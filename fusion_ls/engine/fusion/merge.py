"""merge (and the end of debate): the judge's union of findings, credited on evidence.

A model supports a fused finding only when its own answer (its last round, in debate) holds a
finding that matches it. The judge's labels choose among the models with such evidence, and
may join what matching split (a named model's own finding needs only `NAMED_LEAST` of the
similarity, since the judge saw both); a label never credits a model that said nothing like it.
A finding that no pool model supports is the judge's own invention and is dropped, because
fusion-ls reports what the pool found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fusion_ls.engine.anchoring import anchor_all
from fusion_ls.engine.answers import ParsedReview, parse_judged_review
from fusion_ls.engine.fusion.consensus import sort_findings, to_finding
from fusion_ls.engine.fusion.labels import read_label
from fusion_ls.engine.fusion.matching import SAME_ISSUE, Matcher
from fusion_ls.engine.fusion.panel import Fused, Panel
from fusion_ls.engine.prompts import JUDGED_REVIEW_SCHEMA, asking, judge_merge_messages
from fusion_ls.findings import Finding, JudgedFinding, ProposedFinding
from fusion_ls.reviewers.base import Prompt

__all__ = ["NAMED_LEAST", "Merge", "merged_findings", "supporters"]

NAMED_LEAST = SAME_ISSUE / 2
"""The similarity a model the judge named needs between its own finding and the fused one."""


def _best(matcher: Matcher, fused: ProposedFinding, own: Sequence[ProposedFinding]) -> float:
    scores = [matcher.score(fused, finding) for finding in own]
    return max((s for s in scores if s is not None), default=-1.0)


def supporters(
    fused: JudgedFinding,
    named: set[str],
    answers: Mapping[str, Sequence[ProposedFinding]],
    matcher: Matcher,
) -> list[str]:
    """The pool models (in pool order) whose own answers hold evidence for `fused`."""
    best = {model: _best(matcher, fused, own) for model, own in answers.items()}
    chosen = [m for m in answers if m in named and best[m] >= NAMED_LEAST]
    return chosen or [m for m in answers if best[m] >= SAME_ISSUE]


def merged_findings(
    path: str,
    judged: Sequence[JudgedFinding],
    labels: Mapping[str, str],
    answers: Mapping[str, Sequence[ProposedFinding]],
) -> tuple[list[Finding], int]:
    """Fused findings from the judge's answer, and how many were dropped as unsupported."""
    matcher = Matcher.over([*judged, *(f for own in answers.values() for f in own)])
    fused: dict[str, Finding] = {}
    unsupported = 0
    for finding in judged:
        named = {labels[x] for x in map(read_label, finding.supporters) if x in labels}
        models = supporters(finding, named, answers, matcher)
        if not models:
            unsupported += 1
            continue
        key = Finding.make_id(path, finding.line_start, finding.category, finding.message)
        if key in fused:  # the judge stated one problem twice: pool its supporters
            together = set(models) | set(fused[key].models)
            models = [m for m in answers if m in together]
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
        placed = anchor_all(answer.findings, panel.doc)
        answers = {model: a.findings for model, a in panel.answers.items()}
        merged, unsupported = merged_findings(
            panel.excerpt.path, placed.kept, panel.labels, answers
        )
        dropped = placed.unquoted + answer.skipped + unsupported
        return Fused(merged, answer.summary, dropped=dropped, outside=placed.outside)
