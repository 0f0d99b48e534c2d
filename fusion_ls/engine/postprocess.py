"""The one step every finding passes before anyone sees it, provisional or fused.

It keeps findings inside the review's scope, counts who could have raised each finding (a local
analyzer that does not check a category neither agrees nor disagrees with a finding of it, so
ruff's S608 and bandit's B608 are `2/2 analyzers` beside mypy, which checks types only), says
how many pool models failed, applies the
agreement dial (`review.min_agreement`: findings fewer models raised are demoted to hints, or
hidden and counted), records what each supporting model said in its own words (hover shows
it), and orders them by place. Later policies that decide what is shown (suppressions) belong
here too, so the editor's provisional diagnostics and the final set can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fusion_ls.config.settings import MinAgreement, ReviewSettings
from fusion_ls.engine.fusion.consensus import sort_findings
from fusion_ls.engine.fusion.matching import Matcher
from fusion_ls.findings import Category, Counted, Finding, ProposedFinding, Scope, Statement

__all__ = ["Dial", "Shown", "needed", "postprocess"]


def needed(min_agreement: MinAgreement, answered: int) -> int:
    """How many models must have raised a finding: "majority" is more than half of `answered`."""
    if min_agreement == "majority":
        return answered // 2 + 1
    return min_agreement


@dataclass(frozen=True)
class Dial:
    """The agreement dial of one review: its setting, and how many models it counts on."""

    min_agreement: MinAgreement
    below: str
    """"demote" or "hide"."""
    expected: int
    """Models counted on: the pool while answers arrive, those that answered at the end."""
    provisional: bool = False

    @classmethod
    def of(cls, review: ReviewSettings, expected: int, *, provisional: bool = False) -> Dial:
        return cls(review.min_agreement, review.below_agreement, expected, provisional)

    def threshold(self, answered: int, checking: int | None = None) -> int | None:
        """The agreement a finding needs, of the `checking` reviewers that check its category
        (all of them when None); None for provisional results while too few models answered
        for it to reach that (it would be demoted, then restored)."""
        least = needed(self.min_agreement, min(self.expected, checking or self.expected))
        return None if self.provisional and answered < least else least


@dataclass(frozen=True)
class Shown:
    """What is published, and how many findings the dial hid."""

    findings: list[Finding]
    hidden: int = 0


def postprocess(
    findings: Sequence[Finding],
    scope: Scope,
    answers: Mapping[str, Sequence[ProposedFinding]],
    *,
    failed: int = 0,
    dial: Dial | None = None,
    answered_by: Counted = "models",
    coverage: Mapping[str, frozenset[Category]] | None = None,
) -> Shown:
    """`findings` as they are published: in scope, with failures, the dial, statements, what
    the agreement counts (`answered_by`), and in line order. `coverage`, when given, holds the
    categories each counted reviewer checks; a finding's `answered` then counts only those
    that check its category."""
    matcher = Matcher.over(f for own in answers.values() for f in own)
    kept: list[Finding] = []
    hidden = 0
    for finding in findings:
        if finding.line_start not in scope:
            continue
        checking = None
        if coverage is not None:
            checking = sum(finding.category in checks for checks in coverage.values())
            checking = max(checking, len(finding.models), 1)
        threshold = dial.threshold(len(answers), checking) if dial else None
        update: dict[str, object] = {
            "answered": checking or finding.answered,
            "failed": failed,
            "answered_by": answered_by,
            "statements": _statements(finding, answers, matcher),
        }
        if threshold is not None and len(finding.models) < threshold:
            assert dial is not None
            if dial.below == "hide":
                hidden += 1
                continue
            update |= {"severity": "hint", "demoted_from": finding.severity}
        kept.append(finding.model_copy(update=update))
    return Shown(sort_findings(kept), hidden)


def _statements(
    finding: Finding, answers: Mapping[str, Sequence[ProposedFinding]], matcher: Matcher
) -> list[Statement]:
    """For each supporting model, its own finding most like this one."""
    fused = ProposedFinding.model_validate(
        finding.model_dump(include=set(ProposedFinding.model_fields))
    )
    said = []
    for model in finding.models:
        scored = [
            (score, index, own)
            for index, own in enumerate(answers.get(model, ()))
            if (score := matcher.score(own, fused)) is not None
        ]
        if scored:
            own = max(scored, key=lambda item: (item[0], -item[1]))[2]
            said.append(Statement(model=model, severity=own.severity, message=own.message))
    return said
