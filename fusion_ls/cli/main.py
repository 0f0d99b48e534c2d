"""The terminal adapter: argv → engine calls → text or JSON, with exit codes a script can use.

0  ran (with or without findings)
1  findings at or above --fail-on
2  usage or configuration error
3  no model answered
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path

from fusion_ls.cli.batch import batch_command
from fusion_ls.cli.colour import palette_for
from fusion_ls.cli.evaluation import (
    Dataset,
    EvalProgress,
    EvalReport,
    Recorder,
    Replayer,
    load_dataset,
    render_eval,
    run_eval,
)
from fusion_ls.cli.fixes import fix_file, read_source, report_fixes
from fusion_ls.cli.github import github_annotations, say_run_failed
from fusion_ls.cli.init import init_command
from fusion_ls.cli.parser import build_parser
from fusion_ls.cli.progress import ProgressLine, StreamedFindings
from fusion_ls.cli.report import (
    TextStyle,
    analyzers_only,
    details_for,
    exit_code,
    models_answered,
    render_explanation,
    render_review,
)
from fusion_ls.cli.sarif import artifact_uri, to_sarif
from fusion_ls.config.describe import describe_settings
from fusion_ls.config.loading import load_settings
from fusion_ls.config.settings import Settings
from fusion_ls.config.trust import trust_file, trusted_files, untrust_file
from fusion_ls.engine.anchoring import split_lines
from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import Event, drain
from fusion_ls.errors import ConfigError, FusionError, UsageError
from fusion_ls.findings import FusedExplanation, FusedReview
from fusion_ls.reviewers.model_check import (
    ModelCheck,
    check_models,
    stored_suggestion,
    unusable_models,
)
from fusion_ls.reviewers.registry import describe_analyzers
from fusion_ls.reviewers.runtime import Runtime

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_NO_MODEL = 0, 1, 2, 3


def _load(args: argparse.Namespace, start: Path, overrides: dict[str, object]) -> Settings:
    loaded = load_settings(
        start=start, project_file=args.config, overrides=overrides, suggest=stored_suggestion
    )
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    return loaded.settings


async def _drive(
    settings: Settings,
    run: Callable[[Engine], AsyncGenerator[Event, None]],
    progress: ProgressLine,
    *,
    cache: bool,
    stream: StreamedFindings | None = None,
) -> FusedReview | FusedExplanation:
    """Run one engine call on this process's runtime, reporting progress as it goes."""

    def show(event: Event) -> None:
        progress.show(event)
        if stream is not None:
            stream.show(event)

    async with Runtime.default(cache=cache) as runtime:
        try:
            return await drain(run(Engine(settings, runtime)), show)
        finally:
            progress.close()


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    """What the command line sets: `--mode` and `--min-agreement`."""
    overrides: dict[str, object] = {}
    if getattr(args, "mode", None):
        overrides["fusion"] = {"mode": args.mode}
    if getattr(args, "min_agreement", None) is not None:
        overrides["review"] = {"min_agreement": args.min_agreement}
    return overrides


def _style(args: argparse.Namespace) -> TextStyle:
    details = details_for(getattr(args, "show_fixes", None), sys.stdout)
    return TextStyle(palette_for(sys.stdout, os.environ), details)


def _required_by(args: argparse.Namespace) -> str | None:
    """What asks that a model answer, not local analyzers alone: `--require-models`, or
    `CI=true` (a fork's pull request gets no key, and must not pass green), or nothing."""
    if getattr(args, "require_models", False):
        return "--require-models"
    return "CI=true" if os.environ.get("CI") == "true" else None


def _batch_command(args: argparse.Namespace) -> int:
    progress = ProgressLine(sys.stderr, enabled=not args.quiet)
    try:
        return batch_command(
            args,
            lambda start: _load(args, start, _overrides(args)),
            progress.write,
            require_models=_required_by(args),
            style=_style(args),
        )
    finally:
        progress.close()


