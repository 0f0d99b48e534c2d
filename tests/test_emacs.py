"""The Emacs set-up README gives (editors/emacs/fusion-ls.el) in a real Emacs, end to end.

`emacs --batch -l emacs_driver.el` loads the snippet as a user's init would, starts eglot on a
copy of the sample with the real server, reviews lines 1-10 (flymake diagnostics), reads the
hover through eldoc, applies the quick fix, reviews the changes (the fix, unsaved), explains
lines 1-2, starts a slow explanation from a code action and clears the findings; the
assertions are here. The models are the fake API of tests/editor_home.py.

Emacs and eglot come from Debian: `apt-get install emacs-nox elpa-eglot` (bookworm: Emacs 28.2,
whose eglot is not built in, with eglot 1.9). `make test` installs them when they are missing
and it runs as root. Without Emacs the test is skipped with that reason, but fails under CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from editor_home import make_home
from fake_openai import FakeOpenAI
from reviewers import FIX, SAMPLE

ROOT = Path(__file__).parents[1]
SNIPPET = ROOT / "editors" / "emacs" / "fusion-ls.el"
DRIVER = Path(__file__).parent / "emacs_driver.el"
SERVER = [sys.executable, "-m", "fusion_ls"]
TIMEOUT_S = 90
DIV_MESSAGE = "fusion [bug]: Division by zero when values is empty"  # eglot adds source, code
INSTALL = "apt-get install -y emacs-nox elpa-eglot (`make test` does it as root)"


@pytest.fixture(scope="module")
def emacs() -> str:
    found = shutil.which("emacs")
    if found is None:
        reason = f"Emacs is not installed, so README's Emacs set-up is untested: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def run(emacs: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("emacs")
    with FakeOpenAI() as fake:
        project, env = make_home(home, fake)
        result = home / "result.json"
        argv = [emacs, "--batch", "-l", str(DRIVER), str(result), str(SNIPPET)]
        argv += [str(project / "src" / "sample.py"), *SERVER]
        done = subprocess.run(
            argv, cwd=project, env=env, text=True, timeout=TIMEOUT_S,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        hung_up = fake.disconnects
    assert result.is_file(), f"Emacs wrote no result; it said:\n{done.stdout}"
    seen: dict[str, Any] = json.loads(result.read_text())
    error = seen.get("error")
    hint = f" (is eglot installed? {INSTALL})" if error and "eglot" in error else ""
    assert error is None, f"Emacs: {error}{hint}\n\nIt said:\n{done.stdout}"
    seen["hung_up"] = hung_up
    return seen


def test_readme_shows_the_snippet_the_test_loads() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```elisp\n(.*?)```", readme, re.DOTALL)
    assert SNIPPET.read_text() in blocks


def test_the_snippet_byte_compiles_without_warnings(emacs: str, tmp_path: Path) -> None:
    copy = tmp_path / SNIPPET.name
    shutil.copy(SNIPPET, copy)
    compile_it = (
        "(progn (package-initialize) (setq byte-compile-error-on-warn t)"
        f" (kill-emacs (if (byte-compile-file {json.dumps(str(copy))}) 0 1)))"
    )
    done = subprocess.run(
        [emacs, "--batch", "--eval", compile_it], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_a_region_review_shows_the_fused_findings_as_flymake_diagnostics(
    run: dict[str, Any],
) -> None:
    assert [(d["line"], d["column"], d["type"], d["text"]) for d in run["diagnostics"]] == [
        (5, 4, "eglot-error", f"{DIV_MESSAGE} (2/3 models)"),
        (9, 4, "eglot-warning", "fusion [security]: SQL injection via user_id (2/3 models)"),
    ]
    assert "fusion-ls: 2 findings" in run["messages"]


def test_eldoc_shows_the_finding_s_reasoning_and_fix(run: dict[str, Any]) -> None:
    assert run["hover"].startswith(f"{DIV_MESSAGE} (2/3 models)\n")  # flymake's, then the hover
    assert "`len(values)` is 0 for an empty list." in run["hover"]
    assert "+    return total / len(values) if values else 0.0" in run["hover"]


def test_the_quick_fix_edits_only_the_finding(run: dict[str, Any]) -> None:
    fix, *others = run["actions"]  # what eglot offered to pick from; the driver picked the fix
    assert fix == "Fusion: apply fix — Division by zero when values is empty"
    assert others and all(title.startswith("Fusion: dismiss") for title in others), others
    expected = [*SAMPLE.read_text().split("\n")]
    expected[4] = FIX["replacement"]
    assert run["fixed"] == expected


def test_an_explanation_opens_in_a_help_buffer_and_clear_removes_the_findings(
    run: dict[str, Any],
) -> None:
    assert run["explanation"].startswith("It adds the values up [")
    assert run["cleared"] is True


def test_review_changes_reviews_the_unsaved_fix_and_not_emacs_s_lock_file(
    run: dict[str, Any],
) -> None:
    assert run["locked"] is True  # `.#sample.py`, a link git lists as untracked
    assert "fusion-ls: 1 finding in 1 file" in run["messages"]
    assert not any("not reviewed" in message for message in run["messages"]), run["messages"]


def test_a_code_action_that_starts_an_explanation_returns_at_once(run: dict[str, Any]) -> None:
    """eglot waits for a code action's command: Emacs hung until the models answered, and
    eglot before 1.16 gave up after 10 seconds with "Timed out"."""
    assert run["code-action-s"] < 2
    assert not any("Timed out" in message for message in run["messages"]), run["messages"]
    assert run["hung_up"] >= 1  # fusion-ls-clear stopped it: the slow model was hung up on
