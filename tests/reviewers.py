"""Scripted reviewers and judges for the fake OpenAI server.

A fake judge here really does its job on what it is sent: it reads the anonymised answers out
of the prompt and merges or ranks them, so tests exercise the engine's labelling end to end.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fake_openai import FakeOpenAI, RecordedRequest, Reply

from fusion_ls.config.settings import Settings
from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import Event, ReviewFinished
from fusion_ls.findings import FusedReview
from fusion_ls.reviewers.cache import ResponseCache
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.runtime import Runtime
from fusion_ls.reviewers.spend import SpendLedger

_ANSWER = re.compile(r'<answer reviewer="([A-Z])">\n(.*?)\n(?:summary: .*?\n)?</answer>', re.DOTALL)


def finding(
    line: int,
    quote: str,
    message: str,
    *,
    severity: str = "error",
    category: str = "bug",
    end: int | None = None,
    fix: dict[str, Any] | None = None,
    rationale: str = "",
) -> dict[str, Any]:
    return {
        "line_start": line,
        "line_end": end if end is not None else line,
        "quote": quote,
        "severity": severity,
        "category": category,
        "message": message,
        "rationale": rationale,
        "fix": fix,
    }


# Findings on tests/fixtures/sample.py that the editor tests and the benchmark share: two
# models word the division bug differently, one of them with a rationale and a fix.
FIX = {
    "line_start": 5,
    "line_end": 5,
    "replacement": "    return total / len(values) if values else 0.0",
}
DIV = finding(
    5, "return total / len(values)", "Division by zero when values is empty",
    rationale="`len(values)` is 0 for an empty list.", fix=FIX,
)  # fmt: skip
DIV_B = finding(5, "total / len(values)", "ZeroDivisionError on an empty list")
SQLI = finding(
    9, '"SELECT * FROM users WHERE id = " + user_id', "SQL injection via user_id",
    category="security", severity="warning",
)  # fmt: skip


def review(*findings: dict[str, Any], summary: str = "reviewed") -> str:
    return json.dumps({"findings": list(findings), "summary": summary})


def pool_agrees(fake: FakeOpenAI, *findings: dict[str, Any]) -> None:
    """alpha, beta and gamma (the tests' pool) each answer `findings`, and the judge merges."""
    for model in ("alpha", "beta", "gamma"):
        fake.script(model, Reply(content=review(*findings)))
    fake.script("judge", merging_judge)


def answers_in(request: RecordedRequest) -> dict[str, list[dict[str, Any]]]:
    """label → findings, as the engine wrote them into a judge or debate prompt."""
    return {label: json.loads(body) for label, body in _ANSWER.findall(request.prompt_text)}


def merging_judge(request: RecordedRequest) -> Reply:
    """Union of every reviewer's findings, one per (line, category), with supporters.

    Of several statements of one problem it keeps the best argued (rationale, then fix), so the
    result does not depend on the shuffled label order.
    """
    merged: dict[tuple[int, str], dict[str, Any]] = {}
    for label, findings in sorted(answers_in(request).items()):
        for item in findings:
            key = (item["line_start"], item["category"])
            supporters = [*merged.get(key, {}).get("supporters", []), label]
            kept = merged.get(key)
            if kept is None or _argued(item) > _argued(kept):
                kept = item
            merged[key] = {**kept, "supporters": supporters}
    ordered = [merged[key] for key in sorted(merged)]
    return Reply(content=json.dumps({"findings": ordered, "summary": "merged by the judge"}))


def explaining_judge(explanation: str) -> Callable[[RecordedRequest], Reply]:
    """A judge for the editor tests: merges reviews (`merging_judge`) and answers `explanation`
    when asked to merge explanations."""

    def judge(request: RecordedRequest) -> Reply:
        if "<explanation explainer=" in request.prompt_text:
            return Reply(content=json.dumps({"explanation": explanation}))
        return merging_judge(request)

    return judge


def _argued(item: dict[str, Any]) -> tuple[int, bool]:
    return (len(item.get("rationale") or ""), item.get("fix") is not None)


def best_of_judge(request: RecordedRequest) -> Reply:
    """Picks the answer with the most findings (ties: the first label)."""
    answers = answers_in(request)
    winner = max(sorted(answers), key=lambda label: len(answers[label]))
    scores = {label: 5 + len(found) for label, found in answers.items()}
    verdict = {"winner": winner, "scores": scores, "reason": "it found the most real problems"}
    return Reply(content=json.dumps(verdict))


def is_round(request: RecordedRequest, number: int) -> bool:
    return f"This is round {number} of a review debate" in request.prompt_text


SAMPLE = Path(__file__).parent / "fixtures" / "sample.py"
POOL = ("alpha", "beta", "gamma")
JUDGE = "judge"


def settings_for(base_url: str, **fusion: Any) -> Settings:
    """Settings that point the default provider at the fake server; no key, no retries."""
    return Settings.model_validate(
        {
            "providers": {
                "openrouter": {"base_url": base_url, "kind": "compatible", "max_retries": 0}
            },
            "fusion": {"pool": list(POOL), "judge": JUDGE, **fusion},
        }
    )


async def run(
    settings: Settings,
    *,
    explain: bool = False,
    seed: int = 0,
    ledger: SpendLedger | None = None,
    cache: ResponseCache | None = None,
    **request: Any,
) -> list[Event]:
    """Every event of one engine call on the sample file (or `text=`), the result last."""
    text = request.pop("text", None) or SAMPLE.read_text()
    code = CodeRequest(path=request.pop("path", "sample.py"), text=text, **request)
    async with Runtime(make_http_client(), cache=cache, ledger=ledger) as runtime:
        rng = random.Random(seed) if cache is None else None  # cached runs shuffle by content
        engine = Engine(settings, runtime, rng=rng)
        stream = engine.explain(code) if explain else engine.review(code)
        return [event async for event in stream]


async def run_review(settings: Settings, **request: Any) -> FusedReview:
    last = (await run(settings, **request))[-1]
    assert isinstance(last, ReviewFinished)
    return last.review
