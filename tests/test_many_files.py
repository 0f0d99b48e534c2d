"""Reviewing what changed and many files: `review PATH...`, directories, globs and `--diff`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_workspace import Workspace, fake_user_config, project_review
from fake_openai import FakeOpenAI
from reviewers import SAMPLE, finding, pool_agrees

from fusion_ls.cli.targets import from_diff, from_paths
from fusion_ls.engine.changes import parse_diff
from fusion_ls.engine.events import merged_notices, offline_notice
from fusion_ls.findings import LineRange

CHANGED = finding(2, "total = 0", "Accumulator starts at 0 but the loop skips index 0")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def repository(root: Path) -> None:
    git(root, "init", "-q")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    git(root, "add", ".")
    git(root, "commit", "-qm", "start")


def test_paths_expand_directories_and_globs_and_skip_what_cannot_be_reviewed(
    tmp_path: Path,
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("a = 1\n")
    (tmp_path / "src" / "b.py").write_text("b = 2\n")
    (tmp_path / "src" / "logo.png").write_bytes(b"\x89PNG\x00\x00")
    (tmp_path / "src" / ".env").write_text("KEY=1\n")
    (tmp_path / "ignored.py").write_text("x = 1\n")
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    repository(tmp_path)

    targets = from_paths([str(tmp_path / "src"), str(tmp_path / "src" / "*.py")], project_review())

    assert [t.file.name for t in targets.files] == ["a.py", "b.py"]  # each file once
    skipped = {path.name: why for path, why in targets.skipped}
    assert skipped["logo.png"] == "binary"
    assert skipped[".env"].startswith("excluded:")
    whole = from_paths([str(tmp_path)], project_review())
    assert "ignored.py" not in [t.file.name for t in whole.files]  # .gitignore holds


def test_empty_and_non_utf8_files_are_skipped_not_failed(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    """A package's empty `__init__.py` (or a Latin-1 file) made a directory review exit 3,
    "not every file was reviewed by a model", as if a model had failed."""
    pool_agrees(fake_openai, CHANGED)
    package = workspace.root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("\n \n")
    (package / "legacy.py").write_bytes("nom = 'Jos\u00e9'\n".encode("latin-1"))
    (package / "big.py").write_text("x = 1\n" + "\u00e9" * 5000)  # cut mid-character at 8 KB
    (package / "sample.py").write_text(SAMPLE.read_text())

    targets = from_paths([str(package)], project_review())
    result = workspace.run("review", "pkg", "--quiet")

    skipped = {path.name: why for path, why in targets.skipped}
    assert skipped == {"__init__.py": "empty", "legacy.py": "not UTF-8 text"}
    assert result.code == 0, result.err
    assert "pkg/__init__.py: skipped (empty)" in result.err
    assert "not every file" not in result.err
    assert result.out.rstrip().endswith("2 files reviewed · 1 finding")  # big.py has none


def test_a_diff_gives_the_changed_lines_of_each_changed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the CLI runs where the user is; paths are shown from there
    (tmp_path / "x.py").write_text("a\nb\nc\nd\n")
    (tmp_path / "gone.py").write_text("keep\n")
    (tmp_path / "old_name.py").write_text("one\ntwo\nthree\n")
    repository(tmp_path)
    (tmp_path / "x.py").write_text("a\nB\nc\nd\ne\nf\n")
    git(tmp_path, "rm", "-q", "gone.py")
    git(tmp_path, "mv", "old_name.py", "new_name.py")
    (tmp_path / "new_name.py").write_text("one\ntwo\nthree\nfour\n")
    (tmp_path / "brand_new.py").write_text("fresh\n")  # untracked: new work, reviewed whole
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.py").write_text("generated\n")  # ignored: never

    targets = from_diff(None, False, tmp_path, project_review())
    staged = from_diff(None, True, tmp_path, project_review())

    assert [(t.file.name, t.ranges, t.hunks) for t in targets.files] == [
        ("new_name.py", (LineRange(start=4, end=4),), True),
        ("x.py", (LineRange(start=2, end=2), LineRange(start=5, end=6)), True),
        (".gitignore", (), False),
        ("brand_new.py", (), False),
    ]
    assert ("gone.py", "deleted") in [(p.name, why) for p, why in targets.skipped]
    assert [t.file.name for t in staged.files] == []  # the edits are not staged


def test_the_diff_parser_knows_binary_files_submodules_and_deletions_only() -> None:
    text = (
        "diff --git a/img.png b/img.png\nindex 1..2 100644\nBinary files a/img.png and "
        "b/img.png differ\n"
        "diff --git a/lib b/lib\nindex 1..2 160000\n--- a/lib\n+++ b/lib\n@@ -1 +1 @@\n"
        "-Subproject commit aaa\n+Subproject commit bbb\n"
        "diff --git a/y.py b/y.py\n--- a/y.py\n+++ b/y.py\n@@ -3,2 +2,0 @@\n-x\n-y\n"
    )

    assert [(name, why) for name, _, why in parse_diff(text)] == [
        ("img.png", "binary"),
        ("lib", "a submodule"),
        ("y.py", "only deletions"),
    ]


def test_review_of_several_files_groups_the_output_and_one_sarif_log_holds_them(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    pool_agrees(fake_openai, CHANGED)
    (workspace.root / "other.py").write_text(SAMPLE.read_text())

    text = workspace.run("review", "sample.py", "other.py", "--quiet")
    sarif = workspace.run("review", "sample.py", "other.py", "--quiet", "--format", "sarif")
    github = workspace.run("review", "*.py", "--quiet", "--format", "github")

    assert text.code == 0, text.err
    assert "sample.py:2:" in text.out and "other.py:2:" in text.out
    assert text.out.rstrip().endswith("2 files reviewed · 2 findings")
    [run] = json.loads(sarif.out)["runs"]
    assert [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    ] == [
        "sample.py",
        "other.py",
    ]
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert [f["uri"] for f in run["properties"]["files"]] == ["sample.py", "other.py"]
    assert len(github.out.splitlines()) == 2


def test_review_diff_sends_only_the_changed_hunks_with_context(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    pool_agrees(fake_openai, CHANGED)
    repository(workspace.root)
    source = SAMPLE.read_text().splitlines(keepends=True)
    source[1] = "    total = 0  # changed\n"
    (workspace.root / "sample.py").write_text("".join(source))

    result = workspace.run("review", "--diff", "--format", "json", "--quiet")

    assert result.code == 0, result.err
    [reviewed] = json.loads(result.out)
    assert reviewed["path"] == "sample.py"
    assert reviewed["ranges"] == [{"start": 2, "end": 2}]
    prompt = fake_openai.requests_for("alpha")[0].prompt_text
    assert "total = 0  # changed" in prompt


def test_lines_with_many_files_is_refused(workspace: Workspace) -> None:
    result = workspace.run("review", "sample.py", "sample.py", "--lines", "1-2")

    assert result.code == 2 and "--lines reviews one file" in result.err


def test_dry_run_lists_what_would_be_sent_and_sends_nothing(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    (workspace.root / "other.py").write_text("x = 1\n")

    result = workspace.run("review", "sample.py", "other.py", "--dry-run")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("sample.py: lines all · ~") and "each of 4 calls" in lines[0]
    assert lines[1].startswith("other.py: lines all · ~")
    assert lines[2].startswith("2 files · ~") and "nothing was sent" in lines[2]
    assert fake_openai.requests == [] and fake_openai.lookups == []


def test_one_progress_line_counts_files_models_and_spend(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    pool_agrees(fake_openai, CHANGED)
    (workspace.root / "other.py").write_text(SAMPLE.read_text())

    result = workspace.run("review", "sample.py", "other.py")

    progress = [line for line in result.err.splitlines() if " files · " in line]
    assert progress == ["1/2 files · 3 models · $0.0000", "2/2 files · 3 models · $0.0000"]


def test_near_changes_widens_each_hunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.py").write_text("".join(f"line {n}\n" for n in range(1, 21)))
    repository(tmp_path)
    text = (tmp_path / "x.py").read_text().replace("line 10\n", "line ten\n")
    (tmp_path / "x.py").write_text(text)

    [exact] = from_diff(None, False, tmp_path, project_review()).files
    [near] = from_diff(None, False, tmp_path, project_review(), near=3).files

    assert exact.ranges == (LineRange(start=10, end=10),)
    assert near.ranges == (LineRange(start=7, end=13),)


def test_without_a_key_many_files_say_it_once_and_skip_what_nothing_reads(
    workspace: Workspace, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    del workspace.env["OPENROUTER_API_KEY"]
    workspace.env["PATH"] = str(tmp_path / "empty")  # no analyzer program on PATH
    (workspace.root / "other.py").write_text(SAMPLE.read_text())
    (workspace.root / "tool.rb").write_text("puts 1\n")
    (workspace.root / "lib.rb").write_text("puts 2\n")

    both = workspace.run("review", "sample.py", "other.py", "tool.rb", "--quiet")
    neither = workspace.run("review", "tool.rb", "lib.rb", "--quiet")

    assert both.code == 0, both.err
    assert (both.out + both.err).count("OPENROUTER_API_KEY is not set") == 1
    assert both.out.startswith("note: no model provider can be used")
    assert "tool.rb: skipped (no local analyzer for .rb files is installed)" in both.err
    assert both.out.count("(2/2 analyzers)") == 2
    assert both.out.rstrip().endswith("2 files reviewed · 2 findings")
    assert neither.code == 2
    assert neither.err.count("OPENROUTER_API_KEY is not set") == 1
    assert "lib.rb: skipped" in neither.err and "tool.rb: skipped" in neither.err
    assert fake_openai.requests == []


def test_offline_notes_of_several_languages_are_one() -> None:
    python = offline_notice("KEY is not set", ["tool:bandit", "tool:ruff"])
    shell = offline_notice("KEY is not set", ["tool:shellcheck"])
    other = offline_notice("nothing answers at http://127.0.0.1:9/v1", ["tool:ruff"])

    assert merged_notices([python, shell, python, other, "a note"]) == [
        "no model provider can be used (KEY is not set); reviewing with local analyzers only: "
        "tool:bandit, tool:ruff, tool:shellcheck",
        other,
        "a note",
    ]


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not on PATH")
def test_without_a_key_python_and_shell_files_say_the_key_once(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    """Each language's analyzers made a note of their own, each saying the key was missing."""
    del workspace.env["OPENROUTER_API_KEY"]
    (workspace.root / "clean.sh").write_text('#!/bin/sh\necho "$1"\n')
    (workspace.root / "notes.md").write_text("# Notes\n")  # nothing reads it: skipped

    both = workspace.run("review", "sample.py", "clean.sh", "--quiet")
    one = workspace.run("review", "sample.py", "notes.md", "--quiet")

    assert both.code == 0, both.err
    assert both.out.count("OPENROUTER_API_KEY is not set") == 1, both.out
    assert "only: tool:bandit, tool:mypy, tool:ruff, tool:shellcheck\n" in both.out
    assert one.out.rstrip().endswith("1 file reviewed · 1 finding"), one.out
    assert fake_openai.requests == []


