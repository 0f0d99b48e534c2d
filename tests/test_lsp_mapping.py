"""FusedReview ↔ LSP: UTF-16 ranges, content changes as line edits, diagnostics, hovers, fixes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from fusion_ls.engine.anchoring import split_lines
from fusion_ls.errors import ConfigIssue
from fusion_ls.findings import (
    Finding,
    Fix,
    FusedExplanation,
    FusedReview,
    LineRange,
    ModelRun,
    Statement,
    Usage,
)
from fusion_ls.lsp.mapping import (
    apply_fix_action,
    config_diagnostic,
    diagnostic,
    explanation_hover,
    finding_hover,
    fix_edit,
    line_edits,
    lsp_range,
    selected_lines,
)
from fusion_ls.lsp.session import DocumentState, Snapshot
from fusion_ls.lsp.tracking import Anchor, EditLog, LineEdit, relocate

URI = "file:///work/app.py"
LINES = [
    "def mean(values):",
    "    total = sum(values)",
    "    return total / len(values)",
    "",
    "print(mean([]))",
]
TEXT = "\n".join(LINES) + "\n"


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def rng(start: tuple[int, int], end: tuple[int, int]) -> types.Range:
    return types.Range(start=pos(*start), end=pos(*end))


def span(r: types.Range) -> tuple[tuple[int, int], tuple[int, int]]:
    return (r.start.line, r.start.character), (r.end.line, r.end.character)


def make_finding(
    *,
    severity: Literal["error", "warning", "info", "hint"] = "error",
    fix: Fix | None = None,
    agreement: str = "2/3",
    statements: Sequence[Statement] = (),
) -> Finding:
    """A finding on line 3 (the division), raised by model-a and model-b (by default): the
    first k of model-a, model-b… for an agreement `k/n`."""
    agreed, answered = map(int, agreement.split("/"))
    return Finding(
        id="f1",
        line_start=3,
        line_end=3,
        quote="return total / len(values)",
        severity=severity,
        category="bug",
        message="Division by zero when values is empty",
        rationale="len(values) is 0 for an empty list.",
        fix=fix,
        models=[f"model-{letter}" for letter in "abcdefgh"[:agreed]],
        answered=answered,
        statements=statements,
    )


FIX = Fix(line_start=3, line_end=3, replacement="    return total / len(values) if values else 0.0")


def run(model: str, **changes: Any) -> ModelRun:
    fields: dict[str, Any] = {
        "model": model,
        "status": "ok",
        "latency_s": 1.5,
        "usage": Usage(prompt_tokens=100, completion_tokens=20, cost_usd=0.0012),
    }
    return ModelRun.model_validate({**fields, **changes})


def make_review(findings: Sequence[Finding] = (), **changes: Any) -> FusedReview:
    fields: dict[str, Any] = {
        "path": "app.py",
        "lines": LineRange(start=1, end=len(LINES)),
        "findings": list(findings),
        "summary": "",
        "mode": "merge",
        "models": [
            run("model-a"),
            run("model-b", latency_s=2.25),
            run("model-c", status="timeout", latency_s=None, error="no answer | 30 s"),
        ],
        "judge": run("judge-model", usage=Usage(prompt_tokens=300, completion_tokens=50)),
        "usage": Usage(prompt_tokens=500, completion_tokens=90, cost_usd=0.0024),
        "elapsed_s": 3.0,
    }
    return FusedReview.model_validate({**fields, **changes})


# -- applying LSP edits to text, as an editor does ------------------------------------------


def offset(text: str, position: types.Position) -> int:
    """The index in `text` of an LSP position (UTF-16 characters)."""
    starts = [0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", text))]
    index, units = starts[position.line], 0
    while units < position.character:
        units += 2 if ord(text[index]) > 0xFFFF else 1
        index += 1
    return index


def replace(text: str, span_: types.Range, new_text: str) -> str:
    return text[: offset(text, span_.start)] + new_text + text[offset(text, span_.end) :]


def applied(text: str, edit: types.WorkspaceEdit) -> str:
    assert edit.document_changes is not None
    (change,) = edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    (text_edit,) = change.edits
    assert isinstance(text_edit, types.TextEdit)
    return replace(text, text_edit.range, text_edit.new_text)


# -- ranges ---------------------------------------------------------------------------------


def test_range_starts_at_the_first_non_blank_column_and_ends_at_the_line_end() -> None:
    assert span(lsp_range(LINES, 2, 3)) == ((1, 4), (2, 30))


def test_range_of_a_tab_indented_line() -> None:
    assert span(lsp_range(["\t\tx = 1"], 1, 1)) == ((0, 2), (0, 7))


@pytest.mark.parametrize(
    ("last", "length"),
    [
        pytest.param("s = '😀'", 8, id="astral-counts-two"),
        pytest.param("s = '中文'", 8, id="cjk-counts-one-each"),
        pytest.param("s = '😀中'", 9, id="both"),
    ],
)
def test_range_end_is_the_utf16_length_of_the_last_line(last: str, length: int) -> None:
    assert span(lsp_range(["  first", last], 1, 2)) == ((0, 2), (1, length))


def test_range_start_counts_indent_only_not_what_follows_it() -> None:
    assert span(lsp_range(["    😀 = 1"], 1, 1)) == ((0, 4), (0, 10))


# -- selections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "lines"),
    [
        pytest.param(rng((4, 2), (6, 5)), (5, 7), id="mid-line-to-mid-line"),
        pytest.param(rng((4, 0), (7, 0)), (5, 7), id="ends-at-column-0-of-next-line"),
        pytest.param(rng((4, 0), (5, 0)), (5, 5), id="one-whole-line"),
        pytest.param(rng((4, 3), (4, 3)), (5, 5), id="cursor"),
        pytest.param(rng((4, 0), (4, 0)), (5, 5), id="cursor-at-column-0"),
        pytest.param(rng((4, 2), (4, 9)), (5, 5), id="within-one-line"),
    ],
)
def test_selected_lines(selection: types.Range, lines: tuple[int, int]) -> None:
    selected = selected_lines(selection)

    assert (selected.start, selected.end) == lines


def test_a_reversed_selection_still_gives_a_valid_range_from_its_start() -> None:
    selected = selected_lines(rng((6, 0), (4, 2)))

    assert selected.start == 7
    assert selected.start <= selected.end


# -- content changes ------------------------------------------------------------------------


def partial(
    start: tuple[int, int], end: tuple[int, int], text: str
) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(range=rng(start, end), text=text)


def whole(text: str) -> types.TextDocumentContentChangeEvent:
    return types.TextDocumentContentChangeWholeDocument(text=text)


@pytest.mark.parametrize(
    ("change", "edit"),
    [
        pytest.param(partial((2, 30), (2, 30), "\n"), LineEdit(3, 3, 2), id="newline"),
        pytest.param(partial((2, 5), (2, 9), "count"), LineEdit(3, 3, 1), id="within-a-line"),
        pytest.param(partial((1, 0), (3, 0), ""), LineEdit(2, 3, 0), id="delete-lines"),
        pytest.param(partial((0, 17), (2, 30), ""), LineEdit(1, 3, 1), id="join-lines"),
        pytest.param(partial((1, 4), (2, 4), "a\nb\nc"), LineEdit(2, 3, 3), id="multi-line"),
        pytest.param(partial((1, 0), (1, 0), "a\r\nb\r\n"), LineEdit(2, 1, 2), id="crlf"),
        pytest.param(partial((1, 0), (1, 0), "a\rb\r\nc\n"), LineEdit(2, 1, 3), id="mixed-eol"),
    ],
)
def test_partial_change_as_a_line_edit(
    change: types.TextDocumentContentChangeEvent, edit: LineEdit
) -> None:
    assert line_edits([change], len(LINES)) == [edit]


@pytest.mark.parametrize(
    ("text", "edit"),
    [
        pytest.param("a\nb\n", LineEdit(1, 5, 2), id="final-newline"),
        pytest.param("a\nb", LineEdit(1, 5, 2), id="no-final-newline"),
        pytest.param("a\r\nb\r\nc\r\n", LineEdit(1, 5, 3), id="crlf"),
        pytest.param("", LineEdit(1, 5, 0), id="emptied"),
    ],
)
def test_full_change_replaces_every_line(text: str, edit: LineEdit) -> None:
    assert line_edits([whole(text)], len(LINES)) == [edit]


def test_full_change_of_an_empty_document_covers_line_1() -> None:
    assert line_edits([whole("a\n")], 0) == [LineEdit(1, 1, 1)]


def test_changes_are_applied_in_sequence_with_the_line_count_updated() -> None:
    changes = [
        partial((0, 0), (0, 0), "a\nb\n"),  # 5 → 7 lines
        partial((1, 0), (4, 0), ""),  # 7 → 4 lines
        whole("x\ny\nz\n"),  # 4 → 3 lines
        whole("only"),
    ]

    assert line_edits(changes, len(LINES)) == [
        LineEdit(1, 0, 2),  # whole lines inserted before line 1
        LineEdit(2, 4, 0),  # whole lines 2-4 deleted
        LineEdit(1, 4, 3),
        LineEdit(1, 3, 1),
    ]


# -- diagnostics ----------------------------------------------------------------------------


def test_diagnostic_fields() -> None:
    result = diagnostic(make_finding(), LINES)

    assert span(result.range) == ((2, 4), (2, 30))
    assert result.message == "Division by zero when values is empty (2/3 models)"
    assert (result.source, result.code, result.data) == ("fusion", "bug", {"id": "f1"})
    assert result.severity == types.DiagnosticSeverity.Error


def test_provisional_diagnostic_says_so_far() -> None:
    result = diagnostic(make_finding(agreement="1/3"), LINES, provisional=True)

    assert result.message.endswith("(1/3 models so far)")


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("error", types.DiagnosticSeverity.Error),
        ("warning", types.DiagnosticSeverity.Warning),
        ("info", types.DiagnosticSeverity.Information),
        ("hint", types.DiagnosticSeverity.Hint),
    ],
)
def test_diagnostic_severity(
    severity: Literal["error", "warning", "info", "hint"], expected: types.DiagnosticSeverity
) -> None:
    assert diagnostic(make_finding(severity=severity), LINES).severity == expected


# -- fixes ----------------------------------------------------------------------------------


def test_fix_in_the_middle_replaces_whole_lines_and_keeps_the_newline() -> None:
    fix = Fix(line_start=2, line_end=3, replacement="    return sum(values) / max(len(values), 1)")

    result = applied(TEXT, fix_edit(URI, 7, LINES, fix))

    assert result == (
        "def mean(values):\n    return sum(values) / max(len(values), 1)\n\nprint(mean([]))\n"
    )


def test_fix_of_one_line_into_several() -> None:
    fix = Fix(line_start=3, line_end=3, replacement="    if not values:\n        return 0.0\n    x")

    result = applied(TEXT, fix_edit(URI, 7, LINES, fix))

    assert split_lines(result) == [
        *LINES[:2],
        "    if not values:",
        "        return 0.0",
        "    x",
        *LINES[3:],
    ]


@pytest.mark.parametrize("final", ["\n", ""], ids=["final-newline", "no-final-newline"])
def test_fix_of_the_last_line_keeps_what_followed_it(final: str) -> None:
    text = "\n".join(LINES) + final
    fix = Fix(line_start=5, line_end=5, replacement="print(mean([1]))")

    result = applied(text, fix_edit(URI, 7, LINES, fix))

    assert result == "\n".join([*LINES[:4], "print(mean([1]))"]) + final


def test_fix_of_a_last_line_with_astral_characters_replaces_all_of_it() -> None:
    lines = ["a = 1", "s = '😀😀'"]
    fix = Fix(line_start=2, line_end=2, replacement="s = ''")

    assert applied("a = 1\ns = '😀😀'", fix_edit(URI, 7, lines, fix)) == "a = 1\ns = ''"


def test_fix_edit_carries_the_document_version() -> None:
    edit = fix_edit(URI, 42, LINES, FIX)

    assert edit.document_changes is not None
    (change,) = edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    assert (change.text_document.uri, change.text_document.version) == (URI, 42)


@pytest.mark.parametrize(
    ("agreement", "preferred"), [("3/3", True), ("2/2", True), ("2/3", False), ("1/3", False)]
)
def test_apply_fix_action(agreement: str, preferred: bool) -> None:
    finding = make_finding(fix=FIX, agreement=agreement)
    diag = diagnostic(finding, LINES)
    edit = fix_edit(URI, 1, LINES, FIX)

    action = apply_fix_action(finding, diag, edit)

    assert action.kind == types.CodeActionKind.QuickFix
    assert action.is_preferred is preferred
    assert action.diagnostics == [diag]
    assert action.edit is edit
    assert finding.message in action.title


# -- hovers ---------------------------------------------------------------------------------


def test_finding_hover_explains_the_finding() -> None:
    finding = make_finding(fix=FIX)

    text = finding_hover(finding, make_review([finding]), LINES)

    assert "Division by zero when values is empty" in text
    assert "**error · bug**" in text
    assert "Raised by 2/3 models: `model-a`, `model-b`" in text
    assert "len(values) is 0 for an empty list." in text


def test_where_no_model_ran_diagnostics_and_hover_say_analyzers() -> None:
    finding = make_finding().model_copy(
        update={"models": ["tool:bandit", "tool:ruff"], "answered": 2, "answered_by": "analyzers"}
    )
    offline = make_review([finding], models=[run("tool:bandit"), run("tool:ruff")], judge=None)

    assert diagnostic(finding, LINES).message.endswith("(2/2 analyzers)")
    text = finding_hover(finding, offline, LINES)
    assert "Raised by 2/2 analyzers: `tool:bandit`, `tool:ruff`" in text
    assert "| analyzer | status | latency | detail |" in text
    assert "| `tool:ruff` | ok | 1.50 s |  |" in text  # no tokens: an analyzer spends none


def test_finding_hover_shows_the_fix_as_a_unified_diff() -> None:
    finding = make_finding(fix=FIX)

    text = finding_hover(finding, make_review([finding]), LINES)

    assert "```diff\n--- current\n+++ fixed\n@@ -3 +3 @@\n" in text  # numbered as in the file
    assert "\n-    return total / len(values)\n" in text
    assert "\n+    return total / len(values) if values else 0.0\n" in text


def test_finding_hover_without_a_fix_has_no_diff() -> None:
    finding = make_finding()

    assert "```diff" not in finding_hover(finding, make_review([finding]), LINES)


def test_finding_hover_has_a_status_row_for_each_model_and_the_judge() -> None:
    finding = make_finding()

    rows = finding_hover(finding, make_review([finding]), LINES).splitlines()

    assert "**Review** (merge) — 500 in / 90 out tokens, $0.0024" in rows
    assert "| `model-a` | ok | 1.50 s | 100 in / 20 out tokens, $0.0012 |" in rows
    assert "| `model-b` | ok | 2.25 s | 100 in / 20 out tokens, $0.0012 |" in rows
    assert "| `model-c` | timeout |  | no answer / 30 s |" in rows
    assert "| `judge-model` (judge) | ok | 1.50 s | 300 in / 50 out tokens |" in rows


def test_finding_hover_notes_a_degraded_review() -> None:
    finding = make_finding()
    degraded = make_review([finding], degraded=True, degraded_reason="the judge failed")

    assert "_Degraded: the judge failed_" in finding_hover(finding, degraded, LINES)
    assert "Degraded" not in finding_hover(finding, make_review([finding]), LINES)


def test_finding_hover_says_what_each_model_said_when_wordings_differ() -> None:
    finding = make_finding(
        statements=[
            Statement(
                model="model-a", severity="error", message="Division by zero when values is empty"
            ),
            Statement(model="model-b", severity="warning", message="len(values) may be zero here"),
        ]
    )

    text = finding_hover(finding, make_review([finding]), LINES)

    assert "**What each model said**" in text
    assert "- `model-a` (error): Division by zero when values is empty" in text
    assert "- `model-b` (warning): len(values) may be zero here" in text


def test_finding_hover_leaves_out_what_each_model_said_when_they_agree() -> None:
    message = "Division by zero when values is empty"
    finding = make_finding(
        statements=[
            Statement(model=model, severity="error", message=message)
            for model in ("model-a", "model-b")
        ]
    )

    text = finding_hover(finding, make_review([finding]), LINES)

    assert "What each model said" not in text


def test_finding_hover_says_what_each_model_said_after_the_finding_moved() -> None:
    finding = make_finding(
        statements=[
            Statement(
                model="model-a", severity="error", message="Division by zero when values is empty"
            ),
            Statement(model="model-b", severity="error", message="len(values) may be zero here"),
        ]
    )
    state = DocumentState(EditLog(version=1, line_count=len(LINES)))
    state.place_review(Snapshot(URI, 1, tuple(LINES)), make_review([finding]), LINES)
    lines = ["import math", "", "", *LINES]  # three lines typed above
    state.edited(2, [LineEdit(1, 1, 4)], lines)
    (moved,) = state.findings_at(6)

    text = finding_hover(moved.finding, moved.review, lines)

    assert "**What each model said**" in text


def test_explanation_hover() -> None:
    explanation = FusedExplanation(
        path="app.py",
        lines=LineRange(start=1, end=3),
        explanation="Computes the arithmetic mean.",
        models=[run("model-a"), run("model-b", status="error", latency_s=0.5, error="HTTP 500")],
        judge=None,
        usage=Usage(prompt_tokens=200, completion_tokens=40),
        elapsed_s=2.0,
    )

    text = explanation_hover(explanation)

    assert text.startswith("**Fusion: explanation of lines 1-3**\n\nComputes the arithmetic mean.")
    assert "**Models** — 200 in / 40 out tokens" in text
    assert "| `model-b` | error | 0.50 s | HTTP 500 |" in text
    assert "(judge)" not in text
    assert "Degraded" not in text


def test_explanation_hover_names_the_lines_it_moved_to() -> None:
    explanation = FusedExplanation(
        path="app.py",
        lines=LineRange(start=1, end=3),
        explanation="Computes the arithmetic mean.",
        models=[run("model-a")],
        judge=None,
        usage=Usage(),
        elapsed_s=1.0,
    )
    state = DocumentState(EditLog(version=1, line_count=len(LINES)))
    state.place_explanation(Snapshot(URI, 1, tuple(LINES)), explanation, LINES)
    lines = ["import math", "", "", *LINES]  # three lines typed above
    state.edited(2, [LineEdit(1, 1, 4)], lines)
    explained = state.explanation_at(4)
    assert explained is not None

    assert "explanation of lines 4-6" in explanation_hover(explained.explanation)


def test_explanation_hover_notes_a_degraded_explanation() -> None:
    explanation = FusedExplanation(
        path="app.py",
        lines=LineRange(start=2, end=2),
        explanation="Sums the values.",
        models=[run("model-a")],
        judge=run("judge-model"),
        degraded=True,
        degraded_reason="only one model answered",
        usage=Usage(),
        elapsed_s=1.0,
    )

    text = explanation_hover(explanation)

    assert "| `judge-model` (judge) |" in text
    assert text.endswith("_Degraded: only one model answered_")


# -- config diagnostics ---------------------------------------------------------------------


def issue(
    line: int | None, severity: Literal["error", "warning"] = "error", key: str = "pool"
) -> ConfigIssue:
    return ConfigIssue(Path(".fusion.toml"), line, key, "must not be empty", severity)


CONFIG = ['mode = "merge"', "  pool = []", "timeout_s = 30"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(2, ((1, 2), (1, 11)), id="on-its-line"),
        pytest.param(99, ((2, 0), (2, 14)), id="past-the-end-clamped"),
        pytest.param(None, ((0, 0), (0, 14)), id="no-line"),
        pytest.param(0, ((0, 0), (0, 14)), id="line-0"),
    ],
)
def test_config_diagnostic_range(line: int | None, expected: Any) -> None:
    assert span(config_diagnostic(issue(line), CONFIG).range) == expected


def test_config_diagnostic_in_an_empty_file() -> None:
    assert span(config_diagnostic(issue(3), []).range) == ((0, 0), (0, 0))


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("error", types.DiagnosticSeverity.Error), ("warning", types.DiagnosticSeverity.Warning)],
)
def test_config_diagnostic_severity(
    severity: Literal["error", "warning"], expected: types.DiagnosticSeverity
) -> None:
    result = config_diagnostic(issue(2, severity), CONFIG)

    assert (result.severity, result.source) == (expected, "fusion")


def test_config_diagnostic_message_names_the_key() -> None:
    assert config_diagnostic(issue(2), CONFIG).message == "pool: must not be empty"
    assert config_diagnostic(issue(2, key=""), CONFIG).message == "must not be empty"


# -- property: line edits keep untouched text where it is ------------------------------------


Char = tuple[str, int | None]  # a character and which original it is (None: typed since)
Notification = tuple[list[types.TextDocumentContentChangeEvent], list[Char]]
INSERTS = ["", "x", "\n", "x\n", "\nx", "\n\n", "ab\ncd"]


def text_of(doc: Sequence[Char]) -> str:
    return "".join(char for char, _ in doc)


def line_ids(doc: Sequence[Char]) -> list[tuple[int | None, ...]]:
    lines: list[list[int | None]] = [[]]
    for char, ident in doc:
        if char == "\n":
            lines.append([])
        else:
            lines[-1].append(ident)
    return [tuple(line) for line in lines]


def where(doc: Sequence[Char], anchor: Sequence[tuple[int | None, ...]]) -> int | None:
    """The line where the anchor's original characters still make up its lines, if they do."""
    ids = line_ids(doc)
    for start in range(1, len(ids) - len(anchor) + 2):
        if ids[start - 1 : start - 1 + len(anchor)] == list(anchor):
            return start
    return None


