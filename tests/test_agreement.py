"""Agreement that is honest: failures are counted, and the noise dial (`review.min_agreement`)
demotes or hides what too few models raised, the same way in every adapter."""

from __future__ import annotations

from pathlib import Path

from cli_workspace import Workspace
from fake_openai import FakeOpenAI, Reply
from lsp_client import (
    command,
    lines,
    open_document,
    project_with_fake_models,
    server_env,
    start,
    until,
)
from reviewers import DIV, SAMPLE, SQLI, merging_judge, review

from fusion_ls.cli.report import finding_line
from fusion_ls.cli.sarif import to_sarif
from fusion_ls.config.settings import ReviewSettings
from fusion_ls.engine.postprocess import Dial, needed, postprocess
from fusion_ls.findings import Finding, FusedReview, LineRange, Scope, Usage
from fusion_ls.lsp.mapping import diagnostic, finding_hover

SCOPE = Scope.of([LineRange(start=1, end=40)])
LINES = [f"line {n}" for n in range(1, 41)]


def fused(line: int, models: list[str], answered: int = 3, severity: str = "error") -> Finding:
    return Finding.model_validate(
        {
            "id": f"at-{line}",
            "line_start": line,
            "line_end": line,
            "quote": f"line {line}",
            "severity": severity,
            "category": "bug",
            "message": "Division by zero",
            "rationale": "",
            "fix": None,
            "models": models,
            "answered": answered,
        }
    )


def dial(min_agreement: int | str = "majority", below: str = "demote", expected: int = 3) -> Dial:
    review = ReviewSettings.model_validate(
        {"min_agreement": min_agreement, "below_agreement": below}
    )
    return Dial.of(review, expected)


# -- the dial ----------------------------------------------------------------------------------


def test_majority_is_more_than_half_of_those_that_answered() -> None:
    assert [needed("majority", n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert needed(2, 5) == 2


def test_below_the_dial_a_finding_is_demoted_to_a_marked_hint() -> None:
    shown = postprocess([fused(5, ["a", "b"]), fused(9, ["c"])], SCOPE, {}, dial=dial())

    two, one = shown.findings
    assert (two.severity, two.demoted_from) == ("error", None)
    assert (one.severity, one.demoted_from) == ("hint", "error")
    assert one.agreement_label() == "1/3 models · below min_agreement"
    assert shown.hidden == 0


def test_hidden_findings_are_counted() -> None:
    shown = postprocess([fused(5, ["a", "b"]), fused(9, ["c"])], SCOPE, {}, dial=dial(below="hide"))

    assert [f.line_start for f in shown.findings] == [5]
    assert shown.hidden == 1


def test_a_dial_of_one_shows_everything_as_it_is() -> None:
    shown = postprocess([fused(9, ["c"])], SCOPE, {}, dial=dial(1))

    assert shown.findings[0].severity == "error" and shown.findings[0].demoted_from is None


def test_provisional_findings_wait_until_enough_models_answered() -> None:
    """One answer of three: every finding would be below "majority", then come back; the dial
    waits for the second answer."""
    provisional = Dial.of(ReviewSettings(), 3, provisional=True)
    one = {"a": []}
    two = {"a": [], "b": []}

    early = postprocess([fused(9, ["a"])], SCOPE, one, dial=provisional).findings
    later = postprocess([fused(9, ["a"])], SCOPE, two, dial=provisional).findings

    assert early[0].severity == "error"
    assert later[0].severity == "hint"


# -- failures are never unanimity --------------------------------------------------------------


def test_failures_show_next_to_the_agreement_everywhere() -> None:
    [finding] = postprocess([fused(5, ["a"], answered=1)], SCOPE, {"a": []}, failed=2).findings
    review = FusedReview(
        path="svc.py",
        lines=LineRange(start=1, end=40),
        findings=[finding],
        summary="",
        mode="merge",
        models=[],
        judge=None,
        usage=Usage(),
        elapsed_s=1.0,
    )

    assert finding.agreement_label() == "1/1 models · 2 failed"
    assert not finding.unanimous
    assert diagnostic(finding, LINES).message == "Division by zero (1/1 models · 2 failed)"
    assert "Raised by 1/1 models · 2 failed" in finding_hover(finding, review, LINES)
    assert finding_line("svc.py", finding, LINES).endswith("(1/1 models · 2 failed)")
    [result] = to_sarif(review, LINES, artifact_uri="svc.py")["runs"][0]["results"]
    assert result["properties"]["failed"] == 2
    assert result["message"]["text"].endswith("(1/1 models · 2 failed)")


# -- through the CLI ---------------------------------------------------------------------------


def test_the_cli_counts_failed_models_and_takes_the_dial(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV, SQLI)))
    fake_openai.script("beta", Reply(status=500))
    fake_openai.script("gamma", Reply(status=500))

    lenient = workspace.run("review", "sample.py", "--min-agreement", "1")
    strict = workspace.run("review", "sample.py", "--min-agreement", "2")

    assert "error [bug] Division by zero when values is empty (1/1 models · 2 failed)" in (
        lenient.out
    )
    assert "hint [bug] Division by zero when values is empty (1/1 models · 2 failed · below" in (
        strict.out
    )


