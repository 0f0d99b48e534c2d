"""What changed since the last commit, as line ranges per file: the scope of a diff review.

The CLI's `review --diff` and the editor's "review changes" and on-save reviews share this.
git's own diff gives the hunks of files on disk (`parse_diff`); an editor's unsaved buffer is
compared with the file's text in HEAD here (`Committed.change`), since git only diffs disk.
Every call runs git as a blocking subprocess: the language server calls them in a worker thread.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fusion_ls.engine.anchoring import split_lines
from fusion_ls.engine.exclude import generated
from fusion_ls.errors import UsageError
from fusion_ls.findings import LineRange

__all__ = [
    "DIFF_OPTIONS",
    "Change",
    "Committed",
    "changed",
    "committed",
    "git",
    "hunks",
    "last_commit",
    "parse_diff",
    "uncommitted",
    "widened",
    "work_tree",
]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # what a repository without commits holds
DIFF_OPTIONS = (
    "diff",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "-U0",
    "--find-renames",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
"""`git diff` as hunks of the new text: no context lines, renames followed, no external diff
or text conversion (their line numbers would not be the file's), and the `a/` and `b/`
prefixes whatever the user's `diff.noprefix` or `diff.mnemonicPrefix` say."""


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)


def git(root: Path, *args: str) -> str:
    """git's output, or UsageError with git's last line of complaint."""
    done = _run(root, *args)
    if done.returncode != 0:
        complaint = done.stderr.decode(errors="replace").strip()
        detail = complaint.splitlines()[-1] if complaint else "git failed"
        raise UsageError(f"git {' '.join(args[:2])}: {detail}")
    return done.stdout.decode(errors="replace")


def last_commit(root: Path) -> str:
    """HEAD, or in a repository without commits the empty tree, against which every tracked
    file is new."""
    has_head = _run(root, "rev-parse", "--verify", "-q", "HEAD").returncode == 0
    return "HEAD" if has_head else _EMPTY_TREE


def work_tree(folder: Path) -> Path | None:
    """The top of the git work tree `folder` is in, or None (not in one, or no git)."""
    try:
        done = _run(folder, "rev-parse", "--show-toplevel")
    except OSError:  # git is not installed
        return None
    return Path(done.stdout.decode().strip()) if done.returncode == 0 else None


@dataclass(frozen=True)
class Change:
    """One changed file: its changed lines, or `new` (every line), or why it is not reviewed."""

    file: Path
    ranges: tuple[LineRange, ...] = ()
    new: bool = False
    skipped: str | None = None


def hunks(old: Sequence[str], new: Sequence[str]) -> tuple[LineRange, ...]:
    """The lines of `new` that are not in `old`, as `git diff -U0` would give them (pure
    deletions give none)."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return tuple(
        LineRange(start=j1 + 1, end=j2)
        for tag, _, _, j1, j2 in matcher.get_opcodes()
        if tag in ("replace", "insert")
    )


def widened(ranges: Sequence[LineRange], near: int) -> tuple[LineRange, ...]:
    """Each range and `near` lines either side (`review.near_changes`)."""
    return tuple(LineRange(start=max(1, r.start - near), end=r.end + near) for r in ranges)


@dataclass(frozen=True)
class Committed:
    """What git holds of a file: its text in HEAD; None when HEAD lacks it (untracked, or not in
    a work tree at all: then every line is new). Ignored files are no one's changes."""

    text: str | None
    in_git: bool = True
    ignored: bool = False

    def change(self, file: Path, text: str) -> Change | None:
        """How `text` (a buffer's) differs from the committed file, or None when it does not."""
        if self.ignored:
            return None
        if self.text is None:
            return Change(file, new=True)
        ranges = hunks(split_lines(self.text), split_lines(text))
        return Change(file, ranges) if ranges else None


def committed(file: Path) -> Committed:
    """`file` as the last commit has it."""
    root = work_tree(file.parent)
    if root is None:
        return Committed(None, in_git=False)
    try:
        relative = file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:  # a symlink out of the work tree: git does not track what it points at
        return Committed(None, in_git=False)
    shown = _run(root, "cat-file", "blob", f"HEAD:{relative}")
    if shown.returncode == 0:
        return Committed(shown.stdout.decode("utf-8", errors="replace"))
    ignored = _run(root, "check-ignore", "-q", "--", relative).returncode == 0
    return Committed(None, ignored=ignored)


