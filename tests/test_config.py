"""Loading settings from user config, `.fusion.toml` and overrides; trust; describe_settings.

Every test passes an explicit env whose XDG_CONFIG_HOME lies under tmp_path, and a `root` for
discovery, so nothing outside tmp_path is ever read or written.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from fusion_ls.config.describe import describe_settings
from fusion_ls.config.loading import LoadedSettings, load_settings
from fusion_ls.config.locations import (
    PROJECT_FILE,
    find_project_file,
    user_config_dir,
    user_config_path,
)
from fusion_ls.config.settings import ModelRef, Settings
from fusion_ls.config.trust import is_trusted, trust_file, trusted_files, untrust_file
from fusion_ls.errors import ConfigError, ConfigIssue

Env = dict[str, str]


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def write_user(env: Env, text: str) -> Path:
    return write(user_config_path(env), text)


def load(project: Path, env: Env, overrides: dict[str, Any] | None = None) -> LoadedSettings:
    """Discovery from a file inside `project`, never looking above it."""
    return load_settings(start=project / "main.py", root=project, env=env, overrides=overrides)


def config_errors(project: Path, env: Env) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        load(project, env)
    return caught.value.issues


def only(issues: list[ConfigIssue] | tuple[ConfigIssue, ...], key: str) -> ConfigIssue:
    matching = [issue for issue in issues if issue.key == key]
    assert len(matching) == 1, issues
    return matching[0]


# --- locations of files -----------------------------------------------------------------------


def test_user_config_follows_xdg_then_home(tmp_path: Path) -> None:
    assert user_config_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "fusion-ls"
    home = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": "relative/ignored"}
    assert user_config_path(home) == tmp_path / ".config" / "fusion-ls" / "config.toml"


def test_discovery_walks_up_and_the_nearest_file_wins(project: Path) -> None:
    outer = write(project / PROJECT_FILE, "")
    inner = write(project / "sub" / PROJECT_FILE, "")
    (project / "sub" / "deep").mkdir()
    (project / "other").mkdir()

    assert find_project_file(project / "sub" / "deep" / "x.py", project) == inner
    assert find_project_file(project / "sub", project) == inner
    assert find_project_file(project / "other" / "x.py", project) == outer


def test_discovery_stops_at_the_root(project: Path) -> None:
    write(project / PROJECT_FILE, "")
    (project / "work").mkdir()
    assert find_project_file(project / "work" / "x.py", root=project / "work") is None


# --- merging ----------------------------------------------------------------------------------


def test_defaults_without_any_file(project: Path, env: Env) -> None:
    loaded = load(project, env)
    assert loaded.settings == Settings()
    assert loaded.sources == ()
    assert loaded.warnings == ()


def test_precedence_is_field_by_field(project: Path, env: Env) -> None:
    user = write_user(env, '[fusion]\njudge = "vendor/judge"\nmode = "best-of"\nrounds = 3\n')
    project_file = write(project / PROJECT_FILE, '[fusion]\nmode = "debate"\n')

    loaded = load(project, env, overrides={"fusion": {"pool": ["vendor/only"]}})

    fusion = loaded.settings.fusion
    assert fusion.judge == ModelRef(model="vendor/judge")
    assert fusion.mode == "debate"
    assert [ref.name for ref in fusion.pool] == ["vendor/only"]
    assert fusion.rounds == 3
    assert fusion.timeout_s == Settings().fusion.timeout_s
    assert loaded.settings.providers == Settings().providers
    assert loaded.sources == (user, project_file.resolve())


def test_explicit_project_file_replaces_discovery(tmp_path: Path, project: Path, env: Env) -> None:
    write(project / PROJECT_FILE, 'fusion.mode = "debate"\n')
    elsewhere = write(tmp_path / "ci.toml", 'fusion.mode = "best-of"\n')
    loaded = load_settings(start=project / "x.py", project_file=elsewhere, env=env)
    assert loaded.settings.fusion.mode == "best-of"


def test_missing_explicit_project_file_is_an_error(tmp_path: Path, env: Env) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(project_file=tmp_path / "missing.toml", env=env)


def test_pool_takes_strings_and_tables_with_a_user_provider(project: Path, env: Env) -> None:
    write_user(env, '[providers.local]\nbase_url = "http://localhost:11434/v1"\n')
    write(
        project / PROJECT_FILE,
        """
        [fusion]
        pool = ["openai/gpt-4o", { model = "qwen2.5-coder:14b", provider = "local" }]
        """,
    )
    loaded = load(project, env)
    names = [ref.name for ref in loaded.settings.fusion.pool]
    assert names == ["openai/gpt-4o", "qwen2.5-coder:14b@local"]
    assert set(loaded.settings.providers) == {"openrouter", "local"}
    assert loaded.warnings == ()


def test_array_of_tables_pool_is_located_per_entry(project: Path, env: Env) -> None:
    write(
        project / PROJECT_FILE,
        """
        [[fusion.pool]]
        model = "vendor/a"

        [[fusion.pool]]
        model = ""
        """,
    )
    issue = only(config_errors(project, env), "fusion.pool[1].model")
    assert (issue.line, issue.message) == (5, "must not be empty")


# --- errors with their lines ------------------------------------------------------------------


def test_syntax_error_names_its_line(project: Path, env: Env) -> None:
    path = write(project / PROJECT_FILE, '[fusion]\nmode = "merge"\npool = [1,, 2]\n')
    [issue] = config_errors(project, env)
    assert (issue.path, issue.line) == (path.resolve(), 3)
    assert "invalid TOML" in issue.message


def test_unknown_mode_names_its_line_and_key(project: Path, env: Env) -> None:
    path = write(project / PROJECT_FILE, '# review settings\n[fusion]\nmode = "fast"\n')
    [issue] = config_errors(project, env)
    assert issue == ConfigIssue(
        path.resolve(), 3, "fusion.mode", """'fast' is not one of "best-of", "merge", "debate\""""
    )


