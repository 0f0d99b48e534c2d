"""`review --diff BASE` as README's pull-request workflow runs it: real repositories with awkward
file names, excludes, shallow and unrelated clones, and the output a CI step uploads."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from cli_workspace import Workspace, project_review
from fake_openai import FakeOpenAI, Reply
from reviewers import finding, merging_judge, pool_agrees, review

from fusion_ls.cli.parser import build_parser
from fusion_ls.cli.targets import from_diff, from_paths
from fusion_ls.errors import UsageError
from fusion_ls.findings import LineRange


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return done.stdout.decode()


def repository(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    git(root, "add", ".")
    git(root, "commit", "-qm", "start")


def branch_with_changes(root: Path) -> None:
    """main, then a branch `feature` that changes each file's second line and renames one."""
    for name in ("my file.py", "naïve.py", "plain.py", "same.py"):
        (root / name).write_text("a = 1\nb = 2\n")
    repository(root)
    git(root, "checkout", "-q", "-b", "feature")
    for name in ("my file.py", "naïve.py", "plain.py"):
        (root / name).write_text("a = 1\nb = 3\n")
    git(root, "mv", "same.py", "moved.py")
    git(root, "commit", "-qam", "change")


def test_files_with_spaces_or_non_ascii_names_are_reviewed_whatever_the_diff_prefixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git C-quotes `naïve.py`, ends `my file.py` with a tab on its `+++` line, and prints
    `c/` and `w/` for a user with `diff.mnemonicPrefix`: each is still the file on disk."""
    monkeypatch.chdir(tmp_path)
    branch_with_changes(tmp_path)
    git(tmp_path, "config", "diff.mnemonicPrefix", "true")

    targets = from_diff("main", False, tmp_path, project_review())

    changed = (LineRange(start=2, end=2),)
    assert [(t.file, t.ranges) for t in targets.files] == [
        (Path("my file.py"), changed),
        (Path("naïve.py"), changed),
        (Path("plain.py"), changed),
    ]
    assert targets.skipped == [(Path("moved.py"), "renamed, no line changed")]


def test_review_exclude_holds_for_a_diff_seen_from_a_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Patterns are read from the project root, though the diff names files from the cwd."""
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.py").write_text("x = 1\n")
    (tmp_path / "app.py").write_text("y = 1\n")
    repository(tmp_path)
    (tmp_path / "vendor" / "lib.py").write_text("x = 2\n")
    (tmp_path / "app.py").write_text("y = 2\n")

    for cwd in (tmp_path, tmp_path / "vendor"):
        monkeypatch.chdir(cwd)
        targets = from_diff(None, False, cwd, project_review("vendor/**"))

        assert [t.file.name for t in targets.files] == ["app.py"]
        [(path, why)] = targets.skipped
        assert path.name == "lib.py" and "review.exclude pattern 'vendor/**'" in why


def test_a_base_the_clone_cannot_reach_says_what_to_fetch(tmp_path: Path) -> None:
    """actions/checkout fetches one commit unless told `fetch-depth: 0`."""
    origin = tmp_path / "origin"
    origin.mkdir()
    branch_with_changes(origin)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", "-b", "feature", origin.as_uri(), str(shallow))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "z.py").write_text("z = 1\n")
    repository(tmp_path / "other")
    git(origin, "fetch", "-q", str(tmp_path / "other"), "main:unrelated")

    with pytest.raises(UsageError, match=r"origin/main: no such .*`fetch-depth: 0`"):
        from_diff("origin/main", False, shallow, project_review())
    git(shallow, "fetch", "-q", "--depth=1", "origin", "main:refs/remotes/origin/main")
    with pytest.raises(UsageError, match=r"no commit in common with HEAD; this clone is shallow"):
        from_diff("origin/main", False, shallow, project_review())
    with pytest.raises(
        UsageError,
        match=r"unrelated: it has no commit in common with HEAD \(their histories are unrelated",
    ):
        from_diff("unrelated", False, origin, project_review())


