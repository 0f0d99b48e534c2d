"""The eval dataset as written: `dataset.toml`, its cases and labels, read and checked.

Every problem in a dataset is reported with its file, line and dotted key, all at once, so a
dataset is fixed in one pass; the snippets are read here once, so every setup reviews the same
bytes. The format is documented in `eval/README.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails

from fusion_ls.config.toml_lines import KeyLines, Loc, tomllib
from fusion_ls.engine.anchoring import split_lines
from fusion_ls.errors import ConfigIssue, UsageError
from fusion_ls.findings import CATEGORIES, Category, LineRange

__all__ = ["DATASET_FILE", "Case", "Dataset", "DatasetError", "Label", "LoadedCase", "load_dataset"]

DATASET_FILE = "dataset.toml"


def _line_span(value: Any) -> Any:
    """`"12-40"`, `"12"` or `12` → LineRange fields; lines are 1-based and inclusive."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"start": value, "end": value}
    if not isinstance(value, str):
        return value
    start, dash, end = value.strip().partition("-")
    try:
        return {"start": int(start), "end": int(end) if dash else int(start)}
    except ValueError:
        raise ValueError(
            f'{value!r} is not a line range like "12-40" (1-based, inclusive)'
        ) from None


_Span = Annotated[LineRange, BeforeValidator(_line_span)]
_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Written(BaseModel):
    """What a person wrote: unknown keys are errors, since a typo would silently drop a label."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Written):
    """A known defect: where it is, what kind, and why it is one (for whoever reads a miss)."""

    lines: _Span
    category: Category
    why: _Text


class Case(_Written):
    """One snippet: `lines` is the range reviewed (the whole file when absent); `labels = []`
    marks a clean snippet, where every finding is a false positive."""

    file: _Text
    lines: _Span | None = None
    labels: list[Label]
    note: str = ""


class _DatasetFile(_Written):
    cases: list[Case] = Field(min_length=1)


@dataclass(frozen=True)
class LoadedCase:
    """A validated case with its text, read once so every setup reviews the same bytes."""

    spec: Case
    path: Path
    text: str
    reviewed: LineRange


@dataclass(frozen=True)
class Dataset:
    root: Path
    cases: tuple[LoadedCase, ...]

    @property
    def clean(self) -> int:
        return sum(1 for case in self.cases if not case.spec.labels)

    @property
    def labels(self) -> int:
        return sum(len(case.spec.labels) for case in self.cases)


class DatasetError(UsageError):
    """The dataset cannot be evaluated; every problem is listed, each with its file and line."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        listed = "\n".join(f"  {issue}" for issue in issues)
        super().__init__(f"the dataset is invalid (format: fusion-ls's eval/README.md):\n{listed}")


def _dotted(loc: Loc) -> str:
    """("cases", 3, "labels", 0, "category") → "cases[3].labels[0].category"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _problem(error: ErrorDetails) -> str:
    """Pydantic's message as a short sentence about the value a person wrote."""
    kind, loc = error["type"], error["loc"]
    if kind == "missing":
        hint = " (write labels = [] for a clean snippet)" if loc[-1:] == ("labels",) else ""
        return f"required{hint}"
    if kind == "extra_forbidden":
        return "unknown key; a case has file, lines, labels, note; a label has lines, category, why"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "literal_error":
        return f"must be one of {', '.join(CATEGORIES)} (got {error['input']!r})"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    return error["msg"].replace("Input should be", "must be")


def _read_text(path: Path) -> str:
    """A file's UTF-8 text; raises ValueError saying what is wrong with it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None


def _read_spec(toml_path: Path) -> tuple[_DatasetFile, KeyLines]:
    try:
        text = _read_text(toml_path)
        data = tomllib.loads(text)
    except ValueError as error:  # tomllib.TOMLDecodeError is a ValueError
        raise DatasetError([ConfigIssue(toml_path, None, "", str(error))]) from None
    locator = KeyLines(text)
    try:
        return _DatasetFile.model_validate(data), locator
    except PydanticValidationError as exc:
        issues = [
            ConfigIssue(toml_path, locator.line_of(tuple(e["loc"])), _dotted(e["loc"]), _problem(e))
            for e in exc.errors()
        ]
        raise DatasetError(issues) from None


def _snippet(root: Path, file: str) -> tuple[Path, str]:
    """The snippet's absolute path and text; raises ValueError saying what is wrong."""
    path = (root / file).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{file!r} is outside the dataset directory {root}")
    text = _read_text(path)
    if not text.strip():
        raise ValueError(f"{path} is empty")
    return path, text


def _range_problems(case: Case, reviewed: LineRange, count: int) -> list[tuple[Loc, str]]:
    """Ranges a review could never honour: reviewed lines past the end, labels outside them."""
    problems: list[tuple[Loc, str]] = []
    if reviewed.end > count:
        message = f"{reviewed} goes past the end of {case.file}, which has {count} lines"
        problems.append((("lines",), message))
    for index, label in enumerate(case.labels):
        if not reviewed.start <= label.lines.start <= label.lines.end <= reviewed.end:
            message = (
                f"lines {label.lines} are outside the reviewed lines {reviewed} of {case.file}, "
                "so no finding could ever match them"
            )
            problems.append((("labels", index, "lines"), message))
    return problems


def _load_case(root: Path, case: Case) -> tuple[LoadedCase | None, list[tuple[Loc, str]]]:
    try:
        path, text = _snippet(root, case.file)
    except ValueError as error:
        return None, [(("file",), str(error))]
    count = len(split_lines(text))
    reviewed = case.lines or LineRange(start=1, end=count)
    problems = _range_problems(case, reviewed, count)
    return (None if problems else LoadedCase(case, path, text, reviewed)), problems


def load_dataset(path: Path) -> Dataset:
    """Read and check a dataset (a directory with dataset.toml, or that file itself).

    Raises DatasetError listing every problem, so a dataset is fixed in one pass.
    """
    toml_path = path / DATASET_FILE if path.is_dir() else path
    if not toml_path.is_file():
        message = f"no such file; a dataset is a directory with a {DATASET_FILE} listing its cases"
        raise DatasetError([ConfigIssue(toml_path, None, "", message)])
    spec, locator = _read_spec(toml_path)
    root = toml_path.parent.resolve()
    cases: list[LoadedCase] = []
    issues: list[ConfigIssue] = []
    seen: set[str] = set()
    for index, case in enumerate(spec.cases):
        loaded, problems = _load_case(root, case)
        identity = f"{case.file} lines {case.lines}" if case.lines else case.file
        if identity in seen:
            problems.append((("file",), f"{identity} is listed twice"))
        seen.add(identity)
        for loc, message in problems:
            where: Loc = ("cases", index, *loc)
            issues.append(ConfigIssue(toml_path, locator.line_of(where), _dotted(where), message))
        if loaded is not None:
            cases.append(loaded)
    if issues:
        raise DatasetError(issues)
    return Dataset(root, tuple(cases))
