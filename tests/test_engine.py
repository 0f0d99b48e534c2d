"""The engine end to end in-process, against the fake server: every fusion mode and failure path."""

from __future__ import annotations

import json

import pytest
from fake_openai import FakeOpenAI, Reply
from reviewers import (
    best_of_judge,
    finding,
    is_round,
    merging_judge,
    pool_agrees,
    review,
    run,
    run_review,
    settings_for,
)

from fusion_ls.engine.events import ExplanationFinished, JudgeStarted, ModelFinished, RoundStarted
from fusion_ls.findings import LineRange

DIV = finding(
    5,
    "return total / len(values)",
    "Division by zero when values is empty",
    fix={
        "line_start": 5,
        "line_end": 5,
        "replacement": "    return total / len(values) if values else 0.0",
    },
)
DIV_REPHRASED = finding(5, "total / len(values)", "ZeroDivisionError for an empty list")
SQLI = finding(
    9, 'query = "SELECT * FROM users WHERE id = " + user_id', "SQL injection via user_id",
    category="security",
)  # fmt: skip
SQLI_WRONG_LINE = {**SQLI, "line_start": 7, "line_end": 7}
STYLE = finding(14, '"Hello, " + name', "Use an f-string", severity="hint", category="style")


def by_line(result):  # type: ignore[no-untyped-def]
    return {f.line_start: f for f in result.findings}


async def test_merge_unions_deduplicates_and_attributes(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV, SQLI)))
    fake_openai.script("beta", Reply(content=review(SQLI_WRONG_LINE)))
    fake_openai.script("gamma", Reply(content=review(DIV_REPHRASED, STYLE)))
    fake_openai.script("judge", merging_judge)

    result = await run_review(settings_for(fake_openai.base_url, mode="merge"))

    found = by_line(result)
    assert sorted(found) == [5, 9, 14]
    assert found[5].models == ["alpha", "gamma"] and found[5].agreement == "2/3"
    assert found[9].models == ["alpha", "beta"] and found[9].category == "security"
    assert found[14].models == ["gamma"] and found[14].agreement == "1/3"
    assert result.summary == "merged by the judge"
    assert result.judge is not None and result.judge.status == "ok"
    assert not result.degraded
    judge_prompt = fake_openai.requests_for("judge")[0].prompt_text
    assert "alpha" not in judge_prompt and "gamma" not in judge_prompt
    assert '<answer reviewer="A">' in judge_prompt and '<answer reviewer="C">' in judge_prompt


async def test_best_of_takes_the_winner_and_credits_agreement(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV, SQLI, STYLE, summary="alpha's view")))
    fake_openai.script("beta", Reply(content=review(SQLI)))
    fake_openai.script("gamma", Reply(content=review(DIV_REPHRASED)))
    fake_openai.script("judge", best_of_judge)

    result = await run_review(settings_for(fake_openai.base_url), mode="best-of")

    found = by_line(result)
    assert sorted(found) == [5, 9, 14]
    assert found[5].message == DIV["message"]  # the winner's wording, not gamma's
    assert found[5].models == ["alpha", "gamma"]
    assert found[9].models == ["alpha", "beta"]
    assert found[14].models == ["alpha"]
    assert result.mode == "best-of"
    assert result.summary.startswith("alpha's view") and "chose alpha" in result.summary


