"""The definitions around the reviewed lines go to the models as context (engine/enclosing.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusion_ls.engine.enclosing import SMALL_LINES, Definition, context_windows, definitions
from fusion_ls.engine.prompts import CodeExcerpt
from fusion_ls.engine.request import language_for
from fusion_ls.findings import LineRange, Scope

DATASET = Path(__file__).resolve().parent.parent / "eval" / "dataset"


def at(*lines: int) -> Scope:
    return Scope.of([LineRange(start=n, end=n) for n in lines])


def python_function(name: str, body_lines: int, indent: str = "") -> list[str]:
    return [
        f"{indent}@cached",
        f"{indent}def {name}(",
        f"{indent}    first: int,",
        f"{indent}    second: int,",
        f"{indent}) -> int:",
        *(f"{indent}    total_{n} = first + {n}" for n in range(body_lines)),
        f"{indent}    return second",
    ]


def test_a_large_python_function_gives_its_header_with_decorators_and_signature() -> None:
    lines = ["import os", "", *python_function("big", 80), "", "x = 1"]

    [found] = definitions(lines, "python", at(60))

    assert found == Definition(start=3, header_end=7, end=88)
    assert context_windows(lines, "python", at(60), 2).ranges == (
        LineRange(start=3, end=7),
        LineRange(start=58, end=62),
    )


def test_a_small_function_is_sent_whole_and_a_large_class_only_by_its_header() -> None:
    lines = [
        "class Store:",
        '    """Holds things."""',
        *python_function("first", 60, indent="    "),
        *python_function("second", 5, indent="    "),
    ]
    second = lines.index("    def second(") + 1
    change = second + 6

    windows = context_windows(lines, "python", at(change), 0)

    assert windows.ranges == (
        LineRange(start=1, end=1),
        LineRange(start=second - 1, end=len(lines)),
    )


def test_the_cap_on_a_whole_definition_is_small_lines() -> None:
    fits = ["def f():", *(f"    x = {n}" for n in range(SMALL_LINES - 1))]
    over = [*fits, "    y = 0"]

    assert context_windows(fits, "python", at(30), 0).ranges == (LineRange(start=1, end=50),)
    assert context_windows(over, "python", at(30), 0).ranges == (
        LineRange(start=1, end=1),
        LineRange(start=30, end=30),
    )


def test_a_statement_wholly_inside_the_sent_lines_is_not_searched() -> None:
    lines = python_function("small", 5)
    every = Scope.of([LineRange(start=1, end=len(lines))])

    assert definitions(lines, "python", at(7)) == [Definition(start=1, header_end=5, end=11)]
    assert definitions(lines, "python", at(7), sent=every) == []


def test_python_that_does_not_parse_falls_back_to_indentation() -> None:
    lines = ["def broken(a, b):", *(f"    x{n} = a +" for n in range(60)), "    return b"]

    [found] = definitions(lines, "python", at(40))

    assert (found.start, found.header_end) == (1, 1)


def test_only_the_top_level_statement_around_a_hunk_is_parsed() -> None:
    """A syntax error elsewhere in the file does not stop `ast` finding this definition."""
    lines = ["def elsewhere(:", "    pass", "", *python_function("here", 70)]

    [found] = definitions(lines, "python", at(50))

    assert (found.start, found.header_end) == (4, 8)


@pytest.mark.parametrize(
    ("path", "line", "span"),
    [
        pytest.param("go/hit_counter.go", 29, (24, 24, 32), id="go-method"),
        pytest.param("go/create_project.go", 30, (19, 19, 37), id="go-closure-in-function"),
        pytest.param("go/user_lookup.go", 10, (8, 8, 12), id="go-struct"),
        pytest.param("js/debounce.ts", 13, (3, 6, 17), id="ts-generic-multiline-signature"),
        pytest.param("js/digest.ts", 15, (8, 11, 18), id="ts-async-multiline-signature"),
        pytest.param("js/leaderboard.js", 9, (8, 8, 10), id="js-export-function"),
        pytest.param("js/plans.ts", 5, (3, 3, 6), id="ts-interface"),
    ],
)
def test_the_heuristic_finds_the_definitions_of_the_eval_dataset(
    path: str, line: int, span: tuple[int, int, int]
) -> None:
    """Every one of the 25 definitions in the dataset's Go and JavaScript files is found with
    these spans; these cases pin a few kinds."""
    lines = (DATASET / path).read_text().splitlines()

    found = definitions(lines, language_for(path), at(line))

    assert [(d.start, d.header_end, d.end) for d in found] == [span]


@pytest.mark.parametrize(
    ("source", "line", "header"),
    # the heuristic is the same for every language but Python; the ids say what each case is
    [
        pytest.param(
            ["impl Store {", "    pub fn get(&self) -> u8 {", "        self.x", "    }", "}"],
            3,
            [1, 2],
            id="rust",
        ),
        pytest.param(
            ["public class A {", "  private int f(int x)", "  {", "    return x;", "  }", "}"],
            4,
            [1, 2],
            id="java-brace-on-its-own-line",
        ),
        pytest.param(
            ["class A {", "  #secret (x) {", "    return x", "  }", "}"],
            3,
            [1, 2],
            id="js-private-method",
        ),
        pytest.param(
            ["const f = ({", "  a,", "  b,", "}) => {", "  return a + b", "}"], 5, [1], id="arrow"
        ),
        pytest.param(
            ["function f() {", "  if (x) {", "    y()", "  }", "}"], 3, [1], id="not-control-flow"
        ),
    ],
)
def test_definition_headers_in_other_languages(
    source: list[str], line: int, header: list[int]
) -> None:
    found = definitions(source, "javascript", at(line))

    assert [d.start for d in found] == header


def test_data_and_prose_have_no_definitions() -> None:
    lines = ["class of 2024:", "  students: 30", "  teacher: x"]

    assert definitions(lines, "yaml", at(3)) == []
    assert definitions(lines, "text", at(3)) == []


def test_the_excerpt_shows_the_header_as_context_with_a_gap_before_the_hunk() -> None:
    lines = python_function("big", 80)
    excerpt = CodeExcerpt.around("a.py", "python", lines, at(60), context_lines=1)

    body = excerpt.render().splitlines()[1:-1]

    assert body == [
        "  1 | @cached",
        "  2 | def big(",
        "  3 |     first: int,",
        "  4 |     second: int,",
        "  5 | ) -> int:",
        "  ⋮ |",
        " 59 |     total_53 = first + 53",
        ">60 |     total_54 = first + 54",
        " 61 |     total_55 = first + 55",
    ]
    assert 'lines="1-5,59-61" reviewed="60-60"' in excerpt.render()


# -- for any text --------------------------------------------------------------------------------

CODE_LINES = st.sampled_from(
    [
        "def f(a,",
        "    b):",
        "class C:",
        "function g(x) {",
        "}",
        "  }",
        "    return x",
        "func (s *S) M() error {",
        ") -> int:",
        "  #p (x) {",
        "",
        "# comment",
        "  x = [",
        "]",
        '"""',
        "    @decorator",
    ]
)