def test_hide_counts_what_it_hid(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV, SQLI)))
    fake_openai.script("beta", Reply(content=review(SQLI)))
    fake_openai.script("gamma", Reply(content=review(SQLI)))
    fake_openai.script("judge", merging_judge)
    (workspace.root / ".fusion.toml").write_text('[review]\nbelow_agreement = "hide"\n')

    result = workspace.run("review", "sample.py", "--format", "json")

    data = result.json()
    assert [f.line_start for f in data.findings] == [9]
    assert data.hidden == 1
    text = workspace.run("review", "sample.py")
    assert "1 finding · merge · 1 hidden below review.min_agreement" in text.out


def test_a_bad_dial_is_refused(workspace: Workspace) -> None:
    result = workspace.run("review", "sample.py", "--min-agreement", "0")

    assert result.code == 2
    assert 'not a number from 1 up, or "majority"' in result.err


# -- through the language server ---------------------------------------------------------------


async def test_the_editor_sets_the_dial(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV, SQLI)))
    fake_openai.script("beta", Reply(content=review(DIV)))
    fake_openai.script("judge", merging_judge)
    root = project_with_fake_models(tmp_path, fake_openai.base_url, ["alpha", "beta"], "judge")
    (root / ".fusion.toml").write_text('[review]\ninstructions = "Be brief."\n')
    env = server_env(root / "xdg", "sk-test")

    for dial_value, expected in ((1, "(1/2 models)"), ("majority", "(1/2 models · below")):
        lsp = await start(root, env, "visual-studio-code", {"min_agreement": dial_value})
        try:
            uri = open_document(lsp, root / f"dial{dial_value}.py", SAMPLE.read_text())
            await command(lsp, "fusion.review", uri, lines(1, 12))
            [sqli] = [d for d in lsp.diagnostics[uri] if d.code == "security"]
            assert expected in sqli.message, sqli.message
        finally:
            await lsp.shutdown_session()
            await lsp.stop()
    assert "Be brief." in fake_openai.requests_for("alpha")[0].prompt_text  # merged, not replaced


async def test_a_bad_dial_from_the_editor_is_said_and_ignored(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    root = project_with_fake_models(tmp_path, fake_openai.base_url, ["alpha", "beta"], "judge")
    lsp = await start(root, server_env(root / "xdg", "sk-test"), "neovim", {"min_agreement": 0})
    try:
        await until(lambda: any("editor settings ignored" in m.message for m in lsp.messages))
        [said] = [m.message for m in lsp.messages if "editor settings ignored" in m.message]
        assert "min_agreement" in said
    finally:
        await lsp.shutdown_session()
        await lsp.stop()
