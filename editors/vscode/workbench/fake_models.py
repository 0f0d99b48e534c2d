"""The model API of the VS Code workbench run: tests/fake_openai.py on 127.0.0.1, scripted.

The workbench driver (workbench/run.mjs) starts this with the project's Python, reads the first
line of stdout (`{"base_url": ...}`), and may then write `stats` lines on stdin: each is answered
with one JSON line saying which models were asked and how many connections clients dropped, so
the driver can tell a cancelled review (its connections closed) and Restricted Mode (no request
at all) from the outside. Closing stdin stops the server.

The answers are the editor tests' own (tests/reviewers.py): on tests/fixtures/sample.py, alpha
and beta find the division by zero (alpha with a fix) and beta the SQL injection; the judge
merges for real. On `store.py` (a copy of the sample that a commit had right, changed on lines 5
and 9), alpha and beta also flag line 14, which did not change: a review of changes must not
show it. Any file named `slow.py` keeps every model waiting, for progress and cancel.

`stats` also lists the code each review sent (alpha's requests: every pool model gets the same),
as the prompt's `<code>` header says: path, the lines sent and the lines to review.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

TESTS = Path(__file__).resolve().parents[3] / "tests"
sys.path.insert(0, str(TESTS))

from fake_openai import FakeOpenAI, RecordedRequest, Reply  # noqa: E402
from reviewers import DIV, DIV_B, SQLI, finding, merging_judge, review  # noqa: E402

POOL_ANSWERS = {"alpha": (DIV, SQLI), "beta": (DIV_B,), "gamma": (SQLI,)}
UNCHANGED = finding(14, 'return "Hello, " + name', "greet fails when name is not a str")
ON_STORE = {"alpha": (UNCHANGED,), "beta": (UNCHANGED,), "gamma": ()}
CODE = re.compile(r'<code path="([^"]+)" [^>]*lines="([^"]*)" reviewed="([^"]*)">')
EXPLANATION = "`average` sums the values and divides by their count; an empty list divides by 0."
SLOW_S = 300.0  # longer than any check waits: only a cancel ends it


def _explain(text: str) -> Reply:
    return Reply(content=json.dumps({"explanation": text}))


def pool_model(
    findings: tuple[dict[str, object], ...], on_store: tuple[dict[str, object], ...]
) -> Callable[[RecordedRequest], Reply]:
    """A pool model: explains when asked to, waits on slow.py, else gives its findings (and
    `on_store` too on store.py)."""

    def answer(request: RecordedRequest) -> Reply:
        prompt = request.prompt_text
        if " of slow.py" in prompt:
            return Reply(content=review(), delay_s=SLOW_S)
        if "Explain lines" in prompt:
            return _explain(EXPLANATION)
        if " of store.py" in prompt:
            return Reply(content=review(*findings, *on_store))
        return Reply(content=review(*findings))

    return answer


def judge(request: RecordedRequest) -> Reply:
    if "Merge the explainers' texts" in request.prompt_text:
        return _explain(f"{EXPLANATION} [A][B]")
    return merging_judge(request)


def stats(fake: FakeOpenAI) -> dict[str, object]:
    asked = Counter(r.model for r in fake.requests if r.model)
    sent = [
        {"path": path, "lines": lines, "reviewed": reviewed}
        for request in fake.requests
        if request.model == "alpha"
        for path, lines, reviewed in CODE.findall(request.prompt_text)
    ]
    return {"models": dict(sorted(asked.items())), "disconnects": fake.disconnects, "code": sent}


def main() -> None:
    with FakeOpenAI() as fake:
        for model, findings in POOL_ANSWERS.items():
            fake.script(model, pool_model(findings, ON_STORE[model]))
        fake.script("judge", judge)
        print(json.dumps({"base_url": fake.base_url}), flush=True)
        for line in sys.stdin:
            if line.strip() == "stats":
                print(json.dumps(stats(fake)), flush=True)


if __name__ == "__main__":
    main()
