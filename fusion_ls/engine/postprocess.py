"""The one step every finding passes before anyone sees it, provisional or fused.

It keeps findings inside the review's scope, drops what the repository says not to show
(`fusion: ignore` comments, excluded categories, the baseline; see `Policy`), counts who could
have raised each finding (a local analyzer that does not check a category neither agrees nor
disagrees with a finding of it, so ruff's S608 and bandit's B608 are `2/2 analyzers` beside
mypy, which checks types only), says how many pool models failed, applies the agreement dial
(`review.min_agreement`: findings fewer models raised are demoted to hints, or hidden and
counted), records what each supporting model said in its own words (hover shows it), and orders
them by place. Doing all of it here means the editor's provisional diagnostics, the final set
and the CLI can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fusion_ls.config.settings import MinAgreement, ReviewSettings
from fusion_ls.engine.baseline import BaselineMatcher
from fusion_ls.engine.fusion.consensus import sort_findings
from fusion_ls.engine.fusion.matching import Matcher
from fusion_ls.engine.suppressions import Suppression, suppressing
from fusion_ls.findings import (
    Category,
    Counted,
    Finding,
    ProposedFinding,
    Scope,
    Statement,
    SuppressionNote,
)

__all__ = ["Dial", "Policy", "Shown", "needed", "postprocess"]


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
class Policy:
    """What the repository says not to show: inline suppressions, categories, the baseline."""

    suppressions: tuple[Suppression, ...] = ()
    exclude_categories: frozenset[str] = frozenset()
    baseline: BaselineMatcher | None = None

    def why_not_shown(self, finding: Finding) -> str | None:
        """ "suppressed" or "baselined" when the finding is not shown, else None."""
        if finding.category in self.exclude_categories:
            return "suppressed"
        if suppressing(self.suppressions, finding.line_start, finding.category) is not None:
            return "suppressed"
        if self.baseline and self.baseline.hides(finding):
            return "baselined"
        return None

    def unused(self, findings: Sequence[Finding], scope: Scope) -> list[SuppressionNote]:
        """Suppressions in `scope` that suppressed none of `findings` (ruff's RUF100), and
        those naming something that is not a category."""
        used = {
            id(s)
            for f in findings
            if (s := suppressing(self.suppressions, f.line_start, f.category)) is not None
        }
        notes = []
        for suppression in self.suppressions:
            if suppression.line not in scope:
                continue
            if suppression.unknown:
                names = ", ".join(sorted(suppression.unknown))
                notes.append(_note(suppression, f"not a category: {names}"))
            elif id(suppression) not in used:
                notes.append(_note(suppression, "it suppressed nothing"))
        return notes


def _note(suppression: Suppression, reason: str) -> SuppressionNote:
    return SuppressionNote(line=suppression.line, comment=suppression.text, reason=reason)


@dataclass(frozen=True)
class Shown:
    """What is published, and how many findings the dial, suppressions and baseline hid."""

    findings: list[Finding]
    hidden: int = 0
    suppressed: int = 0
    baselined: int = 0
    unused: list[SuppressionNote] = field(default_factory=list)


def postprocess(
    findings: Sequence[Finding],
    scope: Scope,
    answers: Mapping[str, Sequence[ProposedFinding]],
    *,
    failed: int = 0,
    dial: Dial | None = None,
    answered_by: Counted = "models",
    coverage: Mapping[str, frozenset[Category]] | None = None,
    policy: Policy | None = None,
    report_unused: bool = False,
) -> Shown:
    """`findings` as they are published: in scope, not suppressed, with failures, the dial,
    statements, what the agreement counts (`answered_by`), and in line order. `coverage`, when
    given, holds the categories each counted reviewer checks; a finding's `answered` then
    counts only those that check its category. `report_unused` lists the suppressions in scope
    that hid nothing (for a review of the whole file, where that means something)."""
    policy = policy or Policy()
    matcher = Matcher.over(f for own in answers.values() for f in own)
    kept: list[Finding] = []
    hidden = 0
    dropped = {"suppressed": 0, "baselined": 0}
    in_scope = [f for f in findings if f.line_start in scope]
    for finding in in_scope:
        if (why := policy.why_not_shown(finding)) is not None:
            dropped[why] += 1
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
    unused = policy.unused(in_scope, scope) if report_unused else []
    return Shown(sort_findings(kept), hidden, dropped["suppressed"], dropped["baselined"], unused)


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
