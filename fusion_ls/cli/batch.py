"""`fusion-ls review PATH...` and `review --diff`: many files, reviewed concurrently under a cap.

Each file goes through the same `Engine` a single review uses, with the settings of its own
project, on one runtime: one HTTP client, one cache, one spend ledger, so the daily cost limit
holds across the whole run (each review is checked against what the earlier ones spent).
`review.max_concurrency` files run at once; a provider's 429 and its Retry-After slow the calls
that meet them, and the cap keeps a large run from meeting many.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fusion_ls.cli.baselines import write_baseline
from fusion_ls.cli.fixes import fix_file, read_source, report_fixes
from fusion_ls.cli.github import github_annotations, say_run_failed
from fusion_ls.cli.report import (
    TextStyle,
    analyzers_only,
    exit_code,
    models_answered,
    render_review,
)
from fusion_ls.cli.sarif import artifact_uri, to_sarif_many
from fusion_ls.cli.targets import Target, Targets, from_diff, from_paths
from fusion_ls.config.settings import MinAgreement, ReviewSettings, Settings
from fusion_ls.engine.anchoring import split_lines
from fusion_ls.engine.baseline import Baseline
from fusion_ls.engine.budget import PROMPT_TOKENS, code_tokens
from fusion_ls.engine.enclosing import context_windows
from fusion_ls.engine.engine import CodeRequest, Engine, language_for
from fusion_ls.engine.events import drain, merged_notices
from fusion_ls.engine.project_rules import ProjectRules
from fusion_ls.errors import FusionError, NoReviewer, TooLarge, UsageError
from fusion_ls.findings import FusedReview, Mode, Severity, is_analyzer
from fusion_ls.reviewers.cache import cache_dir
from fusion_ls.reviewers.catalog import stored_catalog
from fusion_ls.reviewers.model_rules import Budget, token_limit
from fusion_ls.reviewers.runtime import Runtime

__all__ = ["Reviewed", "batch_command", "review_all"]


@dataclass(frozen=True)
class Reviewed:
    """One file's outcome: its review, or why there is none."""

    target: Target
    lines: list[str]
    review: FusedReview | None = None
    error: str | None = None
    digest: str = ""
    """The content digest of the text reviewed, which `--fix` checks before writing."""
    unreviewable: NoReviewer | None = None
    """Nothing could review it (no model, no analyzer for its language): skipped, not failed."""
    too_large: TooLarge | None = None
    """Over `limits.max_input_tokens` (a generated file, say): skipped, as the listing skips a
    binary one, so one such file does not fail a whole run."""


@dataclass(frozen=True)
class Flags:
    """What the command line asks of every file's review, over its path rule."""

    mode: Mode | None
    min_agreement: MinAgreement | None


async def _one(
    target: Target,
    settings_for: Callable[[Path], Settings],
    runtime: Runtime,
    flags: Flags,
) -> Reviewed:
    try:
        text, digest = read_source(target.file)
    except UsageError as error:
        return Reviewed(target, [], error=str(error))
    lines = split_lines(text)
    request = CodeRequest(
        path=str(target.file),
        text=text,
        ranges=target.ranges,
        mode=flags.mode,
        file=target.file.resolve(),
        hunks=target.hunks,
        min_agreement=flags.min_agreement,
    )
    try:
        settings = settings_for(target.file)
        review = await drain(Engine(settings, runtime).review(request), lambda _: None)
    except NoReviewer as nothing:
        return Reviewed(target, lines, unreviewable=nothing)
    except TooLarge as large:
        return Reviewed(target, lines, too_large=large)
    except FusionError as error:
        return Reviewed(target, lines, error=str(error))
    assert isinstance(review, FusedReview)
    return Reviewed(target, lines, review, digest=digest)


async def review_all(
    targets: list[Target],
    settings_for: Callable[[Path], Settings],
    runtime: Runtime,
    *,
    flags: Flags,
    concurrency: int,
    on_done: Callable[[int, int, Reviewed], None],
) -> list[Reviewed]:
    """Every target reviewed, at most `concurrency` at once; results in the targets' order."""
    gate = asyncio.Semaphore(concurrency)
    finished = 0

    async def gated(target: Target) -> Reviewed:
        nonlocal finished
        async with gate:
            outcome = await _one(target, settings_for, runtime, flags)
        finished += 1
        on_done(finished, len(targets), outcome)
        return outcome

    return list(await asyncio.gather(*(gated(target) for target in targets)))


def _targets(
    args: argparse.Namespace, settings: Settings, settings_for: Callable[[Path], Settings]
) -> Targets:
    """The files to review; each is checked against its own project's excludes."""
    if args.lines is not None:
        raise UsageError(
            "--lines reviews one file; with several paths or --diff each file's whole text or "
            "changed lines are reviewed"
        )

    def review_for(file: Path) -> ReviewSettings:
        return settings_for(file).review

    if args.diff is not None:
        near = settings.review.near_changes
        return from_diff(args.diff or None, args.staged, Path.cwd(), review_for, near)
    if args.staged:
        raise UsageError("--staged goes with --diff")
    return from_paths(args.paths or ["."], review_for)