def test_dotted_and_quoted_keys_are_located(project: Path, env: Env) -> None:
    write(project / PROJECT_FILE, 'review.context_lines = 10\n"fusion".mode = "fast"\n')
    assert only(config_errors(project, env), "fusion.mode").line == 2


def test_wrong_type_deep_in_a_table(project: Path, env: Env) -> None:
    user = write_user(
        env,
        """
        [providers.local]
        base_url = "http://localhost:8080/v1"
        max_retries = "many"
        """,
    )
    [issue] = config_errors(project, env)
    assert (issue.path, issue.line, issue.key) == (user, 3, "providers.local.max_retries")
    assert issue.message == "must be an integer (got 'many')"


def test_on_save_keys_are_checked_with_their_lines(project: Path, env: Env) -> None:
    write(
        project / PROJECT_FILE,
        """
        [review]
        on_save = "sometimes"
        on_save_debounce_ms = -5
        """,
    )
    issues = config_errors(project, env)
    assert (only(issues, "review.on_save").line, only(issues, "review.on_save").message) == (
        2,
        "must be true or false (got 'sometimes')",
    )
    assert only(issues, "review.on_save_debounce_ms").line == 3
    write(project / PROJECT_FILE, "[review]\non_save = true\non_save_debounce_ms = 200\n")
    review = load(project, env).settings.review
    assert (review.on_save, review.on_save_debounce_ms) == (True, 200)
    assert Settings().review.on_save is False


def test_wrong_type_for_a_whole_table(project: Path, env: Env) -> None:
    write(project / PROJECT_FILE, 'title = "x"\nfusion = 3\n')
    issue = only(config_errors(project, env), "fusion")
    assert (issue.line, issue.message) == (2, "must be a table (got 3)")


def test_empty_pool(project: Path, env: Env) -> None:
    write(project / PROJECT_FILE, "[fusion]\n\npool = []\n")
    [issue] = config_errors(project, env)
    assert (issue.line, issue.key, issue.message) == (
        3,
        "fusion.pool",
        "must list at least one model",
    )


def test_unknown_provider_points_at_the_pool_line(project: Path, env: Env) -> None:
    write(
        project / PROJECT_FILE,
        """
        [fusion]
        mode = "merge"
        pool = ["vendor/a", { model = "m", provider = "nope" }]
        """,
    )
    [issue] = config_errors(project, env)
    assert (issue.line, issue.key) == (3, "fusion.pool")
    assert "'nope'" in issue.message and "[providers.nope]" in issue.message


