"""Pydantic models for the model contract (what models answer) and for results (what we report).

Lines are 1-based and absolute everywhere in this module, as in prompts and the CLI.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

__all__ = [
    "CATEGORIES",
    "SEVERITIES",
    "BestOfVerdict",
    "Category",
    "Counted",
    "ExplainAnswer",
    "Finding",
    "Fix",
    "FusedExplanation",
    "FusedReview",
    "JudgedFinding",
    "LineRange",
    "Mode",
    "ModelRun",
    "ModelStatus",
    "ProposedFinding",
    "Scope",
    "Severity",
    "Statement",
    "SuppressionNote",
    "Usage",
    "counted_as",
    "is_analyzer",
]

Severity = Literal["error", "warning", "info", "hint"]
Category = Literal["bug", "security", "performance", "correctness", "maintainability", "style"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info", "hint")
CATEGORIES: tuple[Category, ...] = (
    "bug",
    "security",
    "performance",
    "correctness",
    "maintainability",
    "style",
)
Mode = Literal["best-of", "merge", "debate"]
"""A fusion mode; `engine.fusion.modes.MODES` is the registry, tested to match."""
Counted = Literal["models", "analyzers"]
"""What answered a review: `analyzers` when no model ran, only local analyzers."""
ModelStatus = Literal[
    "ok", "error", "timeout", "invalid", "truncated", "cancelled", "late", "skipped"
]


class _Contract(BaseModel):
    """What a model sends: unknown keys are tolerated, types are coerced where unambiguous."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineRange(_Result):
    start: int = Field(ge=1)
    end: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> LineRange:
        if self.end < self.start:
            raise ValueError(f"line range {self.start}-{self.end} ends before it starts")
        return self

    def __contains__(self, line: object) -> bool:
        return isinstance(line, int) and self.start <= line <= self.end

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


