"""`fusion-ls eval`: does fusion pay on this code? Every setup over one labelled dataset.

A dataset is a directory with a `dataset.toml` that lists snippet files and their known defects
(format: `eval/README.md`). Each setup — every pool model alone, then fusion in each mode with
the whole pool — reviews every snippet through the same `Engine` a user runs. Findings are
matched to the labels by line overlap and summed into precision, recall and F1, with latency,
tokens and cost beside them, so quality and price are compared on the same code.

Matching and scoring rules (also in `eval/README.md`):
- a finding matches a label when their line ranges overlap; each label and each finding is
  matched at most once, greedily by overlap size (ties: label order, then finding order), so the
  result is deterministic; the category does not have to agree;
- a matched label is a true positive, an unmatched label a false negative, an unmatched finding
  (on a clean snippet or not) a false positive;
- precision, recall and F1 are 0 when undefined (no findings, no labels, neither);
- a failed case (no model answered) has no findings: its labels count as misses and its time
  counts in the latency, because that is what a user of the setup would have got;
- latency is each review's `elapsed_s`; p95 is nearest-rank (with 20 cases or fewer, the max).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import ErrorDetails

from fusion_ls.config.settings import Mode, ModelRef, Settings
from fusion_ls.config.toml_lines import KeyLines, Loc, tomllib
from fusion_ls.engine.anchoring import split_lines
from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import ReviewFinished
from fusion_ls.errors import ConfigIssue, FusionError, UsageError
from fusion_ls.findings import CATEGORIES, Category, FusedReview, LineRange, Usage
from fusion_ls.reviewers.openai_compat import make_http_client
from fusion_ls.reviewers.spend import SpendLedger

__all__ = [
    "DATASET_FILE",
    "Case",
    "CaseOutcome",
    "Dataset",
    "DatasetError",
    "EvalProgress",
    "EvalReport",
    "Label",
    "LoadedCase",
    "Metrics",
    "Setup",
    "SetupResult",
    "load_dataset",
    "match",
    "render_eval",
    "run_eval",
    "score",
    "setups_for",
    "summarise",
]

DATASET_FILE = "dataset.toml"
FUSION_MODES: tuple[Mode, ...] = ("best-of", "merge", "debate")
DEFAULT_CONCURRENCY = 4
"""Cases reviewed at once within a setup: enough to finish, few enough for rate limits."""

T = TypeVar("T")


# --- the dataset as written -------------------------------------------------------------------


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


# --- loading and validating -------------------------------------------------------------------


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


# --- matching and scoring ---------------------------------------------------------------------


def _overlap(a: LineRange, b: LineRange) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start) + 1)


def match(findings: Sequence[LineRange], labels: Sequence[LineRange]) -> list[tuple[int, int]]:
    """(finding index, label index) pairs: greedy by overlap size, each side used at most once.

    Ties go to the earlier label, then the earlier finding, so a run scores the same every time.
    """
    candidates = sorted(
        (-_overlap(found, label), label_index, finding_index)
        for finding_index, found in enumerate(findings)
        for label_index, label in enumerate(labels)
        if _overlap(found, label) > 0
    )
    used_findings: set[int] = set()
    used_labels: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for _, label_index, finding_index in candidates:
        if finding_index in used_findings or label_index in used_labels:
            continue
        used_findings.add(finding_index)
        used_labels.add(label_index)
        pairs.append((finding_index, label_index))
    return sorted(pairs)


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CaseOutcome(_Result):
    """One setup on one case: the counts, and which lines were missed or wrongly flagged."""

    file: str
    lines: LineRange
    tp: int
    fp: int
    fn: int
    missed: list[LineRange]
    false_positives: list[LineRange]
    failed: bool
    error: str | None
    elapsed_s: float
    usage: Usage


def _failure(review: FusedReview) -> str | None:
    """Why no model answered, model by model; None when one did."""
    if any(run.status == "ok" for run in review.models):
        return None
    reasons = [f"{run.model}: {run.error or run.status}" for run in review.models]
    return "; ".join(reasons) or "no model answered"


def score(case: LoadedCase, review: FusedReview) -> CaseOutcome:
    found = [
        LineRange(start=f.line_start, end=max(f.line_start, f.line_end)) for f in review.findings
    ]
    labels = [label.lines for label in case.spec.labels]
    pairs = match(found, labels)
    matched_findings = {f for f, _ in pairs}
    matched_labels = {label for _, label in pairs}
    error = _failure(review)
    return CaseOutcome(
        file=case.spec.file,
        lines=case.reviewed,
        tp=len(pairs),
        fp=len(found) - len(pairs),
        fn=len(labels) - len(pairs),
        missed=[span for i, span in enumerate(labels) if i not in matched_labels],
        false_positives=[span for i, span in enumerate(found) if i not in matched_findings],
        failed=error is not None,
        error=error,
        elapsed_s=review.elapsed_s,
        usage=review.usage,
    )


class Metrics(_Result):
    """One setup over the whole dataset. Ratios are 0 when undefined."""

    cases: int
    failed: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    latency_mean_s: float
    latency_p95_s: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = Field(
        description="summed from the providers' reported cost; None when none reported any"
    )


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _p95(values: Sequence[float]) -> float:
    """Nearest-rank percentile: a value that really occurred, no interpolation."""
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1] if ordered else 0.0


def summarise(outcomes: Sequence[CaseOutcome]) -> Metrics:
    tp = sum(o.tp for o in outcomes)
    fp = sum(o.fp for o in outcomes)
    fn = sum(o.fn for o in outcomes)
    usage = sum((o.usage for o in outcomes), Usage())
    latencies = [o.elapsed_s for o in outcomes]
    return Metrics(
        cases=len(outcomes),
        failed=sum(1 for o in outcomes if o.failed),
        tp=tp,
        fp=fp,
        fn=fn,
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        f1=_ratio(2 * tp, 2 * tp + fp + fn),  # = 2PR/(P+R), exact from the counts
        latency_mean_s=round(sum(latencies) / len(latencies), 3) if latencies else 0.0,
        latency_p95_s=_p95(latencies),
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=usage.cost_usd,
    )


# --- setups and running -----------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What one column of the comparison runs: a model alone (`mode` None) or fusion in a mode."""

    name: str
    mode: Mode | None
    settings: Settings