def uncommitted(folder: Path) -> list[Change]:
    """Every file under `folder` that differs from HEAD in the work tree (staged or not), and
    every untracked file git does not ignore (wholly new)."""
    root = work_tree(folder)
    if root is None:
        raise UsageError(
            f"{folder} is not in a git work tree, so there are no uncommitted changes to "
            "review; review a file or a selection instead"
        )
    real = folder.resolve()

    def under(name: str) -> Path:
        """A path git names (from the top, symlinks resolved) as seen from `folder`, so that it
        is the path the editor has open."""
        path = root / name
        return folder / path.relative_to(real) if path.is_relative_to(real) else path

    diff = git(root, *DIFF_OPTIONS, last_commit(root), "--", str(real))
    changes = [
        Change(under(name), tuple(ranges), skipped=why) for name, ranges, why in parse_diff(diff)
    ]
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", str(real))
    changes += [_untracked(under(name)) for name in untracked.split("\0") if name]
    return sorted(changes, key=lambda change: change.file)


def _untracked(file: Path) -> Change:
    """An untracked file: wholly new. Not a symlink, though: git records only where one points,
    and an editor leaves such links about (Emacs locks a modified buffer's file with `.#name`,
    a link to nowhere), so reading one would fail or review another file."""
    if file.is_symlink():
        return Change(file, skipped="a symlink")
    return Change(file, new=True)


def changed(folders: Sequence[Path], buffers: Mapping[Path, str]) -> list[Change]:
    """The uncommitted changes under `folders`, each file open in an editor (`buffers`) taken
    as its buffer has it, saved or not: the changes the person sees."""
    found: dict[Path, Change] = {}
    for folder in folders:
        for change in uncommitted(folder):
            found.setdefault(change.file, change)
    for file, text in buffers.items():
        if not any(file.is_relative_to(folder) for folder in folders) or _read(file) == text:
            continue  # outside the folders, or saved: git's diff has it right
        edited = committed(file).change(file, text)
        if edited is None:
            found.pop(file, None)
        else:
            found[file] = edited
    return sorted(map(_unless_generated, found.values()), key=lambda change: change.file)


def _unless_generated(change: Change) -> Change:
    """A lock file or minified code is listed as skipped, not reviewed."""
    why = None if change.skipped else generated(change.file)
    return Change(change.file, skipped=why) if why else change


def _read(file: Path) -> str | None:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def parse_diff(text: str) -> list[tuple[str, list[LineRange], str | None]]:
    """(new path, added line ranges, why skipped) per file of a `git diff -U0`."""
    files: list[tuple[str, list[LineRange], str | None]] = []
    for block in re.split(r"^diff --git ", text, flags=re.MULTILINE)[1:]:
        header = block.split("\n@@", 1)[0]
        name = _file_name(header)
        if "deleted file mode" in header:
            files.append((name, [], "deleted"))
            continue
        if "Binary files" in header:
            files.append((name, [], "binary"))
            continue
        if "Subproject commit" in block or "160000" in header:
            files.append((name, [], "a submodule"))
            continue
        ranges = []
        for match in _HUNK.finditer(block):
            start, count = int(match.group(1)), int(match.group(2) or "1")
            if count:
                ranges.append(LineRange(start=start, end=start + count - 1))
        files.append((name, ranges, None if ranges else _why_no_lines(header)))
    return files


def _why_no_lines(header: str) -> str:
    """Why a changed file has no added line to review."""
    if "rename from" in header:
        return "renamed, no line changed"
    if "old mode" in header:
        return "only its mode changed"
    if "new file mode" in header:
        return "empty"
    return "only deletions"


def _file_name(header: str) -> str:
    """The path a file's block of a diff names: its new path, or its old one when deleted.

    git C-quotes a path that is not plain ASCII (`"na\\303\\257ve.py"`) and ends a `---`/`+++`
    path that holds a space with a tab; a block without those lines (a binary file, a pure
    rename) names the file on its first line, `a/PATH b/PATH`, which is split in half."""
    renamed = re.search(r"^rename to (.+)$", header, re.MULTILINE)
    if renamed:
        return _unquoted(renamed.group(1))
    new = re.search(r"^\+\+\+ (.+)$", header, re.MULTILINE)
    if new and new.group(1) != "/dev/null":
        return _unquoted(new.group(1).removesuffix("\t"))[2:]
    first = header.split("\n", 1)[0]
    return _unquoted(first[: (len(first) - 1) // 2])[2:]


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13}


def _unquoted(field: str) -> str:
    """A path as git prints it, C-quoted or not, as the file system names it."""
    if len(field) < 2 or not field.startswith('"') or not field.endswith('"'):
        return field
    raw = bytearray()
    for match in re.finditer(r"\\([0-7]{3}|.)|([^\\]+)", field[1:-1], re.DOTALL):
        escape, plain = match.groups()
        if plain is not None:
            raw += plain.encode()
        elif escape.isdigit():
            raw.append(int(escape, 8))
        else:
            raw.append(_ESCAPES.get(escape, ord(escape)))
    return os.fsdecode(bytes(raw))
