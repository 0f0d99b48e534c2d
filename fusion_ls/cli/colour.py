"""Colour in the text report, as the CLIs people know decide it.

On a terminal, off when piped; `NO_COLOR` (any non-empty value, https://no-color.org) turns it
off everywhere and wins over `FORCE_COLOR` (any non-empty value), which turns it on in a pipe,
for CI logs that render ANSI. This is the order CPython's own `_colorize` checks them, and
`TERM=dumb` means a terminal that shows escape codes as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from fusion_ls.findings import Severity

__all__ = ["PLAIN", "Palette", "palette_for", "wants_colour"]

_RESET = "\x1b[0m"
_SEVERITY = {"error": "1;31", "warning": "1;33", "info": "1;34", "hint": "36"}
_DIFF = {"+": "32", "-": "31", "@": "36"}


def wants_colour(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Whether text written to `stream` should carry ANSI colour."""
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return stream.isatty() and env.get("TERM") != "dumb"


@dataclass(frozen=True)
class Palette:
    """Wraps report pieces in ANSI codes, or leaves them as they are when colour is off."""

    enabled: bool

    def _paint(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}{_RESET}" if self.enabled and text else text

    def bold(self, text: str) -> str:
        return self._paint("1", text)

    def dim(self, text: str) -> str:
        return self._paint("2", text)

    def severity(self, severity: Severity, text: str) -> str:
        return self._paint(_SEVERITY[severity], text)

    def diff_line(self, line: str) -> str:
        """A unified-diff line: additions green, removals red, hunk headers cyan."""
        if line.startswith(("+++", "---")):
            return self.bold(line)
        code = _DIFF.get(line[:1])
        return self._paint(code, line) if code else line


PLAIN = Palette(enabled=False)


def palette_for(stream: TextIO, env: Mapping[str, str]) -> Palette:
    return Palette(enabled=wants_colour(stream, env))
