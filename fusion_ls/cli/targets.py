"""What a multi-file review covers: files with line ranges, from paths or from a git diff.

People review changes, not files. `--diff [BASE]` takes the changed hunks of every changed file
(working tree against `HEAD`, the index with `--staged`, or against the merge base of `BASE`,
e.g. `origin/main`); paths may be files, directories (git's own list of files when inside a
work tree, so `.gitignore` holds) and globs. What cannot be reviewed (a deleted or binary file,
a submodule, an excluded file) is skipped with the reason, never an error.
"""

from __future__ import annotations

import glob
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fusion_ls.engine.exclude import excluded_by, project_root
from fusion_ls.errors import UsageError
from fusion_ls.findings import LineRange

__all__ = ["Target", "Targets", "from_diff", "from_paths"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Target:
    """One file and the lines to review in it (none: the whole file)."""

    file: Path
    ranges: tuple[LineRange, ...] = ()


@dataclass
class Targets:
    files: list[Target] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, target: Target, exclude: Sequence[str]) -> None:
        why = _why_not(target.file, exclude)
        if why is None:
            self.files.append(target)
        else:
            self.skipped.append((target.file, why))


def _why_not(file: Path, exclude: Sequence[str]) -> str | None:
    """Why `file` is not reviewed (excluded, binary, unreadable), or None."""
    reason = excluded_by(file, project_root(file.resolve()), exclude)
    if reason is not None:
        return f"excluded: {reason}"
    try:
        with file.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as error:
        return f"cannot read it: {error.strerror or error}"
    return "binary" if b"\0" in head else None


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git failed"
        raise UsageError(f"git {' '.join(args[:2])}: {detail}")
    return done.stdout


def _listed(folder: Path) -> list[Path]:
    """The files under `folder`: git's list inside a work tree (tracked and untracked, ignored
    ones left out), else every file but hidden ones."""
    try:
        out = _git(folder, "ls-files", "--cached", "--others", "--exclude-standard", "-z", ".")
    except UsageError:
        return sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        )
    return sorted(folder / name for name in out.split("\0") if name)


def from_paths(paths: Sequence[str], exclude: Sequence[str]) -> Targets:
    """Files, directories and globs, each file once, in order."""
    targets = Targets()
    seen: set[Path] = set()
    for spec in paths:
        path = Path(spec)
        if path.is_dir():
            found = _listed(path)
        elif path.exists():
            found = [path]
        else:
            found = sorted(Path(p) for p in glob.glob(spec, recursive=True) if Path(p).is_file())
            if not found:
                raise UsageError(f"{spec}: no such file, directory or matching glob")
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                targets.add(Target(file), exclude)
    return targets


def from_diff(
    base: str | None, staged: bool, exclude: Sequence[str], cwd: Path, near: int = 0
) -> Targets:
    """The changed hunks of every changed file (each widened by `near` lines), paths relative
    to `cwd`."""
    root = Path(_git(cwd, "rev-parse", "--show-toplevel").strip())
    command = ["diff", "--no-color", "--no-ext-diff", "-U0", "--find-renames"]
    if staged:
        command.append("--cached")  # the index against HEAD
    elif base is None:
        command.append("HEAD")  # the working tree, staged or not, against HEAD
    if base is not None:
        command.append(_git(root, "merge-base", base, "HEAD").strip())
    targets = Targets()
    for file, ranges, skipped in _parse_diff(_git(root, *command, "--")):
        path = Path(_relative(root / file, cwd))
        if skipped:
            targets.skipped.append((path, skipped))
        elif ranges:
            widened = [LineRange(start=max(1, r.start - near), end=r.end + near) for r in ranges]
            targets.add(Target(path, tuple(widened)), exclude)
    return targets


def _relative(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def _parse_diff(text: str) -> list[tuple[str, list[LineRange], str | None]]:
    """(new path, added line ranges, why skipped) per file of a `git diff -U0`."""
    files: list[tuple[str, list[LineRange], str | None]] = []
    for block in re.split(r"^diff --git ", text, flags=re.MULTILINE)[1:]:
        header = block.split("\n@@", 1)[0]
        new = re.search(r"^\+\+\+ (?:b/)?(.+)$", header, re.MULTILINE)
        old = re.search(r"^diff --git a/.+ b/(.+)$", "diff --git " + block, re.MULTILINE)
        name = new.group(1) if new else (old.group(1) if old else "?")
        if "deleted file mode" in header or name == "/dev/null":
            files.append((old.group(1) if old else name, [], "deleted"))
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
        files.append((name, ranges, None if ranges else "only deletions"))
    return files
