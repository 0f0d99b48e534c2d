"""best-of: the judge picks the strongest whole answer; agreement comes from consensus clusters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fusion_ls.engine.answers import InvalidAnswer
from fusion_ls.engine.fusion.consensus import Cluster, sort_findings, to_finding
from fusion_ls.engine.fusion.labels import read_label
from fusion_ls.findings import BestOfVerdict, Finding, ProposedFinding

__all__ = ["check_verdict", "winner_findings"]


def check_verdict(verdict: BestOfVerdict, labels: Sequence[str]) -> BestOfVerdict:
    """Reject a verdict naming a reviewer that does not exist (it then gets a repair retry)."""
    winner = read_label(verdict.winner)
    if winner not in labels:
        raise InvalidAnswer(f'"winner" must be one of {", ".join(labels)}, not {verdict.winner!r}')
    return verdict.model_copy(update={"winner": winner})


def winner_findings(
    path: str,
    winner: str,
    answers: Mapping[str, Sequence[ProposedFinding]],
    clusters: Sequence[Cluster],
    answered: int,
) -> list[Finding]:
    """The winner's findings, each credited to every model whose finding clustered with it."""
    fused = []
    for finding in answers[winner]:
        home = next(
            (c for c in clusters if any(m == winner and f is finding for m, f in c.members)), None
        )
        models = home.models if home else [winner]
        fused.append(to_finding(path, finding, models, answered))
    return sort_findings(fused)