def occurrences(lines: Sequence[str], text: Sequence[str]) -> int:
    return sum(tuple(lines[n : n + len(text)]) == tuple(text) for n in range(len(lines)))


@st.composite
def editing_sessions(draw: st.DrawFn) -> tuple[list[Char], int, int, list[Notification]]:
    """A document of distinct lines, an anchor, and didChange notifications with their result.

    Changes favour line boundaries (column 0, line end), where edits touch an anchor's lines
    without changing them. One notification in five is a full-document change instead.
    """
    count = draw(st.integers(1, 10))
    text = "\n".join(f"line {n}" for n in range(1, count + 1)) + draw(st.sampled_from(["", "\n"]))
    doc: list[Char] = [(char, n) for n, char in enumerate(text)]
    start = draw(st.integers(1, count))
    end = draw(st.integers(start, min(count, start + 2)))
    initial, notifications = doc, []
    for _ in range(draw(st.integers(1, 5))):
        full = draw(st.integers(0, 4)) == 0
        changes: list[types.TextDocumentContentChangeEvent] = []
        for _ in range(1 if full else draw(st.integers(1, 3))):
            lines = text_of(doc).split("\n")
            first = draw(st.integers(0, len(lines) - 1))
            last = draw(st.integers(first, min(len(lines) - 1, first + 2)))
            low = draw(st.sampled_from([0, len(lines[first])]) | st.integers(0, len(lines[first])))
            least = low if last == first else 0
            width = len(lines[last])
            high = draw(st.sampled_from([least, width]) | st.integers(least, width))
            change = partial((first, low), (last, high), draw(st.sampled_from(INSERTS)))
            text = text_of(doc)
            cut = offset(text, change.range.start), offset(text, change.range.end)
            doc = [*doc[: cut[0]], *((char, None) for char in change.text), *doc[cut[1] :]]
            changes.append(change)
        notifications.append(([whole(text_of(doc))] if full else changes, doc))
    return initial, start, end, notifications