def test_a_diff_hunk_inside_a_function_goes_with_the_function_s_def_line(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    pool_agrees(fake_openai)
    config = workspace.root / "xdg" / "fusion-ls" / "config.toml"
    # A diff's hunks get `diff_context_lines` (a selection would get the default 30 lines).
    config.write_text(config.read_text() + "\n[review]\ndiff_context_lines = 3\n")
    body = [f"    step_{n} = store.load({n})" for n in range(80)]
    token = "ghp_" + "AbCdEfGhIjKlMnOpQr" * 2  # in the header, far from the hunk: still redacted
    header = f'def handle_request(request, store, token="{token}"):'
    source = ["import os", "", "", header, *body, "    return 0"]
    (workspace.root / "service.py").write_text("\n".join(source) + "\n")
    repository(workspace.root)
    source[64] = "    step_60 = store.load(-1)  # changed"
    (workspace.root / "service.py").write_text("\n".join(source) + "\n")

    result = workspace.run("review", "--diff", "--format", "json", "--quiet")

    assert result.code == 0, result.err
    sent = fake_openai.requests_for("alpha")[0].prompt_text.splitlines()
    header_sent = 'def handle_request(request, store, token="[REDACTED:github-token]"):'
    assert f"  4 | {header_sent}" in sent  # context, not marked reviewed
    assert token not in "\n".join(sent)
    assert ">65 |     step_60 = store.load(-1)  # changed" in sent
    assert "  ⋮ |" in sent
    assert any("step_57 " in line for line in sent)  # 3 lines of context above line 65
    assert not any("step_56 " in line for line in sent)  # the rest of the function stays home
    assert not any("step_30 " in line for line in sent)


def test_the_baseline_is_never_reviewed_though_it_is_new_or_in_a_directory(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    """A dismissal or --write-baseline leaves .fusion-baseline.json untracked: a diff review of
    the working tree, which reviews new files whole, and a directory review both leave it out."""
    repository(workspace.root)
    (workspace.root / ".fusion-baseline.json").write_text('{"findings": []}\n')
    sample = workspace.root / "sample.py"
    sample.write_text(sample.read_text().replace("total = 0", "total = 0.0"))

    diff = workspace.run("review", "--diff", "--dry-run")
    whole = workspace.run("review", ".", "--dry-run")

    for run in (diff, whole):
        assert run.code == 0, run.err
        assert ".fusion-baseline.json: skipped (excluded: it is fusion-ls's record of " in run.err
        assert "sample.py: lines" in run.out and ".fusion-baseline.json:" not in run.out
    assert fake_openai.requests == []


def test_a_file_over_the_input_limit_is_skipped_not_a_failed_run(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    """A generated fixture in a pull request is over `limits.max_input_tokens`: it is named as
    skipped and why, the other files are reviewed, and the run does not fail for it."""
    pool_agrees(fake_openai)
    (workspace.root / "fixture.py").write_text("".join(f"ROW_{n} = {n}\n" for n in range(2000)))
    workspace.user_config(
        fake_user_config(fake_openai.base_url, "[limits]\nmax_input_tokens = 6000\n")
    )

    result = workspace.run("review", "sample.py", "fixture.py", "--quiet")
    alone = workspace.run("review", "fixture.py", "--quiet")

    assert result.code == 0, result.err
    assert "fixture.py: skipped (this review would send about " in result.err
    assert "exclude the file (review.exclude)" in result.err
    assert "not every file was reviewed" not in result.err
    assert "1 file reviewed" in result.out
    sent = json.dumps([request.body for request in fake_openai.requests])
    assert "sample.py" in sent and "ROW_1999" not in sent
    assert alone.code == 2 and "over limits.max_input_tokens = 6000" in alone.err