def _code_command(args: argparse.Namespace) -> int:
    if args.command == "review":
        single = args.diff is None and len(args.paths) == 1 and Path(args.paths[0]).is_file()
        single = single and not args.dry_run and args.write_baseline is None
        if not single:
            return _batch_command(args)
        args.file = Path(args.paths[0])
    text, digest = read_source(args.file)
    settings = _load(args, args.file.resolve().parent, _overrides(args))
    request = CodeRequest(
        path=str(args.file),
        text=text,
        ranges=(args.lines,) if args.lines else (),
        mode=getattr(args, "mode", None),
        file=args.file.resolve(),
        min_agreement=getattr(args, "min_agreement", None),
    )
    progress = ProgressLine(sys.stderr, enabled=not args.quiet)
    cache = not args.no_cache
    style = _style(args)
    lines = split_lines(text)
    stream: StreamedFindings | None = None
    if args.command == "review":
        if args.stream and args.format == "text":
            stream = StreamedFindings(request.path, lines, progress, style.palette)
        result = asyncio.run(
            _drive(settings, lambda e: e.review(request), progress, cache=cache, stream=stream)
        )
        if stream is not None:
            print("fused:")
    else:
        result = asyncio.run(_drive(settings, lambda e: e.explain(request), progress, cache=cache))
    required = _required_by(args)
    if args.format == "json":
        print(result.model_dump_json(indent=2))
    elif args.format == "sarif" and isinstance(result, FusedReview):
        uri = artifact_uri(args.file, Path.cwd())
        log = to_sarif(result, lines, artifact_uri=uri, require_models=bool(required))
        print(json.dumps(log, indent=2))
    elif args.format == "github" and isinstance(result, FusedReview):
        print(github_annotations(result, lines))
    elif isinstance(result, FusedReview):  # --stream has said the note already
        print(render_review(result, lines, style, notice=stream is None))
    else:
        print(render_explanation(result))
    if isinstance(result, FusedReview) and args.fix:
        report_fixes([fix_file(args.file, digest, result)], quiet=args.quiet)
    if not models_answered(result.models, analyzers_count=True):
        say_run_failed("fusion-ls: no model answered; see each model's status above", args.format)
        return EXIT_NO_MODEL
    if required and not models_answered(result.models):
        notice = result.notice if isinstance(result, FusedReview) else None
        say_run_failed(
            f"fusion-ls: no model answered, {analyzers_only(required, notice)}", args.format
        )
        return EXIT_NO_MODEL
    if isinstance(result, FusedReview):
        return exit_code(result, args.fail_on)
    return EXIT_OK


def _eval_command(args: argparse.Namespace) -> int:
    """Every setup over a labelled dataset; 3 when no model answered on any case."""
    dataset = load_dataset(args.dataset)
    settings = _load(args, dataset.root, {})
    tape: Recorder | Replayer | None = None
    if args.replay:
        tape = Replayer.load(args.replay)
    elif args.record:
        tape = Recorder(args.record)
    progress = ProgressLine(sys.stderr, enabled=not args.quiet)
    try:
        report = asyncio.run(_eval(dataset, settings, lambda step: progress.write(str(step)), tape))
    except _NoModel as error:
        print(
            f"fusion-ls: no model of the pool can be asked ({error}); eval stopped before any "
            "review (`eval --replay DIR` runs a recording without a key)",
            file=sys.stderr,
        )
        return EXIT_NO_MODEL
    finally:
        progress.close()
    print(report.model_dump_json(indent=2) if args.format == "json" else render_eval(report))
    if args.replay and not args.quiet:
        print(
            f"fusion-ls: replayed from {args.replay}: no model was called; latency, tokens and "
            "cost are the recorded run's",
            file=sys.stderr,
        )
    if report.measured_nothing:
        print("fusion-ls: no model answered on any case; each case says why", file=sys.stderr)
        return EXIT_NO_MODEL
    return EXIT_OK


