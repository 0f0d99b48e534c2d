"""Fail fast and say it once: eval with no usable model stops before any review, a missing key
is said once, a malformed model id is an error on its line, findings outside the reviewed
lines are not called bad quotes."""

from __future__ import annotations

import time

from cli_workspace import Workspace
from fake_openai import FakeOpenAI, Reply
from reviewers import DIV, finding, review
from test_eval import small_dataset

KEY_MISSING = "OPENROUTER_API_KEY is not set"


def without_key(workspace: Workspace) -> Workspace:
    return Workspace(
        workspace.root, {k: v for k, v in workspace.env.items() if k != "OPENROUTER_API_KEY"}
    )


def test_eval_with_no_usable_model_stops_before_any_review(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    small_dataset(workspace)
    started = time.monotonic()

    result = without_key(workspace).run("eval", "ds")

    assert result.code == 3
    assert result.err.count(KEY_MISSING) == 1, result.err
    assert "eval stopped before any review" in result.err
    assert result.out == "" and fake_openai.requests == []
    assert time.monotonic() - started < 15


def test_a_missing_key_is_said_once_not_once_per_model(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    """alpha and beta need the missing key; gamma runs on a keyless local server."""
    fake_openai.script("gamma", Reply(content=review(DIV)))
    workspace.user_config(
        f"""
[providers.openrouter]
base_url = "https://openrouter.ai/api/v1"

[providers.local]
base_url = "{fake_openai.base_url}"
max_retries = 0

[fusion]
pool = ["openai/alpha", "openai/beta", {{ model = "gamma", provider = "local" }}]
judge = "openai/judge"
"""
    )

    result = without_key(workspace).run("review", "sample.py", "--quiet")

    assert result.code == 0, result.err
    assert result.out.count(KEY_MISSING) == 1, result.out
    assert f"openai/alpha, openai/beta: {KEY_MISSING}" in result.out
    assert "openai/alpha  " in result.out and "(see below)" in result.out


def test_malformed_model_ids_are_errors_on_their_lines(workspace: Workspace) -> None:
    workspace.user_config('[fusion]\npool = ["gpt4"]\n')  # the real OpenRouter: ids need a vendor
    project = workspace.root / ".fusion.toml"
    project.write_text('[fusion]\nmode = "merge"\njudge = "claude sonnet"\n')

    checked = workspace.run("config", "check")
    reviewed = workspace.run("review", "sample.py")

    user = workspace.root / "xdg" / "fusion-ls" / "config.toml"
    assert checked.code == 2 and reviewed.code == 2
    errors = checked.err.splitlines()
    assert f"{user}:2: fusion.pool[0]: 'gpt4' is not a model id of provider 'openrouter': " in (
        checked.err
    )
    assert any("did you mean 'openai/gpt-4'?" in e for e in errors)
    assert any(
        e.startswith(f"{project}:3: fusion.judge: 'claude sonnet' ")
        and "no spaces; did you mean 'anthropic/claude-sonnet'?" in e
        for e in errors
    )
    assert reviewed.err == checked.err


def test_a_generic_server_may_name_its_models_as_it_likes(workspace: Workspace) -> None:
    """Local servers' ids (`qwen2.5-coder:7b`, `alpha`) have no vendor: only OpenRouter's do."""
    assert workspace.run("config", "check").code == 0


def test_findings_outside_the_reviewed_lines_are_counted_as_such(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    greet = finding(14, '"Hello, " + name', "Use an f-string", category="style")
    nowhere = finding(3, "eval(user_input)", "Arbitrary code execution")
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(DIV, greet, nowhere)))

    result = workspace.run("review", "sample.py", "--lines", "1-10", "--quiet")

    assert result.code == 0, result.err
    assert "· 3 outside the reviewed lines · 3 dropped (their quote was not at or near" in (
        result.out
    )


def test_config_check_says_a_model_list_could_not_be_read_not_that_there_is_none(
    workspace: Workspace,
) -> None:
    """Offline, `config check` said OpenRouter "publishes no model list"."""
    workspace.user_config(
        '[providers.openrouter]\nbase_url = "http://127.0.0.1:9/v1"\nkind = "openrouter"\n'
        'max_retries = 0\n\n[fusion]\npool = ["openai/gpt-4o"]\njudge = "openai/gpt-5-mini"\n'
    )

    result = workspace.run("config", "check")

    assert result.code == 0, result.err
    assert "unavailable" in result.err  # the warning says why
    unread = "not checked (the model list of provider openrouter could not be read)"
    assert f"pool openai/gpt-4o: {unread}" in result.out
    assert "publishes no model list" not in result.out


def test_explain_without_a_key_fetches_no_model_list(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    """The budget check priced each model from OpenRouter's list before finding that none
    could be asked: a request to the provider, and a warning under `-q` when offline."""
    workspace.user_config(
        f"""
[providers.openrouter]
base_url = "{fake_openai.base_url}"
kind = "openrouter"
max_retries = 0
"""
    )

    result = without_key(workspace).run("explain", "sample.py", "--lines", "1-5", "-q")

    assert result.code == 3
    assert KEY_MISSING in result.out
    assert fake_openai.requests == [] and fake_openai.lookups == []
    assert "model list" not in result.err
