"""`--format github`: findings as GitHub Actions workflow commands, shown on the pull request.

One `::error`/`::warning`/`::notice` line per finding, as ruff's `--output-format github` does
(https://docs.github.com/actions/reference/workflow-commands-for-github-actions): the runner turns
each into an annotation on the changed file. Values are escaped as the runner expects, so a
message with a newline, a colon or a comma cannot break the command.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from fusion_ls.cli.report import first_column
from fusion_ls.findings import Finding, FusedReview, Severity

__all__ = ["github_annotations", "say_run_failed"]

_LEVELS: dict[Severity, str] = {
    "error": "error",
    "warning": "warning",
    "info": "notice",
    "hint": "notice",
}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation(path: str, finding: Finding, lines: Sequence[str]) -> str:
    title = f"fusion-ls ({finding.category}, {finding.agreement_label()})"
    properties = ",".join(
        [
            f"title={_property(title)}",
            f"file={_property(path)}",
            f"line={finding.line_start}",
            f"col={first_column(lines, finding.line_start)}",
            f"endLine={finding.line_end}",
        ]
    )
    message = finding.message + (f"\n\n{finding.rationale}" if finding.rationale else "")
    return f"::{_LEVELS[finding.severity]} {properties}::{_data(message)}"


def github_annotations(review: FusedReview, lines: Sequence[str]) -> str:
    """Every finding of `review` as a workflow command line."""
    return "\n".join(_annotation(review.path, finding, lines) for finding in review.findings)


def say_run_failed(message: str, format_: str) -> None:
    """Why the run fails (no model answered, say) on stderr; with `--format github` also as an
    error annotation, so the pull request shows the reason and not only a red check."""
    print(message, file=sys.stderr)
    if format_ == "github":
        print(f"::error title=fusion-ls::{_data(message.removeprefix('fusion-ls: '))}")
