"""`review --write-baseline FILE`: record this run's findings so later reviews do not show them.

It is how a team adopts fusion-ls on an existing codebase: review everything (or a diff) once,
write the baseline, commit it, and from then on see only new findings. Writing again keeps the
entries of files this run did not review (a diff review covers a few files), drops the entries
of reviewed files whose code is gone, and adds every finding the run showed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from fusion_ls.config.settings import Settings
from fusion_ls.engine.baseline import Baseline, baseline_file, code_of, recorded_path
from fusion_ls.engine.exclude import project_root
from fusion_ls.findings import FusedReview

__all__ = ["write_baseline"]


def write_baseline(
    reviewed: Sequence[tuple[Path, FusedReview, Sequence[str]]],
    target: Path,
    settings_for: Callable[[Path], Settings],
) -> list[str]:
    """Write the baseline of `reviewed` (file, review, lines) to `target`; what to tell the
    user about it."""
    baseline = Baseline.load(target)
    by_path: dict[str, tuple[FusedReview, Sequence[str]]] = {}
    expected: set[Path] = set()
    for file, review, lines in reviewed:
        root = project_root(file.resolve())
        by_path[recorded_path(file.resolve(), root)] = (review, lines)
        expected.add(baseline_file(settings_for(file).review, root).resolve())
    codes = {path: _codes(lines) for path, (_, lines) in by_path.items()}
    written = Baseline(
        about=baseline.about,
        findings=[e for e in baseline.findings if e.path not in codes or e.code in codes[e.path]],
    )
    for relative, (review, lines) in sorted(by_path.items()):
        written = written.with_findings(relative, lines, review.findings)
    written.save(target)
    count = sum(len(review.findings) for review, _ in by_path.values())
    notes = [f"wrote {target}: {len(written.findings)} findings, {count} from this run"]
    if target.resolve() not in expected:
        shown = ", ".join(sorted(str(p) for p in expected))
        notes.append(
            f"note: reviews read the baseline at {shown}; set review.baseline in .fusion.toml "
            f"to use {target}"
        )
    return notes


def _codes(lines: Sequence[str]) -> set[str]:
    return {code_of(lines, number) for number in range(1, len(lines) + 1)}
