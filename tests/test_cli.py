"""`fusion-ls` as a user runs it: a subprocess, a real config, the fake model server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_workspace import KEY, Workspace
from fake_openai import FakeOpenAI, Reply
from reviewers import best_of_judge, finding, is_round, merging_judge, review

from fusion_ls.cli.github import github_annotations
from fusion_ls.findings import Finding, FusedReview, LineRange, Usage

DIV = finding(5, "return total / len(values)", "Division by zero when values is empty")
SQLI = finding(
    9, '"SELECT * FROM users WHERE id = " + user_id', "SQL injection via user_id",
    category="security", severity="warning",
)  # fmt: skip
HINT = finding(14, '"Hello, " + name', "Use an f-string", severity="hint", category="style")


def script_pool(fake: FakeOpenAI) -> None:
    fake.script("alpha", Reply(content=review(DIV, SQLI)))
    fake.script("beta", Reply(content=review(SQLI)))
    fake.script("gamma", Reply(content=review(DIV, HINT)))


def test_merge_prints_linter_lines_summary_and_statuses(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    script_pool(fake_openai)
    fake_openai.script("judge", merging_judge)

    result = workspace.run("review", "sample.py")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[:3] == [
        "sample.py:5:5: error [bug] Division by zero when values is empty (2/3 models)",
        "sample.py:9:5: warning [security] SQL injection via user_id (2/3 models)",
        "sample.py:14:5: hint [style] Use an f-string (1/3 models · below min_agreement)",
    ]
    assert "merged by the judge" in result.out
    statuses = [line.split()[:2] for line in lines if line.startswith("  ")]
    assert statuses == [["ok", "alpha"], ["ok", "beta"], ["ok", "gamma"], ["ok", "judge"]]
    assert "3 findings · merge" in result.out
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in fake_openai.requests)


def test_best_of_mode_from_the_command_line(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV, SQLI, HINT)))
    fake_openai.script("beta", Reply(content=review(SQLI)))
    fake_openai.script("gamma", Reply(content=review(DIV)))
    fake_openai.script("judge", best_of_judge)

    result = workspace.run("review", "sample.py", "--mode", "best-of", "--format", "json")

    assert result.code == 0, result.err
    fused = result.json()
    assert fused.mode == "best-of"
    assert [(f.line_start, f.models) for f in fused.findings] == [
        (5, ["alpha", "gamma"]),
        (9, ["alpha", "beta"]),
        (14, ["alpha"]),
    ]


def test_debate_mode_from_the_command_line(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV, SQLI)))
    fake_openai.script(
        "beta", lambda r: Reply(content=review(SQLI, DIV) if is_round(r, 2) else review(SQLI))
    )
    fake_openai.script(
        "gamma", lambda r: Reply(content=review(DIV, SQLI) if is_round(r, 2) else review(DIV))
    )
    fake_openai.script("judge", merging_judge)

    result = workspace.run("review", "sample.py", "--mode", "debate")

    assert result.code == 0, result.err
    assert "sample.py:5:5: error [bug] Division by zero when values is empty (3/3 models)" in (
        result.out
    )
    assert "(3/3 models)" in result.out.splitlines()[1]
    assert "round 2: 3/3 answered" in result.err


def test_json_output_is_the_fused_review(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    script_pool(fake_openai)
    fake_openai.script("judge", merging_judge)

    result = workspace.run("review", "sample.py", "--lines", "1-10", "--format", "json")

    assert result.code == 0, result.err
    data = json.loads(result.out)
    for key in ("findings", "summary", "mode", "models", "judge", "degraded", "usage", "elapsed_s"):
        assert key in data
    first = data["findings"][0]
    for key in (
        "line_start", "line_end", "severity", "category", "message", "rationale", "fix",
        "models", "agreement",
    ):  # fmt: skip
        assert key in first
    for key in ("model", "status", "latency_s", "error", "usage"):
        assert key in data["models"][0]
    assert data["lines"] == {"start": 1, "end": 10}
    assert [f["line_start"] for f in data["findings"]] == [5, 9]  # the hint on 14 is outside
    assert data["usage"]["prompt_tokens"] > 0


def test_models_answer_in_parallel(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    for model, found in (("alpha", [DIV]), ("beta", [SQLI]), ("gamma", [HINT])):
        fake_openai.script(model, Reply(content=review(*found), delay_s=1.0))
    fake_openai.script("judge", lambda r: Reply(content=merging_judge(r).content, delay_s=0.3))

    result = workspace.run("review", "sample.py", "--format", "json", "--quiet")

    assert result.code == 0, result.err
    fused = result.json()
    assert 1.3 <= fused.elapsed_s < 1.9, f"three 1 s models + 0.3 s judge took {fused.elapsed_s} s"
    starts = sorted(r.received_at for r in fake_openai.requests if r.model != "judge")
    assert starts[-1] - starts[0] < 0.5


@pytest.mark.parametrize(
    ("fail_on", "code"), [("error", 1), ("warning", 1), ("info", 1), (None, 0)]
)
def test_fail_on_sets_the_exit_code(
    workspace: Workspace, fake_openai: FakeOpenAI, fail_on: str | None, code: int
) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(DIV)))
    args = ["review", "sample.py", "--quiet"] + (["--fail-on", fail_on] if fail_on else [])

    assert workspace.run(*args).code == code


def test_fail_on_ignores_less_severe_findings(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(HINT)))

    assert workspace.run("review", "sample.py", "--fail-on", "warning").code == 0


def test_no_model_answered_exits_3(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(status=401, error="invalid key"))

    result = workspace.run("review", "sample.py")

    assert result.code == 3
    assert "no model answered" in result.err
    assert "check the environment variable OPENROUTER_API_KEY" in result.out
    assert KEY not in result.out + result.err


def test_without_a_key_the_local_analyzers_review_and_say_so(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    del workspace.env["OPENROUTER_API_KEY"]

    text = workspace.run("review", "sample.py")
    data = json.loads(workspace.run("review", "sample.py", "--format", "json").out)

    assert text.code == 0, text.err
    first = text.out.splitlines()[0]
    assert first.startswith("note: no model provider can be used (OPENROUTER_API_KEY is not set")
    assert first.endswith("reviewing with local analyzers only: tool:bandit, tool:mypy, tool:ruff")
    assert text.out.count("OPENROUTER_API_KEY is not set") == 1  # said once, not per model
    sql = "sample.py:9:5: warning [security] B608: Possible SQL injection"
    assert sql in text.out and "(2/2 analyzers)" in text.out
    assert "\nanalyzers:\n" in text.out and "no model to judge" in text.out
    assert [m["model"] for m in data["models"]] == ["tool:bandit", "tool:mypy", "tool:ruff"]
    assert data["notice"].startswith("no model provider can be used")
    assert data["judge"]["status"] == "skipped" and not data["degraded"]
    assert fake_openai.requests == []


@pytest.mark.parametrize("name", ["app.js", "Main.java"])
def test_a_file_nothing_can_review_gets_one_line_and_exit_2(
    workspace: Workspace, fake_openai: FakeOpenAI, tmp_path: Path, name: str
) -> None:
    del workspace.env["OPENROUTER_API_KEY"]
    workspace.env["PATH"] = str(tmp_path / "empty")  # no JavaScript analyzer installed
    (workspace.root / name).write_text("function f(x) { return eval(x); }\n")

    result = workspace.run("review", name, "--quiet")

    assert result.code == 2
    assert result.out == ""
    [line] = [line for line in result.err.splitlines() if not line.startswith("model list")]
    assert line.startswith(f"fusion-ls: nothing can review {name}: no model can be used (")
    assert line.count("OPENROUTER_API_KEY is not set") == 1
    assert f"no local analyzer for {Path(name).suffix} files is installed" in line
    if name == "app.js":
        assert "; oxlint is not on PATH (install: npm install -g oxlint" in line
    assert fake_openai.requests == []


def test_config_error_exits_2_with_path_line_and_key(workspace: Workspace) -> None:
    (workspace.root / ".fusion.toml").write_text('[fusion]\n\nmode = "fast"\n')

    result = workspace.run("review", "sample.py")

    assert result.code == 2
    assert f"{workspace.root / '.fusion.toml'}:3: fusion.mode:" in result.err
    assert "best-of" in result.err


def test_project_file_sets_the_mode(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    script_pool(fake_openai)
    fake_openai.script("judge", best_of_judge)
    (workspace.root / ".fusion.toml").write_text('[fusion]\nmode = "best-of"\n')

    assert workspace.run("review", "sample.py", "--format", "json").json().mode == "best-of"
    override = workspace.run("review", "sample.py", "--format", "json", "--mode", "merge")
    assert override.json().mode == "merge"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "missing.py"], "missing.py: no such file, directory or matching glob"),
        (["review", "sample.py", "--lines", "ten"], "is not a line range"),
        (["review", "sample.py", "--lines", "40-50"], "past the end of sample.py"),
        (["review", "sample.py", "--mode", "vote"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(workspace: Workspace, args: list[str], message: str) -> None:
    result = workspace.run(*args)
    assert result.code == 2
    assert message in result.err


def test_binary_file_is_refused(workspace: Workspace) -> None:
    (workspace.root / "blob.py").write_bytes(b"\xff\xfe\x00bad")
    result = workspace.run("review", "blob.py")
    assert result.code == 2 and "not UTF-8" in result.err


def test_progress_line_on_stderr_and_quiet(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    script_pool(fake_openai)
    fake_openai.script("judge", merging_judge)

    loud = workspace.run("review", "sample.py")
    quiet = workspace.run("review", "sample.py", "--quiet")

    assert "round 1: 3/3 answered" in loud.err
    assert "round 1: 3/3 answered · judging…" in loud.err
    assert quiet.err == ""
    assert quiet.out.splitlines()[:3] == loud.out.splitlines()[:3]


def test_explain_prints_the_merged_explanation(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script("alpha", Reply(content=json.dumps({"explanation": "Sums values."})))
    fake_openai.script("beta", Reply(content=json.dumps({"explanation": "Averages."})))
    fake_openai.script("gamma", Reply(content=json.dumps({"explanation": "Divides."})))
    fake_openai.script(
        "judge", Reply(content=json.dumps({"explanation": "It averages a list [A][C]."}))
    )

    text = workspace.run("explain", "sample.py", "--lines", "1-5")
    as_json = workspace.run("explain", "sample.py", "--lines", "1-5", "--format", "json")

    assert text.code == 0, text.err
    assert text.out.startswith("It averages a list [")
    assert "[A]" not in text.out
    data = json.loads(as_json.out)
    assert data["lines"] == {"start": 1, "end": 5} and data["explanation"].startswith("It averages")


def test_config_check_shows_settings_never_the_key(workspace: Workspace) -> None:
    result = workspace.run("config", "check")

    assert result.code == 0, result.err
    assert "alpha" in result.out and "judge" in result.out
    assert "OPENROUTER_API_KEY" in result.out
    assert KEY not in result.out + result.err


def test_config_check_lists_every_error(workspace: Workspace) -> None:
    (workspace.root / ".fusion.toml").write_text(
        '[fusion]\nmode = "fast"\ntimeout_s = -1\n\n[review]\ncontext_lines = "many"\n'
    )

    result = workspace.run("config", "check")

    assert result.code == 2
    errors = result.err.splitlines()
    path = workspace.root / ".fusion.toml"
    assert any(e.startswith(f"{path}:2: fusion.mode:") for e in errors)
    assert any(e.startswith(f"{path}:3: fusion.timeout_s:") for e in errors)
    assert any(e.startswith(f"{path}:6: review.context_lines:") for e in errors)


def test_untrusted_project_providers_are_ignored_until_trusted(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(DIV)))
    project = workspace.root / ".fusion.toml"
    project.write_text('[providers.openrouter]\nbase_url = "http://127.0.0.1:9/v1"\n')

    untrusted = workspace.run("review", "sample.py", "--quiet")
    assert untrusted.code == 0, untrusted.err
    assert "fusion-ls trust" in untrusted.err

    assert workspace.run("trust").code == 0
    assert str(project) in workspace.run("trust", "--list").out
    sent = len(fake_openai.requests)
    trusted = workspace.run("review", "sample.py", "--quiet")
    # Trusted, the models go to the project's server, without the user's key (nothing listens
    # there, so the review falls back to the local analyzers).
    assert "nothing answers at http://127.0.0.1:9/v1" in trusted.out
    assert "no API key is sent to http://127.0.0.1:9/v1" in trusted.err
    assert len(fake_openai.requests) == sent  # the user's own provider was not asked

    assert workspace.run("untrust").code == 0
    assert workspace.run("review", "sample.py", "--quiet").code == 0


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "fusion-ls"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.startswith("fusion-ls ")


def test_ci_never_passes_without_a_model(workspace: Workspace) -> None:
    """A fork's pull request gets no secrets: the offline fallback (local analyzers) may show
    findings, but under CI=true (or --require-models) the run fails, and SARIF says so."""
    no_key = {k: v for k, v in workspace.env.items() if k != "OPENROUTER_API_KEY"}
    local = Workspace(workspace.root, no_key)
    ci = Workspace(workspace.root, {**no_key, "CI": "true"})

    offline = local.run("review", "sample.py", "--quiet")
    strict = local.run("review", "sample.py", "--quiet", "--require-models")
    in_ci = ci.run("review", "sample.py", "--quiet", "--format", "sarif")

    assert offline.code in (0, 1), offline.err
    assert strict.code == 3 and "only local analyzers (--require-models" in strict.err
    assert "or drop --require-models to accept the analyzers' review" in strict.err
    assert in_ci.code == 3 and "(CI=true asks for models)" in in_ci.err
    assert "or set CI=false to accept the analyzers' review" in in_ci.err
    [invocation] = json.loads(in_ci.out)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert any(
        n["message"]["text"] == "no model answered; only local analyzers ran"
        for n in invocation["toolExecutionNotifications"]
    )


def test_github_format_prints_workflow_annotations(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    script_pool(fake_openai)
    fake_openai.script("judge", merging_judge)

    result = workspace.run("review", "sample.py", "--format", "github", "--quiet")

    assert result.code == 0, result.err
    annotations = result.out.splitlines()
    assert annotations[0] == (
        "::error title=fusion-ls (bug%2C 2/3 models),file=sample.py,line=5,col=5,endLine=5"
        "::Division by zero when values is empty"
    )
    assert annotations[1].startswith("::warning title=fusion-ls (security%2C 2/3 models)")
    assert annotations[2].startswith(
        "::notice title=fusion-ls (style%2C 1/3 models · below min_agreement)"
    )
    assert all("\n" not in line for line in annotations)


def test_github_annotations_escape_what_would_break_the_command() -> None:
    noted = Finding.model_validate(
        {
            "id": "x", "line_start": 1, "line_end": 1, "quote": "a", "severity": "hint",
            "category": "style", "message": "100% wrong: a, b", "rationale": "line one\nline two",
            "fix": None, "models": ["m"], "answered": 1,
        }
    )  # fmt: skip
    review = FusedReview(
        path="dir,with:odd/x.py", lines=LineRange(start=1, end=1), findings=[noted],
        summary="", mode="merge", models=[], judge=None, usage=Usage(), elapsed_s=0.1,
    )  # fmt: skip

    [line] = github_annotations(review, ["a = 1"]).splitlines()

    assert line == (
        "::notice title=fusion-ls (style%2C 1/1 models),file=dir%2Cwith%3Aodd/x.py,line=1,col=1,"
        "endLine=1::100%25 wrong: a, b%0A%0Aline one%0Aline two"
    )
