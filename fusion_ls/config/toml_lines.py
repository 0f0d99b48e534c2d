"""TOML reading helpers: the parser for this Python, and where each key of a file is written.

tomllib says whether a file is valid but not where a key is; `KeyLines` answers that, so every
configuration error can name its line.
"""

from __future__ import annotations

import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["BARE_KEY", "KeyLines", "Loc", "tomllib"]

Loc = tuple[str | int, ...]
"""A path into parsed TOML: table keys and array indexes, like pydantic's error `loc`."""

BARE_KEY = r"[A-Za-z0-9_-]+"
_QUOTED_KEY = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_KEY_PART = rf"(?:{BARE_KEY}|{_QUOTED_KEY})"
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_KEY_PART_RE = re.compile(_KEY_PART)
_ARRAY_HEADER_RE = re.compile(rf"\s*\[\[\s*(?P<key>{_DOTTED_KEY})\s*\]\]\s*(?:#.*)?$")
_TABLE_HEADER_RE = re.compile(rf"\s*\[\s*(?P<key>{_DOTTED_KEY})\s*\]\s*(?:#.*)?$")
_ASSIGNMENT_RE = re.compile(rf"\s*(?P<key>{_DOTTED_KEY})\s*=")
_MULTILINE_QUOTES = ('"""', "'''")


def _split_key(key: str) -> tuple[str, ...]:
    """`a."b.c".d` → ("a", "b.c", "d"), unquoting the way TOML does."""
    return tuple(_unquote(match.group()) for match in _KEY_PART_RE.finditer(key))


def _unquote(part: str) -> str:
    if part.startswith("'"):
        return part[1:-1]
    if part.startswith('"'):
        return str(tomllib.loads(f"k = {part}")["k"])
    return part


def _opens_multiline_string(value: str) -> str | None:
    """The closing quotes to wait for when `value` opens a multi-line string, else None, so that
    lines inside an `instructions = \"\"\"…\"\"\"` block are never mistaken for keys."""
    value = value.lstrip()
    for quotes in _MULTILINE_QUOTES:
        if value.startswith(quotes) and quotes not in value[len(quotes) :]:
            return quotes
    return None


class KeyLines:
    """Where each key of one TOML file is written.

    Not a TOML parser (tomllib already accepted the file): it tracks the current `[table]` /
    `[[array]]` header and records the first line of every `key =`, including dotted keys and
    every prefix of them. Keys inside inline tables resolve to the line of their enclosing key,
    since an inline table fits on one line.
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[Loc, int] = {}
        self._scan(text)

    def line_of(self, loc: Loc) -> int:
        """The line of `loc`, else of its nearest written ancestor (key or header), else 1."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self._lines:
                return self._lines[loc[:end]]
        return 1

    def _scan(self, text: str) -> None:
        table: Loc = ()
        array_counts: dict[tuple[str, ...], int] = {}
        closing: str | None = None
        for number, line in enumerate(text.split("\n"), start=1):
            if closing is not None:
                closing = None if closing in line else closing
            elif match := _ARRAY_HEADER_RE.match(line):
                keys = _split_key(match["key"])
                array_counts[keys] = array_counts.get(keys, -1) + 1
                table = (*keys, array_counts[keys])
                self._record(table, number)
            elif match := _TABLE_HEADER_RE.match(line):
                table = _split_key(match["key"])
                self._record(table, number)
            elif match := _ASSIGNMENT_RE.match(line):
                self._record((*table, *_split_key(match["key"])), number)
                closing = _opens_multiline_string(line[match.end() :])

    def _record(self, loc: Loc, number: int) -> None:
        for end in range(1, len(loc) + 1):
            self._lines.setdefault(loc[:end], number)
