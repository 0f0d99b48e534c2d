"""`review --fix`: the fixes enough models agree on are written into the file, atomically, and
never into a file that changed while the models were thinking."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_workspace import Workspace
from fake_openai import FakeOpenAI, Reply
from reviewers import DIV, SAMPLE, finding, review

from fusion_ls.cli.fixes import applied, content_digest, fix_file, fixable
from fusion_ls.findings import Finding, Fix, FusedReview, LineRange, Usage

FIXED_LINE = "    return total / len(values) if values else 0.0\n"
GREET_FIX = {"line_start": 14, "line_end": 14, "replacement": '    return f"Hello, {name}"'}
GREET = finding(14, '"Hello, " + name', "Use an f-string", category="style", fix=GREET_FIX)


def fixed_sample() -> str:
    lines = SAMPLE.read_text().splitlines(keepends=True)
    lines[4] = FIXED_LINE
    return "".join(lines)


def test_fix_applies_what_the_majority_raised_and_says_so(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    """DIV is raised by all three models; the f-string fix by one, below the dial."""
    fake_openai.script("alpha", Reply(content=review(DIV, GREET)))
    fake_openai.script("beta", Reply(content=review(DIV)))
    fake_openai.script("gamma", Reply(content=review(DIV)))

    result = workspace.run("review", "sample.py", "--fix")

    assert result.code == 0, result.err
    assert (workspace.root / "sample.py").read_text() == fixed_sample()
    assert "fusion-ls: sample.py: applied 1 fix (line 5)" in result.err
    assert [p.name for p in workspace.root.iterdir() if ".fix" in p.name] == []  # no temp left


def test_fix_keeps_the_files_line_endings_and_mode(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    path = workspace.root / "sample.py"
    path.write_bytes(SAMPLE.read_bytes().replace(b"\n", b"\r\n"))
    path.chmod(0o750)
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(DIV)))

    result = workspace.run("review", "sample.py", "--fix", "--quiet")

    assert result.code == 0, result.err
    assert path.read_bytes() == fixed_sample().replace("\n", "\r\n").encode()
    assert path.stat().st_mode & 0o777 == 0o750
    assert result.err == ""  # --quiet: nothing said about what changed


def test_fix_is_refused_when_the_file_changed_during_the_review(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(DIV), delay_s=1.5))
    path = workspace.root / "sample.py"
    child = subprocess.Popen(
        [sys.executable, "-m", "fusion_ls", "review", "sample.py", "--fix", "--quiet"],
        cwd=workspace.root,
        env=workspace.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while len(fake_openai.requests_for("alpha")) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)  # until the models have the text: then someone saves the file
    edited = SAMPLE.read_text() + "\n\ndef later():\n    pass\n"
    path.write_text(edited)
    out, err = child.communicate(timeout=60)

    assert child.returncode == 0, err
    assert "Division by zero" in out
    assert path.read_text() == edited
    assert "sample.py: not fixed: it changed during the review; review it again" in err


def test_fix_over_many_files(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    other = workspace.root / "pkg" / "stats.py"
    other.parent.mkdir()
    other.write_text(SAMPLE.read_text())
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(DIV)))

    result = workspace.run("review", "sample.py", "pkg", "--fix")

    assert result.code == 0, result.err
    assert (workspace.root / "sample.py").read_text() == fixed_sample()
    assert other.read_text() == fixed_sample()
    assert result.err.count("applied 1 fix (line 5)") == 2


# --- what is applied, in-process ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fix", "after"),
    [
        pytest.param("a\nb\nc\n", (2, 2, "B"), "a\nB\nc\n", id="one-line"),
        pytest.param("a\r\nb\r\nc\r\n", (2, 2, "B1\nB2"), "a\r\nB1\r\nB2\r\nc\r\n", id="crlf"),
        pytest.param("a\nb\nc", (3, 3, "C"), "a\nb\nC", id="no-final-newline"),
        pytest.param("a\nb\nc\n", (1, 2, "x"), "x\nc\n", id="two-lines-to-one"),
        pytest.param("a\nb\nc\n", (2, 2, ""), "a\n\nc\n", id="empty-replacement-is-a-blank-line"),
    ],
)
def test_applied(text: str, fix: tuple[int, int, str], after: str) -> None:
    start, end, replacement = fix
    assert applied(text, [Fix(line_start=start, line_end=end, replacement=replacement)]) == after


def test_applied_from_the_bottom_up_keeps_each_fixs_lines() -> None:
    fixes = [
        Fix(line_start=1, line_end=1, replacement="A1\nA2"),
        Fix(line_start=3, line_end=3, replacement="C"),
    ]
    assert applied("a\nb\nc\n", fixes) == "A1\nA2\nb\nC\n"


def made(line: int, models: list[str], fix_lines: tuple[int, int] | None, **extra: str) -> Finding:
    fix = (
        {"line_start": fix_lines[0], "line_end": fix_lines[1], "replacement": "x"}
        if fix_lines
        else None
    )
    return Finding.model_validate(
        {
            "id": f"f{line}-{len(models)}", "line_start": line, "line_end": line, "quote": "q",
            "severity": "error", "category": "bug", "message": f"m{line}", "rationale": "",
            "fix": fix, "models": models, "answered": 3, **extra,
        }
    )  # fmt: skip


def test_fixable_takes_agreed_fixes_and_the_better_supported_of_two_that_overlap() -> None:
    strong = made(5, ["a", "b", "c"], (5, 6))
    overlapping = made(6, ["a", "b"], (6, 6))
    apart = made(9, ["a", "b"], (9, 9))
    demoted = made(12, ["a"], (12, 12), demoted_from="warning")
    no_fix = made(14, ["a", "b", "c"], None)
    review_ = FusedReview(
        path="x.py", lines=LineRange(start=1, end=20), findings=[overlapping, strong, apart,
        demoted, no_fix], summary="", mode="merge", models=[], judge=None, usage=Usage(),
        elapsed_s=0.1,
    )  # fmt: skip

    chosen, skipped = fixable(review_)

    assert [f.line_start for f in chosen] == [5, 9]
    assert skipped == [overlapping]


def test_a_fix_that_does_not_touch_the_file_is_never_written(tmp_path: Path) -> None:
    """No fixable finding: the file is not even rewritten (its mtime stays)."""
    path = tmp_path / "x.py"
    path.write_text("a\n")
    before = path.stat().st_mtime_ns
    review_ = FusedReview(
        path="x.py", lines=LineRange(start=1, end=1), findings=[made(1, ["a"], None)],
        summary="", mode="merge", models=[], judge=None, usage=Usage(), elapsed_s=0.1,
    )  # fmt: skip
    outcome = fix_file(path, content_digest(path.read_bytes()), review_)

    assert outcome.describe() is None and path.stat().st_mtime_ns == before
