"""The engine's seams: scope of several ranges, provisional events, the one drain helper,
post-processing, derived agreement, and the runtime's spend ledger off the event loop."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from fake_openai import FakeOpenAI, Reply
from reviewers import SAMPLE, finding, merging_judge, pool_agrees, review, run, settings_for

from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import ModelFinished, Provisional, ReviewFinished, drain
from fusion_ls.engine.postprocess import postprocess
from fusion_ls.findings import Finding, LineRange, ProposedFinding, Scope
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.runtime import Runtime
from fusion_ls.reviewers.spend import SpendLedger

DIV = finding(5, "return total / len(values)", "Division by zero when values is empty")
DIV_B = finding(5, "total / len(values)", "ZeroDivisionError on an empty list")
SQLI = finding(
    9, 'query = "SELECT * FROM users WHERE id = " + user_id', "SQL injection via user_id",
    category="security",
)  # fmt: skip
GREET = finding(14, '"Hello, " + name', "Use an f-string", severity="hint", category="style")

# -- scope: a file and several line ranges ----------------------------------------------------


async def test_a_review_of_two_ranges_sends_two_windows_and_keeps_only_their_findings(
    fake_openai: FakeOpenAI,
) -> None:
    pool_agrees(fake_openai, DIV, SQLI, GREET)
    ranges = (LineRange(start=13, end=14), LineRange(start=4, end=5))
    settings = settings_for(fake_openai.base_url, quorum=3)
    settings = settings.model_copy(
        update={"review": settings.review.model_copy(update={"context_lines": 1})}
    )

    events = await run(settings, ranges=ranges)

    result = events[-1]
    assert isinstance(result, ReviewFinished)
    assert [f.line_start for f in result.review.findings] == [5, 14]  # line 9 is not in scope
    assert result.review.ranges == [LineRange(start=4, end=5), LineRange(start=13, end=14)]
    assert result.review.lines == LineRange(start=4, end=14)
    prompt = fake_openai.requests_for("alpha")[0].prompt_text
    # lines 4-5 sit in `average` (1-5), small enough to go whole; 13-14 are `greet` itself
    assert 'lines="1-6,12-14" reviewed="4-5,13-14"' in prompt
    assert "Review lines 4-5, 13-14 of sample.py." in prompt
    assert "load_user" not in prompt  # lines 8-10 are in neither window


def test_scope_merges_touching_ranges_and_clips_to_the_document() -> None:
    scope = Scope.of(
        [LineRange(start=8, end=9), LineRange(start=1, end=3), LineRange(start=4, end=5)], 8
    )
    assert scope.ranges == (LineRange(start=1, end=5), LineRange(start=8, end=8))
    assert 4 in scope and 6 not in scope and scope.span_of(2) == LineRange(start=1, end=5)
    assert str(scope) == "1-5, 8-8"


# -- provisional findings and the drain helper -------------------------------------------------


async def test_the_engine_emits_the_consensus_so_far_after_each_answer(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV), delay_s=0.0))
    fake_openai.script("beta", Reply(content=review(DIV_B), delay_s=0.2))
    fake_openai.script("gamma", Reply(content=review(SQLI), delay_s=0.4))
    fake_openai.script("judge", merging_judge)

    events = await run(settings_for(fake_openai.base_url, quorum=3))

    provisional = [e for e in events if isinstance(e, Provisional)]
    answered = [e for e in events if isinstance(e, ModelFinished) and e.run.status == "ok"]
    assert len(provisional) == len(answered) == 3
    first, second, third = provisional
    assert [(f.line_start, f.agreement) for f in first.findings] == [(5, "1/3")]
    assert [(f.line_start, f.agreement) for f in second.findings] == [(5, "2/3")]
    assert [(f.line_start, f.agreement) for f in third.findings] == [(5, "2/3"), (9, "1/3")]
    assert (third.answered, third.pool) == (3, 3)
    assert {s.model for s in second.findings[0].statements} == {"alpha", "beta"}


async def test_drain_returns_the_result_and_hands_over_every_event(
    fake_openai: FakeOpenAI,
) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(DIV)))
    seen: list[object] = []
    async with Runtime(make_http_client()) as runtime:
        engine = Engine(settings_for(fake_openai.base_url), runtime)
        request = CodeRequest(path="sample.py", text=SAMPLE.read_text())
        result = await drain(engine.review(request), seen.append)

    assert isinstance(seen[-1], ReviewFinished) and seen[-1].review is result
    assert [f.agreement for f in result.findings] == ["3/3"]


# -- post-processing ---------------------------------------------------------------------------


def fused(line: int, models: list[str], message: str = "Division by zero") -> Finding:
    return Finding(
        id=f"at-{line}", line_start=line, line_end=line, quote="x", severity="error",
        category="bug", message=message, rationale="", fix=None, models=models, answered=3,
    )  # fmt: skip


def said(line: int, message: str) -> ProposedFinding:
    return ProposedFinding.model_validate(
        {"line_start": line, "severity": "warning", "category": "bug", "message": message}
    )


def test_postprocess_records_what_each_supporter_said_about_this_place_only() -> None:
    answers = {
        "a": [said(5, "Division by zero when values is empty")],
        "b": [said(1, "Unused import"), said(5, "len(values) may be zero"), said(9, "SQL")],
    }

    (out,) = postprocess(
        [fused(5, ["a", "b"])], Scope.of([LineRange(start=1, end=20)]), answers
    ).findings

    assert [(s.model, s.message) for s in out.statements] == [
        ("a", "Division by zero when values is empty"),
        ("b", "len(values) may be zero"),
    ]


def test_postprocess_ignores_statements_about_other_lines() -> None:
    answers = {"a": [said(1, "Unused import"), said(12, "Prints at import time")]}

    (out,) = postprocess(
        [fused(5, ["a"])], Scope.of([LineRange(start=1, end=20)]), answers
    ).findings

    assert out.statements == []


def test_postprocess_keeps_the_scope_and_orders_by_place() -> None:
    scope = Scope.of([LineRange(start=1, end=5), LineRange(start=10, end=12)])
    found = [fused(11, ["a"]), fused(7, ["a"]), fused(2, ["a"])]

    assert [f.line_start for f in postprocess(found, scope, {}).findings] == [2, 11]


# -- agreement is derived ----------------------------------------------------------------------


def test_agreement_is_computed_from_the_supporters_and_never_read_back() -> None:
    finding_ = fused(5, ["a", "b"])
    dumped = finding_.model_dump(mode="json")

    assert dumped["agreement"] == "2/3" and not finding_.unanimous
    assert Finding.model_validate({**dumped, "agreement": "3/3"}).agreement == "2/3"
    assert fused(5, ["a", "b", "c"]).unanimous


# -- the runtime -------------------------------------------------------------------------------


class _Recording(SpendLedger):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.threads: list[int] = []

    def add(self, usd: float) -> None:
        self.threads.append(threading.get_ident())
        super().add(usd)


async def test_the_spend_ledger_is_written_off_the_event_loop(tmp_path: Path) -> None:
    ledger = _Recording(tmp_path / "spend.json")
    async with Runtime(make_http_client(), ledger=ledger) as runtime:
        await runtime.record_spend(0.25)
        spent = await runtime.spent_today()

    assert spent == 0.25
    assert ledger.threads and threading.get_ident() not in ledger.threads
    assert asyncio.get_running_loop().is_running()
