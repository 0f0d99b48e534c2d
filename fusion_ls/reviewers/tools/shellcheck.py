"""`tool:shellcheck`: ShellCheck's report on shell scripts, when `shellcheck` is on PATH.

ShellCheck's own levels become severities (its errors are scripts that fail, its style notes
hints); its automatic fixes are character edits, and are left to ShellCheck itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePath

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fusion_ls.errors import ProviderError
from fusion_ls.findings import Category, ProposedFinding, Severity
from fusion_ls.reviewers.registry import register_analyzer
from fusion_ls.reviewers.tools.base import Analyzer, run_tool

__all__ = ["ShellCheck"]

_LEVELS: dict[str, tuple[Severity, Category]] = {
    "error": ("error", "bug"),
    "warning": ("warning", "bug"),
    "info": ("info", "correctness"),
    "style": ("hint", "style"),
}
_SHELLS = {".bash": "bash", ".bats": "bats", ".ksh": "ksh", ".sh": "sh"}
"""The dialect a script without a `#!` line is read in, by its suffix."""


class _Comment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    line: int
    endLine: int  # ShellCheck's name for it
    level: str
    code: int
    message: str


class _Report(BaseModel):
    model_config = ConfigDict(extra="ignore")
    comments: list[_Comment] = Field(default_factory=list)


@register_analyzer
class ShellCheck(Analyzer):
    """`shellcheck --format json1` on the reviewed text (read from stdin)."""

    tool = "shellcheck"
    suffixes = frozenset(_SHELLS)
    checks = frozenset({"bug", "correctness", "security", "style", "maintainability"})
    install = "apt-get install shellcheck, brew install shellcheck, or see shellcheck.net"

    async def review(
        self, lines: Sequence[str], path: str, cwd: Path | None, timeout_s: float
    ) -> list[ProposedFinding]:
        command = [*self.launcher(), "--format", "json1"]
        if not (lines and lines[0].startswith("#!")):
            command += ["--shell", _SHELLS.get(PurePath(path).suffix.lower(), "sh")]
        text = "\n".join(lines) + "\n"
        out = await run_tool(
            "shellcheck", [*command, "-"], text.encode(), cwd, timeout_s, frozenset({0, 1})
        )
        try:
            report = _Report.model_validate(json.loads(out))
        except (ValueError, ValidationError):
            raise ProviderError("shellcheck's report was not JSON", status="invalid") from None
        return [
            self.at(
                lines,
                comment.line,
                comment.endLine,
                f"SC{comment.code}",
                comment.message,
                _LEVELS.get(comment.level, ("info", "correctness")),
                rationale=f"Reported by ShellCheck [SC{comment.code}]"
                f"(https://www.shellcheck.net/wiki/SC{comment.code}).",
            )
            for comment in report.comments
        ]