async def test_debate_revises_then_the_judge_merges_the_last_round(fake_openai: FakeOpenAI) -> None:
    def beta(request):  # type: ignore[no-untyped-def]
        return Reply(content=review(SQLI, DIV) if is_round(request, 2) else review(SQLI))

    def gamma(request):  # type: ignore[no-untyped-def]
        return Reply(content=review(DIV) if is_round(request, 2) else review(DIV, STYLE))

    fake_openai.script("alpha", Reply(content=review(DIV, SQLI)))
    fake_openai.script("beta", beta)
    fake_openai.script("gamma", gamma)
    fake_openai.script("judge", merging_judge)

    events = await run(settings_for(fake_openai.base_url, mode="debate", rounds=2))
    result = events[-1].review  # type: ignore[union-attr]

    assert [e.round for e in events if isinstance(e, RoundStarted)] == [1, 2]
    for model in ("alpha", "beta", "gamma"):
        assert len(fake_openai.requests_for(model)) == 2
    second = fake_openai.requests_for("beta")[1].prompt_text
    assert "<your-previous-answer>" in second and "SQL injection" in second
    assert "Division by zero" in second  # the others' findings, anonymised
    assert "alpha" not in second and "gamma" not in second
    found = by_line(result)
    assert sorted(found) == [5, 9]  # gamma withdrew the style hint
    assert found[5].models == ["alpha", "beta", "gamma"] and found[5].agreement == "3/3"


async def test_debate_prompts_do_not_depend_on_who_answered_first(
    fake_openai: FakeOpenAI,
) -> None:
    """The others' findings are listed in pool order before the shuffle, so a second-round
    prompt is the same however the first round's answers arrived (a cache hit, a replay)."""
    second_rounds = []
    for slow in ("alpha", "gamma"):
        fake_openai.reset()
        for model, found in (("alpha", DIV), ("beta", SQLI), ("gamma", STYLE)):
            delay = 0.3 if model == slow else 0.0
            fake_openai.script(model, Reply(content=review(found), delay_s=delay))
        fake_openai.script("judge", merging_judge)

        await run_review(settings_for(fake_openai.base_url, mode="debate", rounds=2))

        asked = [r for r in fake_openai.requests if is_round(r, 2)]
        second_rounds.append(sorted((r.model or "", r.prompt_text) for r in asked))
    assert len(second_rounds[0]) == 3
    assert second_rounds[0] == second_rounds[1]


async def test_debate_stops_early_when_nobody_changes(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV)))
    fake_openai.script("beta", Reply(content=review(SQLI)))
    fake_openai.script("gamma", Reply(content=review(STYLE)))
    fake_openai.script("judge", merging_judge)

    result = await run_review(settings_for(fake_openai.base_url, mode="debate", rounds=4))

    for model in ("alpha", "beta", "gamma"):
        assert len(fake_openai.requests_for(model)) == 2, "round 2 changed nothing: no round 3"
    assert len(result.findings) == 3


async def test_judge_failure_gives_degraded_consensus(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV, SQLI)))
    fake_openai.script("beta", Reply(content=review(SQLI)))
    fake_openai.script("gamma", Reply(content=review(DIV_REPHRASED)))
    fake_openai.script("judge", Reply(status=500, error="upstream overloaded"))

    result = await run_review(settings_for(fake_openai.base_url))

    assert result.degraded
    assert result.degraded_reason and "judge failed" in result.degraded_reason
    assert result.judge is not None and result.judge.status == "error"
    found = by_line(result)
    assert found[5].models == ["alpha", "gamma"] and found[9].models == ["alpha", "beta"]


async def test_judge_invalid_twice_is_reported_invalid(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV)))
    fake_openai.script("beta", Reply(content=review(SQLI)))
    fake_openai.script("gamma", Reply(content=review()))
    fake_openai.script("judge", Reply(content="I think they are all fine."))

    result = await run_review(settings_for(fake_openai.base_url))

    assert len(fake_openai.requests_for("judge")) == 2  # one repair retry
    repair = fake_openai.requests_for("judge")[1].messages
    assert repair[-1]["role"] == "user" and "could not be used" in repair[-1]["content"]
    assert result.judge is not None and result.judge.status == "invalid"
    assert result.degraded and {f.line_start for f in result.findings} == {5, 9}


async def test_no_judge_call_when_every_model_agrees(fake_openai: FakeOpenAI) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(DIV)))

    result = await run_review(settings_for(fake_openai.base_url))

    assert fake_openai.requests_for("judge") == []
    assert result.judge is not None and result.judge.status == "skipped"
    assert [f.agreement for f in result.findings] == ["3/3"]


