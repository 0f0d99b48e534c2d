"""`review --fix`: write the fused findings' fixes into the file, safely.

Only findings at or above the agreement dial (`review.min_agreement`) are fixed: a finding the
dial demoted is a minority opinion, and a file is not rewritten on one. Two fixes that touch
the same line cannot both hold; the one more models raised wins and the other is reported.

The file is rewritten only if its bytes are still those the review read (a person or a
formatter may have saved it while the models were thinking), through a temporary file in the
same folder and `os.replace`, so a crash leaves the old file or the new one, never half of each.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fusion_ls.errors import UsageError
from fusion_ls.findings import Finding, Fix, FusedReview

__all__ = [
    "FixOutcome",
    "applied",
    "content_digest",
    "fix_file",
    "fixable",
    "read_source",
    "report_fixes",
]

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")


@dataclass(frozen=True)
class FixOutcome:
    """What `--fix` did to one file, as one line for stderr."""

    path: str
    fixed: tuple[Finding, ...] = ()
    skipped: tuple[Finding, ...] = ()
    refused: str | None = None

    def describe(self) -> str | None:
        """What changed, or why nothing did; None when there was nothing to fix."""
        if self.refused is not None:
            return f"{self.path}: not fixed: {self.refused}"
        if not self.fixed:
            return None
        count = len(self.fixed)
        lines = ", ".join(str(f.fix.line_start) for f in self.fixed if f.fix)
        text = f"{self.path}: applied {count} fix{'' if count == 1 else 'es'} (line {lines})"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped (they touch lines another fix changed)"
        return text


def fixable(review: FusedReview) -> tuple[list[Finding], list[Finding]]:
    """The findings whose fixes `--fix` applies, and those it leaves because they overlap one
    that more models raised."""
    candidates = [f for f in review.findings if f.fix is not None and f.demoted_from is None]
    candidates.sort(key=lambda f: (-len(f.models), f.line_start))
    chosen: list[Finding] = []
    skipped: list[Finding] = []
    taken: set[int] = set()
    for finding in candidates:
        assert finding.fix is not None
        span = set(range(finding.fix.line_start, finding.fix.line_end + 1))
        (skipped if span & taken else chosen).append(finding)
        if not span & taken:
            taken |= span
    return sorted(chosen, key=lambda f: f.line_start), skipped


def _with_endings(text: str) -> list[str]:
    """The lines with their endings, counted as `split_lines` counts them."""
    return [piece for piece in _LINE.findall(text) if piece]


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def applied(text: str, fixes: Sequence[Fix]) -> str:
    """`text` with each fix's lines replaced by its replacement, in the file's own line endings.
    The fixes must not overlap; they are applied from the bottom up so each keeps its lines."""
    lines = _with_endings(text)
    newline = next((_ending(line) for line in lines if _ending(line)), "\n")
    for fix in sorted(fixes, key=lambda f: f.line_start, reverse=True):
        last = _ending(lines[fix.line_end - 1])  # the file's last line may have none
        new = fix.replacement_lines()
        lines[fix.line_start - 1 : fix.line_end] = [
            *(line + newline for line in new[:-1]),
            new[-1] + last,
        ]
    return "".join(lines)


def content_digest(data: bytes) -> str:
    """What a file held when it was read for review, to know later whether it still does."""
    return hashlib.sha256(data).hexdigest()


def read_source(path: Path) -> tuple[str, str]:
    """The file's text, and its content digest (what `--fix` checks before writing)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8"), content_digest(data)
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; fusion-ls reviews source files") from None


def fix_file(path: Path, reviewed: str, review: FusedReview) -> FixOutcome:
    """Apply the review's fixes to `path` if its content digest is still `reviewed`, the one
    taken when it was read for the review."""
    chosen, skipped = fixable(review)
    if not chosen:
        return FixOutcome(review.path)
    try:
        now = path.read_bytes()
    except OSError as error:
        return FixOutcome(review.path, refused=f"cannot read it again ({error.strerror})")
    if content_digest(now) != reviewed:
        return FixOutcome(
            review.path,
            refused="it changed during the review; review it again to fix the new text",
        )
    fixed = applied(now.decode("utf-8"), [f.fix for f in chosen if f.fix is not None])
    try:
        _replace(path, fixed.encode("utf-8"))
    except OSError as error:
        return FixOutcome(review.path, refused=f"cannot write it ({error.strerror or error})")
    return FixOutcome(review.path, tuple(chosen), tuple(skipped))


def _replace(path: Path, data: bytes) -> None:
    """Write beside the file, keep its permissions, then swap it in with one rename."""
    mode = path.stat().st_mode
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".fix")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def report_fixes(outcomes: Sequence[FixOutcome], *, quiet: bool) -> None:
    """What `--fix` did, on stderr (stdout may be JSON or SARIF); a refusal even with `-q`."""
    for outcome in outcomes:
        said = outcome.describe()
        if said is not None and (outcome.refused is not None or not quiet):
            print(f"fusion-ls: {said}", file=sys.stderr)
