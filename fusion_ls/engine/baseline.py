"""A baseline: findings a team has seen and decided not to be told about again.

It is how a team adopts fusion-ls on an existing codebase (`review --write-baseline`), and where
the editor's "dismiss — not a problem" writes. An entry is recorded by content, never by line
number, so inserting lines above a finding does not revive it: the file (relative to the
project root), the category, the text of the finding's first line, its quote and its
message. A later finding is hidden by an entry when it is in the same file (or the entry's file
is gone: it was renamed) and category, its first line holds the same code (so editing that code
revives it), and it says the same thing:
the same quote, or a message the matcher scores as the same issue (models rephrase a finding
when they review changed code again).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from fusion_ls.config.settings import ReviewSettings
from fusion_ls.engine.fusion.matching import SAME_ISSUE, Matcher
from fusion_ls.errors import UsageError
from fusion_ls.findings import Finding, ProposedFinding

__all__ = ["Baseline", "BaselineEntry", "baseline_file", "code_of", "recorded_path"]

_ABOUT = (
    "Findings fusion-ls does not show again (written by `fusion-ls review --write-baseline` and "
    "the editor's 'Fusion: dismiss'). Each is matched by file, category, the code of its first "
    "line and what it says, never by line number; delete an entry to see its finding again."
)


def baseline_file(review: ReviewSettings, root: Path) -> Path:
    """Where a project's baseline lives: `review.baseline`, relative to its root."""
    return root / review.baseline


def recorded_path(file: Path, root: Path) -> str:
    """The path a file's entries are recorded under: relative to the project root (absolute
    for a file outside it)."""
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def code_of(lines: Sequence[str], line: int) -> str:
    """A line's code, whitespace squeezed, so re-indenting does not revive a finding."""
    return " ".join(lines[line - 1].split()) if 0 < line <= len(lines) else ""


class BaselineEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    path: str
    category: str
    code: str
    quote: str = ""
    message: str

    def as_finding(self) -> ProposedFinding:
        """The entry as a finding the matcher can score (its lines do not matter here)."""
        return ProposedFinding.model_validate(
            {"line_start": 1, "line_end": 1, "severity": "info", **self.model_dump()}
        )


def _first_problem(error: ValidationError) -> str:
    """Where a hand-edited baseline went wrong, as `findings[3].message: Field required`."""
    problem = error.errors()[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"])
    return f"{where.lstrip('.') or 'the file'}: {problem['msg']}"


def _broken(file: Path, problem: str) -> UsageError:
    return UsageError(
        f"{file} is not a fusion-ls baseline ({problem}); fix it, or delete it and write it "
        "again with `fusion-ls review --write-baseline`"
    )


class Baseline(BaseModel):
    """The entries of one baseline file; paths are relative to the project root."""

    model_config = ConfigDict(extra="ignore")

    about: str = _ABOUT
    findings: list[BaselineEntry] = []

    @classmethod
    def load(cls, file: Path) -> Baseline:
        """The baseline in `file`; empty when there is none. A broken file is a UsageError that
        says which and how to fix it, never a silent empty baseline."""
        try:
            text = file.read_text(encoding="utf-8-sig")  # an editor on Windows may add a BOM
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeError) as error:
            raise UsageError(f"cannot read the baseline {file}: {error}") from error
        try:
            data = json.loads(text)
            if not (isinstance(data, dict) and "findings" in data):
                raise _broken(file, 'it has no "findings"')  # nor is it written over
            return cls.model_validate(data)
        except ValidationError as error:
            raise _broken(file, _first_problem(error)) from error
        except ValueError as error:
            raise _broken(file, str(error)) from error

    def save(self, file: Path) -> None:
        """Write atomically, entries in a stable order, so the file diffs well in review."""
        ordered = sorted(set(self.findings), key=lambda e: (e.path, e.code, e.category, e.message))
        text = json.dumps(
            {"about": self.about, "findings": [e.model_dump() for e in ordered]}, indent=2
        )
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        os.replace(temporary, file)

    def with_findings(
        self, path: str, lines: Sequence[str], findings: Iterable[Finding]
    ) -> Baseline:
        """This baseline and `findings` of the file at `path` (relative to the project root)."""
        added = [
            BaselineEntry(
                path=path,
                category=f.category,
                code=code_of(lines, f.line_start),
                quote=f.quote,
                message=f.message,
            )
            for f in findings
        ]
        return Baseline(about=self.about, findings=[*self.findings, *added])

    def matcher(self, path: str, lines: Sequence[str], root: Path | None = None) -> BaselineMatcher:
        """What hides findings in the file at `path`: its entries and, given the project
        `root`, those of files that are gone from it (a renamed file's findings are the same
        code saying the same thing; they must not all come back at once)."""
        others = {e.path for e in self.findings} - {path}
        gone = {p for p in others if root is not None and not (root / p).exists()}
        entries = [e for e in self.findings if e.path == path or e.path in gone]
        return BaselineMatcher(entries, lines)


class BaselineMatcher:
    """Which findings of one file the baseline hides."""

    def __init__(self, entries: Sequence[BaselineEntry], lines: Sequence[str]) -> None:
        self._entries = [(entry, entry.as_finding()) for entry in entries]
        self._lines = lines
        self._matcher = Matcher.over(said for _, said in self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def hides(self, finding: Finding | ProposedFinding) -> bool:
        code = code_of(self._lines, finding.line_start)
        proposed = ProposedFinding.model_validate(
            finding.model_dump(include=set(ProposedFinding.model_fields))
        )
        return any(
            entry.category == finding.category
            and entry.code == code
            and (
                (entry.quote and entry.quote == finding.quote)
                or self._matcher.content(said, proposed) >= SAME_ISSUE
            )
            for entry, said in self._entries
        )
