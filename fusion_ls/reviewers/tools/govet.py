"""`tool:govet`: `go vet`'s report on Go, when `go` is on PATH.

go vet's analyzers report code that compiles but is wrong (a copied lock, a printf verb of the
wrong type, a loop variable captured by a goroutine), so each is a bug; code that does not
compile is an error. It vets the sent text as a file of its own in a temporary folder, so a
file whose imports are outside the standard library cannot be vetted, and is skipped saying so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from fusion_ls.errors import ProviderError
from fusion_ls.findings import ProposedFinding
from fusion_ls.reviewers.registry import register_analyzer
from fusion_ls.reviewers.tools.base import Analyzer, run_tool, written_copy

__all__ = ["GoVet"]

_POSITION = re.compile(r"[^\s:]+\.go:(?P<line>\d+)(?::\d+)?")
_BROKEN = re.compile(r"^vet: " + _POSITION.pattern + r": (?P<message>.+)$", re.MULTILINE)
"""What go vet prints, instead of its report, for code that does not compile."""
DOCS = "https://pkg.go.dev/cmd/vet"


class _Diagnostic(BaseModel):
    model_config = ConfigDict(extra="ignore")
    posn: str
    message: str


@register_analyzer
class GoVet(Analyzer):
    """`go vet -json` on the reviewed text (its report comes on stderr)."""

    tool = "govet"
    executable = "go"
    suffixes = frozenset({".go"})
    checks = frozenset({"bug", "correctness"})
    install = "Go from go.dev/dl, or apt-get install golang-go"

    async def review(
        self, lines: Sequence[str], path: str, cwd: Path | None, timeout_s: float
    ) -> list[ProposedFinding]:
        with written_copy(lines, path, "vet") as copy:
            command = [*self.launcher(), "vet", "-json", f"./{copy.name}"]
            err = await run_tool(
                "go vet", command, b"", copy.parent, timeout_s, frozenset({0, 1, 2}),
                report_on="stderr",
            )  # fmt: skip
        said = err.decode(errors="replace")
        broken = _BROKEN.search(said)
        if broken:
            if "could not import" in broken["message"]:
                raise ProviderError(f"go vet: {broken['message']}", status="skipped")
            row = int(broken["line"])
            return [self.at(lines, row, row, "typecheck", broken["message"], ("error", "bug"))]
        return [
            self.at(lines, row, row, check, item.message, ("warning", "bug"),
                    rationale=f"Reported by go vet's [{check}]({DOCS}) analyzer.")
            for check, item in _diagnostics(said)
            if (row := _row(item.posn))
        ]  # fmt: skip


def _diagnostics(said: str) -> list[tuple[str, _Diagnostic]]:
    """(analyzer, diagnostic) pairs from go vet's JSON: package → analyzer → diagnostics."""
    start = said.find("{")
    if start < 0:  # no report: the go command stopped first (an import outside the stdlib)
        problem = said.strip().splitlines()[-1:] or ["no report"]
        raise ProviderError(f"go vet cannot vet the file alone: {problem[0]}", status="skipped")
    try:
        report = json.loads(said[start:])
    except ValueError:
        raise ProviderError("go vet's report was not JSON", status="invalid") from None
    found = []
    for checks in report.values() if isinstance(report, dict) else []:
        for check, items in checks.items() if isinstance(checks, dict) else []:
            for raw in items if isinstance(items, list) else []:
                try:
                    found.append((check, _Diagnostic.model_validate(raw)))
                except ValidationError:
                    continue
    return found


def _row(position: str) -> int:
    match = _POSITION.search(position)
    return int(match["line"]) if match else 0
