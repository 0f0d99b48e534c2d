"""Per-document state: reviews made on a snapshot land on the current text, and follow edits."""

from __future__ import annotations

from collections.abc import Sequence

from fusion_ls.findings import (
    Finding,
    Fix,
    FusedExplanation,
    FusedReview,
    LineRange,
    ModelRun,
    Usage,
)
from fusion_ls.lsp.session import DocumentState, Published, Snapshot
from fusion_ls.lsp.tracking import Anchor, EditLog, LineEdit

URI = "file:///work/doc.py"
# Line n reads "line n"; every line is distinct.
LINES = tuple(f"line {n}" for n in range(1, 41))
SNAPSHOT = Snapshot(URI, 1, LINES)


def finding(
    line: int, end: int | None = None, *, fix: tuple[int, int] | None = None, name: str = ""
) -> Finding:
    return Finding(
        id=name or f"at-{line}",
        line_start=line,
        line_end=line if end is None else end,
        quote=LINES[line - 1],
        severity="warning",
        category="bug",
        message=f"problem {name or line}",
        rationale="",
        fix=None if fix is None else Fix(line_start=fix[0], line_end=fix[1], replacement="fixed"),
        models=["a", "b"],
        answered=3,
    )


def record(findings: Sequence[Finding], start: int = 1, end: int = len(LINES)) -> FusedReview:
    return FusedReview(
        path="doc.py",
        lines=LineRange(start=start, end=end),
        findings=list(findings),
        summary="",
        mode="merge",
        models=[ModelRun(model="a", status="ok"), ModelRun(model="b", status="ok")],
        judge=None,
        usage=Usage(),
        elapsed_s=1.0,
    )


def explanation(start: int, end: int, text: str = "what it does") -> FusedExplanation:
    return FusedExplanation(
        path="doc.py",
        lines=LineRange(start=start, end=end),
        explanation=text,
        models=[ModelRun(model="a", status="ok")],
        judge=None,
        usage=Usage(),
        elapsed_s=1.0,
    )


def opened() -> DocumentState:
    return DocumentState(EditLog(version=1, line_count=len(LINES)))


def edit(
    lines: Sequence[str], start: int, end: int, new: Sequence[str]
) -> tuple[LineEdit, tuple[str, ...]]:
    """Lines `start..end` of `lines` become `new`: the edit, and the lines after it."""
    return LineEdit(start, end, len(new)), (*lines[: start - 1], *new, *lines[end:])


def insert_above(lines: Sequence[str], count: int) -> tuple[LineEdit, tuple[str, ...]]:
    """`count` lines typed after line 1."""
    return edit(lines, 1, 1, [lines[0], *[f"new {n}" for n in range(count)]])


def spans(state: DocumentState) -> list[tuple[int, int]]:
    return [(p.finding.line_start, p.finding.line_end) for p in state.published]


def fix_span(item: Published) -> tuple[int, int] | None:
    fix = item.finding.fix
    return None if fix is None else (fix.line_start, fix.line_end)


# -- placing a review -----------------------------------------------------------------------


def test_review_of_the_current_version_is_published_as_it_is() -> None:
    state = opened()
    rec = record([finding(20), finding(5, 7, fix=(6, 6))])

    assert state.place_review(SNAPSHOT, rec, LINES) == 0

    assert spans(state) == [(5, 7), (20, 20)]
    assert [p.finding for p in state.published] == [finding(5, 7, fix=(6, 6)), finding(20)]
    assert all(p.review is rec for p in state.published)
    assert state.published[0].anchor.text == LINES[4:7]


def test_review_of_an_older_version_is_moved_through_the_edits_since() -> None:
    state = opened()
    first, lines = insert_above(LINES, 2)
    state.edited(2, [first], lines)
    second, lines = edit(lines, 30, 30, ["", LINES[27]])  # a newline before old line 28
    state.edited(3, [second], lines)

    stale = state.place_review(SNAPSHOT, record([finding(10, 11), finding(35)]), lines)

    assert stale == 0
    assert spans(state) == [(12, 13), (38, 38)]
    assert [lines[p.finding.line_start - 1] for p in state.published] == ["line 10", "line 35"]


