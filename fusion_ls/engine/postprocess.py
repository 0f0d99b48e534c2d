"""The one step every finding passes before anyone sees it, provisional or fused.

It keeps findings inside the review's scope, records what each supporting model said in its
own words (hover shows it), and orders them by place. Later policies that decide what is shown
(suppressions, the agreement dial) belong here too, so the editor's provisional diagnostics
and the final set can never disagree about them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fusion_ls.engine.fusion.consensus import sort_findings
from fusion_ls.engine.fusion.matching import Matcher
from fusion_ls.findings import Finding, ProposedFinding, Scope, Statement

__all__ = ["postprocess"]


def postprocess(
    findings: Sequence[Finding],
    scope: Scope,
    answers: Mapping[str, Sequence[ProposedFinding]],
) -> list[Finding]:
    """`findings` as they are published: in scope, with statements, in line order."""
    matcher = Matcher.over(f for own in answers.values() for f in own)
    kept = [
        finding.model_copy(update={"statements": _statements(finding, answers, matcher)})
        for finding in findings
        if finding.line_start in scope
    ]
    return sort_findings(kept)


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
