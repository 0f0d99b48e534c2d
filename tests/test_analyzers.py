"""Local analyzers in the pool: their reports as findings that cluster with the models' and with
each other's (by rule), and the offline review they give without a key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply
from pydantic import ValidationError
from reviewers import finding, merging_judge, review, run, run_review, settings_for

from fusion_ls.cli.fixes import applied
from fusion_ls.config.settings import KNOWN_TOOLS, ModelRef, Settings
from fusion_ls.engine.fusion.matching import Matcher
from fusion_ls.errors import UsageError
from fusion_ls.findings import ProposedFinding
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


@pytest.mark.parametrize(
    ("text", "after"),
    [
        (CODE, CODE.removeprefix("import os\n")),  # the line goes, no blank line is left
        ("x = 1\nimport os\n", "x = 1\n"),  # the file's last line
        ("import os\n", "\n"),  # the whole file: one empty line is all a fix can leave
    ],
    ids=["first-line", "last-line", "only-line"],
)
async def test_a_ruff_fix_that_deletes_lines_deletes_them(text: str, after: str) -> None:
    found = await Ruff().review(text.splitlines(), "m.py", None, 30)

    [unused] = [f for f in found if f.message.startswith("F401")]
    assert unused.fix is not None
    assert applied(text, [unused.fix]) == after


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
    fake_openai.script("alpha", Reply(content=json.dumps({"explanation": "Loads a file."})))
    settings = settings_for(fake_openai.base_url, pool=["alpha", "tool:ruff"])

    events = await run(settings, explain=True, text=CODE, path="cache.py")

    assert [m.model for m in events[-1].explanation.models] == ["alpha"]  # type: ignore[union-attr]


DEFECTS = (Path(__file__).parent / "fixtures" / "analyzers" / "defects.py").read_text()


def keyless(base_url: str, **fusion: object) -> Settings:
    """The fake server as a provider whose key is not set: no model can be asked."""
    settings = settings_for(base_url, **fusion)
    provider = settings.providers["openrouter"].model_copy(
        update={"api_key_env": "FUSION_TEST_UNSET_KEY"}
    )
    return settings.model_copy(update={"providers": {"openrouter": provider}})


async def test_without_a_key_the_analyzers_fuse_and_agree_by_rule(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("FUSION_TEST_UNSET_KEY", raising=False)

    events = await run(keyless(fake_openai.base_url), text=DEFECTS, path="defects.py")

    result = events[-1].review  # type: ignore[union-attr]
    assert [m.model for m in result.models] == ["tool:bandit", "tool:mypy", "tool:ruff"]
    at = {(f.line_start, f.category): f for f in result.findings}
    sql = at[10, "security"]  # ruff's S608 and bandit's B608; mypy does not look for these
    assert (sql.models, sql.agreement_label()) == (["tool:bandit", "tool:ruff"], "2/2 analyzers")
    undefined = at[14, "bug"]  # ruff's F821 and mypy's name-defined; bandit checks security only
    assert (undefined.models, undefined.agreement) == (["tool:mypy", "tool:ruff"], "2/2")
    assert undefined.severity == "error"
    unused = at[1, "maintainability"]  # ruff alone, of the two that check maintainability
    assert (unused.agreement, unused.answered_by) == ("1/2", "analyzers")
    assert result.summary.startswith("Consensus of 3 analyzers")
    assert result.judge is not None and result.judge.status == "skipped"
    assert "no model to judge" in (result.judge.error or "") and not result.degraded
    assert fake_openai.requests == []  # not even the model list


async def test_offline_with_one_analyzer_the_judge_is_skipped_as_offline(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .sh file's lone shellcheck read "skipped … only one model answered", though no model
    was asked."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("FUSION_TEST_UNSET_KEY", raising=False)

    events = await run(keyless(fake_openai.base_url, pool=["alpha", "tool:ruff"]), text=DEFECTS)

    result = events[-1].review  # type: ignore[union-attr]
    assert [m.model for m in result.models] == ["tool:ruff"]
    assert result.judge is not None and result.judge.status == "skipped"
    assert (result.judge.error or "").startswith("offline: no model to judge")
    assert fake_openai.requests == []


async def test_with_a_model_in_the_pool_agreement_counts_models(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review()))
    settings = settings_for(fake_openai.base_url, pool=["alpha", "tool:ruff"])

    result = await run_review(settings, text=CODE, path="cache.py")

    assert {f.answered_by for f in result.findings} == {"models"}
    assert result.findings
    assert all(f.agreement_label().startswith("1/2 models") for f in result.findings)


def test_two_analyzers_match_by_rule_never_by_wording() -> None:
    ruff = finding(10, "db.execute(", "S608: SQL injection", category="security")
    bandit = finding(10, "db.execute(", "B608: a query built from strings", category="security")
    other = finding(10, "db.execute(", "S608: SQL injection", category="security")
    matcher = Matcher.over([])
    same = ProposedFinding.model_validate({**ruff, "rule": "bandit:B608"})
    also = ProposedFinding.model_validate({**bandit, "rule": "bandit:B608"})
    differs = ProposedFinding.model_validate({**other, "rule": "ruff:UP031"})
    model = ProposedFinding.model_validate(other)

    assert matcher.same(same, also)  # unlike words, one rule
    assert matcher.score(same, differs) is None  # like words, two rules
    assert matcher.same(model, same)  # a model's finding is compared by content, as ever
    moved = also.model_copy(update={"line_start": 30, "line_end": 30, "quote": "other()"})
    assert matcher.score(same, moved) is None  # one rule, another place


async def test_a_file_no_reviewer_can_read_is_one_usage_error(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # and no analyzer program on PATH

    with pytest.raises(UsageError) as error:
        await run(keyless(fake_openai.base_url), text="puts 1\n", path="app.rb")

    message = str(error.value)
    assert message.startswith("nothing can review app.rb: no model can be used (")
    assert message.count("FUSION_TEST_UNSET_KEY is not set") == 1
    assert message.endswith("and no local analyzer for .rb files is installed")
