"""Edit tracking: published anchors follow edits to the lines they describe, or are dropped."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusion_ls.lsp.tracking import Anchor, EditLog, LineEdit, relocate

# Line n reads "line n"; every line is distinct.
DOC = [f"line {n}" for n in range(1, 21)]


def apply(lines: Sequence[str], edit: LineEdit, new: Sequence[str]) -> list[str]:
    """`lines` after `edit`, whose lines became `new`."""
    assert len(new) == edit.new_count
    return [*lines[: edit.start - 1], *new, *lines[edit.end :]]


def text(lines: Sequence[str], start: int, end: int) -> tuple[str, ...]:
    return tuple(lines[start - 1 : end])


ANCHOR = Anchor.at(DOC, 10, 11)


# -- single edits ---------------------------------------------------------------------------


def test_anchor_at_takes_the_text_of_its_lines() -> None:
    anchor = Anchor.at(DOC, 10, 11)

    assert (anchor.start, anchor.end, anchor.text) == (10, 11, ("line 10", "line 11"))


def test_no_edits_return_the_same_anchor() -> None:
    assert relocate(ANCHOR, [], DOC) is ANCHOR


@pytest.mark.parametrize("added", [1, 3])
def test_lines_inserted_above_move_the_anchor_down_by_the_delta(added: int) -> None:
    edit = LineEdit(start=4, end=4, new_count=1 + added)  # newlines typed at the end of line 4
    lines = apply(DOC, edit, [DOC[3], *["new"] * added])

    assert relocate(ANCHOR, [edit], lines) == Anchor(10 + added, ANCHOR.text)


def test_an_edit_below_leaves_the_anchor() -> None:
    edit = LineEdit(start=12, end=14, new_count=1)
    lines = apply(DOC, edit, ["changed"])

    assert relocate(ANCHOR, [edit], lines) == ANCHOR


def test_an_edit_replacing_the_anchors_lines_drops_it() -> None:
    edit = LineEdit(start=10, end=11, new_count=2)
    lines = apply(DOC, edit, ["line 10 changed", "line 11"])

    assert relocate(ANCHOR, [edit], lines) is None


def test_an_edit_inside_the_last_line_drops_it() -> None:
    edit = LineEdit(start=11, end=11, new_count=1)
    lines = apply(DOC, edit, ["line 11 + 1"])

    assert relocate(ANCHOR, [edit], lines) is None


def test_a_newline_typed_at_the_end_of_the_last_line_keeps_the_anchor_in_place() -> None:
    edit = LineEdit(start=11, end=11, new_count=2)
    lines = apply(DOC, edit, ["line 11", ""])

    assert relocate(ANCHOR, [edit], lines) == ANCHOR


def test_a_newline_typed_at_the_start_of_the_first_line_moves_it_down_one() -> None:
    edit = LineEdit(start=10, end=10, new_count=2)
    lines = apply(DOC, edit, ["", "line 10"])

    assert relocate(ANCHOR, [edit], lines) == Anchor(11, ANCHOR.text)


@pytest.mark.parametrize(
    ("edit", "kept"),
    [
        pytest.param(LineEdit(3, 6, 1), "line 6", id="column-0-to-column-0"),
        pytest.param(LineEdit(2, 5, 1), "line 2", id="end-of-line-to-end-of-line"),
    ],
)
def test_deleting_three_lines_above_moves_it_up_three(edit: LineEdit, kept: str) -> None:
    lines = apply(DOC, edit, [kept])

    assert relocate(ANCHOR, [edit], lines) == Anchor(7, ANCHOR.text)


def test_deleting_the_lines_just_above_from_column_0_moves_it_up() -> None:
    # Lines 7-9 selected from column 0 down to column 0 of line 10 and deleted: the edit
    # touches line 10 (where it ends), yet line 10 is intact.
    edit = LineEdit(start=7, end=10, new_count=1)
    lines = apply(DOC, edit, ["line 10"])

    assert relocate(ANCHOR, [edit], lines) == Anchor(7, ANCHOR.text)


def test_deleting_the_line_above_moves_it_up_even_when_the_next_line_is_the_same() -> None:
    lines = ["if a:", "    }", "    }", "b"]
    edit = LineEdit(start=1, end=1, new_count=0)  # range (0, 0)-(1, 0) replaced by ""

    moved = relocate(Anchor.at(lines, 2, 2), [edit], apply(lines, edit, []))

    assert moved == Anchor(1, ("    }",))


def test_several_edits_in_sequence_are_followed_in_order() -> None:
    steps = [
        (LineEdit(2, 2, 3), ["line 2", "a", "b"]),  # +2 above
        (LineEdit(5, 6, 1), ["line 4"]),  # -1 above: old line 3 (now 5) deleted
        (LineEdit(15, 15, 2), ["", "line 14"]),  # below the anchor (now at 11-12)
        (LineEdit(1, 1, 1), ["first"]),  # line 1 rewritten
    ]
    lines: list[str] = list(DOC)
    for edit, new in steps:
        lines = apply(lines, edit, new)

    moved = relocate(ANCHOR, [edit for edit, _ in steps], lines)

    assert moved == Anchor(11, ANCHOR.text)
    assert moved is not None and text(lines, moved.start, moved.end) == ANCHOR.text


def test_edits_in_sequence_drop_the_anchor_when_a_later_edit_changes_it() -> None:
    first = LineEdit(1, 1, 3)
    lines = apply(DOC, first, ["new", "new", "line 1"])
    second = LineEdit(12, 12, 1)  # the anchor's first line, now at 12
    lines = apply(lines, second, ["rewritten"])

    assert relocate(ANCHOR, [first, second], lines) is None


# -- full-document replacement ---------------------------------------------------------------


def full(new: Sequence[str]) -> tuple[LineEdit, list[str]]:
    return LineEdit(1, len(DOC), len(new)), list(new)


def test_full_replacement_keeps_an_anchor_whose_text_is_at_the_same_place() -> None:
    edit, lines = full([*DOC[:15], "changed below"])

    assert relocate(ANCHOR, [edit], lines) == ANCHOR


def test_full_replacement_drops_an_anchor_whose_text_is_gone() -> None:
    edit, lines = full([line.upper() for line in DOC])

    assert relocate(ANCHOR, [edit], lines) is None


def test_full_replacement_drops_an_anchor_whose_text_moved_elsewhere() -> None:
    edit, lines = full([*DOC[9:11], *DOC[:9], *DOC[11:]])  # same length, lines 10-11 now first

    assert relocate(ANCHOR, [edit], lines) is None


def test_full_replacement_follows_lines_added_above_by_the_length_difference() -> None:
    edit, lines = full(["header", "", *DOC])

    assert relocate(ANCHOR, [edit], lines) == Anchor(12, ANCHOR.text)


# -- many edits -----------------------------------------------------------------------------


def enters_at_column_0(count: int) -> list[tuple[LineEdit, list[str]]]:
    """Enter pressed `count` times at column 0 of line 10: each edit, and the lines after it."""
    steps, lines = [], list(DOC)
    for n in range(count):
        edit = LineEdit(10 + n, 10 + n, 2)
        lines = apply(lines, edit, ["", lines[9 + n]])
        steps.append((edit, lines))
    return steps


def test_a_few_enters_at_the_start_of_the_first_line_are_followed_all_at_once() -> None:
    steps = enters_at_column_0(7)

    assert relocate(ANCHOR, [edit for edit, _ in steps], steps[-1][1]) == Anchor(17, ANCHOR.text)


def test_many_enters_at_the_start_of_the_first_line_are_followed_one_at_a_time() -> None:
    anchor: Anchor | None = ANCHOR
    for edit, lines in enters_at_column_0(8):
        assert anchor is not None
        anchor = relocate(anchor, [edit], lines)

    assert anchor == Anchor(18, ANCHOR.text)


def test_many_enters_at_the_start_of_the_first_line_are_followed_all_at_once() -> None:
    steps = enters_at_column_0(8)

    assert relocate(ANCHOR, [edit for edit, _ in steps], steps[-1][1]) == Anchor(18, ANCHOR.text)


# -- the edit log ---------------------------------------------------------------------------


E1, E2, E3 = LineEdit(1, 1, 2), LineEdit(5, 6, 1), LineEdit(3, 3, 1)


def test_since_returns_only_the_edits_made_after_a_version() -> None:
    log = EditLog(version=1, line_count=20)
    log.record(2, [E1], 21)
    log.record(3, [E2, E3], 20)

    assert log.since(1) == [E1, E2, E3]
    assert log.since(2) == [E2, E3]
    assert log.since(3) == []


def test_record_updates_version_and_line_count() -> None:
    log = EditLog(version=4, line_count=20)
    log.record(5, [E1], 21)

    assert (log.version, log.line_count) == (5, 21)


def test_since_a_version_before_the_document_was_opened_is_unknown() -> None:
    assert EditLog(version=3, line_count=20).since(2) is None


def test_since_is_none_once_the_log_was_trimmed_past_the_version() -> None:
    log = EditLog(version=1, line_count=20)
    for version in range(2, 2003):  # 2001 edits, one more than the log keeps
        log.record(version, [E3], 20)

    assert log.since(1) is None
    reachable = log.since(2)
    assert reachable is not None and len(reachable) == 2000
    assert log.since(2002) == []


def test_a_batch_trimmed_in_part_is_no_longer_reachable_from_before_it() -> None:
    log = EditLog(version=1, line_count=20)
    log.record(2, [E3] * 2001, 20)

    assert log.since(1) is None
    assert log.since(2) == []


# -- property -------------------------------------------------------------------------------


pieces = st.sampled_from(["a", "b", "", "x = 1", "return x", "}"])


@st.composite
def edit_steps(draw: st.DrawFn) -> tuple[list[str], Anchor, list[tuple[LineEdit, list[str]]]]:
    """A small document (with repeated lines), an anchor in it, and edits with the result of each.

    Edits are insertions (newlines typed at either end of a line), deletions (the range keeps
    its first or last line, as an editor's selection does) and replacements.
    """
    lines = draw(st.lists(pieces, min_size=1, max_size=12))
    start = draw(st.integers(1, len(lines)))
    anchor = Anchor.at(lines, start, draw(st.integers(start, min(len(lines), start + 2))))
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        count = len(lines)
        first = draw(st.integers(1, count + 1))
        last = draw(st.integers(first, max(count, first)))
        old = lines[first - 1 : last]
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        added = draw(st.lists(pieces, min_size=1, max_size=3))
        if kind == "insert" and old:
            new = [*old[:1], *added] if draw(st.booleans()) else [*added, *old[-1:]]
            last = first
        elif kind == "delete" and old:
            new = old[:1] if draw(st.booleans()) else old[-1:]
        else:
            new = draw(st.lists(pieces | st.sampled_from(old or [""]), max_size=3))
        edit = LineEdit(first, last, len(new))
        lines = apply(lines, edit, new)
        steps.append((edit, lines))
    return lines, anchor, steps


def test_relocated_anchors_always_sit_on_their_own_text() -> None:
    tried = kept_each = kept_all = 0

    @settings(max_examples=300, deadline=None)
    @given(case=edit_steps())
    def check(case: tuple[list[str], Anchor, list[tuple[LineEdit, list[str]]]]) -> None:
        nonlocal tried, kept_each, kept_all
        tried += 1
        final, anchor, steps = case

        current: Anchor | None = anchor
        for edit, lines in steps:
            if current is None:
                break
            moved = relocate(current, [edit], lines)
            if edit.start > current.end:
                assert moved == current
            if edit.end < current.start:
                assert moved == Anchor(current.start + edit.delta, current.text)
            if moved is not None:
                assert text(lines, moved.start, moved.end) == anchor.text
            current = moved
        kept_each += current is not None

        at_once = relocate(anchor, [edit for edit, _ in steps], final)
        if at_once is not None:
            kept_all += 1
            assert at_once.start >= 1
            assert text(final, at_once.start, at_once.end) == anchor.text

    check()
    print(f"{tried} cases: {kept_each} kept edit by edit, {kept_all} kept all at once")
    assert kept_each and kept_all and kept_each < tried