def batch_command(
    args: argparse.Namespace,
    load: Callable[[Path], Settings],
    progress: Callable[[str], None],
    *,
    require_models: str | None,
    style: TextStyle,
) -> int:
    """Review every target and print the results grouped by file (with `--fix`, then fix
    them); the CLI's exit code. `require_models` says what asks for models (`CI=true`,
    `--require-models`), if anything does."""
    settings = load(Path.cwd())
    per_folder: dict[Path, Settings] = {}

    def settings_for(file: Path) -> Settings:
        folder = file.resolve().parent
        if folder not in per_folder:
            per_folder[folder] = load(folder)
        return per_folder[folder]

    targets = _targets(args, settings, settings_for)
    for path, why in targets.skipped:
        print(f"{path}: skipped ({why})", file=sys.stderr)
    if not targets.files:
        print("fusion-ls: nothing to review", file=sys.stderr)
        if args.format in ("json", "sarif"):  # a CI step uploads the file: it must parse
            _print([], args.format, require_models, style)
        return 0
    if args.dry_run:
        return _dry_run(targets.files, settings_for)
    if args.write_baseline is not None:
        Baseline.load(args.write_baseline)  # a broken one fails now, not after the reviews

    spent = [0.0]
    models = len(settings.fusion.pool)

    def on_done(done: int, total: int, outcome: Reviewed) -> None:
        if outcome.review is not None:
            spent[0] += outcome.review.usage.cost_usd or 0.0
        progress(f"{done}/{total} files · {models} models · ${spent[0]:.4f}")

    async def run() -> list[Reviewed]:
        async with Runtime.default(cache=not args.no_cache) as runtime:
            return await review_all(
                targets.files,
                settings_for,
                runtime,
                flags=Flags(args.mode, args.min_agreement),
                concurrency=settings.review.max_concurrency,
                on_done=on_done,
            )

    outcomes = asyncio.run(run())
    _print(outcomes, args.format, require_models, style)
    if args.write_baseline is not None:
        reviewed = [(o.target.file, o.review, o.lines) for o in outcomes if o.review is not None]
        for note in write_baseline(reviewed, args.write_baseline, settings_for):
            print(note, file=sys.stderr)
    if args.fix:
        fixed = [
            fix_file(o.target.file, o.digest, o.review) for o in outcomes if o.review is not None
        ]
        report_fixes(fixed, quiet=args.quiet)
    return _exit_code(outcomes, args.fail_on, require_models, args.format)


def _print(
    outcomes: list[Reviewed], format_: str, require_models: str | None, style: TextStyle
) -> None:
    """Errors and skipped files on stderr (why no model can be used, once), results on
    stdout; in text, each note (the offline fallback's, say) once above the reviews."""
    done = [(o.review, o.lines) for o in outcomes if o.review is not None]
    if not (done and format_ == "text"):  # else the reviews' note says it
        for models in dict.fromkeys(o.unreviewable.models for o in outcomes if o.unreviewable):
            print(f"fusion-ls: no model can be used ({models})", file=sys.stderr)
    for outcome in outcomes:
        if outcome.unreviewable is not None:
            why = outcome.unreviewable.analyzers
            print(f"{outcome.target.file}: skipped ({why})", file=sys.stderr)
        if outcome.too_large is not None:
            print(f"{outcome.target.file}: skipped ({outcome.too_large})", file=sys.stderr)
        if outcome.error is not None:
            print(f"{outcome.target.file}: {outcome.error}", file=sys.stderr)
    if format_ == "json":
        print(json.dumps([review.model_dump(mode="json") for review, _ in done], indent=2))
    elif format_ == "sarif":
        cwd = Path.cwd()
        entries = [(r, lines, artifact_uri(Path(r.path), cwd)) for r, lines in done]
        failed = [(artifact_uri(file, cwd), why) for file, why in _failures(outcomes)]
        log = to_sarif_many(entries, require_models=bool(require_models), failures=failed)
        print(json.dumps(log, indent=2))
    elif format_ == "github":
        annotations = [github_annotations(review, lines) for review, lines in done]
        if any(annotations):  # a file without findings adds no empty line
            print("\n".join(a for a in annotations if a))
    else:
        # A notice (no key: local analyzers only) is the same for every file: said once.
        for notice in merged_notices(review.notice for review, _ in done if review.notice):
            print(f"note: {notice}\n")
        reports = (
            f"==> {r.path} <==\n{render_review(r, lines, style, notice=False)}" for r, lines in done
        )
        print("\n\n".join(reports))
        count = sum(len(review.findings) for review, _ in done)
        print(f"\n{_counted(len(done), 'file')} reviewed · {_counted(count, 'finding')}")


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _failures(outcomes: list[Reviewed]) -> list[tuple[Path, str]]:
    """The files whose review failed, and why; files nothing could review count only when no
    file was reviewed at all (as the exit code has it)."""
    failed = [(o.target.file, o.error) for o in outcomes if o.error is not None]
    if not any(o.review for o in outcomes):
        failed += [(o.target.file, str(o.unreviewable)) for o in outcomes if o.unreviewable]
    return failed


