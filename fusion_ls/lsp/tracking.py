"""Keep published results on the text they describe while the document is edited.

Every published item remembers its lines and their text. An edit above it moves it; an edit that
touches its lines keeps it only if its exact text is still there (say, a newline typed at the end
of the line), else drops it. Results computed on an older version are carried through every edit
made since, the same way, so nothing is ever shown against text that is no longer there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Anchor", "EditLog", "LineEdit", "relocate"]

_MAX_CANDIDATES = 256  # edits touching an item each add a place; one per edit in practice
_MAX_LOG = 2000


@dataclass(frozen=True)
class LineEdit:
    """Lines `start..end` (1-based, inclusive, before the edit) became `new_count` lines.

    `end = start - 1` is a pure insertion before line `start`; `new_count = 0` a deletion.
    """

    start: int
    end: int
    new_count: int

    @property
    def delta(self) -> int:
        return self.new_count - (self.end - self.start + 1)


@dataclass(frozen=True)
class Anchor:
    """Where a published item sits (1-based lines) and the text of those lines when published."""

    start: int
    text: tuple[str, ...]

    @property
    def end(self) -> int:
        return self.start + len(self.text) - 1

    @classmethod
    def at(cls, lines: Sequence[str], start: int, end: int) -> Anchor:
        return cls(start=start, text=tuple(lines[start - 1 : end]))

    def holds(self, lines: Sequence[str]) -> bool:
        """Whether `lines` still have this text at this place."""
        return tuple(lines[self.start - 1 : self.end]) == self.text


def _candidates(start: int, count: int, edits: Iterable[LineEdit]) -> list[int]:
    """Where an item of `count` lines at `start` may be after `edits`, most likely first."""
    places = [start]
    for edit in edits:
        moved: list[int] = []
        for place in places:
            end = place + count - 1
            if end < edit.start:
                moved.append(place)
            elif place > edit.end:
                moved.append(place + edit.delta)
            else:  # the edit touched these lines: the text may have stayed, or moved down
                moved += [place, place + edit.delta]
        places = list(dict.fromkeys(moved))[:_MAX_CANDIDATES]
    return places


def relocate(anchor: Anchor, edits: Sequence[LineEdit], lines: Sequence[str]) -> Anchor | None:
    """The anchor after `edits`, checked against the current `lines`; None when its text is gone."""
    if not edits:
        return anchor
    for place in _candidates(anchor.start, len(anchor.text), edits):
        if place >= 1 and tuple(lines[place - 1 : place - 1 + len(anchor.text)]) == anchor.text:
            return Anchor(start=place, text=anchor.text)
    return None


@dataclass
class EditLog:
    """The line edits made to one document since it was opened, by the version they produced."""

    version: int
    line_count: int
    oldest: int = field(init=False)
    _edits: list[tuple[int, LineEdit]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.oldest = self.version

    def record(self, version: int, edits: Sequence[LineEdit], line_count: int) -> None:
        self._edits += [(version, edit) for edit in edits]
        if len(self._edits) > _MAX_LOG:
            dropped = self._edits[: len(self._edits) - _MAX_LOG]
            self._edits = self._edits[len(dropped) :]
            self.oldest = dropped[-1][0]
        self.version = version
        self.line_count = line_count

    def since(self, version: int) -> list[LineEdit] | None:
        """The edits made after `version`, or None when the log no longer reaches back that far."""
        if version < self.oldest:
            return None
        return [edit for produced, edit in self._edits if produced > version]
