"""Local analyzers in the pool: ruff's report as findings that cluster with the models'."""

from __future__ import annotations

import json

import pytest
from fake_openai import FakeOpenAI, Reply
from pydantic import ValidationError
from reviewers import finding, merging_judge, review, run_review, settings_for

from fusion_ls.config.settings import KNOWN_TOOLS, ModelRef, Settings
from fusion_ls.reviewers.registry import analyzers
from fusion_ls.reviewers.tools.ruff import Ruff

CODE = """import os


def load(path, cache={}):
    if path in cache:
        return cache[path]
    data = eval(open(path).read())
    cache[path] = data
    return data
"""


def test_every_known_tool_has_an_adapter() -> None:
    assert set(analyzers()) == KNOWN_TOOLS


def test_tool_entries_parse_and_unknown_tools_are_refused() -> None:
    assert ModelRef.model_validate("tool:ruff").name == "tool:ruff"
    with pytest.raises(ValidationError, match="'tool:pylint' is not a known analyzer"):
        ModelRef.model_validate("tool:pylint")
    with pytest.raises(ValidationError, match="a local analyzer cannot judge"):
        Settings.model_validate({"fusion": {"judge": "tool:ruff"}})


async def test_ruff_findings_carry_rule_code_category_and_fix() -> None:
    found = await Ruff().review(CODE.splitlines(), "cache.py", None, 30)

    by_code = {f.message.split(":")[0]: f for f in found}
    assert {"F401", "B006", "S307"} <= set(by_code)
    unused = by_code["F401"]
    assert (unused.line_start, unused.category, unused.quote) == (1, "maintainability", "import os")
    default = by_code["B006"]
    assert (default.line_start, default.severity, default.category) == (4, "warning", "bug")
    assert default.fix is not None and "cache=None" in default.fix.replacement
    assert by_code["S307"].category == "security"


async def test_a_tool_takes_part_in_consensus_with_the_models(fake_openai: FakeOpenAI) -> None:
    evals = finding(
        7, "data = eval(open(path).read())", "eval runs arbitrary code", category="security"
    )
    fake_openai.script("alpha", Reply(content=review(evals)))
    settings = settings_for(fake_openai.base_url, pool=["alpha", "tool:ruff"])

    result = await run_review(settings, text=CODE, path="cache.py")

    evidence = [f for f in result.findings if f.line_start == 7 and f.category == "security"]
    assert [(f.models, f.agreement) for f in evidence] == [(["alpha", "tool:ruff"], "2/2")]
    assert {m.model: m.status for m in result.models} == {"alpha": "ok", "tool:ruff": "ok"}


async def test_the_judge_sees_the_tool_as_evidence(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review()))
    fake_openai.script(
        "beta", Reply(content=review(finding(7, "eval(", "eval", category="security")))
    )
    fake_openai.script("judge", merging_judge)
    settings = settings_for(fake_openai.base_url, pool=["alpha", "beta", "tool:ruff"])

    await run_review(settings, text=CODE, path="cache.py")

    judge_prompt = fake_openai.requests_for("judge")[0].prompt_text
    assert "S307" in judge_prompt and "tool:ruff" not in judge_prompt  # anonymised like the rest


async def test_debate_does_not_ask_a_tool_to_revise(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review()))
    fake_openai.script("beta", Reply(content=review(finding(4, "cache={}", "mutable default"))))
    fake_openai.script("judge", merging_judge)
    settings = settings_for(fake_openai.base_url, pool=["alpha", "beta", "tool:ruff"], rounds=2)

    result = await run_review(settings, text=CODE, path="cache.py", mode="debate")

    assert len(fake_openai.requests_for("alpha")) == 2
    second = fake_openai.requests_for("alpha")[1].prompt_text
    assert "B006" in second  # ruff's findings are among the others' findings
    assert {m.model: m.status for m in result.models}["tool:ruff"] == "ok"


async def test_a_tool_skips_files_it_cannot_read(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review()))
    settings = settings_for(fake_openai.base_url, pool=["alpha", "tool:ruff"])

    result = await run_review(settings, text="function f() {}\n", path="app.js")

    ruff = next(m for m in result.models if m.model == "tool:ruff")
    assert ruff.status == "skipped" and ".py" in (ruff.error or "")


async def test_explain_leaves_tools_out(fake_openai: FakeOpenAI) -> None:
    from reviewers import run

    fake_openai.script("alpha", Reply(content=json.dumps({"explanation": "Loads a file."})))
    settings = settings_for(fake_openai.base_url, pool=["alpha", "tool:ruff"])

    events = await run(settings, explain=True, text=CODE, path="cache.py")

    assert [m.model for m in events[-1].explanation.models] == ["alpha"]  # type: ignore[union-attr]
