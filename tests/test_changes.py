"""What changed since the last commit (`engine/changes.py`): git's hunks, a buffer's hunks
against HEAD, untracked and ignored files, a repository without commits."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fusion_ls.engine.changes import Change, changed, committed, hunks, uncommitted, widened
from fusion_ls.findings import LineRange


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def repository(root: Path, commit: bool = True) -> None:
    git(root, "init", "-q")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "dev")
    if commit:
        git(root, "add", ".")
        git(root, "commit", "-qm", "start")


def test_hunks_are_the_new_lines_as_git_counts_them() -> None:
    old = ["a", "b", "c", "d"]
    new = ["a", "B", "c", "d", "e", "f"]

    assert hunks(old, new) == (LineRange(start=2, end=2), LineRange(start=5, end=6))
    assert hunks(old, ["a", "d"]) == ()  # deletions only: no line of the new text to review
    assert widened(hunks(old, new), 1) == (LineRange(start=1, end=3), LineRange(start=4, end=7))


def test_a_buffer_is_compared_with_head_and_new_or_ignored_files_are_told_apart(
    tmp_path: Path,
) -> None:
    (tmp_path / "x.py").write_text("a\nb\nc\n")
    (tmp_path / ".gitignore").write_text("build/\n")
    repository(tmp_path)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.py").write_text("x\n")
    (tmp_path / "new.py").write_text("n\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.py"
    outside.write_text("o\n")

    x = tmp_path / "x.py"
    assert committed(x).change(x, "a\nB\nc\n") == Change(x, (LineRange(start=2, end=2),))
    assert committed(x).change(x, "a\nb\nc\n") is None
    assert committed(tmp_path / "new.py").change(tmp_path / "new.py", "n\n") == Change(
        tmp_path / "new.py", new=True
    )
    assert committed(tmp_path / "build" / "out.py").change(tmp_path / "x", "x\n") is None
    assert committed(outside).in_git is False


def test_uncommitted_lists_changed_and_untracked_files_under_the_folder(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("a\nb\n")
    (tmp_path / "gone.py").write_text("g\n")
    (tmp_path / "top.py").write_text("t\n")
    repository(tmp_path)
    (tmp_path / "src" / "a.py").write_text("a\nb\nc\n")
    (tmp_path / "src" / "new.py").write_text("n\n")
    (tmp_path / "top.py").write_text("T\n")
    (tmp_path / "gone.py").unlink()

    everything = uncommitted(tmp_path)
    src = uncommitted(tmp_path / "src")

    assert everything == [
        Change(tmp_path / "gone.py", skipped="deleted"),
        Change(tmp_path / "src" / "a.py", (LineRange(start=3, end=3),)),
        Change(tmp_path / "src" / "new.py", new=True),
        Change(tmp_path / "top.py", (LineRange(start=1, end=1),)),
    ]
    assert [change.file.name for change in src] == ["a.py", "new.py"]


def test_an_untracked_symlink_is_skipped_not_read(tmp_path: Path) -> None:
    """Emacs locks a modified buffer's file with a link to nowhere, `.#name`."""
    (tmp_path / "a.py").write_text("a\n")
    repository(tmp_path)
    (tmp_path / ".#a.py").symlink_to("dev@host.1234:1700000000")
    (tmp_path / "alias.py").symlink_to(tmp_path / "a.py")

    assert uncommitted(tmp_path) == [
        Change(tmp_path / ".#a.py", skipped="a symlink"),
        Change(tmp_path / "alias.py", skipped="a symlink"),
    ]


def test_lock_files_and_minified_code_are_skipped_as_generated(tmp_path: Path) -> None:
    """A dependency bump rewrites thousands of lines no one wrote: not worth a model's tokens."""
    for name in ("package-lock.json", "app.min.js", "app.js", "Cargo.lock"):
        (tmp_path / name).write_text("x\n")
    repository(tmp_path)
    for name in ("package-lock.json", "app.min.js", "app.js"):
        (tmp_path / name).write_text("y\n")
    (tmp_path / "uv.lock").write_text("new\n")

    found = {change.file.name: change for change in changed([tmp_path], {})}

    assert found["app.js"] == Change(tmp_path / "app.js", (LineRange(start=1, end=1),))
    for name, pattern in (("package-lock.json", "package-lock.json"), ("app.min.js", "*.min.js"),
                          ("uv.lock", "uv.lock")):  # fmt: skip
        assert found[name].skipped is not None and f"generated: it matches {pattern!r}" in (
            found[name].skipped
        )
    assert "Cargo.lock" not in found  # unchanged


def test_a_repository_without_commits_has_only_new_files(tmp_path: Path) -> None:
    (tmp_path / "staged.py").write_text("s\n")
    (tmp_path / "loose.py").write_text("l\n")
    repository(tmp_path, commit=False)
    git(tmp_path, "add", "staged.py")

    assert uncommitted(tmp_path) == [
        Change(tmp_path / "loose.py", new=True),
        Change(tmp_path / "staged.py", (LineRange(start=1, end=1),)),
    ]


def test_paths_are_named_as_the_editor_sees_them_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "x.py").write_text("a\n")
    repository(real)
    (real / "x.py").write_text("A\n")
    link = tmp_path / "link"
    link.symlink_to(real)

    assert [change.file for change in uncommitted(link)] == [link / "x.py"]


def test_an_edited_buffer_stands_in_for_its_file_on_disk(tmp_path: Path) -> None:
    for name in ("edited.py", "reverted.py", "saved.py"):
        (tmp_path / name).write_text("a\nb\nc\n")
    repository(tmp_path)
    (tmp_path / "reverted.py").write_text("a\nX\nc\n")  # changed on disk, not in the editor
    (tmp_path / "saved.py").write_text("a\nb\nc\nd\n")
    buffers = {
        tmp_path / "edited.py": "a\nb\nC\n",  # changed in the editor only
        tmp_path / "reverted.py": "a\nb\nc\n",
        tmp_path / "saved.py": "a\nb\nc\nd\n",
        tmp_path.parent / "elsewhere.py": "x\n",  # outside the folders: not this review's
    }

    assert changed([tmp_path], buffers) == [
        Change(tmp_path / "edited.py", (LineRange(start=3, end=3),)),
        Change(tmp_path / "saved.py", (LineRange(start=4, end=4),)),
    ]
