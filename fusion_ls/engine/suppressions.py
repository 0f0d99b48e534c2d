"""Inline suppressions: `fusion: ignore` or `fusion: ignore[security, bug]` in a comment.

As ruff's `noqa` and semgrep's `nosemgrep`, the comment sits on the finding's first line, or
alone on the line above it (where a formatter leaves room for it). It may be written in any
common comment syntax: `# …`, `// …`, `-- …`, `/* … */`. Without brackets it suppresses every
category; with them (a space before them is allowed, as people type it), only the categories
it names. A name that is not a category is kept, so
that it can be reported as unknown instead of silently suppressing nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fusion_ls.findings import CATEGORIES

__all__ = ["Suppression", "find_suppressions", "suppressing", "suppression_comment"]

_MARK = re.compile(
    r"(?P<opener>#|//|--|/\*)\s*fusion:\s*ignore\b(?:\s*\[(?P<names>[^\]]*)\])?", re.IGNORECASE
)
_SEPARATOR = re.compile(r"[\s,]+")
"""Between category names: commas, spaces, or both (`[security bug]` names two, it must not
become one unknown name that suppresses nothing)."""
_CATEGORY_NAMES = frozenset(CATEGORIES)
_HASH = frozenset({"python", "shell", "ruby", "toml", "yaml"})
_DASHES = frozenset({"sql", "lua"})
_NO_COMMENTS = frozenset({"json", "text"})


@dataclass(frozen=True)
class Suppression:
    """One `fusion: ignore` comment: where it is, what it names, and which lines it covers."""

    line: int
    """The 1-based line the comment is on."""
    categories: frozenset[str] | None
    """The categories it suppresses; None for all."""
    covers: frozenset[int]
    """Its own line and, when the comment stands alone on its line, the next one."""
    text: str
    """The comment as written, for messages about it."""

    @property
    def unknown(self) -> frozenset[str]:
        """Names in the brackets that are not categories."""
        return (self.categories or frozenset()) - _CATEGORY_NAMES

    def applies(self, line: int, category: str) -> bool:
        return line in self.covers and (self.categories is None or category in self.categories)


def find_suppressions(lines: Sequence[str]) -> list[Suppression]:
    """Every `fusion: ignore` comment in a document's lines, in line order."""
    found = []
    for number, line in enumerate(lines, start=1):
        mark = _MARK.search(line)
        if mark is None:
            continue
        names = mark["names"]
        categories = (
            None if names is None else frozenset(n.lower() for n in _SEPARATOR.split(names) if n)
        )
        alone = not line[: mark.start()].strip()
        covers = frozenset({number, number + 1} if alone else {number})
        found.append(Suppression(number, categories, covers, mark.group(0)))
    return found


def suppressing(
    suppressions: Iterable[Suppression], line: int, category: str
) -> Suppression | None:
    """The first suppression that applies to a finding on `line` of `category`, if any."""
    return next((s for s in suppressions if s.applies(line, category)), None)


def suppression_comment(language: str, categories: Iterable[str]) -> str | None:
    """The comment that suppresses `categories` in a file of `language`; None where the
    language has no comments (JSON) or is unknown."""
    if language in _NO_COMMENTS:
        return None
    names = ", ".join(sorted(set(categories)))
    marker = f"fusion: ignore[{names}]" if names else "fusion: ignore"
    if language in _HASH:
        return f"# {marker}"
    return f"-- {marker}" if language in _DASHES else f"// {marker}"
