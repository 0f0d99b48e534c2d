"""The fusion modes, in one registry: what each is called, whether it debates, how it judges.

The engine dispatches through `MODES`; the CLI's `--mode` choices and eval's setups read it,
and tests hold the settings' `Mode` type, the VS Code setting and the Neovim client to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fusion_ls.engine.fusion.best_of import BestOf
from fusion_ls.engine.fusion.merge import Merge
from fusion_ls.engine.fusion.panel import AnyJudging
from fusion_ls.findings import Mode

__all__ = ["MODES", "FusionMode", "fusion_mode"]


@dataclass(frozen=True)
class FusionMode:
    name: Mode
    description: str
    debates: bool
    """Later rounds where every model revises against the others' findings."""
    judging: AnyJudging


MODES: dict[Mode, FusionMode] = {
    mode.name: mode
    for mode in (
        FusionMode("best-of", "the judge picks the strongest whole answer", False, BestOf()),
        FusionMode("merge", "the judge unions, deduplicates and resolves", False, Merge()),
        FusionMode(
            "debate", "models revise against each other's findings, then merge", True, Merge()
        ),
    )
}


def fusion_mode(name: Mode) -> FusionMode:
    return MODES[name]