class _NoModel(Exception):
    """No chat model of the pool can be asked: every setup would measure nothing."""


async def _eval(
    dataset: Dataset,
    settings: Settings,
    on_progress: Callable[[EvalProgress], None],
    tape: Recorder | Replayer | None,
) -> EvalReport:
    """Eval on this process's runtime; its spend counts toward today's limit. A replay runs on
    its own runtime, which reaches no network and records no spend. Models that cannot be
    asked (no key, nothing listening) are said once, before any review; when none can, eval
    stops there instead of failing every case of every setup."""
    if isinstance(tape, Replayer):
        return await run_eval(dataset, settings, on_progress=on_progress, tape=tape)
    async with Runtime.default(cache=False) as runtime:
        unusable = await unusable_models(settings, runtime)
        chat = [ref for ref in settings.fusion.pool if not ref.is_tool]
        reasons = "; ".join(dict.fromkeys(unusable.values()))
        if chat and len(unusable) == len(chat):
            raise _NoModel(reasons)
        if unusable:
            print(
                f"fusion-ls: {', '.join(unusable)} cannot be asked ({reasons}); their setups "
                "will measure nothing",
                file=sys.stderr,
            )
        return await run_eval(dataset, settings, runtime, on_progress=on_progress, tape=tape)


def _config_command(args: argparse.Namespace) -> int:
    if args.config_command != "check":
        print("usage: fusion-ls config check [PATH]", file=sys.stderr)
        return EXIT_USAGE
    loaded = load_settings(start=args.path.resolve(), suggest=stored_suggestion)
    print(describe_settings(loaded))
    checks = asyncio.run(_check_models(loaded.settings))
    print("models:")
    for check in checks:
        print(f"  {check.describe()}")
    print("analyzers (review offline, or as tool:NAME in the pool):")
    for line in describe_analyzers():
        print(f"  {line}")
    unknown = [check for check in checks if check.unknown]
    for check in unknown:
        print(f"fusion-ls: {check.describe()}", file=sys.stderr)
    return EXIT_USAGE if unknown else EXIT_OK


async def _check_models(settings: Settings) -> list[ModelCheck]:
    """The configured ids against the providers' model lists (read from disk within a day)."""
    async with Runtime.default(cache=False) as runtime:
        return await check_models(settings, runtime.catalogs)


def _project_file(path: Path | None) -> Path:
    target = (path or Path.cwd()).resolve()
    return target / ".fusion.toml" if target.is_dir() else target


def _trust_command(args: argparse.Namespace) -> int:
    if args.command == "trust" and args.list:
        for trusted, digest in sorted(trusted_files().items()):
            print(f"{trusted}  sha256:{digest[:16]}…")
        return EXIT_OK
    target = _project_file(args.path)
    if args.command == "untrust":
        found = untrust_file(target)
        print(f"{'untrusted' if found else 'was not trusted'}: {target}")
        return EXIT_OK
    if not target.is_file():
        raise UsageError(f"no such file: {target}")
    digest = trust_file(target)
    print(f"trusted {target} (sha256:{digest[:16]}…); editing the file revokes trust")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    """The language server: logs go to stderr, because stdout is the protocol."""
    from fusion_ls.lsp.logs import configure
    from fusion_ls.lsp.server import serve  # pygls is only imported when serving

    configure(args.log_level)
    serve(tcp_port=args.port if args.tcp else None)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _serve(args)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "init": lambda a: init_command(a.dir, os.environ, a.quiet),
        "review": _code_command,
        "explain": _code_command,
        "eval": _eval_command,
        "config": _config_command,
        "trust": _trust_command,
        "untrust": _trust_command,
    }
    try:
        return handlers[args.command](args)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        return EXIT_USAGE
    except FusionError as error:
        print(f"fusion-ls: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
