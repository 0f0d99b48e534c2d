"""Files that are never sent: built-in defaults, `review.exclude`, and `.fusionignore` files.

Patterns use gitignore syntax (via pathspec) and are read relative to the project root (where
`.fusion.toml` is) or, for a `.fusionignore`, relative to its own directory. A file outside
that folder (an editor can open `/etc/passwd`) is matched by its absolute path, so an anchored
pattern such as `/etc/passwd` or `/home/*/.ssh/` holds for it too.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path

from pathspec import GitIgnoreSpec

from fusion_ls.config.locations import PROJECT_FILE

__all__ = [
    "DEFAULT_EXCLUDES",
    "GENERATED",
    "IGNORE_FILE",
    "excluded_by",
    "generated",
    "is_baseline",
    "project_root",
]

DEFAULT_EXCLUDES = (".env*", "*.pem", "*.key", "id_rsa*", "*.p12", "*.pfx")
GENERATED = (
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "uv.lock",
    "Cargo.lock",
    "composer.lock",
    "Gemfile.lock",
    "go.sum",
    "*.min.js",
    "*.min.css",
    "*.map",
)
"""Files that tools write, not people: lock files, minified code, source maps. A review of a
directory or a diff leaves them out (as pr-agent filters them), since a model has nothing to
say of them that is worth their tokens, and a lock file alone can be over the input limit."""
IGNORE_FILE = ".fusionignore"
_ROOT_MARKERS = (PROJECT_FILE, IGNORE_FILE, ".git")


def project_root(file: Path, workspace: Path | None = None) -> Path:
    """The nearest folder above `file` with a `.fusion.toml`, `.fusionignore` or `.git`."""
    for folder in file.parents:
        if any((folder / marker).exists() for marker in _ROOT_MARKERS):
            return folder
        if folder == workspace:
            break
    return workspace or file.parent


def _seen_from(file: Path, folder: Path) -> str:
    """`file` relative to `folder`, or, outside it, its absolute path without the root."""
    try:
        return file.relative_to(folder).as_posix()
    except ValueError:
        return file.resolve().as_posix().lstrip("/")


def generated(file: Path) -> str | None:
    """Why `file` is left out of a review of many files as written by a tool, or None."""
    if pattern := next((p for p in GENERATED if fnmatch.fnmatchcase(file.name, p)), None):
        return f"generated: it matches {pattern!r} (a lock file, minified code or a source map)"
    return None


def _first_match(patterns: Sequence[str], path: str) -> str | None:
    for pattern in patterns:
        if GitIgnoreSpec.from_lines([pattern]).match_file(path):
            return pattern
    return None


def _ignore_files(file: Path, root: Path) -> list[Path]:
    folders = [root, *reversed([p for p in file.parents if p != root and root in p.parents])]
    return [folder / IGNORE_FILE for folder in folders if (folder / IGNORE_FILE).is_file()]


def is_baseline(file: Path, root: Path, baseline: str | None) -> bool:
    """Whether `file` is the project's baseline (`review.baseline`): fusion-ls's record of
    dismissed findings, which a dismissal leaves untracked, never code to review."""
    return baseline is not None and file.resolve() == (root / baseline).resolve()


def excluded_by(
    file: Path, root: Path, exclude: Sequence[str], baseline: str | None = None
) -> str | None:
    """Why `file` must not be sent (which pattern, from where, or that it is the project's
    `baseline` of dismissed findings), or None when it may be."""
    if is_baseline(file, root, baseline):
        return "it is fusion-ls's record of dismissed findings (review.baseline), not code"
    relative = _seen_from(file, root)
    if pattern := _first_match(DEFAULT_EXCLUDES, relative):
        return f"it matches {pattern!r}, excluded by default because such files hold secrets"
    if pattern := _first_match(exclude, relative):
        return f"it matches review.exclude pattern {pattern!r}"
    for ignore in _ignore_files(file, root):
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
        if GitIgnoreSpec.from_lines(lines).match_file(_seen_from(file, ignore.parent)):
            return f"{ignore} excludes it"
    return None
