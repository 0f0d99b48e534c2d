"""`review --diff BASE` as README's pull-request workflow runs it: real repositories with awkward
file names, excludes, shallow and unrelated clones, and the output a CI step uploads."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fusion_ls.cli.targets import from_diff
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

    targets = from_diff("main", False, [], tmp_path)

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
        targets = from_diff(None, False, ["vendor/**"], cwd)

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
        from_diff("origin/main", False, [], shallow)
    git(shallow, "fetch", "-q", "--depth=1", "origin", "main:refs/remotes/origin/main")
    with pytest.raises(UsageError, match=r"no commit in common with HEAD; this clone is shallow"):
        from_diff("origin/main", False, [], shallow)
    with pytest.raises(
        UsageError,
        match=r"unrelated: it has no commit in common with HEAD \(their histories are unrelated",
    ):
        from_diff("unrelated", False, [], origin)
