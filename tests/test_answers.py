"""Extracting and validating model answers: the wrappings models use, and what must be rejected."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from timing import finishes_within

from fusion_ls.engine.answers import (
    InvalidAnswer,
    ParsedReview,
    extract_json,
    parse_explanation,
    parse_judged_review,
    parse_review,
    parse_verdict,
)
from fusion_ls.findings import CATEGORIES, SEVERITIES


def finding(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "line_start": 12,
        "line_end": 14,
        "quote": "return total / len(values)",
        "severity": "error",
        "category": "bug",
        "message": "Division by zero when values is empty",
        "rationale": "len(values) is 0 for an empty list",
        "fix": None,
    }
    return {**base, **overrides}


def review_text(*findings: dict[str, Any], summary: Any = "one paragraph") -> str:
    return json.dumps({"findings": list(findings), "summary": summary})


# -- extraction -----------------------------------------------------------------------------

ANSWER = review_text(finding())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(ANSWER, id="plain"),
        pytest.param(f"  \n{ANSWER}\n\n", id="surrounding-whitespace"),
        pytest.param(f"```json\n{ANSWER}\n```", id="json-fence"),
        pytest.param(f"```\n{ANSWER}\n```", id="bare-fence"),
        pytest.param(f"Here is my review:\n\n```json\n{ANSWER}\n```\nThanks!", id="fence-in-prose"),
        pytest.param(f"Here is my review: {ANSWER}", id="prose-before"),
        pytest.param(f"{ANSWER}\nLet me know if you need more.", id="prose-after"),
        pytest.param(f"Sure.\n{ANSWER}\nDone.", id="prose-around"),
        pytest.param(
            f'<think>Maybe {{"findings": []}} is right? {{ no }}</think>\n{ANSWER}',
            id="think-with-braces",
        ),
        pytest.param(f"<THINK>{{{{</THINK>```json\n{ANSWER}\n```", id="think-upper-case"),
    ],
)
def test_review_is_found_however_it_is_wrapped(text: str) -> None:
    parsed = parse_review(text)

    assert [f.message for f in parsed.findings] == ["Division by zero when values is empty"]
    assert parsed.summary == "one paragraph"
    assert parsed.skipped == 0


def test_fenced_block_is_preferred_over_an_object_in_the_prose() -> None:
    text = f"An empty dict {{}} is falsy.\n```json\n{ANSWER}\n```"

    assert extract_json(text)["summary"] == "one paragraph"


def test_unfenced_answer_after_an_object_in_the_prose_is_found() -> None:
    text = f"An empty dict {{}} is falsy, so the guard works.\n{ANSWER}"

    assert len(parse_review(text).findings) == 1


def test_answer_fence_is_chosen_over_an_earlier_example_fence() -> None:
    text = f'For example:\n```json\n{{"debug": true}}\n```\nMy answer:\n```json\n{ANSWER}\n```'

    assert len(parse_review(text).findings) == 1


def test_verdict_is_found_after_another_object() -> None:
    text = 'Config {"debug": true} is risky.\n{"winner": "A", "scores": {"A": 8}}'

    assert parse_verdict(text).winner == "A"


THINK_IN_CODE = '_THINK = re.compile(r"<think>.*?</think>")'


def test_think_tags_inside_json_strings_are_kept() -> None:
    parsed = parse_review(review_text(finding(quote=THINK_IN_CODE)))

    assert parsed.findings[0].quote == THINK_IN_CODE


def test_think_tags_split_across_json_strings_do_not_break_the_answer() -> None:
    text = review_text(finding(message="Unclosed <think> tag"), finding(message="Stray </think>"))

    assert [f.message for f in parse_review(text).findings] == [
        "Unclosed <think> tag",
        "Stray </think>",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("   \n\t", "empty", id="blank"),
        pytest.param("<think>{}</think>", "empty", id="only-thinking"),
        pytest.param("I found no problems.", "no JSON object", id="prose-only"),
        pytest.param('{"findings": [', "no JSON object", id="truncated"),
        pytest.param("{'findings': []}", "no JSON object", id="python-repr"),
        pytest.param("[1, 2, 3]", "no JSON object", id="top-level-array"),
        pytest.param('"findings"', "no JSON object", id="top-level-string"),
    ],
)
def test_text_without_a_json_object_is_invalid(text: str, reason: str) -> None:
    with pytest.raises(InvalidAnswer, match=reason):
        parse_review(text)


def test_top_level_array_of_findings_is_invalid() -> None:
    with pytest.raises(InvalidAnswer, match='"findings" array'):
        parse_review(json.dumps([finding(), finding(line_start=3)]))


@pytest.mark.parametrize("findings", [None, {}, "none", 3, {"0": finding()}])
def test_findings_must_be_a_list(findings: Any) -> None:
    with pytest.raises(InvalidAnswer, match='"findings" array'):
        parse_review(json.dumps({"findings": findings, "summary": "x"}))


def test_missing_findings_is_invalid() -> None:
    with pytest.raises(InvalidAnswer, match='"findings" array'):
        parse_review(json.dumps({"summary": "no problems"}))


def test_empty_findings_is_a_valid_review() -> None:
    parsed = parse_review('{"findings": []}')

    assert parsed == ParsedReview(findings=[], summary="", skipped=0)


# -- one bad finding: strict vs salvage -----------------------------------------------------

BAD_FINDINGS = [
    pytest.param({"line_start": "twelve"}, "findings.1.line_start", id="line_start-text"),
    pytest.param({"line_end": [14]}, "findings.1.line_end", id="line_end-list"),
    pytest.param({"severity": "critical"}, "findings.1.severity", id="unknown-severity"),
    pytest.param({"category": "typo"}, "findings.1.category", id="unknown-category"),
    pytest.param({"message": ""}, "findings.1.message", id="empty-message"),
    pytest.param({"message": None}, "findings.1.message", id="null-message"),
    pytest.param({"fix": "use a guard"}, "findings.1.fix", id="fix-text"),
    pytest.param({"fix": {"line_start": 1}}, "findings.1.fix.replacement", id="fix-incomplete"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_FINDINGS)
def test_a_bad_finding_fails_the_answer_naming_the_field(bad: dict[str, Any], field: str) -> None:
    text = review_text(finding(), finding(**bad), finding(line_start=30))

    with pytest.raises(InvalidAnswer) as raised:
        parse_review(text)

    assert field in str(raised.value)


@pytest.mark.parametrize(("bad", "field"), BAD_FINDINGS)
def test_salvage_skips_a_bad_finding_and_counts_it(bad: dict[str, Any], field: str) -> None:
    text = review_text(finding(), finding(**bad), finding(line_start=30, line_end=30))

    parsed = parse_review(text, salvage=True)

    assert [f.line_start for f in parsed.findings] == [12, 30]
    assert parsed.skipped == 1
    assert parsed.summary == "one paragraph"


def test_a_finding_that_is_not_an_object_is_skipped_with_salvage() -> None:
    text = json.dumps({"findings": [finding(), "a string", 7, None]})

    parsed = parse_review(text, salvage=True)

    assert len(parsed.findings) == 1
    assert parsed.skipped == 3


def test_salvage_with_only_bad_findings_gives_an_empty_review() -> None:
    parsed = parse_review(review_text(finding(severity="fatal")), salvage=True)

    assert parsed.findings == []
    assert parsed.skipped == 1


def test_missing_required_field_is_named() -> None:
    incomplete = finding()
    del incomplete["severity"]

    with pytest.raises(InvalidAnswer, match=r"findings\.0\.severity"):
        parse_review(review_text(incomplete))


# -- lenient fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "category"),
    [("ERROR", "Security"), ("Warning", "BUG"), (" info ", "Performance"), ("hInT", "STYLE")],
)
def test_severity_and_category_are_case_insensitive(severity: str, category: str) -> None:
    parsed = parse_review(review_text(finding(severity=severity, category=category)))

    assert parsed.findings[0].severity == severity.strip().lower()
    assert parsed.findings[0].category == category.lower()


@pytest.mark.parametrize("line_end", ["missing", None])
def test_missing_line_end_defaults_to_line_start(line_end: str | None) -> None:
    item = finding(line_start=7)
    if line_end == "missing":
        del item["line_end"]
    else:
        item["line_end"] = None

    parsed = parse_review(review_text(item))

    assert (parsed.findings[0].line_start, parsed.findings[0].line_end) == (7, 7)


def test_missing_fix_line_end_defaults_to_fix_line_start() -> None:
    fix = {"line_start": 12, "replacement": "    return 0.0"}

    parsed = parse_review(review_text(finding(fix=fix)))

    assert parsed.findings[0].fix is not None
    assert parsed.findings[0].fix.line_end == 12


def test_null_rationale_quote_and_summary_are_tolerated() -> None:
    parsed = parse_review(review_text(finding(rationale=None, quote=None), summary=None))

    assert parsed.findings[0].rationale == ""
    assert parsed.findings[0].quote == ""
    assert parsed.summary == ""


@pytest.mark.parametrize("summary", [42, ["a"], {"text": "x"}])
def test_non_text_summary_becomes_empty(summary: Any) -> None:
    assert parse_review(review_text(finding(), summary=summary)).summary == ""


def test_missing_rationale_quote_and_fix_default() -> None:
    item = finding()
    for key in ("rationale", "quote", "fix"):
        del item[key]

    parsed = parse_review(review_text(item))

    assert (parsed.findings[0].rationale, parsed.findings[0].quote) == ("", "")
    assert parsed.findings[0].fix is None


def test_unknown_keys_are_ignored() -> None:
    item = finding(confidence=0.9, fix={"line_start": 12, "replacement": "x", "why": "because"})
    text = json.dumps({"findings": [item], "summary": "s", "model": "gpt", "version": 2})

    parsed = parse_review(text)

    assert parsed.findings[0].message == "Division by zero when values is empty"
    assert not hasattr(parsed.findings[0], "confidence")


def test_judged_review_keeps_supporters() -> None:
    text = review_text(finding(supporters=["A", "C"]), finding(line_start=3))

    parsed = parse_judged_review(text)

    assert [f.supporters for f in parsed.findings] == [["A", "C"], []]


# -- verdicts and explanations --------------------------------------------------------------


def test_verdict_is_parsed() -> None:
    text = 'B.\n{"winner": "B", "scores": {"A": 6, "B": 9.5}, "reason": "fewer false alarms"}'

    verdict = parse_verdict(text)

    assert verdict.winner == "B"
    assert verdict.scores == {"A": 6.0, "B": 9.5}
    assert verdict.reason == "fewer false alarms"


def test_verdict_scores_and_reason_are_optional() -> None:
    verdict = parse_verdict('{"winner": "A"}')

    assert (verdict.scores, verdict.reason) == ({}, "")


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param('{"scores": {"A": 1}}', "winner", id="missing-winner"),
        pytest.param('{"winner": ""}', "winner", id="empty-winner"),
        pytest.param('{"winner": "A", "scores": {"A": "high"}}', "scores.A", id="score-text"),
        pytest.param('{"winner": "A", "scores": [1, 2]}', "scores", id="scores-list"),
    ],
)
def test_invalid_verdict_names_the_field(text: str, field: str) -> None:
    with pytest.raises(InvalidAnswer) as raised:
        parse_verdict(text)

    assert field in str(raised.value)


def test_verdict_without_json_is_invalid() -> None:
    with pytest.raises(InvalidAnswer, match="no JSON object"):
        parse_verdict("B is clearly the best answer.")


def test_explanation_is_parsed_from_a_fence() -> None:
    text = '```json\n{"explanation": "It **sums** the values.", "extra": 1}\n```'

    assert parse_explanation(text).explanation == "It **sums** the values."


@pytest.mark.parametrize(
    "text",
    ['{"explanation": ""}', '{"explanation": " \\n"}', '{"explanation": null}', "just prose"],
)
def test_invalid_explanation_is_rejected(text: str) -> None:
    with pytest.raises(InvalidAnswer):
        parse_explanation(text)


# -- properties -----------------------------------------------------------------------------


PROPERTY = settings(max_examples=300, deadline=None)
SLOW_SECONDS = 1.0

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
contract_keys = st.sampled_from(
    ["line_start", "line_end", "quote", "severity", "category", "message", "rationale", "fix"]
)
finding_like = st.dictionaries(contract_keys, scalars | st.sampled_from(["error", "bug"]))
review_like = st.fixed_dictionaries(
    {"findings": st.lists(finding_like | scalars, max_size=3)},
    optional={"summary": scalars},
)


def wrappings() -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            "{}",
            "```json\n{}\n```",
            "```\n{}\n```",
            "Here is my review:\n{}",
            "{}\nHope this helps.",
            "<think>What about {{ and }}?</think>{}",
            "Review:\n```json\n{}\n```\nEnd.",
        ]
    )


def parses_or_rejects(text: str, salvage: bool) -> bool:
    """True when `text` parsed; any exception but InvalidAnswer, or a slow parse, fails."""
    started = time.perf_counter()
    try:
        with finishes_within(2.0):
            result = parse_review(text, salvage=salvage)
    except InvalidAnswer:
        parsed = False
    else:
        assert isinstance(result, ParsedReview)
        assert result.skipped >= 0
        parsed = True
    assert time.perf_counter() - started < SLOW_SECONDS
    return parsed


def test_arbitrary_text_parses_or_is_rejected() -> None:
    tried = parsed = 0

    @PROPERTY
    @given(text=st.text(), salvage=st.booleans())
    def check(text: str, salvage: bool) -> None:
        nonlocal tried, parsed
        tried += 1
        parsed += parses_or_rejects(text, salvage)

    check()
    print(f"arbitrary text: {tried} cases, {parsed} parsed")
    assert tried > 0


def test_arbitrary_json_parses_or_is_rejected() -> None:
    tried = parsed = 0

    @PROPERTY
    @given(
        value=json_values | review_like,
        wrapping=wrappings(),
        ensure_ascii=st.booleans(),
        salvage=st.booleans(),
    )
    def check(value: Any, wrapping: str, ensure_ascii: bool, salvage: bool) -> None:
        nonlocal tried, parsed
        tried += 1
        text = wrapping.format(json.dumps(value, ensure_ascii=ensure_ascii))
        parsed += parses_or_rejects(text, salvage)

    check()
    print(f"arbitrary JSON: {tried} cases, {parsed} parsed")
    assert tried > 0


def any_case(words: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(words).flatmap(lambda w: st.sampled_from([w, w.upper(), w.title()]))


fixes = st.none() | st.fixed_dictionaries(
    {"line_start": st.integers(), "replacement": st.text()},
    optional={"line_end": st.integers()},
)
valid_findings = st.fixed_dictionaries(
    {
        "line_start": st.integers(),
        "severity": any_case(SEVERITIES),
        "category": any_case(CATEGORIES),
        "message": st.text(min_size=1),
    },
    optional={
        "line_end": st.none() | st.integers(),
        "quote": st.none() | st.text(),
        "rationale": st.none() | st.text(),
        "fix": fixes,
        "unknown": st.integers() | st.text(max_size=5),
    },
)


def expected(item: dict[str, Any]) -> tuple[Any, ...]:
    """What a valid finding must come back as, spelled out independently of the models."""
    end = item.get("line_end")
    fix = item.get("fix")
    fix_tuple = None
    if fix is not None:
        fix_end = fix.get("line_end")
        fix_tuple = (
            fix["line_start"],
            fix["line_start"] if fix_end is None else fix_end,
            fix["replacement"],
        )
    return (
        item["line_start"],
        item["line_start"] if end is None else end,
        item.get("quote") or "",
        item["severity"].lower(),
        item["category"].lower(),
        item["message"],
        item.get("rationale") or "",
        fix_tuple,
    )


def test_valid_reviews_round_trip_through_any_wrapping() -> None:
    tried = 0

    @PROPERTY
    @given(
        findings=st.lists(valid_findings, max_size=3),
        summary=st.text(),
        wrapping=wrappings(),
        ensure_ascii=st.booleans(),
    )
    def check(
        findings: list[dict[str, Any]], summary: str, wrapping: str, ensure_ascii: bool
    ) -> None:
        nonlocal tried
        tried += 1
        body = json.dumps({"findings": findings, "summary": summary}, ensure_ascii=ensure_ascii)

        parsed = parse_review(wrapping.format(body))

        got = [
            (
                f.line_start,
                f.line_end,
                f.quote,
                f.severity,
                f.category,
                f.message,
                f.rationale,
                (f.fix.line_start, f.fix.line_end, f.fix.replacement) if f.fix else None,
            )
            for f in parsed.findings
        ]
        assert got == [expected(item) for item in findings]
        assert parsed.summary == summary
        assert parsed.skipped == 0

    check()
    print(f"round trip: {tried} cases")
    assert tried > 0
