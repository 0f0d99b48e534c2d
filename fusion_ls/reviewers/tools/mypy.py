"""`tool:mypy`: mypy's type errors on Python, offline and free.

mypy checks the bodies of unannotated functions too (`--check-untyped-defs`), since the code a
review sees is often unannotated, and does not chase imports it cannot find. The project's mypy
configuration applies (it runs in the file's folder); its cache lives in fusion-ls's cache
folder, never in the project. It reads a file, not stdin, so the sent text is written to a
temporary file of the same name.

Measured on eval/dataset (see BENCHMARKS.md), mypy and pyright each found none of the labelled
Python defects, and pyright's only reports were unresolved imports; mypy is the type checker
here because it installs from PyPI as pure Python, with no Node.js runtime to download.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from fusion_ls.errors import ProviderError
from fusion_ls.findings import Category, ProposedFinding, Severity
from fusion_ls.reviewers.cache import cache_dir
from fusion_ls.reviewers.registry import register_analyzer
from fusion_ls.reviewers.tools.base import Analyzer, run_tool, written_copy

__all__ = ["Mypy"]

_FAILS = frozenset({"syntax", "name-defined", "attr-defined", "call-arg", "import"})
"""Codes of errors the code raises when it runs (or cannot run at all)."""
_ANNOTATIONS = frozenset(
    {
        "no-untyped-def", "no-untyped-call", "type-arg", "var-annotated", "no-any-return",
        "annotation-unchecked", "import-untyped", "import-not-found", "unused-ignore",
        "redundant-cast", "no-any-unimported", "explicit-override", "truthy-bool",
    }
)  # fmt: skip
"""Codes about the annotations rather than the code's behaviour (a strict configuration)."""
DOCS = "https://mypy.readthedocs.io/en/stable/error_code_list.html"


class _Error(BaseModel):
    model_config = ConfigDict(extra="ignore")
    line: int
    end_line: int | None = None
    message: str
    hint: str | None = None
    code: str | None = None
    severity: str = "error"


def _mapped(code: str) -> tuple[Severity, Category]:
    if code in _FAILS:
        return "error", "bug"
    if code in _ANNOTATIONS:
        return "hint", "maintainability"
    return "warning", "bug"


@register_analyzer
class Mypy(Analyzer):
    """mypy's JSON report (one object a line) on the reviewed text."""

    tool = "mypy"
    suffixes = frozenset({".py", ".pyi"})
    checks = frozenset({"bug", "correctness", "maintainability"})

    def program(self) -> list[str] | None:
        return [sys.executable, "-m", "mypy"]  # a dependency of fusion-ls

    async def review(
        self, lines: Sequence[str], path: str, cwd: Path | None, timeout_s: float
    ) -> list[ProposedFinding]:
        with written_copy(lines, path, "mypy") as copy:
            command = [
                *self.launcher(), "--output", "json", "--no-error-summary",
                "--check-untyped-defs", "--ignore-missing-imports", "--follow-imports=silent",
                "--cache-dir", str(cache_dir() / "mypy"), str(copy),
            ]  # fmt: skip
            out = await run_tool(
                "mypy", command, b"", cwd or copy.parent, timeout_s, frozenset({0, 1, 2})
            )
        said = out.decode(errors="replace").splitlines()
        errors = [error for error in map(_parsed, said) if error]
        if not errors and any(line.strip() for line in said):
            # exit 2 without a report: mypy could not run (a bad configuration, say)
            raise ProviderError(f"mypy failed: {said[-1][:200]}")
        findings = []
        syntax = False
        for error in errors:
            code = error.code or "misc"
            if error.severity != "error" or (code == "syntax" and syntax):
                continue  # notes explain an error above; later syntax errors follow the first
            syntax = syntax or code == "syntax"
            hint = f" {error.hint}" if error.hint else ""
            findings.append(
                self.at(
                    lines,
                    error.line,
                    error.end_line or error.line,
                    code,
                    error.message,
                    _mapped(code),
                    rationale=f"Reported by mypy, error code [{code}]({DOCS}).{hint}",
                )
            )
        return findings


def _parsed(line: str) -> _Error | None:
    """One line of mypy's report, or None for a line that is not one of its JSON errors."""
    if not line.startswith("{"):
        return None
    try:
        return _Error.model_validate(json.loads(line))
    except (ValueError, ValidationError):
        return None