def _alone(settings: Settings, ref: ModelRef) -> Settings:
    """The settings with `ref` as the whole pool; the engine skips the judge for one answer."""
    return settings.model_copy(
        update={"fusion": settings.fusion.model_copy(update={"pool": [ref]})}
    )


def setups_for(settings: Settings) -> list[Setup]:
    """Each pool model alone, then each fusion mode with the full pool (none for a pool of one,
    where fusion would be the model alone again)."""
    pool = settings.fusion.pool
    singles = [Setup(ref.name, None, _alone(settings, ref)) for ref in pool]
    if len(pool) < 2:
        return singles
    return [*singles, *(Setup(mode, mode, settings) for mode in FUSION_MODES)]


@dataclass(frozen=True)
class EvalProgress:
    setup: int
    setups: int
    name: str
    done: int
    cases: int

    def __str__(self) -> str:
        return f"setup {self.setup}/{self.setups} {self.name}: {self.done}/{self.cases} cases"


class SetupResult(_Result):
    name: str
    mode: Mode | None
    models: list[str]
    judge: str | None
    metrics: Metrics
    cases: list[CaseOutcome]


class EvalReport(_Result):
    """The output of `fusion-ls eval --format json`."""

    dataset: str
    cases: int
    clean: int
    labels: int
    setups: list[SetupResult]

    @property
    def measured_nothing(self) -> bool:
        """True when no model answered on any case: the numbers say nothing about quality."""
        return all(s.metrics.failed == s.metrics.cases for s in self.setups)