def test_findings_whose_text_changed_since_the_snapshot_are_dropped_and_counted() -> None:
    state = opened()
    change, lines = edit(LINES, 10, 10, ["line 10 changed"])
    state.edited(2, [change], lines)
    findings = [finding(9), finding(10), finding(9, 11), finding(12)]

    stale = state.place_review(SNAPSHOT, record(findings), lines)

    assert stale == 2
    assert spans(state) == [(9, 9), (12, 12)]


def test_a_review_of_a_range_replaces_earlier_findings_only_inside_it() -> None:
    state = opened()
    state.place_review(SNAPSHOT, record([finding(5), finding(15), finding(25)]), LINES)

    state.place_review(SNAPSHOT, record([finding(12, name="new")], start=10, end=20), LINES)

    assert [p.finding.id for p in state.published] == ["at-5", "new", "at-25"]


def test_a_review_of_a_range_with_no_findings_clears_that_range() -> None:
    state = opened()
    state.place_review(SNAPSHOT, record([finding(5), finding(10), finding(20), finding(21)]), LINES)

    state.place_review(SNAPSHOT, record([], start=10, end=20), LINES)

    assert spans(state) == [(5, 5), (21, 21)]


def test_the_reviewed_range_follows_the_edits_since_the_snapshot() -> None:
    state = opened()
    state.place_review(SNAPSHOT, record([finding(8), finding(15), finding(22)]), LINES)
    shift, lines = insert_above(LINES, 3)
    state.edited(2, [shift], lines)  # published findings now at 11, 18, 25

    state.place_review(SNAPSHOT, record([finding(12, name="new")], start=10, end=20), lines)

    assert [p.finding.id for p in state.published] == ["at-8", "new", "at-22"]
    assert spans(state) == [(11, 11), (15, 15), (25, 25)]


def test_fixes_move_with_their_findings() -> None:
    state = opened()
    shift, lines = insert_above(LINES, 2)
    state.edited(2, [shift], lines)

    state.place_review(SNAPSHOT, record([finding(10, 12, fix=(11, 12))]), lines)

    (item,) = state.published
    assert fix_span(item) == (13, 14)
    assert item.finding.fix is not None and item.finding.fix.replacement == "fixed"


def test_a_fix_whose_lines_changed_since_the_snapshot_is_dropped_and_the_finding_kept() -> None:
    state = opened()
    change, lines = edit(LINES, 12, 12, ["line 12 changed"])
    state.edited(2, [change], lines)

    stale = state.place_review(SNAPSHOT, record([finding(10, fix=(10, 12))]), lines)

    assert stale == 0
    (item,) = state.published
    assert (item.finding.line_start, fix_span(item), item.fix_anchor) == (10, None, None)


def test_nothing_is_published_when_the_log_no_longer_reaches_the_snapshot() -> None:
    state = opened()
    state.place_review(SNAPSHOT, record([finding(5)]), LINES)
    noop = LineEdit(40, 40, 1)
    state.edited(2, [noop] * 2001, LINES)  # more edits than the log keeps

    assert state.place_review(SNAPSHOT, record([finding(5, name="late")]), LINES) is None

    assert [p.finding.id for p in state.published] == ["at-5"]


# -- following edits ------------------------------------------------------------------------


def test_edits_move_published_findings_and_their_fixes() -> None:
    state = opened()
    state.place_review(SNAPSHOT, record([finding(10, fix=(10, 11)), finding(30)]), LINES)
    shift, lines = insert_above(LINES, 4)

    state.edited(2, [shift], lines)

    assert spans(state) == [(14, 14), (34, 34)]
    assert fix_span(state.published[0]) == (14, 15)
    assert state.published[0].anchor.start == 14


def test_edits_drop_published_findings_whose_text_changed() -> None:
    state = opened()
    state.place_review(SNAPSHOT, record([finding(10), finding(20, 21), finding(30)]), LINES)
    change, lines = edit(LINES, 21, 21, ["line 21 changed"])

    state.edited(2, [change], lines)

    assert spans(state) == [(10, 10), (30, 30)]


def test_an_edit_to_a_fixs_lines_drops_the_fix_and_keeps_the_finding() -> None:
    state = opened()
    state.place_review(SNAPSHOT, record([finding(10, fix=(11, 11))]), LINES)
    change, lines = edit(LINES, 11, 11, ["line 11 changed"])

    state.edited(2, [change], lines)

    (item,) = state.published
    assert (item.finding.line_start, fix_span(item)) == (10, None)