def test_every_error_is_reported_together(project: Path, env: Env) -> None:
    user = write_user(env, "[fusion]\ntimeout_s = 0\n")
    write(
        project / PROJECT_FILE,
        """
        [fusion]
        mode = "fast"
        rounds = 9
        """,
    )
    issues = config_errors(project, env)
    located = {issue.key: (issue.path, issue.line) for issue in issues}
    assert located == {
        "fusion.mode": ((project / PROJECT_FILE).resolve(), 2),
        "fusion.rounds": ((project / PROJECT_FILE).resolve(), 3),
        "fusion.timeout_s": (user, 2),
    }
    assert only(issues, "fusion.timeout_s").message.startswith("must be a number greater than 0")


def test_the_file_that_set_a_value_gets_the_error(project: Path, env: Env) -> None:
    user = write_user(env, '[fusion]\nmode = "fast"\n')
    write(project / PROJECT_FILE, "[fusion]\nrounds = 3\n")
    [issue] = config_errors(project, env)
    assert (issue.path, issue.line) == (user, 2)


def test_override_errors_have_no_file(project: Path, env: Env) -> None:
    with pytest.raises(ConfigError) as caught:
        load(project, env, overrides={"fusion": {"mode": "fast"}})
    [issue] = caught.value.issues
    assert (issue.path, issue.line, issue.key) == (None, None, "fusion.mode")


def test_non_utf8_file_is_an_error_that_says_what_to_do(project: Path, env: Env) -> None:
    (project / PROJECT_FILE).write_bytes(b'[review]\ninstructions = "caf\xe9"\n')
    [issue] = config_errors(project, env)
    assert issue.line == 2 and "UTF-8" in issue.message


def test_multiline_strings_do_not_confuse_the_locator(project: Path, env: Env) -> None:
    write(
        project / PROJECT_FILE,
        '''
        [review]
        instructions = """
        [fusion]
        mode = "see the docs"
        """
        context_lines = -1
        ''',
    )
    assert only(config_errors(project, env), "review.context_lines").line == 6


# --- unknown keys -----------------------------------------------------------------------------


def test_unknown_key_is_a_warning_with_a_suggestion(project: Path, env: Env) -> None:
    path = write(project / PROJECT_FILE, '[fusion]\nmode = "debate"\nmdoe = "merge"\n')
    loaded = load(project, env)
    assert loaded.settings.fusion.mode == "debate"
    [warning] = loaded.warnings
    assert (warning.path, warning.line, warning.key) == (path.resolve(), 3, "fusion.mdoe")
    assert warning.severity == "warning"
    assert warning.message == "unknown key 'mdoe' (ignored); did you mean 'mode'?"


# --- trust ------------------------------------------------------------------------------------

UNTRUSTED_PROVIDERS = """
[fusion]
pool = ["vendor/a"]

[providers.openrouter]
base_url = "https://attacker.example/v1"

[providers.local]
base_url = "http://localhost:11434/v1"
"""


def test_untrusted_project_providers_are_ignored(project: Path, env: Env) -> None:
    path = write(project / PROJECT_FILE, UNTRUSTED_PROVIDERS)
    loaded = load(project, env)
    assert loaded.settings.providers == Settings().providers
    assert [ref.name for ref in loaded.settings.fusion.pool] == ["vendor/a"]
    [warning] = loaded.warnings
    assert (warning.line, warning.key, warning.severity) == (4, "providers", "warning")
    assert f"fusion-ls trust {path.resolve()}" in warning.message


def test_untrusted_warning_explains_a_missing_provider(project: Path, env: Env) -> None:
    write(
        project / PROJECT_FILE,
        UNTRUSTED_PROVIDERS.replace('"vendor/a"', '{ model = "qwen", provider = "local" }'),
    )
    issues = config_errors(project, env)
    assert [(issue.key, issue.severity) for issue in issues] == [
        ("fusion.pool", "error"),
        ("providers", "warning"),
    ]


def test_trusting_makes_project_providers_count(project: Path, env: Env) -> None:
    path = write(
        project / PROJECT_FILE,
        UNTRUSTED_PROVIDERS.replace('"vendor/a"', '{ model = "qwen", provider = "local" }'),
    )
    digest = trust_file(path, env)

    assert is_trusted(path, env)
    assert trusted_files(env) == {str(path.resolve()): digest}
    assert json.loads((user_config_dir(env) / "trusted.json").read_text()) == trusted_files(env)
    loaded = load(project, env)
    assert loaded.settings.providers["local"].base_url == "http://localhost:11434/v1"
    assert loaded.settings.providers["openrouter"].base_url == "https://attacker.example/v1"
    # The models go where the trusted file says; the key stays with its origin.
    assert loaded.settings.providers["openrouter"].api_key_env is None
    [moved] = loaded.warnings
    assert moved.key == "providers.openrouter" and "no API key is sent to" in moved.message


