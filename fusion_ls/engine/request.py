"""What to review or explain: a file's text and which of its lines (a `Scope`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

from fusion_ls.config.settings import MinAgreement, ReviewSettings
from fusion_ls.errors import UsageError
from fusion_ls.findings import LineRange, Mode, Scope

__all__ = ["CodeRequest", "language_for"]

_LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".jsx": "javascript",
    ".mjs": "javascript", ".ts": "typescript", ".tsx": "typescript", ".go": "go",
    ".rs": "rust", ".java": "java", ".kt": "kotlin", ".c": "c", ".h": "c", ".cc": "cpp",
    ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
    ".swift": "swift", ".scala": "scala", ".sh": "shell", ".bash": "shell", ".sql": "sql",
    ".lua": "lua", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json",
}  # fmt: skip


def language_for(path: str) -> str:
    return _LANGUAGES.get(PurePath(path).suffix.lower(), "text")


@dataclass(frozen=True)
class CodeRequest:
    """A document's text as editor or disk has it, and which lines: `ranges` (a selection, the
    changed hunks of a diff…; empty for the whole file).

    `path` is how results name the file; `file` (on disk, when there is one) and `workspace`
    decide which exclude rules apply.
    """

    path: str
    text: str
    ranges: tuple[LineRange, ...] = ()
    mode: Mode | None = None
    file: Path | None = None
    workspace: Path | None = None
    hunks: bool = False
    """The ranges are a diff's changed hunks (sent with `review.diff_context_lines`)."""
    min_agreement: MinAgreement | None = None
    """A command-line `--min-agreement`: as `mode`, it wins over the file's path rule."""

    def context_lines(self, review: ReviewSettings) -> int:
        """Lines of context around each range: fewer for the hunks of a diff."""
        return review.diff_context_lines if self.hunks else review.context_lines

    def scope(self, line_count: int) -> Scope:
        """The reviewed lines of a document of `line_count` lines; UsageError past its end."""
        wanted = self.ranges or (LineRange(start=1, end=max(line_count, 1)),)
        scope = Scope.of(wanted, line_count)
        if not scope:
            shown = ", ".join(map(str, wanted))
            raise UsageError(
                f"lines {shown} are past the end of {self.path}, which has {line_count} lines"
            )
        return scope
