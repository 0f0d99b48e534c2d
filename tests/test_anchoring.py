"""Re-anchoring findings by their quote: kept, moved, clipped or dropped, never out of range."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from timing import finishes_within

from fusion_ls.engine.anchoring import (
    NEAR_LINES,
    Anchored,
    SentText,
    anchor,
    anchor_all,
    normalise,
    split_lines,
)
from fusion_ls.findings import Fix, LineRange, ProposedFinding, Scope

# Line n reads "value_nnn = compute(n)"; every line is distinct and none contains another.
LINES = [f"    value_{n:03d} = compute({n})" for n in range(1, 61)]
REVIEWED = LineRange(start=10, end=50)
DOC = SentText(lines=LINES, reviewed=Scope.of([REVIEWED]))


def text_of(line: int) -> str:
    return LINES[line - 1]


def make(
    line: int,
    quote: str,
    *,
    end: int | None = None,
    fix: tuple[int, int, str] | None = None,
) -> ProposedFinding:
    data: dict[str, Any] = {
        "line_start": line,
        "line_end": line if end is None else end,
        "quote": quote,
        "severity": "warning",
        "category": "bug",
        "message": "something is wrong here",
    }
    if fix is not None:
        data["fix"] = {"line_start": fix[0], "line_end": fix[1], "replacement": fix[2]}
    return ProposedFinding.model_validate(data)


def span(finding: ProposedFinding | None) -> tuple[int, int] | None:
    return None if finding is None else (finding.line_start, finding.line_end)


def fix_span(finding: ProposedFinding | None) -> tuple[int, int] | None:
    assert finding is not None
    return None if finding.fix is None else (finding.fix.line_start, finding.fix.line_end)


# -- kept and moved -------------------------------------------------------------------------


def test_quote_on_the_cited_line_keeps_the_finding_unchanged() -> None:
    finding = make(20, "value_020 = compute(20)", end=21, fix=(20, 20, "    value_020 = 0"))

    assert anchor(finding, DOC) == finding


def test_quote_a_few_lines_below_moves_finding_and_fix_together() -> None:
    finding = make(20, text_of(23), end=22, fix=(20, 21, "    fixed = 1\n    fixed = 2"))

    moved = anchor(finding, DOC)

    assert span(moved) == (23, 25)
    assert fix_span(moved) == (23, 24)
    assert moved is not None and moved.fix is not None
    assert moved.fix.replacement == "    fixed = 1\n    fixed = 2"
    assert moved.message == finding.message


def test_quote_above_moves_the_finding_up() -> None:
    assert span(anchor(make(30, text_of(26)), DOC)) == (26, 26)


def test_the_nearest_occurrence_of_the_quote_wins() -> None:
    lines = list(LINES)
    lines[25] = lines[31] = "    return cache[key]"  # lines 26 and 32
    doc = SentText(lines=lines, reviewed=Scope.of([REVIEWED]))

    assert span(anchor(make(30, "return cache[key]"), doc)) == (32, 32)


@pytest.mark.parametrize(
    ("distance", "expected"),
    [
        pytest.param(NEAR_LINES, (20 + NEAR_LINES, 20 + NEAR_LINES), id="at-the-limit"),
        pytest.param(NEAR_LINES + 1, None, id="just-beyond"),
    ],
)
def test_quote_is_only_searched_near_the_citation(
    distance: int, expected: tuple[int, int] | None
) -> None:
    assert 20 + distance in REVIEWED

    assert span(anchor(make(20, text_of(20 + distance)), DOC)) == expected


@pytest.mark.parametrize("quote", ["", "   ", "\n\n", "20 |", "> 20 | "])
def test_empty_quote_drops_the_finding(quote: str) -> None:
    assert anchor(make(20, quote), DOC) is None


def test_quote_found_nowhere_drops_the_finding() -> None:
    assert anchor(make(20, "value_020 = compute(21)"), DOC) is None


@pytest.mark.parametrize(
    "quote",
    [
        "20 | value_020 = compute(20)",
        ">20 | value_020 = compute(20)",
        "> 20 |     value_020 = compute(20)",
        "  20: value_020 = compute(20)",
    ],
)
def test_copied_line_number_prefix_still_matches(quote: str) -> None:
    assert span(anchor(make(20, quote), DOC)) == (20, 20)


def test_copied_line_number_prefix_moves_to_the_quoted_text() -> None:
    assert span(anchor(make(20, "23 | value_023 = compute(23)"), DOC)) == (23, 23)


@pytest.mark.parametrize(
    "quote",
    [
        "value_020   =   compute(20)",
        "\tvalue_020 =\tcompute(20)  ",
        "        value_020 = compute(20)",
    ],
)
def test_whitespace_differences_are_ignored(quote: str) -> None:
    assert span(anchor(make(20, quote), DOC)) == (20, 20)


def test_multi_line_quote_on_the_cited_lines_is_kept() -> None:
    quote = f"{text_of(30)}\n{text_of(31)}"

    assert span(anchor(make(30, quote, end=31), DOC)) == (30, 31)


def test_moved_multi_line_quote_covers_all_quoted_lines() -> None:
    quote = f"{text_of(30)}\n{text_of(31)}\n{text_of(32)}"

    assert span(anchor(make(27, quote), DOC)) == (30, 32)


def test_multi_line_quote_must_match_consecutive_lines() -> None:
    quote = f"{text_of(30)}\n{text_of(32)}"

    assert anchor(make(30, quote, end=32), DOC) is None


def test_multi_line_quote_spanning_a_blank_line_matches() -> None:
    lines = ["def mean(values):", "", "    return sum(values) / len(values)"]
    doc = SentText(lines=lines, reviewed=Scope.of([LineRange(start=1, end=3)]))

    assert span(anchor(make(1, "\n".join(lines), end=3), doc)) == (1, 3)


def test_quote_on_a_later_line_of_the_citation_keeps_the_cited_range_and_fix() -> None:
    finding = make(20, text_of(21), end=22, fix=(20, 20, "    value_020 = 0"))

    kept = anchor(finding, DOC)

    assert span(kept) == (20, 22)
    assert fix_span(kept) == (20, 20)


def test_reversed_citation_is_read_as_a_range() -> None:
    kept = anchor(make(22, text_of(20), end=20), DOC)

    assert kept is not None and kept.line_start <= kept.line_end
    assert span(kept) == (20, 22)


# -- the reviewed range ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "quoted"),
    [
        pytest.param(5, 5, id="context-above"),
        pytest.param(55, 55, id="context-below"),
        pytest.param(12, 8, id="moved-into-context"),
        pytest.param(60, 60, id="last-line-of-document"),
    ],
)
def test_finding_outside_the_reviewed_range_is_dropped(line: int, quoted: int) -> None:
    assert anchor(make(line, text_of(quoted)), DOC) is None


def test_end_past_the_document_is_clipped_to_the_last_line() -> None:
    doc = SentText(lines=LINES, reviewed=Scope.of([LineRange(start=40, end=60)]))

    assert span(anchor(make(58, text_of(58), end=75), doc)) == (58, 60)


def test_citation_past_the_document_moves_back_to_the_quote() -> None:
    doc = SentText(lines=LINES, reviewed=Scope.of([LineRange(start=40, end=60)]))

    assert span(anchor(make(63, text_of(59)), doc)) == (59, 59)


def test_end_past_the_reviewed_range_is_clipped() -> None:
    assert span(anchor(make(48, text_of(48), end=55), DOC)) == (48, 50)


def test_start_before_the_reviewed_range_is_clipped() -> None:
    assert span(anchor(make(8, text_of(11), end=12), DOC)) == (10, 12)


def test_moved_span_is_clipped_to_the_reviewed_range() -> None:
    assert span(anchor(make(44, text_of(49), end=47), DOC)) == (49, 50)


@pytest.mark.parametrize(
    "fix",
    [
        pytest.param((5, 5), id="in-context"),
        pytest.param((49, 51), id="ends-past-range"),
        pytest.param((9, 10), id="starts-before-range"),
        pytest.param((70, 71), id="past-the-document"),
        pytest.param((21, 20), id="reversed"),
    ],
)
def test_fix_outside_the_reviewed_range_is_dropped_but_finding_kept(fix: tuple[int, int]) -> None:
    kept = anchor(make(20, text_of(20), fix=(*fix, "    changed()")), DOC)

    assert span(kept) == (20, 20)
    assert fix_span(kept) is None


def test_fix_moved_out_of_the_reviewed_range_is_dropped() -> None:
    kept = anchor(make(44, text_of(48), fix=(47, 47, "    changed()")), DOC)

    assert span(kept) == (48, 48)
    assert fix_span(kept) is None


@pytest.mark.parametrize(
    "replacement",
    [
        pytest.param(text_of(20), id="same-line"),
        pytest.param(text_of(20) + "\n", id="same-line-with-newline"),
    ],
)
def test_fix_that_changes_nothing_is_dropped(replacement: str) -> None:
    kept = anchor(make(20, text_of(20), fix=(20, 20, replacement)), DOC)

    assert kept is not None and kept.fix is None


def test_multi_line_fix_that_changes_nothing_is_dropped() -> None:
    same = f"{text_of(20)}\n{text_of(21)}"

    kept = anchor(make(20, text_of(20), end=21, fix=(20, 21, same)), DOC)

    assert kept is not None and kept.fix is None


def test_fix_comparison_is_exact_so_reindenting_is_a_change() -> None:
    kept = anchor(make(20, text_of(20), fix=(20, 20, text_of(20).strip())), DOC)

    assert kept is not None and kept.fix is not None


def test_fix_that_changes_nothing_after_the_move_is_dropped() -> None:
    kept = anchor(make(20, text_of(23), fix=(20, 20, text_of(23))), DOC)

    assert span(kept) == (23, 23)
    assert fix_span(kept) is None


def test_anchor_all_keeps_order_and_counts_drops() -> None:
    findings = [
        make(20, text_of(20)),
        make(20, "not in the document"),
        make(30, text_of(33)),
        make(5, text_of(5)),
        make(40, ""),
    ]

    placed = anchor_all(findings, DOC)

    assert [span(f) for f in placed.kept] == [(20, 20), (33, 33)]
    assert (placed.unquoted, placed.outside) == (
        2,
        1,
    )  # line 5 is context: true, but not what was asked


def test_anchor_all_of_nothing() -> None:
    assert anchor_all([], DOC) == Anchored([], 0, 0)


def test_sent_text_lines_are_one_based_and_blank_outside() -> None:
    doc = SentText.from_text("a\nb\nc\n", LineRange(start=1, end=3))

    assert [doc.line(n) for n in (0, 1, 3, 4, -1)] == ["", "a", "c", "", ""]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        pytest.param("a\nb", ["a", "b"], id="lf"),
        pytest.param("a\r\nb\r\n", ["a", "b"], id="crlf-final-newline"),
        pytest.param("a\rb\r", ["a", "b"], id="cr"),
        pytest.param("a\n\nb\n\n", ["a", "", "b", ""], id="blank-lines-kept"),
        pytest.param("a\x0cb\x85c\u2028d\ve", ["a\x0cb\x85c\u2028d\ve"], id="not-line-breaks"),
        pytest.param("", [], id="empty"),
    ],
)
def test_split_lines_breaks_only_where_editors_do(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines


def test_sent_text_counts_lines_like_an_editor() -> None:
    doc = SentText.from_text("a = 1\n\x0c\nb = 2\nc = 'x\u2028y'\n", LineRange(start=1, end=4))

    assert len(doc.lines) == 4
    assert doc.line(3) == "b = 2"


def test_normalise_collapses_whitespace() -> None:
    assert normalise("  a \t b\n\nc  ") == "a b c"


# -- property -------------------------------------------------------------------------------


HUGE = 10**12
pieces = st.sampled_from(["x = 1", "y = x", "", "  return x  ", "é ∑ 😀", "12 | x", "\t"])
doc_lines = st.lists(pieces | st.text(max_size=8), min_size=1, max_size=25)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[SentText, ProposedFinding]:
    """A small document, a reviewed range in it, and a finding that is often, not always, right."""
    lines = draw(doc_lines)
    start = draw(st.integers(1, len(lines)))
    end = draw(st.integers(start, len(lines)))
    doc = SentText(lines=lines, reviewed=Scope.of([LineRange(start=start, end=end)]))
    near = st.integers(start - 3, end + 3)
    numbers = st.one_of(near, near, near, st.sampled_from([-HUGE, HUGE]), st.integers())
    fix_numbers = st.integers(start - 1, end + 1) | numbers
    first = draw(st.integers(start, end) | st.integers(1, len(lines)))
    copied = "\n".join(lines[first - 1 : first + draw(st.integers(0, 2))])
    quote = draw(st.sampled_from([copied, f"  {copied}\t"]) | st.text())
    fix = draw(
        st.none()
        | st.builds(
            Fix,
            line_start=fix_numbers,
            line_end=fix_numbers,
            replacement=st.sampled_from(lines) | st.text(max_size=6),
        )
    )
    finding = ProposedFinding(
        line_start=draw(numbers),
        line_end=draw(numbers),
        quote=quote,
        severity="info",
        category="style",
        message="m",
        fix=fix,
    )
    return doc, finding


def test_anchored_findings_never_leave_the_reviewed_range() -> None:
    tried = kept = 0

    @settings(max_examples=300, deadline=None)
    @given(scenario=scenarios())
    def check(scenario: tuple[SentText, ProposedFinding]) -> None:
        nonlocal tried, kept
        tried += 1
        doc, finding = scenario
        started = time.perf_counter()

        with finishes_within(2.0):
            result = anchor(finding, doc)

        assert time.perf_counter() - started < 0.5
        if result is None:
            return
        kept += 1
        reviewed, last = doc.reviewed.bounds, len(doc.lines)
        assert reviewed.start <= result.line_start <= result.line_end <= reviewed.end <= last
        if result.fix is not None:
            assert reviewed.start <= result.fix.line_start <= result.fix.line_end <= reviewed.end
        if not any(c.isdigit() for c in finding.quote):
            first = next(n for n in map(normalise, re.split(r"\r\n|\r|\n", finding.quote)) if n)
            lines = range(result.line_start, result.line_end + 1)
            assert any(first in normalise(doc.line(n)) for n in lines)

    check()
    print(f"anchoring: {tried} cases, {kept} kept")
    assert tried > 0


def test_huge_citation_is_fast_and_clipped() -> None:
    doc = SentText(lines=LINES, reviewed=Scope.of([REVIEWED]))
    finding = make(-HUGE, text_of(30), end=HUGE, fix=(-HUGE, HUGE, "x"))
    started = time.perf_counter()

    with finishes_within(2.0):
        kept = anchor(finding, doc)

    assert time.perf_counter() - started < 0.5
    assert span(kept) == (10, 50)
    assert fix_span(kept) is None


def test_a_match_in_the_reviewed_range_beats_a_closer_one_in_context() -> None:
    lines = [f"line {n}" for n in range(1, 21)]
    lines[8] = "x = compute()"  # line 9: context
    lines[15] = "x = compute()"  # line 16: reviewed
    doc = SentText(lines=lines, reviewed=Scope.of([LineRange(start=14, end=20)]))
    finding = ProposedFinding(
        line_start=12, line_end=12, quote="x = compute()", severity="warning",
        category="bug", message="m",
    )  # fmt: skip

    anchored = anchor(finding, doc)

    assert anchored is not None and anchored.line_start == 16
