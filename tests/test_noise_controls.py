"""The project's own rules: `fusion: ignore` comments, the baseline, `[[review.paths]]` and the
team's rule files, in the engine's postprocess step and through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_workspace import Workspace
from fake_openai import FakeOpenAI, Reply
from reviewers import DIV, SQLI, finding, merging_judge, pool_agrees, review

from fusion_ls.config.settings import ReviewSettings
from fusion_ls.engine.baseline import Baseline
from fusion_ls.engine.postprocess import Policy, postprocess
from fusion_ls.engine.rule_files import FILE_LIMIT, conventions, rule_files
from fusion_ls.engine.suppressions import find_suppressions
from fusion_ls.findings import Finding, LineRange, Scope

# -- fusion: ignore ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "x = a / b  # fusion: ignore",
        "x = a / b;  // fusion: ignore",
        "SELECT a / b  -- fusion: ignore",
        "x = a / b; /* fusion: ignore */",
        "x = a / b  # FUSION: Ignore",
    ],
)
def test_each_comment_syntax_suppresses_the_findings_on_its_line(line: str) -> None:
    [suppression] = find_suppressions(["first()", line, "after()"])

    assert suppression.line == 2
    assert suppression.applies(2, "bug") and suppression.applies(2, "security")
    assert not suppression.applies(3, "bug")  # a trailing comment covers its own line only


def test_a_comment_alone_on_its_line_covers_the_next_line_and_brackets_name_categories() -> None:
    [suppression] = find_suppressions(["    # fusion: ignore[Security, bug]", "    run(q)"])

    assert suppression.covers == {1, 2}
    assert suppression.applies(2, "security") and suppression.applies(2, "bug")
    assert not suppression.applies(2, "style")


def test_text_that_only_mentions_the_marker_is_not_a_suppression() -> None:
    assert find_suppressions(['print("fusion: ignore")', "fusion_ignore = 1"]) == []


def fused(line: int, category: str = "bug", message: str = "m", quote: str = "") -> Finding:
    return Finding(
        id=f"{line}-{category}",
        line_start=line,
        line_end=line,
        quote=quote,
        severity="warning",
        category=category,
        message=message,
        rationale="",
        fix=None,
        models=["alpha"],
        answered=1,
    )


LINES = ["a = 1", "b = a / 0  # fusion: ignore[bug]", "# fusion: ignore", "c = q", "d = 2"]
WHOLE = Scope.of([LineRange(start=1, end=len(LINES))], len(LINES))


def test_postprocess_drops_suppressed_findings_and_counts_them() -> None:
    policy = Policy(suppressions=tuple(find_suppressions(LINES)))
    findings = [fused(2), fused(2, "security"), fused(4, "style"), fused(5)]

    shown = postprocess(findings, WHOLE, {}, policy=policy)

    assert [(f.line_start, f.category) for f in shown.findings] == [(2, "security"), (5, "bug")]
    assert shown.suppressed == 2


def test_unused_and_unknown_suppressions_are_reported_only_when_asked() -> None:
    lines = ["a()  # fusion: ignore", "b()  # fusion: ignore[secuirty]", "c()"]
    policy = Policy(suppressions=tuple(find_suppressions(lines)))
    scope = Scope.of([LineRange(start=1, end=3)], 3)

    quiet = postprocess([], scope, {}, policy=policy)
    loud = postprocess([fused(3)], scope, {}, policy=policy, report_unused=True)

    assert quiet.unused == []
    assert [(n.line, n.reason) for n in loud.unused] == [
        (1, "it suppressed nothing"),
        (2, "not a category: secuirty"),
    ]


def test_excluded_categories_are_not_shown() -> None:
    shown = postprocess(
        [fused(1, "style"), fused(1)], WHOLE, {}, policy=Policy(exclude_categories={"style"})
    )

    assert [f.category for f in shown.findings] == ["bug"] and shown.suppressed == 1


# -- the baseline ------------------------------------------------------------------------------

CODE = ["def f(values):", "    return sum(values) / len(values)", ""]
DIVIDES = fused(2, message="Division by zero when values is empty", quote="/ len(values)")


def test_a_baseline_survives_lines_inserted_above_and_a_reworded_message(tmp_path: Path) -> None:
    file = tmp_path / ".fusion-baseline.json"
    Baseline().with_findings("m.py", CODE, [DIVIDES]).save(file)
    moved = ["import math", "", *CODE]
    reworded = "ZeroDivisionError when values is empty"
    again = DIVIDES.model_copy(
        update={"line_start": 4, "line_end": 4, "message": reworded, "quote": "sum(values) / len"}
    )

    matcher = Baseline.load(file).matcher("m.py", moved)

    assert matcher.hides(again)
    assert not matcher.hides(again.model_copy(update={"category": "performance"}))
    assert not Baseline.load(file).matcher("other.py", moved).hides(again)


def test_a_baseline_stops_hiding_a_finding_when_its_code_changes(tmp_path: Path) -> None:
    file = tmp_path / "base.json"
    Baseline().with_findings("m.py", CODE, [DIVIDES]).save(file)
    edited = ["def f(values):", "    return sum(values) / max(len(values), 1)", ""]

    assert not Baseline.load(file).matcher("m.py", edited).hides(DIVIDES)


def test_a_broken_baseline_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    file = tmp_path / "base.json"
    file.write_text("{not json")

    with pytest.raises(Exception, match="write it again with `fusion-ls review --write-baseline`"):
        Baseline.load(file)


# -- path rules --------------------------------------------------------------------------------


def test_the_first_matching_path_rule_wins_and_adds_to_the_instructions() -> None:
    review_settings = ReviewSettings.model_validate(
        {
            "instructions": "Correctness first.",
            "paths": [
                {"glob": "tests/**", "exclude_categories": ["style"], "min_agreement": 2},
                {"glob": "*.py", "instructions": "Never seen for tests.", "mode": "debate"},
            ],
        }
    )

    tests, tests_mode = review_settings.for_path("tests/unit/test_x.py")
    source, source_mode = review_settings.for_path("src/app.py")
    other, other_mode = review_settings.for_path("README.md")

    assert tests.exclude_categories == ["style"] and tests.min_agreement == 2
    assert tests.instructions == "Correctness first." and tests_mode is None
    assert source.instructions == "Correctness first.\n\nNever seen for tests."
    assert source_mode == "debate"
    assert other == review_settings and other_mode is None


def test_path_rules_are_validated_with_their_line(workspace: Workspace) -> None:
    (workspace.root / ".fusion.toml").write_text(
        '[[review.paths]]\nglob = "tests/**"\n\n[[review.paths]]\nglob = "db/**"\nmode = "debat"\n'
    )

    checked = workspace.run("config", "check")

    assert checked.code == 2
    assert ".fusion.toml:6: review.paths[1].mode" in checked.err


# -- rule files --------------------------------------------------------------------------------

FAKE_KEY = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def test_rule_files_nearest_the_file_are_found_capped_and_redacted(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "AGENTS.md").write_text("Root agents: never used for pkg.\n")
    (tmp_path / "pkg" / "AGENTS.md").write_text(f"Use snake_case.\ntoken = {FAKE_KEY}\n")
    (tmp_path / "CLAUDE.md").write_text("x" * (FILE_LIMIT + 500))
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "copilot-instructions.md").write_text("Prefer pathlib.\n")
    rules = tmp_path / ".cursor" / "rules"
    rules.mkdir(parents=True)
    (rules / "always.mdc").write_text("---\nalwaysApply: true\n---\nNo prints.\n")
    (rules / "go.mdc").write_text('---\nglobs: ["*.go"]\nalwaysApply: false\n---\nGo only.\n')
    (rules / "py.mdc").write_text("---\nglobs: pkg/**/*.py\n---\nPython rule.\n")
    file = tmp_path / "pkg" / "sub" / "m.py"
    file.write_text("x = 1\n")

    found = rule_files(file, tmp_path)

    assert [f.path for f in found] == [
        "pkg/AGENTS.md",
        "CLAUDE.md",
        ".github/copilot-instructions.md",
        ".cursor/rules/always.mdc",
        ".cursor/rules/py.mdc",
    ]
    agents = found[0].text
    assert "Use snake_case." in agents and FAKE_KEY not in agents and "[REDACTED" in agents
    assert found[1].truncated and len(found[1].text) == FILE_LIMIT
    assert 'truncated="true"' in conventions(found)
    listed = rule_files(file, tmp_path, ["AGENTS.md", "missing.md"])
    assert [f.path for f in listed] == ["AGENTS.md"]


# -- through the CLI ---------------------------------------------------------------------------


def _script(fake: FakeOpenAI, *findings: dict[str, object]) -> None:
    pool_agrees(fake, *findings)


def test_a_suppression_in_the_file_hides_its_finding_in_the_cli(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    sample = workspace.root / "sample.py"
    lines = sample.read_text().splitlines()
    lines[8] += "  # fusion: ignore[security]"
    sample.write_text("\n".join(lines) + "\n")
    quote = lines[8].split("  #")[0].strip()
    _script(fake_openai, DIV, {**SQLI, "quote": quote.split("= ", 1)[1]})

    done = workspace.run("review", "sample.py", "--quiet", "--format", "json")

    assert done.code == 0, done.err
    result = done.json()
    assert [f.category for f in result.findings] == ["bug"]
    assert result.suppressed == 1


def test_write_baseline_then_review_again_hides_the_recorded_findings(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    _script(fake_openai, DIV, SQLI)
    (workspace.root / ".git").mkdir()  # the project root, where the baseline lives

    first = workspace.run("review", "sample.py", "--quiet", "--write-baseline",
                          ".fusion-baseline.json")  # fmt: skip
    sample = workspace.root / "sample.py"
    sample.write_text("import os\n\n" + sample.read_text())  # every finding moves two lines
    moved = [
        {**DIV, "line_start": 7, "line_end": 7, "fix": None},
        {**SQLI, "line_start": 11, "line_end": 11},
        finding(16, 'return "Hello, " + name', "greet does not check for None"),
    ]
    _script(fake_openai, *moved)
    second = workspace.run("review", "sample.py", "--quiet")

    assert first.code == 0, first.err
    assert "wrote .fusion-baseline.json: 2 findings, 2 from this run" in first.err
    recorded = json.loads((workspace.root / ".fusion-baseline.json").read_text())
    assert {e["path"] for e in recorded["findings"]} == {"sample.py"}
    assert second.code == 0, second.err
    assert "sample.py:16:" in second.out and "sample.py:7:" not in second.out
    assert "2 in the baseline" in second.out


def test_path_rules_and_rule_files_reach_the_prompt_and_the_result(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    (workspace.root / ".git").mkdir()
    (workspace.root / "AGENTS.md").write_text("All SQL goes through the query builder.\n")
    (workspace.root / ".fusion.toml").write_text(
        '[review]\ninstructions = "Correctness first."\n\n'
        '[[review.paths]]\nglob = "sample.py"\ninstructions = "This module talks to the DB."\n'
        'exclude_categories = ["security"]\n'
    )
    _script(fake_openai, DIV, SQLI)

    done = workspace.run("review", "sample.py", "--quiet", "--format", "json")

    assert done.code == 0, done.err
    result = done.json()
    assert result.rule_files == ["AGENTS.md"]
    assert [f.category for f in result.findings] == ["bug"] and result.suppressed == 1
    prompts = [r.prompt_text for r in fake_openai.requests if r.model == "alpha"]
    assert prompts and all("This module talks to the DB." in p for p in prompts)
    assert '<conventions source="AGENTS.md">' in prompts[0]
    assert "All SQL goes through the query builder." in prompts[0]


def legacy_rule(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    """legacy/old.py (sample.py's copy) under a rule with dial 1 and best-of; only alpha
    finds the division by zero."""
    (workspace.root / ".git").mkdir()
    (workspace.root / "legacy").mkdir()
    (workspace.root / "legacy" / "old.py").write_text((workspace.root / "sample.py").read_text())
    (workspace.root / ".fusion.toml").write_text(
        '[[review.paths]]\nglob = "legacy/**"\nmin_agreement = 1\nmode = "best-of"\n'
    )
    fake_openai.script("alpha", Reply(content=review(DIV)))
    for model in ("beta", "gamma"):
        fake_openai.script(model, Reply(content=review()))
    fake_openai.script("judge", merging_judge)


def test_a_path_rule_sets_the_dial_and_the_mode_for_its_files(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    legacy_rule(workspace, fake_openai)

    ruled = workspace.run("review", "legacy/old.py", "--quiet", "--format", "json").json()
    plain = workspace.run("review", "sample.py", "--quiet", "--format", "json").json()

    assert ruled.mode == "best-of" and plain.mode == "merge"
    [alone] = ruled.findings
    assert alone.agreement == "1/3" and alone.severity == "error" and alone.demoted_from is None
    [demoted] = plain.findings  # the default dial, "majority", wants 2 of 3
    assert demoted.severity == "hint" and demoted.demoted_from == "error"
