"""A user's machine for the real-editor tests (Neovim, Emacs): fake models, config, a project.

Each editor test gets a home of its own: fusion-ls's user config aimed at a fake model API that
answers what the editors' drivers ask (reviews of the sample, explanations of some of its lines,
failures of others), a project holding a copy of the sample, and an environment that reaches
nothing else (no real key, XDG directories inside the home). The project is a git repository
with one commit, so a review of changes has something to compare with.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from fake_openai import FakeOpenAI, RecordedRequest, Reply
from reviewers import DIV, DIV_B, SAMPLE, SQLI, explaining_judge, review

__all__ = [
    "ASKED_SLOW",
    "DOWN",
    "EXPLANATION",
    "INSTRUCTIONS",
    "SLOW_S",
    "make_home",
    "script_models",
]

EXPLANATION = "It adds the values up [A][B]."  # the judge's; the labels become model names
DOWN = "the model is down"
SLOW_S = 60.0  # an answer no test waits for: cancelled first
# Written in the home once a model is asked what it answers slowly: a driver that cancels waits
# for it, so the cancellation reaches requests in flight, not ones not yet sent.
ASKED_SLOW = "asked-slow"
INSTRUCTIONS = "Mind the edge cases."  # the project's .fusion.toml: health checks show it


def _pool_model(name: str, answer: str, home: Path) -> Callable[[RecordedRequest], Reply]:
    """A pool model's script: `answer` to reviews; to explanations, an answer (lines 1-2), a
    failure (3-4), a blank answer (6-7) or one too slow to wait for (8-10, saying it was asked in
    `home`/ASKED_SLOW); a failure to the review of lines 12-14."""

    def reply(request: RecordedRequest) -> Reply:
        text = request.prompt_text
        if "Explain lines 1-2 " in text:
            return Reply(content=json.dumps({"explanation": f"{name}: it sums the values."}))
        if "Explain lines 3-4 " in text or 'reviewed="12-14"' in text:
            return Reply(status=500, error=DOWN)
        if "Explain lines 6-7 " in text:
            return Reply(content=json.dumps({"explanation": " "}))
        if "Explain lines 8-10 " in text:
            (home / ASKED_SLOW).touch()
            return Reply(content=json.dumps({"explanation": "too late"}), delay_s=SLOW_S)
        return Reply(content=answer)

    return reply


def script_models(fake: FakeOpenAI, home: Path) -> None:
    """alpha finds both bugs, beta the injection, gamma the division (worded otherwise)."""
    fake.script("alpha", _pool_model("alpha", review(DIV, SQLI), home))
    fake.script("beta", _pool_model("beta", review(SQLI), home))
    fake.script("gamma", _pool_model("gamma", review(DIV_B), home))
    fake.script("judge", explaining_judge(EXPLANATION))


def make_home(home: Path, fake: FakeOpenAI, *, key: bool = True) -> tuple[Path, dict[str, str]]:
    """The project (a git repository whose one commit holds a .fusion.toml and src/sample.py:
    a review of changes has a HEAD to compare with) and the environment."""
    script_models(fake, home)
    config = home / "config"  # the editor's, and fusion-ls's $XDG_CONFIG_HOME/fusion-ls/
    (config / "fusion-ls").mkdir(parents=True)
    (config / "fusion-ls" / "config.toml").write_text(
        f'[providers.openrouter]\nbase_url = "{fake.base_url}"\nkind = "compatible"\n'
        'max_retries = 0\n\n[fusion]\npool = ["alpha", "beta", "gamma"]\njudge = "judge"\n'
    )
    project = home / "project"
    (project / "src").mkdir(parents=True)
    (project / ".fusion.toml").write_text(f'[review]\ninstructions = "{INSTRUCTIONS}"\n')
    shutil.copy(SAMPLE, project / "src" / "sample.py")
    identity = ["-c", "user.name=dev", "-c", "user.email=dev@example.com"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "start", "--no-gpg-sign"]):
        subprocess.run(["git", "-C", str(project), *identity, *command], check=True)

    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(
        {f"XDG_{kind}_HOME": str(home / kind.lower()) for kind in ("DATA", "STATE", "CACHE")}
    )
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(config), FUSION_LS_LOG="WARNING")
    if key:
        env.update(OPENROUTER_API_KEY="sk-or-v1-editor-test-key")
    return project, env
