"""`fusion-ls eval --record DIR` / `--replay DIR`: every reviewer call kept, and a run answered
from them with no model call; the report's precision per agreement level and F1 per
`min_agreement`, against scripted reviewers whose every number is worked out by hand.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cli_workspace import Workspace
from fake_openai import FakeOpenAI
from fake_openai import Reply as Scripted
from reviewers import DIV, SAMPLE, SQLI, review, settings_for
from test_eval import judge, reviewer, small_dataset, write_dataset

from fusion_ls.cli.evaluation import EvalReport, Recorder, Replayer, load_dataset, run_eval
from fusion_ls.cli.evaluation.recording import RUN_FILE, CaseRecording, offline_runtime
from fusion_ls.config import settings as settings_module
from fusion_ls.config.settings import Settings
from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import drain
from fusion_ls.engine.prompts import REVIEW_SCHEMA, asking
from fusion_ls.errors import ProviderError
from fusion_ls.findings import FusedReview, ProposedFinding, Usage
from fusion_ls.reviewers import registry
from fusion_ls.reviewers.base import Capability, Code, Prompt, Reply, Reviewer
from fusion_ls.reviewers.chat import ChatMessage
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.recorded import CallLog, ParsedText, RecordedCall, Tape, prompt_key
from fusion_ls.reviewers.runtime import Runtime
from fusion_ls.reviewers.tools.base import Analyzer

T = TypeVar("T")

# False alarms, each raised by a known number of models: one, two and all three.
ALONE = {"clean1.py": [{"line": 2, "quote": "return a + b"}]}
PAIR = {"clean2.py": [{"line": 2, "quote": 'return f"Hello, {name}"'}]}
ALL = {"d.go": [{"line": 1, "quote": "package size"}]}


def alarms(*groups: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    extra: dict[str, list[dict[str, Any]]] = {}
    for group in groups:
        for path, found in group.items():
            extra.setdefault(path, []).extend(
                {
                    "line_start": f["line"], "line_end": f["line"], "quote": f["quote"],
                    "severity": "warning", "category": "style", "rationale": "", "fix": None,
                    "message": f"false alarm at {path}:{f['line']}",
                }
                for f in found
            )  # fmt: skip
    return extra


def script(fake: FakeOpenAI) -> None:
    """alpha misses defects 0 and 3, beta 1 and 4, gamma 2: defects 0-4 are found by two
    models each, defect 5 by all three. False alarms: one by alpha alone, one by alpha and
    beta, one by all three."""
    fake.script("alpha", reviewer({0, 3}, alarms(ALONE, PAIR, ALL)))
    fake.script("beta", reviewer({1, 4}, alarms(PAIR, ALL)))
    fake.script("gamma", reviewer({2}, alarms(ALL)))
    fake.script("judge", judge)


def settings(base_url: str = "http://127.0.0.1:9/v1", **fusion: Any) -> Settings:
    return settings_for(
        base_url, **{"quorum": 3, "straggler_grace_s": 0.2, "timeout_s": 10, **fusion}
    )


async def record(fake: FakeOpenAI, dataset: Path, folder: Path) -> EvalReport:
    script(fake)
    return await run_eval(load_dataset(dataset), settings(fake.base_url), tape=Recorder(folder))


async def replay(dataset: Path, folder: Path, with_settings: Settings | None = None) -> EvalReport:
    return await run_eval(
        load_dataset(dataset), with_settings or settings(), tape=Replayer.load(folder)
    )


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "dataset")


# --- record, then replay ------------------------------------------------------------------------


async def test_a_replay_reproduces_the_recorded_report_with_no_request(
    fake_openai: FakeOpenAI, dataset: Path, tmp_path: Path
) -> None:
    recorded = await record(fake_openai, dataset, tmp_path / "rec")
    requests = len(fake_openai.requests)
    fake_openai.stop()  # nothing is listening any more: a replay must not need it

    replayed = await replay(dataset, tmp_path / "rec")

    assert replayed == recorded  # every number, latency, tokens and cost included
    assert requests == 105 and len(fake_openai.requests) == requests
    assert fake_openai.lookups == []
    assert not any(case.failed or case.degraded for s in replayed.setups for case in s.cases)


async def test_the_recording_is_one_sorted_json_file_per_setup_and_case(
    fake_openai: FakeOpenAI, dataset: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "rec"
    recorded = await record(fake_openai, dataset, folder)

    run = json.loads((folder / RUN_FILE).read_text())
    assert run == {
        "format": 1, "fusion_ls": run["fusion_ls"], "dataset": str(dataset),
        "setups": ["alpha", "beta", "gamma", "best-of", "merge", "debate"],
    }  # fmt: skip
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.json"))
    assert len(files) == 1 + 6 * 6
    assert "merge/a.py@1-7.json" in files and "alpha/clean2.py@1-2.json" in files
    text = (folder / "merge" / "a.py@1-7.json").read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    merge_a = CaseRecording.model_validate_json(text)
    assert (merge_a.setup, merge_a.case) == ("merge", "a.py:1-7")
    assert merge_a.elapsed_s == recorded.setups[4].cases[0].elapsed_s
    assert [(c.reviewer, c.schema_name, c.outcome) for c in merge_a.calls] == [
        ("alpha", "code_review", "ok"), ("beta", "code_review", "ok"),
        ("gamma", "code_review", "ok"), ("judge", "fused_review", "ok"),
    ]  # fmt: skip
    # What the parser read is the model's text as it came, and what the call cost.
    beta = merge_a.calls[1]
    answered = next(r for r in fake_openai.requests_for("beta") if "a.py" in r.prompt_text)
    assert beta.parsed == [ParsedText(text=reviewer({1, 4})(answered).content or "", salvage=False)]
    assert beta.usage == Usage(prompt_tokens=100, completion_tokens=10, cost_usd=1 / 1024)
    # The same prompt has the same key in every setup: beta alone was asked what it was in merge.
    alone = CaseRecording.model_validate_json((folder / "beta" / "a.py@1-7.json").read_text())
    assert [c.prompt for c in alone.calls] == [beta.prompt]


async def test_the_report_scores_each_agreement_level_and_each_min_agreement(
    fake_openai: FakeOpenAI, dataset: Path, tmp_path: Path
) -> None:
    report = await record(fake_openai, dataset, tmp_path / "rec")

    merge = report.setups[4]
    assert merge.name == "merge"
    # Found by one model: alpha's alarm. By two: defects 0-4 and the pair's alarm. By three:
    # defect 5 and the alarm all three raised.
    assert [(a.models, a.findings, a.matched, a.precision) for a in merge.agreement] == [
        (1, 1, 0, 0.0), (2, 6, 5, 5 / 6), (3, 2, 1, 0.5),
    ]  # fmt: skip
    assert [
        (m.min_agreement, m.tp, m.fp, m.fn, m.precision, m.recall, m.f1)
        for m in merge.min_agreement
    ] == [
        (1, 6, 3, 0, 6 / 9, 1.0, 12 / 15),
        (2, 6, 2, 0, 6 / 8, 1.0, 12 / 14),
        (3, 1, 1, 5, 1 / 2, 1 / 6, 2 / 8),
    ]  # fmt: skip
    first = merge.min_agreement[0]
    assert (first.tp, first.fp, first.fn, first.f1) == (
        merge.metrics.tp, merge.metrics.fp, merge.metrics.fn, merge.metrics.f1,
    )  # fmt: skip
    assert all(s.agreement == [] and s.min_agreement == [] for s in report.setups[:3])
    a_py = merge.cases[0]
    assert [(f.lines.start, f.models, f.matched) for f in a_py.findings] == [
        (3, 2, True),
        (7, 2, True),
    ]
    assert [span.start for span in a_py.labels] == [3, 7]


async def test_a_replay_under_another_min_agreement_gives_what_the_report_predicted(
    fake_openai: FakeOpenAI, dataset: Path, tmp_path: Path
) -> None:
    """The report's "min_agreement = k" rows are what hiding below k gives (demoted findings
    are still reported, as hints)."""
    recorded = await record(fake_openai, dataset, tmp_path / "rec")
    fake_openai.stop()
    base = settings()
    hide_below_two = {"min_agreement": 2, "below_agreement": "hide"}
    dial = base.model_copy(update={"review": base.review.model_copy(update=hide_below_two)})

    replayed = await replay(dataset, tmp_path / "rec", dial)

    for before, after in zip(recorded.setups[3:], replayed.setups[3:], strict=True):
        predicted = before.min_agreement[1]
        assert (after.metrics.tp, after.metrics.fp, after.metrics.fn) == (
            predicted.tp, predicted.fp, predicted.fn,
        ), after.name  # fmt: skip
        assert after.metrics.f1 == predicted.f1


async def test_modes_that_were_not_recorded_fall_back_and_say_not_recorded(
    fake_openai: FakeOpenAI, dataset: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "rec"
    recorded = await record(fake_openai, dataset, folder)
    shutil.rmtree(folder / "merge")
    shutil.rmtree(folder / "debate")
    fake_openai.stop()

    replayed = await replay(dataset, folder)

    assert replayed.setups[:4] == recorded.setups[:4]  # the setups still recorded: unchanged
    for setup in replayed.setups[4:]:
        # The pool's first-round prompts are the same in every setup, so they are answered from
        # the others' recordings; the mode's judge prompts were never recorded anywhere.
        assert setup.metrics.failed == 0
        judged = [case for case in setup.cases if case.degraded]
        # On d.go every model found the same, so no judge was asked there.
        assert [case.file for case in judged] == ["a.py", "b.py", "c.js", "clean1.py", "clean2.py"]
        assert "the judge failed (error: not recorded: judge was never asked this " in (
            judged[0].degraded or ""
        )
        assert "showing the models' consensus" in (judged[0].degraded or "")
        # Without a judge, the consensus: every finding of every model, each found once.
        assert (setup.metrics.tp, setup.metrics.fp, setup.metrics.fn) == (6, 3, 0)


async def test_a_model_that_was_never_recorded_fails_every_case_as_not_recorded(
    fake_openai: FakeOpenAI, dataset: Path, tmp_path: Path
) -> None:
    await record(fake_openai, dataset, tmp_path / "rec")
    fake_openai.stop()
    other_pool = settings(pool=["alpha", "beta", "delta"])

    replayed = await replay(dataset, tmp_path / "rec", other_pool)

    delta = replayed.setups[2]
    assert (delta.name, delta.metrics.failed, delta.metrics.fn) == ("delta", 6, 6)
    assert (delta.cases[0].error or "").startswith(
        f"delta: not recorded: delta was never asked this code_review prompt in {tmp_path / 'rec'}"
    )
    merge = replayed.setups[4]
    assert merge.metrics.failed == 0  # alpha and beta answer from the recording
    assert all("quorum is 3" in (case.degraded or "") for case in merge.cases)


# --- what one call replays to ---------------------------------------------------------------------


async def review_once(
    engine_settings: Settings, wrap: Callable[[Reviewer], Reviewer], runtime: Runtime
) -> FusedReview:
    request = CodeRequest(path="sample.py", text=SAMPLE.read_text())
    engine = Engine(engine_settings, runtime, rng=random.Random(0), wrap=wrap, env={})
    result = await drain(engine.review(request))
    assert isinstance(result, FusedReview)
    return result


async def record_and_replay(
    engine_settings: Settings,
) -> tuple[FusedReview, FusedReview, dict[str, RecordedCall]]:
    """One review recorded live, then replayed from what was recorded, on a runtime that
    refuses every request; the calls by reviewer."""
    log = CallLog()
    async with Runtime(make_http_client()) as runtime:
        live = await review_once(engine_settings, log.wrap, runtime)
    tape = Tape(log.calls, timeout_s=engine_settings.fusion.timeout_s)
    async with offline_runtime() as offline:
        replayed = await review_once(engine_settings, tape.wrap, offline)
    return live, replayed, {call.reviewer: call for call in log.calls}


def assert_same_result(live: FusedReview, replayed: FusedReview) -> None:
    assert replayed.findings == live.findings
    assert [(r.model, r.status, r.error, r.usage) for r in replayed.models] == [
        (r.model, r.status, r.error, r.usage) for r in live.models
    ]
    assert live.judge is not None and replayed.judge is not None
    assert (replayed.judge.status, replayed.judge.error) == (live.judge.status, live.judge.error)
    assert (replayed.degraded_reason, replayed.usage) == (live.degraded_reason, live.usage)


async def test_a_repaired_answer_replays_through_the_same_repair(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Scripted(content="not JSON at all"), Scripted(content=review(DIV)))
    fake_openai.answer("beta", {"findings": [SQLI], "summary": "sqli"})
    fake_openai.script("gamma", Scripted(content="still not JSON"))
    fake_openai.answer("judge", {"findings": [], "summary": "judged"})

    live, replayed, calls = await record_and_replay(settings(fake_openai.base_url, quorum=2))

    assert [(p.text, p.salvage) for p in calls["alpha"].parsed] == [
        ("not JSON at all", False), (review(DIV), True),
    ]  # fmt: skip
    assert [p.salvage for p in calls["gamma"].parsed] == [False, True]
    assert (calls["gamma"].outcome, calls["gamma"].status) == ("error", "invalid")
    assert [r.status for r in live.models] == ["ok", "ok", "invalid"]
    assert_same_result(live, replayed)


@pytest.mark.parametrize(
    ("quorum", "gamma"),
    [(1, "late"), (3, "timeout")],  # with a quorum of one, beta's answer starts the grace
)
async def test_errors_timeouts_and_stragglers_replay_as_they_happened(
    fake_openai: FakeOpenAI, quorum: int, gamma: str
) -> None:
    fake_openai.script("alpha", Scripted(status=500, error="upstream down"))
    fake_openai.answer("beta", {"findings": [SQLI], "summary": "sqli"})
    fake_openai.answer("gamma", {"findings": [DIV], "summary": "div"}, delay_s=3)
    fake_openai.answer("judge", {"findings": [], "summary": "judged"})
    slow = settings(fake_openai.base_url, quorum=quorum, straggler_grace_s=0.2, timeout_s=1)

    live, replayed, calls = await record_and_replay(slow)

    assert [r.status for r in live.models] == ["error", "ok", gamma]
    assert (calls["alpha"].outcome, calls["alpha"].status) == ("error", "error")
    assert "upstream down" in (calls["alpha"].reason or "")
    assert calls["gamma"].outcome in {
        "cancelled",
        "error",
    }  # the client's own timeout, or the pool's
    assert_same_result(live, replayed)


class Counting(Analyzer):
    """An analyzer that reports the division on line 5, counting how often it really ran."""

    tool = "counting"
    suffixes = frozenset({".py"})
    runs = 0

    async def review(
        self, lines: Sequence[str], path: str, cwd: Path | None, timeout_s: float
    ) -> list[ProposedFinding]:
        Counting.runs += 1
        return [ProposedFinding.model_validate(DIV)]


async def test_an_analyzer_report_is_recorded_and_replayed_without_running_it(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "ANALYZERS", dict(registry.analyzers()))
    monkeypatch.setattr(settings_module, "KNOWN_TOOLS", settings_module.KNOWN_TOOLS | {"counting"})
    registry.register_analyzer(Counting)
    monkeypatch.setattr(Counting, "runs", 0)
    fake_openai.answer("alpha", {"findings": [DIV], "summary": "div"})
    fake_openai.answer("judge", {"findings": [], "summary": "judged"})

    live, replayed, calls = await record_and_replay(
        settings(fake_openai.base_url, pool=["alpha", "tool:counting"], quorum=2)
    )

    assert Counting.runs == 1  # the live run only
    assert calls["tool:counting"].outcome == "ok"
    assert "Division by zero" in calls["tool:counting"].parsed[0].text
    assert [(f.line_start, f.models) for f in replayed.findings] == [
        (5, ["alpha", "tool:counting"])
    ]
    assert_same_result(live, replayed)


class _Named:
    """The least a reviewer is for a replay: a name, what it does, what it declines."""

    name = "alpha"
    capabilities: frozenset[Capability] = frozenset({"review"})

    def declines(self, path: str) -> str | None:
        return None

    async def unavailable(self) -> str | None:
        raise AssertionError("a replay never asks the real reviewer")

    async def max_cost_usd(self, prompt_tokens: int) -> float | None:
        raise AssertionError("a replay never asks the real reviewer")

    async def ask(self, prompt: Prompt[T], code: Code) -> Reply[T]:
        raise AssertionError("a replay never asks the real reviewer")


PROMPT = asking((ChatMessage("user", "review this"),), REVIEW_SCHEMA, lambda text, _: text)
CODE = Code(path="x.py", lines=["x = 1"], reviewed=())


async def test_a_call_cancelled_at_its_timeout_times_out_at_once_and_a_straggler_waits() -> None:
    cancelled = RecordedCall(
        reviewer="alpha", prompt=prompt_key(PROMPT.messages), schema_name="code_review",
        parsed=[], outcome="cancelled", latency_s=9.98,
    )  # fmt: skip
    timed_out = Tape([cancelled], timeout_s=10).wrap(_Named())
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(timed_out.ask(PROMPT, CODE), 1)  # at once, not after 10 s

    straggler = Tape([cancelled.model_copy(update={"latency_s": 0.5})], timeout_s=10)
    asked = asyncio.ensure_future(straggler.wrap(_Named()).ask(PROMPT, CODE))
    await asyncio.sleep(0.1)
    assert not asked.done()  # until the pool stops waiting for it
    asked.cancel()

    free = straggler.wrap(_Named())
    assert (await free.unavailable(), await free.max_cost_usd(10**6)) == (None, 0.0)
    with pytest.raises(ProviderError, match=r"^not recorded: alpha was never asked this "):
        await Tape([], timeout_s=10).wrap(_Named()).ask(PROMPT, CODE)


def test_the_prompt_key_is_sha256_of_the_messages_as_json() -> None:
    messages = (ChatMessage("system", "rules"), ChatMessage("user", "code: é"))
    expected = hashlib.sha256('[["system","rules"],["user","code: é"]]'.encode()).hexdigest()
    assert prompt_key(messages) == expected
    assert prompt_key(messages[:1]) != expected


# --- the command line ---------------------------------------------------------------------------


def test_cli_replay_prints_what_the_recorded_run_printed_with_no_key(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    small_dataset(workspace)
    script(fake_openai)

    recorded = workspace.run("eval", "ds", "--record", "rec")
    recorded_json = workspace.run("eval", "ds", "--record", "rec-json", "--format", "json")
    requests = len(fake_openai.requests)
    fake_openai.stop()
    del workspace.env["OPENROUTER_API_KEY"]
    replayed = workspace.run("eval", "ds", "--replay", "rec")
    replayed_json = workspace.run("eval", "ds", "--replay", "rec-json", "--format", "json")

    assert recorded.code == replayed.code == 0, replayed.err
    assert replayed.out == recorded.out
    assert json.loads(replayed_json.out) == json.loads(recorded_json.out)
    assert len(fake_openai.requests) == requests
    assert "replayed from rec: no model was called" in replayed.err
    lines = recorded.out.splitlines()
    start = lines.index(
        "merge by agreement: found by exactly k of 3 models and how many were defects | the "
        "scores keeping those found by at least k (min_agreement = k)"
    )
    # a.py: defect 0 found by beta and gamma, defect 1 by alpha and gamma; clean1.py: alpha's
    # alarm. The pair's and the trio's alarms are on files outside this dataset.
    assert [" ".join(line.split()) for line in lines[start + 1 : start + 5]] == [
        "k found defects precision | TP FP FN precision recall F1",
        "1 1 0 0.000 | 2 1 0 0.667 1.000 0.800",
        "2 2 2 1.000 | 2 0 0 1.000 1.000 1.000",
        "3 0 0 - | 0 0 2 0.000 0.000 0.000",
    ]


def test_cli_record_refuses_a_folder_that_holds_a_recording(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    small_dataset(workspace)
    script(fake_openai)
    assert workspace.run("eval", "ds", "--record", "rec", "--quiet").code == 0
    requests = len(fake_openai.requests)

    again = workspace.run("eval", "ds", "--record", "rec", "--quiet")
    both = workspace.run("eval", "ds", "--record", "x", "--replay", "rec")
    missing = workspace.run("eval", "ds", "--replay", "nowhere")

    assert again.code == 2 and "rec already holds a recording" in again.err
    assert len(fake_openai.requests) == requests
    assert both.code == 2 and "not allowed with argument" in both.err
    assert missing.code == 2
    assert "nowhere is not an eval recording: cannot read nowhere/run.json" in missing.err