async def test_judge_on_agreement_true_still_asks_the_judge(fake_openai: FakeOpenAI) -> None:
    pool_agrees(fake_openai, DIV)

    await run_review(settings_for(fake_openai.base_url, judge_on_agreement=True))

    assert len(fake_openai.requests_for("judge")) == 1


async def test_anchoring_moves_drops_and_confines_findings(fake_openai: FakeOpenAI) -> None:
    nowhere = finding(9, "eval(user_input)", "Arbitrary code execution")
    outside = finding(14, '"Hello, " + name', "Use an f-string", category="style")
    fake_openai.script("alpha", Reply(content=review(SQLI_WRONG_LINE, nowhere, outside)))
    fake_openai.script("beta", Reply(content=review(SQLI)))
    fake_openai.script("gamma", Reply(content=review(SQLI)))

    result = await run_review(
        settings_for(fake_openai.base_url), ranges=(LineRange(start=8, end=10),)
    )

    assert [(f.line_start, f.agreement) for f in result.findings] == [(9, "3/3")]
    assert (result.dropped, result.outside) == (1, 1)  # a bad quote; line 14 is context
    sent = fake_openai.requests_for("alpha")[0].prompt_text
    assert "> 9 | " in sent and 'reviewed="8-10"' in sent


async def test_fix_moves_with_its_finding(fake_openai: FakeOpenAI) -> None:
    shifted = {
        **DIV,
        "line_start": 3,
        "line_end": 3,
        "fix": {"line_start": 3, "line_end": 3, "replacement": "    return 0.0"},
    }
    fake_openai.script("alpha", Reply(content=review(shifted)))

    result = await run_review(settings_for(fake_openai.base_url, pool=["alpha"]))

    [only] = result.findings
    assert (only.line_start, only.fix and only.fix.line_start) == (5, 5)


async def test_malformed_answers_are_extracted_or_repaired(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content="Here is my review:\n" + review(DIV) + "\nThanks!"))
    fake_openai.script("beta", Reply(content="```json\n" + review(DIV) + "\n```"))
    fake_openai.script(
        "gamma",
        Reply(content='{"findings": [{"line_start": "five", "severity": "bad"}]}'),
        Reply(content=review(DIV)),
    )

    result = await run_review(settings_for(fake_openai.base_url))

    assert [m.status for m in result.models] == ["ok", "ok", "ok"]
    assert len(fake_openai.requests_for("gamma")) == 2
    assert "line_start" in fake_openai.requests_for("gamma")[1].messages[-1]["content"]
    assert result.findings[0].agreement == "3/3"


async def test_invalid_twice_counts_as_failed_but_the_review_goes_on(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV)))
    fake_openai.script("beta", Reply(content=review(DIV)))
    fake_openai.script("gamma", Reply(content="{not json"))

    result = await run_review(settings_for(fake_openai.base_url))

    statuses = {m.model: m.status for m in result.models}
    assert statuses == {"alpha": "ok", "beta": "ok", "gamma": "invalid"}
    assert not result.degraded  # quorum (2) answered
    assert result.findings[0].agreement == "2/2"


async def test_wrong_types_and_out_of_range_lines(fake_openai: FakeOpenAI) -> None:
    huge = finding(10**9, "return total / len(values)", "Far away")
    negative = finding(-40, "return total / len(values)", "Before the start")
    wrong = {"findings": "none", "summary": 3}
    fake_openai.script("alpha", Reply(content=review(huge, negative)))
    fake_openai.script("beta", Reply(content=json.dumps(wrong)))

    result = await run_review(settings_for(fake_openai.base_url, pool=["alpha", "beta"]))

    assert result.findings == [] and result.dropped == 2
    assert {m.model: m.status for m in result.models} == {"alpha": "ok", "beta": "invalid"}