@st.composite
def documents(draw: st.DrawFn) -> tuple[list[str], Scope, int, str]:
    lines = draw(
        st.lists(
            st.tuples(st.integers(0, 3), CODE_LINES).map(lambda t: "    " * t[0] + t[1]),
            min_size=1,
            max_size=120,
        )
    )
    starts = draw(st.lists(st.integers(1, len(lines)), min_size=1, max_size=4))
    ranges = [LineRange(start=s, end=min(len(lines), s + draw(st.integers(0, 5)))) for s in starts]
    context = draw(st.integers(0, 5))
    language = draw(st.sampled_from(["python", "go", "javascript", "text"]))
    return lines, Scope.of(ranges), context, language


@settings(max_examples=300, deadline=None)
@given(documents())
def test_windows_stay_in_the_document_and_hold_every_reviewed_line(
    document: tuple[list[str], Scope, int, str],
) -> None:
    lines, reviewed, context, language = document

    windows = context_windows(lines, language, reviewed, context)

    assert all(1 <= w.start <= w.end <= len(lines) for w in windows.ranges)
    assert all(n in windows for span in reviewed.ranges for n in range(span.start, span.end + 1))
    assert windows == context_windows(lines, language, reviewed, context)  # deterministic
    excerpt = CodeExcerpt("a", language, lines, reviewed, windows)
    body = excerpt.render().splitlines()[1:-1]
    gaps = [row for row in body if row.split("|")[0].strip() == "⋮"]
    assert len(gaps) == len(windows.ranges) - 1
    marked = [int(row[1:].split("|")[0]) for row in body if row.startswith(">")]
    assert marked == [n for span in reviewed.ranges for n in range(span.start, span.end + 1)]