def test_line_edits_keep_untouched_lines_where_they_are() -> None:
    """Following each didChange, an anchor whose characters are all still there is found there.

    The document's characters carry their identity, so where the anchor's text truly is does
    not depend on line numbers. Whenever relocate returns an anchor, its text is on its lines.
    """
    tried = intact = touched = 0

    @settings(max_examples=300, deadline=None)
    @given(case=editing_sessions())
    def check(case: tuple[list[Char], int, int, list[Notification]]) -> None:
        nonlocal tried, intact, touched
        tried += 1
        doc, start, end, notifications = case
        lines = split_lines(text_of(doc))
        original = Anchor.at(lines, start, end)
        identity = line_ids(doc)[start - 1 : end]
        anchor: Anchor | None = original
        for changes, after in notifications:
            if anchor is None:
                break
            edits = line_edits(changes, len(lines))
            lines = split_lines(text_of(after))
            before = anchor
            anchor = relocate(anchor, edits, lines)
            if anchor is not None:
                assert tuple(lines[anchor.start - 1 : anchor.end]) == original.text
            truth = where(after, identity)
            if truth is None:
                continue
            intact += 1
            touched += any(e.start <= before.end and before.start <= e.end for e in edits)
            assert anchor is not None, f"{edits} lost an anchor that is still at {truth}"
            if occurrences(lines, original.text) == 1:
                assert anchor.start == truth

    check()
    print(
        f"{tried} cases: {intact} didChanges left the anchor intact, {touched} touching its lines"
    )
    assert touched


def test_a_selection_past_the_last_line_is_clamped_to_it() -> None:
    """Ctrl+End in a file ending with a newline puts the cursor on a line with no text."""

    def at(line: int, character: int = 0) -> types.Position:
        return types.Position(line=line, character=character)

    cursor = types.Range(start=at(28), end=at(28))
    to_the_end = types.Range(start=at(20), end=at(28))

    assert selected_lines(cursor, 28) == LineRange(start=28, end=28)
    assert selected_lines(to_the_end, 28) == LineRange(start=21, end=28)
    assert selected_lines(cursor) == LineRange(start=29, end=29)  # unclamped without a count