def test_editing_the_file_revokes_trust(project: Path, env: Env) -> None:
    path = write(project / PROJECT_FILE, UNTRUSTED_PROVIDERS)
    trust_file(path, env)
    path.write_text(UNTRUSTED_PROVIDERS + "\n# edited\n", encoding="utf-8")

    assert not is_trusted(path, env)
    assert load(project, env).settings.providers == Settings().providers


def test_even_a_trusted_project_cannot_name_a_key_variable(project: Path, env: Env) -> None:
    path = write(
        project / PROJECT_FILE,
        """
        [providers.openrouter]
        base_url = "https://proxy.example/v1"
        api_key_env = "GITHUB_TOKEN"
        """,
    )
    trust_file(path, env)
    loaded = load(project, env)
    assert loaded.settings.providers["openrouter"].base_url == "https://proxy.example/v1"
    assert loaded.settings.providers["openrouter"].api_key_env is None  # nor follow one there
    assert only(loaded.warnings, "providers.openrouter.api_key_env").line == 3


def test_untrust_forgets_the_file(project: Path, env: Env) -> None:
    path = write(project / PROJECT_FILE, UNTRUSTED_PROVIDERS)
    trust_file(path, env)
    assert untrust_file(path, env) is True
    assert untrust_file(path, env) is False
    assert not is_trusted(path, env)


# --- limits -----------------------------------------------------------------------------------


def test_project_limits_can_lower_but_not_raise(project: Path, env: Env) -> None:
    write_user(env, "[limits]\nmax_cost_usd = 3.0\n")
    write(project / PROJECT_FILE, "[limits]\nmax_cost_usd = 1.5\nmax_input_tokens = 999999\n")

    loaded = load(project, env)

    assert loaded.settings.limits.max_cost_usd == 1.5
    assert loaded.settings.limits.max_input_tokens == Settings().limits.max_input_tokens
    [warning] = loaded.warnings
    assert (warning.line, warning.key) == (3, "limits.max_input_tokens")
    assert "may only lower" in warning.message


def test_project_cannot_raise_a_user_limit(project: Path, env: Env) -> None:
    write_user(env, "[limits]\nmax_cost_usd = 3.0\n")
    write(project / PROJECT_FILE, "[limits]\nmax_cost_usd = 50\n")
    loaded = load(project, env)
    assert loaded.settings.limits.max_cost_usd == 3.0
    assert only(loaded.warnings, "limits.max_cost_usd").line == 2


# --- describe_settings ------------------------------------------------------------------------


def test_describe_names_key_variables_but_never_their_values(project: Path, env: Env) -> None:
    write_user(
        env,
        """
        [providers.local]
        base_url = "http://localhost:11434/v1"
        api_key_env = "LOCAL_KEY"
        """,
    )
    write(project / PROJECT_FILE, '[fusion]\nmode = "debate"\nmdoe = 1\n')
    loaded = load(project, env)

    text = describe_settings(loaded, {"OPENROUTER_API_KEY": "sk-or-very-secret"})

    assert "sk-or-very-secret" not in text
    assert "OPENROUTER_API_KEY (set)" in text
    assert "LOCAL_KEY (not set)" in text
    assert "mode: debate" in text
    assert "anthropic/claude-sonnet-4.5" in text
    assert str(loaded.warnings[0]) in text


def test_an_override_does_not_hide_an_error_in_the_file(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".fusion.toml").write_text('[fusion]\nmode = "loud"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}

    with pytest.raises(ConfigError) as error:
        load_settings(start=project, overrides={"fusion": {"mode": "merge"}}, env=env)

    [issue] = [i for i in error.value.issues if i.severity == "error"]
    assert (issue.line, issue.key) == (2, "fusion.mode")


def test_an_untrusted_workspace_overrules_fusion_ls_trust(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    config = project / ".fusion.toml"
    config.write_text('[providers.local]\nbase_url = "http://localhost:11434/v1"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    trust_file(config, env)

    trusted = load_settings(start=project, env=env)
    restricted = load_settings(start=project, env=env, workspace_trusted=False)

    assert "local" in trusted.settings.providers
    assert "local" not in restricted.settings.providers
    assert any("has not trusted this workspace" in str(w) for w in restricted.warnings)