@dataclass(frozen=True)
class Scope:
    """Which lines of a file are under review: sorted, disjoint line ranges (a selection, the
    whole file, or the changed hunks of a diff). `line in scope` as for one LineRange."""

    ranges: tuple[LineRange, ...]

    @classmethod
    def of(cls, ranges: Iterable[LineRange], line_count: int | None = None) -> Scope:
        """Sorted and merged where they overlap or touch; clipped to `line_count` lines."""
        merged: list[LineRange] = []
        for span in sorted(ranges, key=lambda r: (r.start, r.end)):
            end = span.end if line_count is None else min(span.end, line_count)
            if end < span.start:
                continue
            if merged and span.start <= merged[-1].end + 1:
                last = merged.pop()
                span = LineRange(start=last.start, end=max(last.end, end))
            else:
                span = LineRange(start=span.start, end=end)
            merged.append(span)
        return cls(tuple(merged))

    def __contains__(self, line: object) -> bool:
        return any(line in span for span in self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def span_of(self, line: int) -> LineRange | None:
        """The range that holds `line`, if any."""
        return next((span for span in self.ranges if line in span), None)

    def widened(self, context: int, line_count: int) -> Scope:
        """Each range with `context` lines either side: the windows of text that are sent."""
        return Scope.of(
            (
                LineRange(start=max(1, r.start - context), end=min(line_count, r.end + context))
                for r in self.ranges
            ),
            line_count,
        )

    @property
    def bounds(self) -> LineRange:
        """From the first reviewed line to the last."""
        return LineRange(start=self.ranges[0].start, end=self.ranges[-1].end)

    def __str__(self) -> str:
        return ", ".join(map(str, self.ranges))


def _end_defaults_to_start(data: Any) -> Any:
    """Models often leave out `line_end` for a one-line finding or fix."""
    if isinstance(data, dict) and data.get("line_end") is None and "line_start" in data:
        return {**data, "line_end": data["line_start"]}
    return data


_HUNK = re.compile(r"@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


class Fix(_Contract):
    line_start: int
    line_end: int
    replacement: str

    _default_end = model_validator(mode="before")(_end_defaults_to_start)

    def replacement_lines(self) -> list[str]:
        """The new text of the fix's lines, one entry per line ("" is one empty line)."""
        return self.replacement.split("\n")

    def diff(self, lines: Sequence[str], before: str, after: str) -> list[str]:
        """The fix as a unified diff against the document's `lines`, its hunks numbered as in
        the document (the editor's hover and `review --show-fixes` show the same diff)."""
        old = [f"{line}\n" for line in lines[self.line_start - 1 : self.line_end]]
        new = [f"{line}\n" for line in self.replacement_lines()]
        shift = self.line_start - 1

        def numbered(line: str) -> str:
            return _HUNK.sub(
                lambda m: (
                    f"@@ -{int(m[1]) + shift}{m[2] or ''} +{int(m[3]) + shift}{m[4] or ''} @@"
                ),
                line,
            )

        diff = difflib.unified_diff(old, new, before, after, lineterm="\n")
        return [numbered(line.rstrip("\n")) for line in diff]


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


class ProposedFinding(_Contract):
    """One finding as a pool model states it: its lines are a claim, `quote` the evidence."""

    line_start: int
    line_end: int
    quote: str = ""
    severity: Severity
    category: Category
    message: str = Field(min_length=1)
    rationale: str = ""
    fix: Fix | None = None
    rule: str | None = None
    """The analyzer rule that raised it, the same for every analyzer that checks it (ruff's
    S608 and bandit's B608 are both `bandit:B608`), so two analyzers' reports of one rule match
    without comparing their terse texts. Models leave it out; prompts never show it."""

    _default_end = model_validator(mode="before")(_end_defaults_to_start)

    @field_validator("severity", "category", mode="before")
    @classmethod
    def _case_insensitive(cls, value: Any) -> Any:
        return _lower(value)

    @field_validator("rationale", "quote", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value


class JudgedFinding(ProposedFinding):
    supporters: list[str] = Field(default_factory=list)


class BestOfVerdict(_Contract):
    winner: str = Field(min_length=1)
    scores: dict[str, float] = Field(default_factory=dict)
    reason: str = ""


class ExplainAnswer(_Contract):
    explanation: str = Field(min_length=1)

    @field_validator("explanation")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        """A blank explanation explains nothing: an invalid answer (repaired once, then that
        model failed), never an empty window in the editor."""
        if not text.strip():
            raise ValueError("the explanation is blank")
        return text


class Usage(_Result):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        costs = [c for c in (self.cost_usd, other.cost_usd) if c is not None]
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=sum(costs) if costs else None,
        )


class ModelRun(_Result):
    """How one model call went: what the result says about each model (and the judge)."""

    model: str
    status: ModelStatus
    latency_s: float | None = None
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cached: bool = False


class Statement(_Result):
    """What one supporting model said of a fused finding, in its own words."""

    model: str
    severity: Severity
    message: str


class Finding(_Result):
    """A fused finding, anchored to the reviewed text, with who agreed.

    Agreement is computed, never stored as text: `models` are the pool members whose own
    answers hold this finding, `answered` how many models answered the review at all, and
    `failed` how many pool models did not answer (so `1/1` after two failures never reads as
    unanimity); `answered_by` is `analyzers` when no model answered, only local analyzers, so
    the count reads `2/2 analyzers`. `demoted_from` is the severity a finding had before
    `review.min_agreement` demoted it to a hint.
    """

    id: str
    line_start: int
    line_end: int
    quote: str
    severity: Severity
    category: Category
    message: str
    rationale: str
    fix: Fix | None
    models: list[str]
    answered: int = Field(ge=1)
    failed: int = Field(0, ge=0)
    demoted_from: Severity | None = None
    statements: list[Statement] = Field(default_factory=list)
    answered_by: Counted = "models"

    @model_validator(mode="before")
    @classmethod
    def _agreement_is_derived(cls, data: Any) -> Any:
        """`agreement` is output only (JSON, SARIF); reading a result back ignores it."""
        if isinstance(data, dict) and "agreement" in data:
            return {k: v for k, v in data.items() if k != "agreement"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def agreement(self) -> str:
        """`k/n`: k models found it, of the n that answered."""
        return f"{len(self.models)}/{self.answered}"

    @property
    def unanimous(self) -> bool:
        return len(self.models) >= self.answered and not self.failed

    def agreement_label(self, so_far: bool = False) -> str:
        """How the agreement reads for a person: `2/3 models`, `1/1 models · 2 failed`,
        `1/3 models so far`, `1/3 models · below min_agreement`, `2/2 analyzers`."""
        label = f"{self.agreement} {self.answered_by}{' so far' if so_far else ''}"
        if self.failed:
            label += f" · {self.failed} failed"
        if self.demoted_from is not None:
            label += " · below min_agreement"
        return label

    @staticmethod
    def make_id(path: str, line_start: int, category: str, message: str) -> str:
        digest = hashlib.sha256(f"{path}\0{line_start}\0{category}\0{message}".encode())
        return digest.hexdigest()[:12]


def _ranges_default_to_lines(data: Any) -> Any:
    """One range when none is given: `lines`, from the first reviewed line to the last."""
    if isinstance(data, dict) and not data.get("ranges") and "lines" in data:
        return {**data, "ranges": [data["lines"]]}
    return data


class SuppressionNote(_Result):
    """A `fusion: ignore` comment worth a look: it suppressed nothing, or names no category."""

    line: int
    comment: str
    reason: str


class FusedReview(_Result):
    """The result of one review: the JSON output of `fusion-ls review --format json`."""

    path: str
    lines: LineRange
    ranges: list[LineRange] = Field(default_factory=list)
    findings: list[Finding]
    summary: str
    mode: Mode
    models: list[ModelRun]
    judge: ModelRun | None
    degraded: bool = False
    degraded_reason: str | None = None
    dropped: int = 0
    """Findings whose quote was not at or near their cited lines, or that were unusable."""
    outside: int = 0
    """Findings about lines outside the reviewed ones (the context sent around them)."""
    hidden: int = 0
    """Findings below `review.min_agreement` with `below_agreement = "hide"`: counted only."""
    suppressed: int = 0
    """Findings a `fusion: ignore` comment or an excluded category kept from being shown."""
    baselined: int = 0
    """Findings the baseline (`review.baseline`) kept from being shown."""
    unused_suppressions: list[SuppressionNote] = Field(default_factory=list)
    rule_files: list[str] = Field(default_factory=list)
    """The team's rule files sent to the models as conventions, relative to the project."""
    redacted: int = 0
    notice: str | None = None
    usage: Usage
    elapsed_s: float

    _one_range = model_validator(mode="before")(_ranges_default_to_lines)


class FusedExplanation(_Result):
    """The result of one explanation: the JSON output of `fusion-ls explain --format json`."""

    path: str
    lines: LineRange
    ranges: list[LineRange] = Field(default_factory=list)
    explanation: str
    models: list[ModelRun]
    judge: ModelRun | None
    degraded: bool = False
    degraded_reason: str | None = None
    redacted: int = 0
    usage: Usage
    elapsed_s: float

    _one_range = model_validator(mode="before")(_ranges_default_to_lines)


def is_analyzer(name: str) -> bool:
    """Whether a pool member's name is a local analyzer's (`tool:ruff`), not a model's."""
    return name.startswith("tool:")


def counted_as(names: Iterable[str]) -> Counted:
    """What an agreement over these reviewers counts: `analyzers` when none is a model."""
    names = list(names)
    return "analyzers" if names and all(map(is_analyzer, names)) else "models"
