"""`tool:ruff`: ruff's report on Python, offline, free and in milliseconds.

The project's ruff settings apply, plus the bug, security and performance rule families a
review is for. Rule codes become severities and categories (a syntax error is an error, and
only the first is kept: the parser's later complaints mostly follow from it); ruff's character
edits become the whole-line fixes of the model contract.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from fusion_ls.errors import ProviderError
from fusion_ls.findings import Category, Fix, ProposedFinding, Severity
from fusion_ls.reviewers.registry import register_analyzer
from fusion_ls.reviewers.tools.base import Analyzer, run_tool

__all__ = ["Ruff"]


class _Position(BaseModel):
    model_config = ConfigDict(extra="ignore")
    row: int
    column: int


class _Edit(BaseModel):
    model_config = ConfigDict(extra="ignore")
    content: str
    location: _Position
    end_location: _Position


class _RuffFix(BaseModel):
    model_config = ConfigDict(extra="ignore")
    edits: list[_Edit]


class _Diagnostic(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str | None
    message: str
    location: _Position
    end_location: _Position
    fix: _RuffFix | None = None
    url: str | None = None


def _family(code: str) -> str:
    """A rule code's letters: `S307` → `S`, `SIM115` → `SIM`, `PLE1142` → `PLE`."""
    match = re.match(r"[A-Z]+", code)
    return match[0] if match else ""


_SYNTAX = frozenset({"invalid-syntax", "E999"})
"""ruff's code for a syntax error (E999 before ruff 0.5, and no code at all before that)."""


def _breaks(code: str) -> bool:
    """Undefined names, syntax errors, pylint errors: code that fails when it runs."""
    return (
        code in _SYNTAX or code.startswith(("F8", "E9")) or _family(code) == "PLE" or code == "F632"
    )


def _severity(code: str) -> Severity:
    if _breaks(code):
        return "error"
    if _family(code) in ("B", "S"):
        return "warning"
    if _family(code) in ("PERF", "F"):
        return "info"
    return "hint"


def _category(code: str) -> Category:
    family = _family(code)
    if family == "S":
        return "security"
    if family == "PERF":
        return "performance"
    if _breaks(code) or family == "B":
        return "bug"
    if family in ("F", "PL", "PLR", "PLW", "C", "SIM", "RET", "ARG", "ERA"):
        return "maintainability"
    return "style"


def _line_fix(fix: _RuffFix, lines: Sequence[str]) -> Fix | None:
    """Ruff's character edits as one whole-line replacement, the form fixes take here."""
    if not fix.edits:
        return None
    first = min(e.location.row for e in fix.edits)
    ends = [e.end_location for e in fix.edits]
    last = max(p.row - 1 if p.column == 1 and p.row > first else p.row for p in ends)
    last = min(max(last, first), len(lines))
    block = "\n".join(lines[first - 1 : last]) + "\n"
    starts = [0]
    for line in lines[first - 1 : last]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(position: _Position) -> int:
        index = min(position.row - first, len(starts) - 1)
        return min(starts[index] + position.column - 1, len(block))

    for edit in sorted(fix.edits, key=lambda e: offset(e.location), reverse=True):
        block = block[: offset(edit.location)] + edit.content + block[offset(edit.end_location) :]
    return _whole_lines(first, last, block, lines)


def _whole_lines(first: int, last: int, block: str, lines: Sequence[str]) -> Fix:
    """Lines `first`..`last` become `block`. A fix replaces whole lines and "" is one empty
    line, so an edit that removes lines outright (F401's `import os`) or joins the last one to
    the next takes a neighbour along; else the import would leave a blank line behind."""
    if not block.endswith("\n") and last < len(lines):  # it ends on the next line: take it
        last += 1
        block += lines[last - 1] + "\n"
    elif not block and first > 1:  # the file's last lines went: keep the one above them
        first -= 1
        block = lines[first - 1] + "\n"
    return Fix(line_start=first, line_end=last, replacement=block.removesuffix("\n"))


@register_analyzer
class Ruff(Analyzer):
    """ruff's JSON report on the reviewed text."""

    tool = "ruff"
    suffixes = frozenset({".py", ".pyi"})
    extra_rules = "B,S,PERF,PLE"

    async def review(
        self, lines: Sequence[str], path: str, cwd: Path | None, timeout_s: float
    ) -> list[ProposedFinding]:
        report = await self._run("\n".join(lines) + "\n", path, cwd, timeout_s)
        findings = []
        syntax = False
        for raw in report:
            try:
                item = _Diagnostic.model_validate(raw)
            except ValidationError:
                continue
            code = item.code or "invalid-syntax"
            if code in _SYNTAX:
                if syntax:
                    continue
                syntax = True
            findings.append(self._finding(code, item, lines))
        return findings

    def _finding(self, code: str, item: _Diagnostic, lines: Sequence[str]) -> ProposedFinding:
        return self.at(
            lines,
            item.location.row,
            item.end_location.row,
            code,
            item.message,
            (_severity(code), _category(code)),
            rationale=f"Reported by ruff rule [{code}]({item.url})." if item.url else "",
            fix=_line_fix(item.fix, lines) if item.fix else None,
        )

    def program(self) -> list[str] | None:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

        return [str(find_ruff_bin())]

    async def _run(self, text: str, path: str, cwd: Path | None, timeout_s: float) -> list[Any]:
        command = [
            *self.launcher(), "check", "--output-format", "json", "--no-fix",
            "--no-cache", "--extend-select", self.extra_rules,
            "--stdin-filename", PurePath(path).name, "-",
        ]  # fmt: skip
        out = await run_tool(
            "ruff", command, text.encode(), cwd, timeout_s, ok_codes=frozenset({0, 1})
        )
        try:
            report = json.loads(out or b"[]")
        except ValueError:
            raise ProviderError("ruff's report was not JSON", status="invalid") from None
        return report if isinstance(report, list) else []
