"""best-of: the judge picks the strongest whole answer; agreement comes from consensus clusters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fusion_ls.engine.answers import parse_verdict
from fusion_ls.engine.fusion.consensus import Cluster, sort_findings, to_finding
from fusion_ls.engine.fusion.labels import read_label
from fusion_ls.engine.fusion.panel import Fused, Panel
from fusion_ls.engine.prompts import asking, best_of_schema, judge_best_of_messages
from fusion_ls.findings import BestOfVerdict, Finding, ProposedFinding
from fusion_ls.reviewers.base import InvalidAnswer, Prompt

__all__ = ["BestOf", "check_verdict", "winner_findings"]


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


class BestOf:
    """The judge scores each whole answer; the winner's findings are the result."""

    def prompt(self, panel: Panel) -> Prompt[BestOfVerdict]:
        labels = list(panel.labels)
        answers = {label: (a.findings, a.summary) for label, a in panel.by_label().items()}
        return asking(
            judge_best_of_messages(panel.excerpt, panel.instructions, answers),
            best_of_schema(labels),
            lambda text, _: check_verdict(parse_verdict(text), labels),
        )

    def fuse(self, panel: Panel, answer: BestOfVerdict) -> Fused:
        winner = panel.labels[answer.winner]
        findings = {model: a.findings for model, a in panel.answers.items()}
        chosen = winner_findings(
            panel.excerpt.path, winner, findings, panel.clusters, len(panel.answers)
        )
        note = f"best-of: the judge chose {winner}. {answer.reason}".strip()
        return Fused(chosen, f"{panel.answers[winner].summary}\n\n{note}".strip())
