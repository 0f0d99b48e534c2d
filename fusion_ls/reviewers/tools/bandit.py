"""`tool:bandit`: bandit's security report on Python, offline and free.

Every bandit check is a security finding; its severity is bandit's own, tempered by its
confidence (a high-severity guess is a warning, a certain one an error). Its checks share names
with ruff's ports of them (S608 is B608), so the two agree on a line rather than counting twice.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fusion_ls.errors import ProviderError
from fusion_ls.findings import ProposedFinding, Severity
from fusion_ls.reviewers.registry import register_analyzer
from fusion_ls.reviewers.tools.base import Analyzer, run_tool

__all__ = ["Bandit"]

Level = Literal["LOW", "MEDIUM", "HIGH", "UNDEFINED"]


class _Issue(BaseModel):
    model_config = ConfigDict(extra="ignore")
    test_id: str
    issue_text: str
    issue_severity: Level = "UNDEFINED"
    issue_confidence: Level = "UNDEFINED"
    line_number: int
    line_range: list[int] = Field(default_factory=list)
    more_info: str = ""


class _Error(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reason: str = "an error"


class _Report(BaseModel):
    model_config = ConfigDict(extra="ignore")
    results: list[_Issue] = Field(default_factory=list)
    errors: list[_Error] = Field(default_factory=list)


def _severity(issue: _Issue) -> Severity:
    if issue.issue_severity == "HIGH":
        return "error" if issue.issue_confidence == "HIGH" else "warning"
    return "warning" if issue.issue_severity == "MEDIUM" else "info"


@register_analyzer
class Bandit(Analyzer):
    """bandit's JSON report on the reviewed text (read from stdin)."""

    tool = "bandit"
    suffixes = frozenset({".py", ".pyi"})
    checks = frozenset({"security"})

    def program(self) -> list[str] | None:
        return [sys.executable, "-m", "bandit"]  # a dependency of fusion-ls

    async def review(
        self, lines: Sequence[str], path: str, cwd: Path | None, timeout_s: float
    ) -> list[ProposedFinding]:
        text = "\n".join(lines) + "\n"
        command = [*self.launcher(), "--format", "json", "--quiet", "-"]
        out = await run_tool(
            "bandit", command, text.encode(), cwd, timeout_s, ok_codes=frozenset({0, 1})
        )
        try:
            report = _Report.model_validate(json.loads(out))
        except (ValueError, ValidationError):
            raise ProviderError("bandit's report was not JSON", status="invalid") from None
        if report.errors and not report.results:
            # It reports no line for what it cannot parse; ruff and mypy do.
            reason = report.errors[0].reason
            raise ProviderError(f"bandit could not read the file: {reason}", status="skipped")
        return [
            self.at(
                lines,
                issue.line_number,
                max(issue.line_range, default=issue.line_number),
                issue.test_id,
                issue.issue_text,
                (_severity(issue), "security"),
                rationale=f"Reported by bandit check [{issue.test_id}]({issue.more_info}) "
                f"(severity {issue.issue_severity.lower()}, "
                f"confidence {issue.issue_confidence.lower()}).",
            )
            for issue in report.results
        ]
