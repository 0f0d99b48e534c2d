"""What a multi-file review covers: files with line ranges, from paths or from a git diff.

People review changes, not files. `--diff [BASE]` takes the changed hunks of every changed file
(working tree against `HEAD`, the index with `--staged`, or against the merge base of `BASE`,
e.g. `origin/main`); paths may be files, directories (git's own list of files when inside a
work tree, so `.gitignore` holds) and globs. What cannot be reviewed (a deleted or binary file,
a submodule, an excluded file) is skipped with the reason, never an error.
"""

from __future__ import annotations

import codecs
import glob
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fusion_ls.config.settings import ReviewSettings
from fusion_ls.engine.changes import DIFF_OPTIONS, git, last_commit, parse_diff, widened, work_tree
from fusion_ls.engine.exclude import excluded_by, generated, project_root
from fusion_ls.errors import UsageError
from fusion_ls.findings import LineRange

__all__ = ["Target", "Targets", "from_diff", "from_paths"]

_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Target:
    """One file and the lines to review in it (none: the whole file)."""

    file: Path
    ranges: tuple[LineRange, ...] = ()
    hunks: bool = False
    """The ranges are a diff's changed hunks."""


@dataclass
class Targets:
    """What is reviewed, and what is not and why; the review settings of each file's own
    project (`review_for`: a nested project's `.fusion.toml` may exclude what the top one does
    not) decide what never is, by `exclude` and `baseline`."""

    review_for: Callable[[Path], ReviewSettings]
    files: list[Target] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, target: Target) -> None:
        why = self._why_not(target.file)
        if why is None:
            self.files.append(target)
        else:
            self.skipped.append((target.file, why))

    def _why_not(self, file: Path) -> str | None:
        """Why `file` is not reviewed (excluded, a submodule, deleted, binary, not UTF-8, empty,
        unreadable), or None. An empty `__init__.py` or a Latin-1 file in a directory is not a
        failed review."""
        real = file.resolve()  # patterns are read from the project root, whatever the cwd
        review = self.review_for(file)
        reason = excluded_by(real, project_root(real), review.exclude, review.baseline)
        if reason is not None:
            return f"excluded: {reason}"
        if reason := generated(file):
            return reason
        if file.is_dir():  # git lists a submodule as one entry
            return "a submodule"
        if not file.exists():  # git still lists a file deleted but not yet committed
            # or a link to nowhere, such as the `.#name` lock Emacs makes for a modified file
            return "a symlink to nowhere" if file.is_symlink() else "deleted"
        try:
            with file.open("rb") as handle:
                head = handle.read(_SNIFF_BYTES)
        except OSError as error:
            return f"cannot read it: {error.strerror or error}"
        return _unreadable_as_text(head, whole=len(head) < _SNIFF_BYTES)


def _unreadable_as_text(head: bytes, *, whole: bool) -> str | None:
    """Why the file's first bytes (`whole`: all of it) are no text to review, or None."""
    if b"\0" in head:
        return "binary"
    try:  # a character cut at the end of the head is not an error
        codecs.getincrementaldecoder("utf-8")().decode(head, final=whole)
    except UnicodeDecodeError:
        return "not UTF-8 text"
    return "empty" if whole and not head.strip() else None


def _listed(folder: Path) -> list[Path]:
    """The files under `folder`: git's list inside a work tree (tracked and untracked, ignored
    ones left out), else every file but hidden ones."""
    try:
        out = git(folder, "ls-files", "--cached", "--others", "--exclude-standard", "-z", ".")
    except UsageError:
        return sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        )
    return sorted(folder / name for name in out.split("\0") if name)


def from_paths(paths: Sequence[str], review_for: Callable[[Path], ReviewSettings]) -> Targets:
    """Files, directories and globs, each file once, in order."""
    targets = Targets(review_for)
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
                targets.add(Target(file))
    return targets


def from_diff(
    base: str | None,
    staged: bool,
    cwd: Path,
    review_for: Callable[[Path], ReviewSettings],
    near: int = 0,
) -> Targets:
    """The changed hunks of every changed file (each widened by `near` lines), paths relative
    to `cwd`. Without BASE or `staged`, the uncommitted work, as the editor's "review changes"
    sees it: untracked files that git does not ignore are new, so they are reviewed whole."""
    root = work_tree(cwd)
    if root is None:
        raise UsageError(f"--diff: {cwd} is not in a git work tree; review paths instead")
    command = list(DIFF_OPTIONS)
    if staged:
        command.append("--cached")  # the index against HEAD
    elif base is None:
        command.append(last_commit(root))  # the working tree, staged or not, against HEAD
    if base is not None:
        command.append(_merge_base(root, base))
    targets = Targets(review_for)
    for file, ranges, skipped in parse_diff(git(root, *command, "--")):
        path = Path(_relative(root / file, cwd))
        if skipped:
            targets.skipped.append((path, skipped))
        elif ranges:
            targets.add(Target(path, widened(ranges, near), hunks=True))
    if base is None and not staged:
        untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z")
        for name in filter(None, untracked.split("\0")):
            targets.add(Target(Path(_relative(root / name, cwd))))
    return targets


def _merge_base(root: Path, base: str) -> str:
    """Where HEAD left `base`, or a UsageError that says what the clone lacks: a CI checkout
    is often shallow (actions/checkout fetches one commit unless told `fetch-depth: 0`), and
    then the base branch, or the commits that join it to HEAD, are not there."""
    shallow = git(root, "rev-parse", "--is-shallow-repository").strip() == "true"
    hint = (
        "; this clone is shallow: fetch the whole history (actions/checkout: `fetch-depth: 0`)"
        if shallow
        else ""
    )
    try:
        git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except UsageError:
        raise UsageError(f"--diff {base}: no such branch, tag or commit here{hint}") from None
    try:
        return git(root, "merge-base", base, "HEAD").strip()
    except UsageError:
        why = hint or " (their histories are unrelated)"
        raise UsageError(f"--diff {base}: it has no commit in common with HEAD{why}") from None


def _relative(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd.resolve()))
    except ValueError:
        return str(path)