async def test_a_timeout_does_not_fail_the_review(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV)))
    fake_openai.script("beta", Reply(content=review(DIV)))
    fake_openai.script("gamma", Reply(content=review(DIV), delay_s=5))

    result = await run_review(settings_for(fake_openai.base_url, timeout_s=0.5))

    gamma = next(m for m in result.models if m.model == "gamma")
    assert gamma.status == "timeout" and "0.5 s" in (gamma.error or "")
    assert result.findings[0].agreement == "2/2"


async def test_straggler_is_late_after_the_grace(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV)))
    fake_openai.script("beta", Reply(content=review(DIV)))
    fake_openai.script("gamma", Reply(content=review(DIV), delay_s=5))

    result = await run_review(settings_for(fake_openai.base_url, quorum=2, straggler_grace_s=0.2))

    assert {m.model: m.status for m in result.models}["gamma"] == "late"
    assert result.elapsed_s < 3


async def test_no_model_answered(fake_openai: FakeOpenAI) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(status=401, error="bad key"))

    result = await run_review(settings_for(fake_openai.base_url))

    assert result.findings == [] and result.degraded
    assert result.degraded_reason == "no model answered"
    assert all(m.status == "error" and "401" in (m.error or "") for m in result.models)
    assert fake_openai.requests_for("judge") == []


async def test_progress_events_arrive_in_order(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV)))
    fake_openai.script("beta", Reply(content=review(SQLI), delay_s=0.2))
    fake_openai.script("gamma", Reply(status=404, error="no such model"))
    fake_openai.script("judge", merging_judge)

    events = await run(settings_for(fake_openai.base_url))

    finished = [e for e in events if isinstance(e, ModelFinished)]
    assert [(e.run.model, e.answered) for e in finished] == [
        ("gamma", 0),
        ("alpha", 1),
        ("beta", 2),
    ] or [(e.run.model, e.answered) for e in finished] == [("alpha", 1), ("gamma", 1), ("beta", 2)]
    assert finished[-1].findings and finished[-1].findings[0].line_start == 9  # provisional
    assert isinstance(events[-2], JudgeStarted)


async def test_explain_merges_with_real_model_names(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=json.dumps({"explanation": "Averages values."})))
    fake_openai.script("beta", Reply(content=json.dumps({"explanation": "Divides a sum."})))
    fake_openai.script("gamma", Reply(status=500, error="boom"))

    def editor(request):  # type: ignore[no-untyped-def]
        labels = sorted(set(__import__("re").findall(r'explainer="([A-Z])"', request.prompt_text)))
        text = " ".join(f"Point [{label}]." for label in labels)
        return Reply(content=json.dumps({"explanation": text}))

    fake_openai.script("judge", editor)

    events = await run(
        settings_for(fake_openai.base_url), explain=True, ranges=(LineRange(start=1, end=5),)
    )
    result = events[-1]

    assert isinstance(result, ExplanationFinished)
    text = result.explanation.explanation
    assert "[alpha]" in text and "[beta]" in text and "[A]" not in text
    assert [m.status for m in result.explanation.models] == ["ok", "ok", "error"]


@pytest.mark.parametrize("lines", [LineRange(start=40, end=50)])
async def test_lines_past_the_end_are_a_usage_error(
    fake_openai: FakeOpenAI, lines: LineRange
) -> None:
    from fusion_ls.errors import UsageError

    with pytest.raises(UsageError, match="past the end"):
        await run_review(settings_for(fake_openai.base_url), ranges=(lines,))
    assert fake_openai.requests == []


async def test_cancelling_a_review_closes_every_model_connection(fake_openai: FakeOpenAI) -> None:
    import asyncio

    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(DIV), delay_s=10))

    task = asyncio.create_task(run_review(settings_for(fake_openai.base_url)))
    for _ in range(200):  # until all three requests have arrived
        if len(fake_openai.requests) == 3:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    for _ in range(200):
        if fake_openai.disconnects == 3:
            break
        await asyncio.sleep(0.01)
    assert fake_openai.disconnects == 3
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