async def _all_or_none(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Like gather, but the first failure cancels the rest instead of leaving them paying."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _review(engine: Engine, case: LoadedCase, mode: Mode | None, root: Path) -> FusedReview:
    request = CodeRequest(
        path=case.spec.file,
        text=case.text,
        lines=case.spec.lines,
        mode=mode,
        file=case.path,
        workspace=root,
    )
    try:
        async with aclosing(engine.review(request)) as events:
            async for event in events:
                if isinstance(event, ReviewFinished):
                    return event.review
    except UsageError as error:  # over a limit or excluded: no later case would fare better
        raise UsageError(f"{case.spec.file}: {error}") from None
    raise FusionError("the engine stopped without a result")


async def _run_setup(
    setup: Setup,
    dataset: Dataset,
    engine: Engine,
    concurrency: int,
    progress: EvalProgress,
    on_progress: Callable[[EvalProgress], None],
) -> SetupResult:
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def one(case: LoadedCase) -> CaseOutcome:
        nonlocal done
        async with gate:
            outcome = score(case, await _review(engine, case, setup.mode, dataset.root))
        done += 1
        on_progress(replace(progress, done=done))
        return outcome

    on_progress(progress)
    outcomes = await _all_or_none(one(case) for case in dataset.cases)
    fusion = setup.settings.fusion
    return SetupResult(
        name=setup.name,
        mode=setup.mode,
        models=[ref.name for ref in fusion.pool],
        judge=fusion.judge.name if setup.mode else None,
        metrics=summarise(outcomes),
        cases=outcomes,
    )


async def run_eval(
    dataset: Dataset,
    settings: Settings,
    client: httpx.AsyncClient | None = None,
    *,
    ledger: SpendLedger | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Callable[[EvalProgress], None] = lambda _: None,
) -> EvalReport:
    """Run every setup over every case, one setup after another so their latencies are
    comparable; cases run `concurrency` at a time over one shared HTTP client.

    A UsageError from the engine (a spending limit reached, an excluded file) stops the run.
    """
    if client is None:
        async with make_http_client() as own:
            return await run_eval(
                dataset,
                settings,
                own,
                ledger=ledger,
                concurrency=concurrency,
                on_progress=on_progress,
            )
    setups = setups_for(settings)
    results: list[SetupResult] = []
    for number, setup in enumerate(setups, start=1):
        progress = EvalProgress(number, len(setups), setup.name, 0, len(dataset.cases))
        # A setup measures the models it names: never the offline analyzers in their place.
        engine = Engine(setup.settings, client, ledger=ledger, offline_fallback=False)
        results.append(await _run_setup(setup, dataset, engine, concurrency, progress, on_progress))
    return EvalReport(
        dataset=str(dataset.root),
        cases=len(dataset.cases),
        clean=dataset.clean,
        labels=dataset.labels,
        setups=results,
    )


# --- the text report --------------------------------------------------------------------------

_HEADER = ("setup", "TP", "FP", "FN", "precision", "recall", "F1", "mean s", "p95 s",
           "tokens in", "tokens out", "cost", "failed")  # fmt: skip


def _row(result: SetupResult) -> tuple[str, ...]:
    m = result.metrics
    cost = "-" if m.cost_usd is None else f"${m.cost_usd:.4f}"
    return (
        result.name, str(m.tp), str(m.fp), str(m.fn), f"{m.precision:.3f}", f"{m.recall:.3f}",
        f"{m.f1:.3f}", f"{m.latency_mean_s:.2f}", f"{m.latency_p95_s:.2f}",
        str(m.prompt_tokens), str(m.completion_tokens), cost, str(m.failed),
    )  # fmt: skip


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            [
                row[0].ljust(widths[0]),
                *(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)),
            ]
        ).rstrip()
        for row in rows
    ]


def _tokens(metrics: Metrics) -> int:
    return metrics.prompt_tokens + metrics.completion_tokens


def _verdict(setups: Sequence[SetupResult]) -> list[str]:
    """The answer the command exists for: best fusion against the best single model."""
    singles = [s for s in setups if s.mode is None]
    fused = [s for s in setups if s.mode is not None]
    if not singles or not fused:
        return []
    single = max(singles, key=lambda s: s.metrics.f1)
    best = max(fused, key=lambda s: s.metrics.f1)
    gain = best.metrics.f1 - single.metrics.f1
    line = (
        f"best fusion: {best.name}, F1 {best.metrics.f1:.3f} vs {single.metrics.f1:.3f} for the "
        f"best single model {single.name} ({gain:+.3f})"
    )
    if _tokens(single.metrics):
        line += f", at {_tokens(best.metrics) / _tokens(single.metrics):.1f}x its tokens"
    return ["", line]


def _failures(setups: Sequence[SetupResult]) -> list[str]:
    lines: list[str] = []
    for setup in setups:
        failed = [case for case in setup.cases if case.failed]
        if failed:
            first = failed[0]
            lines.append(
                f"{setup.name}: {len(failed)}/{len(setup.cases)} cases failed (no model "
                f"answered), e.g. {first.file}: {first.error}"
            )
    return ["", *lines] if lines else []


def render_eval(report: EvalReport) -> str:
    """The comparison table, the verdict, and what failed."""
    head = (
        f"{report.dataset}: {report.cases} cases ({report.clean} clean), "
        f"{report.labels} labelled defects, {len(report.setups)} setups"
    )
    table = _table([_HEADER, *(_row(s) for s in report.setups)])
    return "\n".join([head, "", *table, *_verdict(report.setups), *_failures(report.setups)])