def test_a_pull_request_with_nothing_to_review_still_gives_a_log_to_upload(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    """README's workflow uploads fusion.sarif even when the change is only a deletion."""
    repository(workspace.root)
    (workspace.root / "sample.py").unlink()

    sarif = workspace.run("review", "--diff", "--format", "sarif", "--quiet")
    as_json = workspace.run("review", "--diff", "--format", "json", "--quiet")

    assert sarif.code == 0 and "sample.py: skipped (deleted)" in sarif.err
    [run] = json.loads(sarif.out)["runs"]
    assert run["results"] == [] and run["invocations"] == [{"executionSuccessful": True}]
    assert json.loads(as_json.out) == []
    assert fake_openai.requests == []


def test_ci_without_a_key_says_why_once_in_the_log_and_the_sarif(workspace: Workspace) -> None:
    """A fork's pull request: one stderr line naming CI=true and the missing key, and one
    notification in the SARIF log, not one per file."""
    del workspace.env["OPENROUTER_API_KEY"]
    (workspace.root / "other.py").write_text((workspace.root / "sample.py").read_text())

    ci = workspace.run_with(
        {"CI": "true"}, "review", "sample.py", "other.py", "-q", "--format", "sarif"
    )

    assert ci.code == 3
    [line] = [line for line in ci.err.splitlines() if "not every file" in line]
    assert "(CI=true asks for models)" in line and "OPENROUTER_API_KEY is not set" in line
    [invocation] = json.loads(ci.out)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert len(invocation["toolExecutionNotifications"]) == 1


@pytest.mark.parametrize("paths", [["sample.py"], ["sample.py", "other.py"]])
def test_ci_without_a_key_annotates_the_pull_request_with_the_reason(
    workspace: Workspace, paths: list[str]
) -> None:
    """With `--format github` the reason a run fails is an error annotation too: a fork's pull
    request shows why, not only a red check and the analyzers' findings."""
    del workspace.env["OPENROUTER_API_KEY"]
    (workspace.root / "other.py").write_text((workspace.root / "sample.py").read_text())

    ci = workspace.run_with({"CI": "true"}, "review", *paths, "-q", "--format", "github")

    assert ci.code == 3
    [failed] = [
        line for line in ci.out.splitlines() if line.startswith("::error title=fusion-ls::")
    ]
    assert "(CI=true asks for models)" in failed and "OPENROUTER_API_KEY is not set" in failed
    assert failed.removeprefix("::error title=fusion-ls::") in ci.err


def test_a_run_where_nothing_could_review_any_file_is_no_success_in_sarif(
    workspace: Workspace, tmp_path: Path
) -> None:
    del workspace.env["OPENROUTER_API_KEY"]
    (workspace.root / "tool.rb").write_text("puts 1\n")
    (workspace.root / "lib.rb").write_text("puts 2\n")

    result = workspace.run("review", "tool.rb", "lib.rb", "--quiet", "--format", "sarif")

    assert result.code == 2
    [invocation] = json.loads(result.out)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    notified = [
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for n in invocation["toolExecutionNotifications"]
    ]
    assert notified == ["tool.rb", "lib.rb"]


def test_each_file_s_report_is_headed_by_its_name_and_annotations_have_no_blank_lines(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    """A file without findings has no finding line to name it: its report's heading does."""
    fake_openai.script("alpha", Reply(content=review(finding(2, "total = 0", "Starts at 0"))))
    for model in ("beta", "gamma"):
        fake_openai.script(model, Reply(content=review()))
    fake_openai.script("judge", merging_judge)
    (workspace.root / "clean.py").write_text("x = 1\n")

    text = workspace.run("review", "clean.py", "sample.py", "--quiet", "--no-cache")
    github = workspace.run("review", "clean.py", "sample.py", "-q", "--format", "github")

    assert text.code == 0, text.err
    assert text.out.count("==> clean.py <==") == 1 and text.out.count("==> sample.py <==") == 1
    assert text.out.index("==> clean.py <==") < text.out.index("==> sample.py <==")
    assert github.out.splitlines() == [line for line in github.out.splitlines() if line]
    assert github.out.startswith("::")


def test_a_directory_review_names_submodules_and_files_deleted_but_not_committed(
    tmp_path: Path,
) -> None:
    """git's list of a work tree holds them, and an editor's lock link; none is a file to
    read."""
    library = tmp_path / "library"
    library.mkdir()
    (library / "lib.py").write_text("x = 1\n")
    repository(library)
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text("y = 1\n")
    (project / "old.py").write_text("z = 1\n")
    repository(project)
    git(
        project,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        library.as_uri(),
        "lib",
    )
    (project / "old.py").unlink()
    (project / ".#app.py").symlink_to("dev@host.1234:1700000000")  # Emacs's lock of a buffer
    (project / "yarn.lock").write_text("# yarn lockfile v1\n")

    targets = from_paths([str(project)], project_review())

    assert [t.file.name for t in targets.files] == [".gitmodules", "app.py"]
    assert sorted((p.name, why) for p, why in targets.skipped) == [
        (".#app.py", "a symlink to nowhere"),
        ("lib", "a submodule"),
        ("old.py", "deleted"),
        (
            "yarn.lock",
            "generated: it matches 'yarn.lock' (a lock file, minified code or a source map)",
        ),
    ]


def test_readme_s_workflow_is_whole_and_its_review_command_parses() -> None:
    """A user copies README's workflow as it is: a file GitHub runs on pull requests, with the
    history `--diff origin/BASE` needs, and a command fusion-ls accepts."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    [workflow] = re.findall(r"```yaml\n(name: fusion-ls\n.*?)```", readme, re.DOTALL)
    for line in ("on: pull_request", "jobs:", "runs-on: ubuntu-latest", "fetch-depth: 0"):
        assert line in workflow
    folded = re.search(r"run: >\n((?: {10}.+\n)+)", workflow)
    assert folded is not None
    command = " ".join(folded.group(1).split()).split(" > ")[0]
    assert "--diff origin/${{ github.base_ref }}" in command
    argv = shlex.split(command.replace("${{ github.base_ref }}", "main"))
    assert argv[0] == "fusion-ls"

    args = build_parser().parse_args(argv[1:])

    assert (args.diff, args.format, args.fail_on) == ("origin/main", "sarif", "error")


def test_a_diff_in_a_repository_without_commits_is_all_new_and_outside_one_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "added.py").write_text("a = 1\n")
    git(tmp_path, "init", "-q", str(project))
    git(project, "add", "added.py")
    (project / "untracked.py").write_text("u = 1\n")
    (tmp_path / "loose").mkdir()
    monkeypatch.chdir(project)

    targets = from_diff(None, False, project, project_review())

    assert [(t.file.name, t.ranges) for t in targets.files] == [
        ("added.py", (LineRange(start=1, end=1),)),
        ("untracked.py", ()),
    ]
    with pytest.raises(UsageError, match="is not in a git work tree; review paths instead"):
        from_diff(None, False, tmp_path / "loose", project_review())


@pytest.mark.parametrize("how", [["."], ["--diff"]])
def test_a_nested_project_s_own_excludes_hold_in_a_review_of_many_files(
    workspace: Workspace, fake_openai: FakeOpenAI, how: list[str]
) -> None:
    """A monorepo: `gen/` has its own `.fusion.toml` excluding its generated code. The file is
    skipped as excluded (listed with the other skipped files), not refused mid-run (exit 3)."""
    pool_agrees(fake_openai)
    (workspace.root / "gen").mkdir()
    (workspace.root / "gen" / ".fusion.toml").write_text('[review]\nexclude = ["*_pb2.py"]\n')
    (workspace.root / "gen" / "api_pb2.py").write_text("x = 1\n")
    repository(workspace.root)
    (workspace.root / "sample.py").write_text((workspace.root / "sample.py").read_text() + "\n")
    (workspace.root / "gen" / "api_pb2.py").write_text("x = 2\n")

    result = workspace.run("review", *how, "--quiet")

    assert result.code == 0, result.err
    assert f"gen{'/'}api_pb2.py: skipped (excluded: " in result.err
    sent = json.dumps([request.body for request in fake_openai.requests])
    assert "api_pb2" not in sent and "sample.py" in sent
