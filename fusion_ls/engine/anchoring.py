"""Re-anchor findings to the text that was sent: the cited lines are a claim, the quote is evidence.

A finding whose quote is on its cited lines stays. One whose quote sits a few lines away is moved
there (its fix moves with it). One whose quote is nowhere near is dropped, and so is anything that
would land outside the reviewed range or past the end of the document. The two are counted
apart: a bad quote is the model's mistake, a finding outside the reviewed lines (in the context
sent around them) is a true remark about code nobody asked about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from fusion_ls.engine.redact import PLACEHOLDER_PREFIX
from fusion_ls.findings import Fix, ProposedFinding, Scope

__all__ = [
    "NEAR_LINES",
    "Anchored",
    "SentText",
    "anchor",
    "anchor_all",
    "normalise",
    "split_lines",
]

NEAR_LINES = 20
"""How far from the cited line a quote may be found and still count as the same place."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_PREFIX = re.compile(r"^\s*>?\s*\d+\s*[|:>]\s?")
F = TypeVar("F", bound=ProposedFinding)


def split_lines(text: str) -> list[str]:
    """Lines as editors and LSP count them: only \\n, \\r\\n and \\r end a line.

    `str.splitlines` also breaks on form feeds, \\x85, \\u2028 and more, which would shift every
    line number after such a character. A final newline does not start another line.
    """
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def normalise(text: str) -> str:
    """Whitespace-insensitive form used to compare quotes with lines."""
    return " ".join(text.split())


@dataclass(frozen=True)
class SentText:
    """The document as sent to the models, and which of its lines were under review."""

    lines: Sequence[str]
    reviewed: Scope

    @classmethod
    def from_text(cls, text: str, reviewed: Scope) -> SentText:
        return cls(lines=split_lines(text), reviewed=reviewed)

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 1 <= number <= len(self.lines) else ""


def _quote_lines(quote: str) -> list[str]:
    """The quote's lines, normalised, without line-number prefixes a model copied.

    Blank lines at either end are dropped; blank lines inside stay (and match any line), so a
    quote spanning an empty line still lines up with the document.
    """
    lines = [normalise(_LINE_PREFIX.sub("", line)) for line in split_lines(quote)]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _holds(doc: SentText, start: int, quote: list[str]) -> bool:
    if start < 1 or start + len(quote) - 1 > len(doc.lines):
        return False
    return all(part in normalise(doc.line(start + k)) for k, part in enumerate(quote))


def _nearest(doc: SentText, cited_start: int, cited_end: int, quote: list[str]) -> int | None:
    """The line nearest the citation, within reach, where the quote starts.

    A match inside the reviewed range beats a closer one in the context lines: the model was
    asked about the reviewed lines, so that is where its evidence most likely is.
    """
    low = max(1, cited_start - NEAR_LINES)
    high = min(len(doc.lines), cited_end + NEAR_LINES)
    candidates = [line for line in range(low, high + 1) if _holds(doc, line, quote)]
    if not candidates:
        return None
    return min(
        candidates, key=lambda line: (line not in doc.reviewed, abs(line - cited_start), line)
    )


def _shift_fix(fix: Fix | None, delta: int, doc: SentText) -> Fix | None:
    """The fix moved by `delta`, or None if it then leaves its reviewed range or changes nothing."""
    if fix is None:
        return None
    start, end = fix.line_start + delta, fix.line_end + delta
    span = doc.reviewed.span_of(start)
    if start > end or span is None or end not in span:
        return None
    replacement = fix.replacement.removesuffix("\n")
    if PLACEHOLDER_PREFIX in replacement:  # applying it would write the placeholder into the code
        return None
    original = "\n".join(doc.line(n) for n in range(start, end + 1))
    if replacement == original:
        return None
    return Fix(line_start=start, line_end=end, replacement=replacement)


_Dropped = Literal["unquoted", "outside"]


def anchor(finding: F, doc: SentText) -> F | None:
    """The finding placed where its quote is, inside the reviewed range; None when it must go."""
    placed = _place(finding, doc)
    return None if isinstance(placed, str) else placed


def _place(finding: F, doc: SentText) -> F | _Dropped:
    """The anchored finding, or why it was dropped."""
    quote = _quote_lines(finding.quote)
    if not quote:
        return "unquoted"
    cited_start, cited_end = sorted((finding.line_start, finding.line_end))
    on_cited = range(max(1, cited_start), min(cited_end, len(doc.lines)) + 1)
    held = [n for n in on_cited if _holds(doc, n, quote)]
    if held:
        evidence, start, end, delta = held[0], cited_start, cited_end, 0
    else:
        found = _nearest(doc, cited_start, cited_end, quote)
        if found is None:
            return "unquoted"
        length = max(cited_end - cited_start, len(quote) - 1)
        evidence, start, end, delta = found, found, found + length, found - cited_start
    reviewed = doc.reviewed.span_of(evidence)
    if reviewed is None:
        return "outside"
    return finding.model_copy(
        update={
            "line_start": max(start, reviewed.start),
            "line_end": min(end, reviewed.end),
            "fix": _shift_fix(finding.fix, delta, doc),
        }
    )


@dataclass(frozen=True)
class Anchored(Generic[F]):
    """Findings after anchoring, and how many were dropped for each reason."""

    kept: list[F]
    unquoted: int
    """Their quote was not at or near the cited lines (or there was none)."""
    outside: int
    """Their quote was found, outside the reviewed lines."""


def anchor_all(findings: Iterable[F], doc: SentText) -> Anchored[F]:
    """Anchored findings, in order, with the drops counted by reason."""
    kept: list[F] = []
    dropped = {"unquoted": 0, "outside": 0}
    for finding in findings:
        placed = _place(finding, doc)
        if isinstance(placed, str):
            dropped[placed] += 1
        else:
            kept.append(placed)
    return Anchored(kept, dropped["unquoted"], dropped["outside"])
