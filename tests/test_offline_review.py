"""README's first command, `make review FILE=tests/fixtures/sample.py`, with no key: the local
analyzers review the file and their agreement shows, as a new user first sees it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not on PATH")
@pytest.mark.skipif(
    not (VENV / "bin" / "fusion-ls").exists(), reason=f"fusion-ls is not installed in {VENV}"
)
def test_the_first_command_fuses_the_analyzers_offline(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),  # no user config, so no key and the default pool
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT),  # the fusion_ls beside these tests
    }
    stamp = VENV / ".installed-stamp"  # the set-up is this test run's own: never redone
    done = subprocess.run(
        ["make", "--no-print-directory", "review", "FILE=tests/fixtures/sample.py",
         f"VENV={VENV}", "-o", str(stamp), "ARGS=--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    note = next(line for line in lines if line.startswith("note: "))
    assert "OPENROUTER_API_KEY is not set" in note
    assert note.endswith("reviewing with local analyzers only: tool:bandit, tool:mypy, tool:ruff")
    assert done.stdout.count("OPENROUTER_API_KEY is not set") == 1  # once, not per model
    sql = "tests/fixtures/sample.py:9:5: warning [security] B608: Possible SQL injection"
    assert f"{sql} vector through string-based query construction. (2/2 analyzers)" in lines
    assert "analyzers:" in lines and "models:" not in lines
    assert any("skipped" in line and "no model to judge" in line for line in lines)
    assert done.stderr == ""  # no request was tried, so no warning about one
