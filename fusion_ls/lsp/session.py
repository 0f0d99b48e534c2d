"""The language server's state: what is published on each open document, and how it follows edits.

Only open/change/close change a document's state; a review runs on a snapshot (uri, version,
text) and its result is carried through every edit made since before it is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fusion_ls.findings import (
    Finding,
    Fix,
    FusedExplanation,
    FusedReview,
    LineRange,
    SuppressionNote,
)
from fusion_ls.lsp.tracking import Anchor, EditLog, LineEdit, relocate

__all__ = [
    "DocumentState",
    "Explained",
    "Published",
    "RangeKey",
    "Shown",
    "Snapshot",
    "Unused",
]


@dataclass(frozen=True)
class Snapshot:
    """The document as a review saw it."""

    uri: str
    version: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Published:
    """A finding on the current text: its lines (and its fix's) already moved to where they are."""

    finding: Finding
    anchor: Anchor
    fix_anchor: Anchor | None
    review: FusedReview

    def fix_fits(self, lines: Sequence[str]) -> bool:
        """Whether the fix's lines still hold the very text the fix was computed for."""
        anchor = self.fix_anchor
        return anchor is not None and anchor.holds(lines)


@dataclass(frozen=True)
class Explained:
    anchor: Anchor
    explanation: FusedExplanation

    def moved(self, anchor: Anchor) -> Explained:
        """The explanation on its new lines (hover names the lines it covers now)."""
        lines = LineRange(start=anchor.start, end=anchor.end)
        return Explained(anchor, self.explanation.model_copy(update={"lines": lines}))


@dataclass(frozen=True)
class Shown:
    """A provisional finding: one model's (or a few models') word while the review runs."""

    finding: Finding
    anchor: Anchor


@dataclass(frozen=True)
class Unused:
    """A `fusion: ignore` comment a whole-file review found hid nothing, where it is now."""

    anchor: Anchor
    note: SuppressionNote


RangeKey = tuple[int, int] | None
"""Which lines a running review covers (None: the whole document)."""


def _move_fix(fix: Fix | None, anchor: Anchor | None) -> Fix | None:
    if fix is None or anchor is None:
        return None
    return Fix(line_start=anchor.start, line_end=anchor.end, replacement=fix.replacement)


def _follow(item: Published, edits: Sequence[LineEdit], lines: Sequence[str]) -> Published | None:
    anchor = relocate(item.anchor, edits, lines)
    if anchor is None:
        return None
    fix_anchor = relocate(item.fix_anchor, edits, lines) if item.fix_anchor else None
    finding = item.finding.model_copy(
        update={
            "line_start": anchor.start,
            "line_end": anchor.end,
            "fix": _move_fix(item.finding.fix, fix_anchor),
        }
    )
    return Published(finding, anchor, fix_anchor, item.review)


def _shift(line: int, edits: Sequence[LineEdit]) -> int:
    """Where a line boundary ends up after `edits` (positions only, no text check)."""
    for edit in edits:
        if line > edit.end:
            line += edit.delta
        elif line >= edit.start:
            line = min(line, edit.start + edit.new_count - 1)
    return max(line, 1)


@dataclass
class DocumentState:
    """One open document: its edit history and what is shown on it."""

    log: EditLog
    published: list[Published] = field(default_factory=list)
    explained: list[Explained] = field(default_factory=list)
    provisional: dict[RangeKey, list[Shown]] = field(default_factory=dict)
    unused: list[Unused] = field(default_factory=list)
    opened: bool = True
    """False for a file the editor does not have open that a review of changes published on:
    its text is the one on disk, version 0."""

    @classmethod
    def on_disk(cls, line_count: int) -> DocumentState:
        return cls(EditLog(0, line_count), opened=False)

    @classmethod
    def opening(
        cls, before: DocumentState | None, version: int, lines: Sequence[str]
    ) -> DocumentState:
        """A document the editor opens; findings published on its disk text (a review of
        changes) stay where that text still is."""
        state = cls(EditLog(version, len(lines)))
        if before is not None and not before.opened:
            state.published = [p for p in before.published if p.anchor.holds(lines)]
        return state

    def edited(self, version: int, edits: Sequence[LineEdit], lines: Sequence[str]) -> None:
        """Follow an edit: move what sits below it, drop what it changed."""
        self.log.record(version, edits, len(lines))
        self.published = [
            moved for item in self.published if (moved := _follow(item, edits, lines)) is not None
        ]
        self.explained = [
            item.moved(anchor)
            for item in self.explained
            if (anchor := relocate(item.anchor, edits, lines)) is not None
        ]
        self.unused = [
            Unused(anchor, item.note)
            for item in self.unused
            if (anchor := relocate(item.anchor, edits, lines)) is not None
        ]
        for key, shown in self.provisional.items():
            self.provisional[key] = _follow_shown(shown, edits, lines)

    def show_provisional(
        self, key: RangeKey, snapshot: Snapshot, findings: Sequence[Finding], lines: Sequence[str]
    ) -> None:
        """Show findings of a review still running, until its fused result replaces them."""
        edits = self.log.since(snapshot.version)
        if edits is None:
            return
        shown = [Shown(f, Anchor.at(snapshot.lines, f.line_start, f.line_end)) for f in findings]
        self.provisional[key] = _follow_shown(shown, edits, lines)

    def hide_provisional(self, key: RangeKey) -> None:
        self.provisional.pop(key, None)

    def visible(self) -> list[tuple[Finding, bool]]:
        """What the editor shows: published findings, and provisional ones (flagged True) in
        place of the published ones of the ranges being reviewed again."""
        shown = [
            (p.finding, False)
            for p in self.published
            if not any(_covers(key, p.finding.line_start) for key in self.provisional)
        ]
        shown += [(s.finding, True) for items in self.provisional.values() for s in items]
        return sorted(shown, key=lambda item: (item[0].line_start, item[0].line_end))

    def place_review(
        self, snapshot: Snapshot, review: FusedReview, lines: Sequence[str]
    ) -> int | None:
        """Publish a review made on `snapshot` onto the current `lines`.

        Earlier findings inside the reviewed ranges are replaced; findings whose text changed
        since the snapshot are dropped. Returns how many were dropped that way, or None when the
        document changed too much since to say (then nothing is published).
        """
        edits = self.log.since(snapshot.version)
        if edits is None:
            return None
        spans = [(_shift(r.start, edits), _shift(r.end, edits)) for r in review.ranges]
        self.published = [
            p
            for p in self.published
            if not any(low <= p.finding.line_start <= high for low, high in spans)
        ]
        stale = 0
        for finding in review.findings:
            fix = finding.fix
            item = Published(
                finding,
                Anchor.at(snapshot.lines, finding.line_start, finding.line_end),
                Anchor.at(snapshot.lines, fix.line_start, fix.line_end) if fix else None,
                review,
            )
            moved = _follow(item, edits, lines)
            if moved is None:
                stale += 1
            else:
                self.published.append(moved)
        self.published.sort(key=lambda p: (p.finding.line_start, p.finding.line_end))
        self.unused = [
            u for u in self.unused if not any(lo <= u.anchor.start <= hi for lo, hi in spans)
        ]
        for note in review.unused_suppressions:
            anchor = relocate(Anchor.at(snapshot.lines, note.line, note.line), edits, lines)
            if anchor is not None:
                self.unused.append(Unused(anchor, note))
        return stale

    def place_explanation(
        self, snapshot: Snapshot, explanation: FusedExplanation, lines: Sequence[str]
    ) -> bool:
        """Show an explanation on its range, if that text is still there."""
        edits = self.log.since(snapshot.version)
        if edits is None:
            return False
        span = explanation.lines
        anchor = relocate(Anchor.at(snapshot.lines, span.start, span.end), edits, lines)
        if anchor is None:
            return False
        self.explained = [e for e in self.explained if not _overlaps(e.anchor, anchor)]
        self.explained.append(Explained(anchor, explanation).moved(anchor))
        return True

    def findings_at(self, line: int) -> list[Published]:
        return [p for p in self.published if p.finding.line_start <= line <= p.finding.line_end]

    def explanation_at(self, line: int) -> Explained | None:
        return next((e for e in self.explained if e.anchor.start <= line <= e.anchor.end), None)

    def by_id(self, finding_id: str) -> Published | None:
        return next((p for p in self.published if p.finding.id == finding_id), None)


def _follow_shown(
    shown: Sequence[Shown], edits: Sequence[LineEdit], lines: Sequence[str]
) -> list[Shown]:
    kept = []
    for item in shown:
        anchor = relocate(item.anchor, edits, lines)
        if anchor is not None:
            update = {"line_start": anchor.start, "line_end": anchor.end, "fix": None}
            kept.append(Shown(item.finding.model_copy(update=update), anchor))
    return kept


def _covers(key: RangeKey, line: int) -> bool:
    return key is None or key[0] <= line <= key[1]


def _overlaps(a: Anchor, b: Anchor) -> bool:
    return a.start <= b.end and b.start <= a.end
