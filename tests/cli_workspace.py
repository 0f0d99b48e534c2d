"""The CLI as a user runs it: a project folder, a user config pointing at the fake model server,
and `fusion-ls` as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI
from reviewers import SAMPLE

from fusion_ls.config.settings import ReviewSettings
from fusion_ls.findings import FusedReview

KEY = "sk-or-v1-test-key-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> FusedReview:
        return FusedReview.model_validate_json(self.out)


@dataclass
class Workspace:
    root: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 60) -> Run:
        done = subprocess.run(
            [sys.executable, "-m", "fusion_ls", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def run_with(self, env: dict[str, str], *args: str) -> Run:
        """`run` with these environment variables added."""
        return Workspace(self.root, {**self.env, **env}).run(*args)

    def user_config(self, text: str) -> None:
        path = self.root / "xdg" / "fusion-ls" / "config.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def project_review(*exclude: str) -> Callable[[Path], ReviewSettings]:
    """Every file's review settings, for `from_paths` and `from_diff`: the defaults, with these
    `review.exclude` patterns."""
    review = ReviewSettings(exclude=list(exclude))
    return lambda _: review


def fake_user_config(base_url: str, more: str = "") -> str:
    """The user config of `workspace`: the default provider is the fake at `base_url`, the pool
    alpha, beta and gamma, the judge judge; `more` is appended (a `[limits]` table, say)."""
    return f"""
[providers.openrouter]
base_url = "{base_url}"
kind = "compatible"
max_retries = 0

[fusion]
pool = ["alpha", "beta", "gamma"]
judge = "judge"
{more}"""


@pytest.fixture
def workspace(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[Workspace]:
    """A project with sample.py, and a user config pointing the default provider at the fake."""
    shutil.copy(SAMPLE, tmp_path / "sample.py")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "OPENROUTER_API_KEY": KEY,
        "PYTHONPATH": str(ROOT),  # the fusion_ls beside these tests, wherever it is installed
    }
    space = Workspace(tmp_path, env)
    space.user_config(fake_user_config(fake_openai.base_url))
    yield space
