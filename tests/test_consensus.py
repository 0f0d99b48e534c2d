"""The deterministic fusion steps: consensus clusters, merge attribution, best-of and debate."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest

from fusion_ls.engine.answers import InvalidAnswer
from fusion_ls.engine.fusion.best_of import check_verdict, winner_findings
from fusion_ls.engine.fusion.consensus import Cluster, all_agree, cluster, consensus
from fusion_ls.engine.fusion.debate import others_for, unchanged
from fusion_ls.engine.fusion.merge import merged_findings
from fusion_ls.findings import BestOfVerdict, JudgedFinding, ProposedFinding

PATH = "src/stats.py"


def make(
    line: int,
    message: str,
    *,
    end: int | None = None,
    severity: str = "warning",
    category: str = "bug",
    rationale: str = "",
) -> ProposedFinding:
    return ProposedFinding.model_validate(
        {
            "line_start": line,
            "line_end": line if end is None else end,
            "quote": f"text of line {line}",
            "severity": severity,
            "category": category,
            "message": message,
            "rationale": rationale,
        }
    )


def judged(finding: ProposedFinding, *supporters: str) -> JudgedFinding:
    return JudgedFinding(**finding.model_dump(), supporters=list(supporters))


def groups(clusters: Sequence[Cluster]) -> list[list[tuple[str, int]]]:
    """Each cluster as its (model, line) members, for readable comparisons."""
    return [[(model, f.line_start) for model, f in c.members] for c in clusters]


DIV = make(5, "Division by zero when values is empty", severity="error")
DIV_REPHRASED = make(5, "ZeroDivisionError raised for an empty list")
SQLI = make(9, "SQL injection via user_id", category="security", severity="error")
STYLE = make(14, "Use an f-string", category="style", severity="hint")


# -- clustering -----------------------------------------------------------------------------


def test_same_lines_and_category_cluster_despite_different_wording() -> None:
    clusters = cluster({"alpha": [DIV], "beta": [DIV_REPHRASED]})

    assert groups(clusters) == [[("alpha", 5), ("beta", 5)]]


def test_same_lines_with_different_category_and_unrelated_wording_stay_apart() -> None:
    other = make(5, "Variable name shadows a builtin", category="style")

    clusters = cluster({"alpha": [DIV], "beta": [other]})

    assert groups(clusters) == [[("alpha", 5)], [("beta", 5)]]


def test_different_category_with_similar_wording_clusters() -> None:
    same_words = make(5, "Division by zero when values list is empty", category="correctness")

    assert len(cluster({"alpha": [DIV], "beta": [same_words]})) == 1


@pytest.mark.parametrize(
    ("left", "right", "together"),
    [
        pytest.param((5, 5), (6, 6), True, id="adjacent-below"),
        pytest.param((6, 6), (5, 5), True, id="adjacent-above"),
        pytest.param((3, 7), (5, 5), True, id="contained"),
        pytest.param((5, 6), (7, 9), True, id="ranges-touching-by-one"),
        pytest.param((5, 5), (7, 7), False, id="two-apart"),
        pytest.param((5, 5), (40, 40), False, id="far-apart"),
    ],
)
def test_lines_must_overlap_within_one_line(
    left: tuple[int, int], right: tuple[int, int], together: bool
) -> None:
    a = make(left[0], "Division by zero", end=left[1])
    b = make(right[0], "Division by zero", end=right[1])

    assert (len(cluster({"alpha": [a], "beta": [b]})) == 1) is together


def test_a_model_never_appears_twice_in_a_cluster() -> None:
    twice = [DIV, make(5, "Division by zero when values is empty again")]

    clusters = cluster({"alpha": twice, "beta": [DIV_REPHRASED]})

    assert groups(clusters) == [[("alpha", 5), ("beta", 5)], [("alpha", 5)]]
    assert all(len(set(c.models)) == len(c.models) for c in clusters)


def test_finding_joins_the_best_matching_cluster() -> None:
    bug = make(5, "Division by zero when values is empty")
    perf = make(5, "Quadratic loop over values", category="performance")
    perf_again = make(5, "Quadratic loop over all values", category="performance")

    clusters = cluster({"alpha": [bug, perf], "beta": [perf_again]})

    assert [c.models for c in clusters] == [["alpha"], ["alpha", "beta"]]
    assert clusters[1].members[1][1] is perf_again


def test_representative_is_the_most_severe() -> None:
    hint = make(5, "Division by zero", severity="hint", rationale="a long rationale " * 5)
    error = make(5, "Division by zero", severity="error")
    info = make(5, "Division by zero", severity="info")

    [only] = cluster({"a": [hint], "b": [error], "c": [info]})

    assert only.representative() is error


def test_representative_among_equals_has_the_fullest_rationale_then_comes_first() -> None:
    short = make(5, "Division by zero", rationale="short")
    full = make(5, "Division by zero", rationale="a much fuller rationale")
    same_full = make(5, "Division by zero", rationale="a much fuller reasoning")

    [only] = cluster({"a": [short], "b": [full], "c": [same_full]})

    assert only.representative() is full


def test_consensus_reports_agreement_and_sorts_by_line() -> None:
    answers = {"alpha": [STYLE, DIV, SQLI], "beta": [SQLI], "gamma": [DIV_REPHRASED]}

    fused = consensus(PATH, cluster(answers), answered=3)

    assert [(f.line_start, f.models, f.agreement) for f in fused] == [
        (5, ["alpha", "gamma"], "2/3"),
        (9, ["alpha", "beta"], "2/3"),
        (14, ["alpha"], "1/3"),
    ]
    assert fused[0].severity == "error"
    assert fused[0].message == DIV.message


def test_consensus_sorts_same_line_by_severity() -> None:
    answers = {"alpha": [STYLE, make(14, "Off by one in the loop bound", severity="error")]}

    fused = consensus(PATH, cluster(answers), answered=1)

    assert [f.severity for f in fused] == ["error", "hint"]


def test_consensus_ids_are_stable_and_distinct() -> None:
    first = consensus(PATH, cluster({"alpha": [DIV, SQLI]}), answered=1)
    again = consensus(PATH, cluster({"alpha": [DIV, SQLI]}), answered=1)
    elsewhere = consensus("other.py", cluster({"alpha": [DIV, SQLI]}), answered=1)

    assert [f.id for f in first] == [f.id for f in again]
    assert len({f.id for f in first}) == 2
    assert {f.id for f in first}.isdisjoint(f.id for f in elsewhere)


@pytest.mark.parametrize(
    ("answers", "answered", "expected"),
    [
        pytest.param({"a": [DIV], "b": [DIV_REPHRASED]}, 2, True, id="both-agree"),
        pytest.param({"a": [DIV], "b": [DIV_REPHRASED]}, 3, False, id="one-silent"),
        pytest.param({"a": [DIV, SQLI], "b": [DIV_REPHRASED]}, 2, False, id="one-extra"),
        pytest.param({"a": [], "b": []}, 2, True, id="nobody-found-anything"),
    ],
)
def test_all_agree(
    answers: dict[str, list[ProposedFinding]], answered: int, expected: bool
) -> None:
    assert all_agree(cluster(answers), answered) is expected


def test_clustering_is_deterministic() -> None:
    answers = {"alpha": [DIV, SQLI, STYLE], "beta": [SQLI, DIV_REPHRASED], "gamma": [STYLE]}

    first = consensus(PATH, cluster(answers), answered=3)
    second = consensus(PATH, cluster(dict(answers)), answered=3)

    assert first == second


def test_pool_order_changes_only_the_order_of_models() -> None:
    forward = {"alpha": [DIV, SQLI], "beta": [DIV_REPHRASED, SQLI]}
    backward = {"beta": [DIV_REPHRASED, SQLI], "alpha": [DIV, SQLI]}

    one = consensus(PATH, cluster(forward), answered=2)
    two = consensus(PATH, cluster(backward), answered=2)

    assert [f.models for f in one] == [["alpha", "beta"], ["alpha", "beta"]]
    assert [f.models for f in two] == [["beta", "alpha"], ["beta", "alpha"]]
    assert [f.model_dump(exclude={"models"}) for f in one] == [
        f.model_dump(exclude={"models"}) for f in two
    ]


# -- merge ----------------------------------------------------------------------------------

LABELS = {"A": "alpha", "B": "beta", "C": "gamma"}
EACH_HIS_OWN = {"alpha": [DIV], "beta": [DIV_REPHRASED], "gamma": [DIV]}
"""Every model raised the division by zero: any label naming one of them has evidence."""


def merge(*findings: JudgedFinding, answers: dict[str, list[ProposedFinding]]) -> Any:
    return merged_findings(PATH, list(findings), LABELS, answers)


def test_supporter_labels_choose_among_models_with_evidence_in_pool_order() -> None:
    fused, unsupported = merge(judged(DIV, "C", "A"), answers=EACH_HIS_OWN)

    assert fused[0].models == ["alpha", "gamma"]
    assert fused[0].agreement == "2/3"
    assert unsupported == 0


@pytest.mark.parametrize("label", ["b", "[B]", " B ", "[b]", '"B"'])
def test_lower_case_and_bracketed_labels_are_accepted(label: str) -> None:
    fused, _ = merge(judged(DIV, label), answers=EACH_HIS_OWN)

    assert fused[0].models == ["beta"]


def test_unknown_labels_are_ignored_next_to_known_ones() -> None:
    fused, _ = merge(judged(DIV, "A", "Z", "alpha"), answers=EACH_HIS_OWN)

    assert fused[0].models == ["alpha"]


def test_a_label_without_evidence_changes_no_agreement() -> None:
    """The judge credits SQL injection to every reviewer; only gamma reported it. beta's
    finding on the same line is about something else (an off-by-one), so it is no evidence."""
    off_by_one = make(9, "Loop stops one element early", end=9)
    answers = {"alpha": [DIV], "beta": [off_by_one], "gamma": [SQLI]}

    fused, unsupported = merge(judged(SQLI, "A", "B", "C"), answers=answers)

    assert [(f.line_start, f.models, f.agreement) for f in fused] == [(9, ["gamma"], "1/3")]
    assert unsupported == 0


@pytest.mark.parametrize("supporters", [(), ("Z",), ("reviewer A",)])
def test_without_known_supporters_the_evidence_credits(
    supporters: tuple[str, ...],
) -> None:
    answers = {"alpha": [DIV], "beta": [SQLI], "gamma": [DIV_REPHRASED]}

    fused, unsupported = merge(judged(DIV, *supporters), answers=answers)

    assert fused[0].models == ["alpha", "gamma"]
    assert unsupported == 0


def test_the_judge_may_join_what_matching_split() -> None:
    """Two statements of one problem the matcher keeps apart (few shared words); the judge's
    merged statement resembles both, and it names both: both are credited."""
    cause = make(5, "Division by zero when values is empty", severity="error")
    symptom = make(5, "Crashes for an empty input list", category="correctness")
    assert len(cluster({"alpha": [cause], "beta": [symptom]})) == 2
    both = make(5, "Division by zero crashes for an empty values list", severity="error")

    fused, _ = merge(judged(both, "A", "B"), answers={"alpha": [cause], "beta": [symptom]})

    assert fused[0].models == ["alpha", "beta"]


def test_judged_finding_nobody_supports_is_dropped_and_counted() -> None:
    invented = make(30, "A problem no reviewer reported", category="performance")
    answers = {"alpha": [DIV], "beta": [SQLI]}

    fused, unsupported = merge(judged(DIV, "A"), judged(invented, "A", "B"), answers=answers)

    assert [f.line_start for f in fused] == [5]
    assert unsupported == 1


def test_duplicate_judged_findings_collapse() -> None:
    answers = {"alpha": [DIV], "beta": [SQLI]}

    fused, unsupported = merge(
        judged(SQLI, "B"), judged(DIV, "A"), judged(DIV, "a"), answers=answers
    )

    assert [(f.line_start, f.models) for f in fused] == [(5, ["alpha"]), (9, ["beta"])]
    assert unsupported == 0


def test_duplicate_judged_findings_pool_their_supporters() -> None:
    fused, _ = merge(judged(DIV, "A"), judged(DIV, "C"), answers=EACH_HIS_OWN)

    assert [f.models for f in fused] == [["alpha", "gamma"]]
    assert fused[0].agreement == "2/3"


# -- best-of --------------------------------------------------------------------------------


@pytest.mark.parametrize("winner", ["B", "b", "[B]", " [b] ", '"B"', "'B'"])
def test_verdict_winner_is_normalised(winner: str) -> None:
    verdict = BestOfVerdict(winner=winner, scores={"A": 3, "B": 9}, reason="r")

    checked = check_verdict(verdict, ["A", "B", "C"])

    assert checked.winner == "B"
    assert (checked.scores, checked.reason) == (verdict.scores, "r")


@pytest.mark.parametrize("winner", ["D", "Reviewer B", "AB", "[]", "alpha"])
def test_verdict_naming_an_unknown_label_is_invalid(winner: str) -> None:
    with pytest.raises(InvalidAnswer, match="must be one of A, B, C"):
        check_verdict(BestOfVerdict(winner=winner), ["A", "B", "C"])


def test_winner_findings_credit_every_clustered_model() -> None:
    answers = {"alpha": [DIV, STYLE], "beta": [DIV_REPHRASED], "gamma": [SQLI]}

    fused = winner_findings(PATH, "alpha", answers, cluster(answers), answered=3)

    assert [(f.line_start, f.message, f.models, f.agreement) for f in fused] == [
        (5, DIV.message, ["alpha", "beta"], "2/3"),
        (14, STYLE.message, ["alpha"], "1/3"),
    ]


def test_winner_findings_keep_the_winners_own_wording() -> None:
    answers = {"alpha": [DIV], "beta": [DIV_REPHRASED]}

    fused = winner_findings(PATH, "beta", answers, cluster(answers), answered=2)

    assert [(f.message, f.severity, f.models) for f in fused] == [
        (DIV_REPHRASED.message, "warning", ["alpha", "beta"])
    ]


def test_winner_findings_without_clusters_credit_the_winner_alone() -> None:
    fused = winner_findings(PATH, "beta", {"beta": [SQLI, DIV]}, [], answered=2)

    assert [(f.line_start, f.models, f.agreement) for f in fused] == [
        (5, ["beta"], "1/2"),
        (9, ["beta"], "1/2"),
    ]


# -- debate ---------------------------------------------------------------------------------


def test_rewording_and_reordering_is_not_a_change() -> None:
    before = {"alpha": [DIV, SQLI], "beta": [STYLE]}
    after = {
        "alpha": [
            SQLI.model_copy(update={"message": "Injectable SQL"}),
            DIV.model_copy(update={"message": "Empty list crashes", "rationale": "because"}),
        ],
        "beta": [STYLE.model_copy(update={"quote": "another quote"})],
    }

    assert unchanged(before, after)


@pytest.mark.parametrize(
    "alpha_after",
    [
        pytest.param([DIV, SQLI, STYLE], id="added"),
        pytest.param([DIV], id="withdrawn"),
        pytest.param([DIV.model_copy(update={"line_start": 6, "line_end": 6}), SQLI], id="moved"),
        pytest.param([DIV.model_copy(update={"line_end": 7}), SQLI], id="widened"),
        pytest.param([DIV.model_copy(update={"severity": "info"}), SQLI], id="severity"),
        pytest.param([DIV.model_copy(update={"category": "correctness"}), SQLI], id="category"),
    ],
)
def test_changed_positions_are_seen(alpha_after: list[ProposedFinding]) -> None:
    before = {"alpha": [DIV, SQLI], "beta": [STYLE]}

    assert not unchanged(before, {"alpha": alpha_after, "beta": [STYLE]})


def test_a_model_new_to_the_round_with_findings_is_a_change() -> None:
    assert not unchanged({"alpha": [DIV]}, {"alpha": [DIV], "beta": [SQLI]})


def test_a_model_that_dropped_out_is_not_a_change() -> None:
    assert unchanged({"alpha": [DIV], "beta": [SQLI]}, {"alpha": [DIV]})


@pytest.mark.parametrize("seed", range(5))
def test_others_for_excludes_the_model_and_labels_from_a(seed: int) -> None:
    answers = {"alpha": [DIV], "beta": [SQLI], "gamma": [STYLE], "delta": []}

    others = others_for("beta", answers, random.Random(seed))

    assert list(others) == ["A", "B", "C"]
    assert SQLI not in [f for found in others.values() for f in found]
    assert sorted(map(len, others.values())) == [0, 1, 1]
    assert {id(found) for found in others.values()} == {
        id(answers[m]) for m in ("alpha", "gamma", "delta")
    }


def test_others_for_shuffles_labels_by_the_rng() -> None:
    answers = {name: [make(n, name)] for n, name in enumerate("abcdefgh", start=1)}
    seen = {
        tuple(f[0].message for f in others_for("a", answers, random.Random(seed)).values())
        for seed in range(10)
    }

    assert len(seen) > 1


def test_others_for_a_lone_model_is_empty() -> None:
    assert others_for("alpha", {"alpha": [DIV]}, random.Random(0)) == {}
