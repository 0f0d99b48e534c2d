"""`tool:oxlint`: oxlint's report on JavaScript and TypeScript, when `oxlint` is on PATH.

oxlint runs ESLint's rules (and typescript-eslint's, unicorn's, …) with no configuration; by
default only its `correctness` rules, code that is outright wrong, so a rule is a bug unless it
is one of the few below. A parse error is an error. It reads files, not stdin, so the sent text
is written to a temporary file of the same name; the project's `.oxlintrc.json` applies (it
runs in the file's folder).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fusion_ls.errors import ProviderError
from fusion_ls.findings import Category, ProposedFinding, Severity
from fusion_ls.reviewers.registry import register_analyzer
from fusion_ls.reviewers.tools.base import Analyzer, run_tool, written_copy

__all__ = ["Oxlint"]

_RULE = re.compile(r"(?P<plugin>[\w-]+)\((?P<rule>[\w/-]+)\)")
"""oxlint's codes: `eslint(no-eval)`, `typescript-eslint(no-unused-vars)`."""
_RULES: dict[str, tuple[Severity, Category]] = {
    "no-eval": ("warning", "security"),
    "no-new-func": ("warning", "security"),
    "no-script-url": ("warning", "security"),
    "no-unused-vars": ("info", "maintainability"),
    "no-unused-expressions": ("info", "maintainability"),
    "no-debugger": ("warning", "maintainability"),
    "no-console": ("hint", "style"),
}


class _Span(BaseModel):
    model_config = ConfigDict(extra="ignore")
    line: int


class _Label(BaseModel):
    model_config = ConfigDict(extra="ignore")
    span: _Span


class _Diagnostic(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: str
    code: str | None = None
    severity: str = "warning"
    url: str | None = None
    help: str | None = None
    labels: list[_Label] = Field(default_factory=list)


class _Report(BaseModel):
    model_config = ConfigDict(extra="ignore")
    diagnostics: list[_Diagnostic] = Field(default_factory=list)


@register_analyzer
class Oxlint(Analyzer):
    """`oxlint --format json` on the reviewed text, written to a temporary file."""

    tool = "oxlint"
    suffixes = frozenset({".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx"})
    install = "npm install -g oxlint, or see oxc.rs"

    async def review(
        self, lines: Sequence[str], path: str, cwd: Path | None, timeout_s: float
    ) -> list[ProposedFinding]:
        with written_copy(lines, path, "oxlint") as copy:
            command = [*self.launcher(), "--format", "json", str(copy)]
            out = await run_tool(
                "oxlint", command, b"", cwd or copy.parent, timeout_s, frozenset({0, 1})
            )
        try:
            report = _Report.model_validate(json.loads(out))
        except (ValueError, ValidationError):
            raise ProviderError("oxlint's report was not JSON", status="invalid") from None
        return [self._finding(item, lines) for item in report.diagnostics if item.labels]

    def _finding(self, item: _Diagnostic, lines: Sequence[str]) -> ProposedFinding:
        named = _RULE.fullmatch(item.code or "")
        code = named["rule"] if named else item.code or "parse-error"
        mapped: tuple[Severity, Category] = _RULES.get(code, ("warning", "bug"))
        if item.code is None or item.severity == "error":
            mapped = ("error", "bug")  # a parse error, or a rule the project made an error
        rows = [label.span.line for label in item.labels]
        rationale = f"Reported by oxlint rule [{item.code}]({item.url})." if item.url else ""
        if item.help:
            rationale = f"{rationale} {item.help}".strip()
        return self.at(lines, min(rows), max(rows), code, item.message, mapped, rationale=rationale)