def test_edits_are_recorded_in_the_log() -> None:
    state = opened()
    shift, lines = insert_above(LINES, 1)

    state.edited(2, [shift], lines)

    assert (state.log.version, state.log.line_count) == (2, len(LINES) + 1)
    assert state.log.since(1) == [shift]


def test_edits_move_and_drop_explanations() -> None:
    state = opened()
    assert state.place_explanation(SNAPSHOT, explanation(10, 12), LINES)
    assert state.place_explanation(SNAPSHOT, explanation(20, 21), LINES)
    change, lines = edit(LINES, 20, 20, ["line 20 changed"])
    state.edited(2, [change], lines)
    shift, lines = insert_above(lines, 2)

    state.edited(3, [shift], lines)

    assert [(e.anchor.start, e.anchor.end) for e in state.explained] == [(12, 14)]


# -- explanations ---------------------------------------------------------------------------


def test_an_explanation_replaces_an_overlapping_one_and_keeps_others() -> None:
    state = opened()
    state.place_explanation(SNAPSHOT, explanation(10, 12, "first"), LINES)
    state.place_explanation(SNAPSHOT, explanation(30, 31, "elsewhere"), LINES)

    assert state.place_explanation(SNAPSHOT, explanation(12, 14, "second"), LINES)

    assert sorted(e.explanation.explanation for e in state.explained) == ["elsewhere", "second"]


def test_an_explanation_is_moved_through_the_edits_since_its_snapshot() -> None:
    state = opened()
    shift, lines = insert_above(LINES, 3)
    state.edited(2, [shift], lines)

    assert state.place_explanation(SNAPSHOT, explanation(10, 12), lines)

    (item,) = state.explained
    assert (item.anchor.start, item.anchor.end) == (13, 15)


def test_an_explanation_of_changed_text_is_not_shown() -> None:
    state = opened()
    change, lines = edit(LINES, 11, 11, ["line 11 changed"])
    state.edited(2, [change], lines)

    assert not state.place_explanation(SNAPSHOT, explanation(10, 12), lines)
    assert state.explained == []


def test_an_explanation_is_not_shown_when_the_log_no_longer_reaches_its_snapshot() -> None:
    state = opened()
    state.edited(2, [LineEdit(40, 40, 1)] * 2001, LINES)

    assert not state.place_explanation(SNAPSHOT, explanation(10, 12), LINES)
    assert state.explained == []


# -- lookups --------------------------------------------------------------------------------


def test_findings_at_returns_every_finding_covering_the_line() -> None:
    state = opened()
    state.place_review(SNAPSHOT, record([finding(10, 12, name="wide"), finding(12)]), LINES)

    assert [p.finding.id for p in state.findings_at(12)] == ["wide", "at-12"]
    assert [p.finding.id for p in state.findings_at(10)] == ["wide"]
    assert state.findings_at(13) == []
    assert state.findings_at(9) == []


def test_explanation_at_covers_its_lines_only() -> None:
    state = opened()
    state.place_explanation(SNAPSHOT, explanation(10, 12), LINES)

    assert all(state.explanation_at(line) is not None for line in (10, 11, 12))
    assert state.explanation_at(9) is None
    assert state.explanation_at(13) is None


def test_by_id_finds_a_published_finding() -> None:
    state = opened()
    state.place_review(SNAPSHOT, record([finding(10), finding(20, name="target")]), LINES)

    found = state.by_id("target")

    assert found is not None and found.finding.line_start == 20
    assert state.by_id("missing") is None


def test_a_fix_fits_only_the_text_it_was_computed_for() -> None:
    lines = ["a", "b = 1 / n", "c"]
    published = Published(
        finding=None,  # type: ignore[arg-type]  # not read by fix_fits
        anchor=Anchor.at(lines, 2, 2),
        fix_anchor=Anchor.at(lines, 2, 2),
        review=None,  # type: ignore[arg-type]
    )

    assert published.fix_fits(lines)
    assert not published.fix_fits(["a", "b = 1 / max(n, 1)", "c"])
    assert not published.fix_fits(["a"])
    assert not Published(None, Anchor.at(lines, 1, 1), None, None).fix_fits(lines)  # type: ignore[arg-type]
