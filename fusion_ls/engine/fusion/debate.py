"""debate: after an independent round, each model revises against the others' findings.

The debate stops early when a round changes nobody's position: same places, categories and
severities. Wording is ignored, since models rephrase without changing their minds.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from fusion_ls.engine.fusion.labels import anonymise
from fusion_ls.findings import ProposedFinding

__all__ = ["others_for", "positions", "unchanged"]

Position = tuple[int, int, str, str]


def positions(findings: Sequence[ProposedFinding]) -> frozenset[Position]:
    return frozenset((f.line_start, f.line_end, f.category, f.severity) for f in findings)


def unchanged(
    before: Mapping[str, Sequence[ProposedFinding]],
    after: Mapping[str, Sequence[ProposedFinding]],
) -> bool:
    """True when every model that answered this round holds the positions it held before."""
    return all(positions(after[m]) == positions(before.get(m, ())) for m in after)


def others_for(
    model: str, answers: Mapping[str, Sequence[ProposedFinding]], rng: random.Random
) -> dict[str, Sequence[ProposedFinding]]:
    """The other models' findings under fresh anonymous labels, for `model`'s next round."""
    labels = anonymise([m for m in answers if m != model], rng)
    return {label: answers[other] for label, other in labels.items()}