def _exit_code(
    outcomes: list[Reviewed], fail_on: Severity | None, require_models: str | None, format_: str
) -> int:
    """As for one file; files nothing could review are skipped, unless no file was reviewed
    at all (2: the key or an analyzer is what to set up)."""
    reviews = [o.review for o in outcomes if o.review is not None]
    if not reviews and all(o.unreviewable for o in outcomes):
        return 2
    outcomes = [o for o in outcomes if o.unreviewable is None and o.too_large is None]
    counted = not require_models
    silent = [r for r in reviews if not models_answered(r.models, analyzers_count=counted)]
    if silent or len(reviews) < len(outcomes):
        names = ", ".join(r.path for r in silent[:3]) or "see above"
        why = f": {_why_silent(silent[0], require_models)}" if silent else ""
        say_run_failed(f"fusion-ls: not every file was reviewed by a model ({names}){why}", format_)
        return 3
    return max((exit_code(review, fail_on) for review in reviews), default=0)


def _why_silent(review: FusedReview, require_models: str | None) -> str:
    """Why no model answered for `review`, in one line: a CI log shows nothing else (SARIF goes
    to a file, and `--quiet` drops the progress)."""
    failed = [run for run in review.models if run.status != "ok" and not is_analyzer(run.model)]
    reason = review.notice or "; ".join(f"{run.model}: {run.error or run.status}" for run in failed)
    if require_models and models_answered(review.models, analyzers_count=True):
        return analyzers_only(require_models, reason)
    return reason


def _dry_run(targets: list[Target], settings_for: Callable[[Path], Settings]) -> int:
    """What would be sent, and about how many tokens, without sending anything."""
    total = 0
    price: float | None = 0.0
    for target in targets:
        try:
            lines = split_lines(target.file.read_text(encoding="utf-8"))
            settings = settings_for(target.file)
            request = CodeRequest(
                path=str(target.file),
                text="",
                ranges=target.ranges,
                file=target.file.resolve(),
                hunks=target.hunks,
            )
            language = language_for(request.path)
            scope = request.scope(len(lines))
            rules = ProjectRules.of(settings, request, lines)
            context = request.context_lines(rules.review)
            windows = context_windows(lines, language, scope, context)
        except (OSError, UnicodeDecodeError, FusionError) as error:
            print(f"{target.file}: would be skipped: {error}")
            continue
        sent = (line for w in windows.ranges for line in lines[w.start - 1 : w.end])
        per_model = PROMPT_TOKENS + code_tokens(sent) + code_tokens(split_lines(rules.instructions))
        calls = len(settings.fusion.pool) + 1  # and the judge, which reads their answers too
        total += per_model * calls
        most = _most_usd(settings, per_model)
        cost = f" · up to ${most:.4f}" if most is not None else ""
        if most is not None and price is not None:
            price += most
        else:
            price = None
        shown = ", ".join(str(r) for r in target.ranges) or "all"
        sources = ", ".join(f.path for f in rules.rule_files)
        conventions = f" · conventions from {sources}" if sources else ""
        print(
            f"{target.file}: lines {shown} · ~{per_model} tokens to each of {calls} calls"
            f"{cost}{conventions}"
        )
    priced = (
        f"up to ${price:.4f} at the providers' listed prices"
        if price is not None
        else "cost unknown (a model has no stored price; `fusion-ls config check` fetches them)"
    )
    print(f"{len(targets)} files · ~{total} prompt tokens · {priced} · nothing was sent")
    return 0


def _most_usd(settings: Settings, prompt_tokens: int) -> float | None:
    """The most one file's calls may cost, from the model lists kept on disk (no request);
    None when a chat model has no stored price. Local analyzers are free."""
    fusion = settings.fusion
    budget = Budget(fusion.max_tokens, fusion.reasoning_tokens, fusion.temperature)
    most = 0.0
    for ref in [*fusion.pool, fusion.judge]:
        if ref.is_tool:
            continue
        catalog = stored_catalog(cache_dir(), settings.providers[ref.provider])
        info = catalog.get(ref.model) if catalog else None
        cost = info.cost(prompt_tokens, token_limit(ref.model, budget, info)) if info else None
        if cost is None:
            return None
        most += cost
    return most
