"""One name for each rule that several analyzers check, so their reports of it match.

Analyzer messages are terse rule texts, and two analyzers word one rule differently (or, like
ruff and bandit, alike), so consensus does not compare their words: a finding carries its
rule's name here and two analyzers agree when they name the same rule at the same place
(`engine/fusion/matching.py`). A rule no other analyzer checks keeps its own name,
`tool:CODE`, and so never matches another analyzer's rule.
"""

from __future__ import annotations

import re

__all__ = ["rule_id"]

_BANDIT_PORT = re.compile(r"S(\d{3})")
"""ruff's flake8-bandit rules are bandit's checks, numbered alike: S608 is bandit's B608
(https://docs.astral.sh/ruff/rules/#flake8-bandit-s)."""

_SAME: dict[tuple[str, str], str] = {
    # A syntax error, reported by every Python analyzer that parses the file.
    ("ruff", "invalid-syntax"): "syntax-error",
    ("ruff", "E999"): "syntax-error",
    ("mypy", "syntax"): "syntax-error",
    # A name used but never defined, and a name defined twice.
    ("ruff", "F821"): "undefined-name",
    ("mypy", "name-defined"): "undefined-name",
    ("ruff", "F811"): "redefinition",
    ("mypy", "no-redef"): "redefinition",
}


def rule_id(tool: str, code: str) -> str:
    """The shared name of `tool`'s rule `code`: `bandit:B608` for ruff's S608 and bandit's
    B608, `syntax-error` for ruff's invalid-syntax and mypy's syntax; else `tool:code`."""
    port = _BANDIT_PORT.fullmatch(code) if tool == "ruff" else None
    if port:
        return f"bandit:B{port[1]}"
    return _SAME.get((tool, code), f"{tool}:{code}")
