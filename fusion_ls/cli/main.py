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
import logging
import os
import sys
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path

from fusion_ls.cli.batch import batch_command
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
from fusion_ls.cli.github import github_annotations
from fusion_ls.cli.progress import ProgressLine, StreamedFindings
from fusion_ls.cli.report import (
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
from fusion_ls.engine.fusion.modes import MODES
from fusion_ls.errors import ConfigError, FusionError, UsageError
from fusion_ls.findings import SEVERITIES, FusedExplanation, FusedReview, LineRange
from fusion_ls.reviewers.model_check import ModelCheck, check_models
from fusion_ls.reviewers.registry import describe_analyzers
from fusion_ls.reviewers.runtime import Runtime
from fusion_ls.version import __version__

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_NO_MODEL = 0, 1, 2, 3


def _line_range(text: str) -> LineRange:
    """`12-40` or `12` → LineRange; argparse shows the ValueError's message."""
    start, _, end = text.partition("-")
    try:
        first = int(start)
        return LineRange(start=first, end=int(end) if end else first)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a line range like 12-40 (1-based, inclusive)"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fusion-ls",
        description="Review and explain code with several LLMs at once, and fuse their answers. "
        "Without a command, serve the language server over stdio (what editors run).",
        epilog="Exit codes: 0 ran, 1 findings at or above --fail-on, 2 usage or configuration "
        "error, 3 no model answered.",
    )
    parser.add_argument("--version", action="version", version=f"fusion-ls {__version__}")
    parser.add_argument("--tcp", action="store_true", help="serve LSP over TCP (for debugging)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (with --tcp)")
    parser.add_argument(
        "--log-level", metavar="LEVEL", help="server log level on stderr (or $FUSION_LS_LOG)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def code_command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if name == "review":  # files, directories, globs; none with --diff
            sub.add_argument("paths", metavar="PATH", nargs="*")
        else:
            sub.add_argument("file", metavar="FILE", type=Path)
        sub.add_argument("--lines", type=_line_range, metavar="A-B", help="1-based, inclusive")
        formats = ["text", "json", "sarif", "github"] if name == "review" else ["text", "json"]
        sub.add_argument("--format", choices=formats, default="text")
        sub.add_argument("--config", type=Path, metavar="PATH", help="use this .fusion.toml")
        sub.add_argument("--quiet", action="store_true", help="no progress line on stderr")
        sub.add_argument(
            "--no-cache", action="store_true", help="ask the models even for a cached request"
        )
        return sub

    review = code_command("review", "review code with the model pool and fuse the findings")
    review.add_argument("--mode", choices=list(MODES))
    review.add_argument(
        "--diff",
        nargs="?",
        const="",
        metavar="BASE",
        help="review the changed hunks: the working tree against HEAD, or against the merge "
        "base of BASE (e.g. origin/main)",
    )
    review.add_argument("--staged", action="store_true", help="with --diff: the index, not HEAD")
    review.add_argument(
        "--dry-run", action="store_true", help="list the files and lines it would send, and stop"
    )
    review.add_argument(
        "--require-models",
        action="store_true",
        help="exit 3 when no model answered, even if local analyzers did (implied by CI=true)",
    )
    review.add_argument(
        "--min-agreement",
        type=_min_agreement,
        metavar="K",
        help='demote findings fewer than K models raised (a number, or "majority")',
    )
    review.add_argument(
        "--stream",
        action="store_true",
        help="print each model's findings as it answers, then the fused set (text format)",
    )
    review.add_argument("--fail-on", choices=SEVERITIES, metavar="SEVERITY",
                        help="exit 1 when a finding is at least this severe: "
                        + ", ".join(SEVERITIES))  # fmt: skip
    code_command("explain", "explain code with the model pool and merge the explanations")

    evaluate = commands.add_parser(
        "eval",
        help="compare each pool model alone with fusion in each mode on a labelled dataset",
        description="Run every setup over a labelled dataset (a directory with a dataset.toml; "
        "see eval/README.md) and print precision, recall, F1, latency, tokens and cost.",
    )
    evaluate.add_argument("dataset", metavar="DATASET", type=Path)
    evaluate.add_argument("--config", type=Path, metavar="PATH", help="use this .fusion.toml")
    evaluate.add_argument("--format", choices=["text", "json"], default="text")
    evaluate.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    taping = evaluate.add_mutually_exclusive_group()
    taping.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="also save every model's raw answers in DIR (a new folder), to --replay later",
    )
    taping.add_argument(
        "--replay",
        type=Path,
        metavar="DIR",
        help="answer every model call from the recording in DIR: no model is called, no key is "
        "needed, nothing is spent",
    )

    config = commands.add_parser("config", help="inspect settings")
    config_commands = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    check = config_commands.add_parser("check", help="validate and print the effective settings")
    check.add_argument("path", nargs="?", type=Path, default=Path.cwd(), metavar="PATH")

    trust = commands.add_parser("trust", help="let a project .fusion.toml define providers")
    trust.add_argument("path", nargs="?", type=Path, metavar="PATH")
    trust.add_argument("--list", action="store_true", help="list trusted files")
    untrust = commands.add_parser("untrust", help="revoke trust in a project .fusion.toml")
    untrust.add_argument("path", nargs="?", type=Path, metavar="PATH")
    return parser


def _read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; fusion-ls reviews source files") from None


def _load(args: argparse.Namespace, start: Path, overrides: dict[str, object]) -> Settings:
    loaded = load_settings(start=start, project_file=args.config, overrides=overrides)
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


def _min_agreement(text: str) -> int | str:
    if text == "majority":
        return text
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f'{text!r} is not a number from 1 up, or "majority"')


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    """What the command line sets: `--mode` and `--min-agreement`."""
    overrides: dict[str, object] = {}
    if getattr(args, "mode", None):
        overrides["fusion"] = {"mode": args.mode}
    if getattr(args, "min_agreement", None) is not None:
        overrides["review"] = {"min_agreement": args.min_agreement}
    return overrides


def _batch_command(args: argparse.Namespace) -> int:
    progress = ProgressLine(sys.stderr, enabled=not args.quiet)
    try:
        return batch_command(
            args,
            lambda start: _load(args, start, _overrides(args)),
            progress.write,
            require_models=args.require_models or os.environ.get("CI") == "true",
        )
    finally:
        progress.close()


def _code_command(args: argparse.Namespace) -> int:
    if args.command == "review":
        single = args.diff is None and len(args.paths) == 1 and Path(args.paths[0]).is_file()
        single = single and not args.dry_run
        if not single:
            return _batch_command(args)
        args.file = Path(args.paths[0])
    text = _read_source(args.file)
    settings = _load(args, args.file.resolve().parent, _overrides(args))
    request = CodeRequest(
        path=str(args.file),
        text=text,
        ranges=(args.lines,) if args.lines else (),
        file=args.file.resolve(),
    )
    progress = ProgressLine(sys.stderr, enabled=not args.quiet)
    cache = not args.no_cache
    if args.command == "review":
        stream = None
        if args.stream and args.format == "text":
            stream = StreamedFindings(request.path, split_lines(text))
        result = asyncio.run(
            _drive(settings, lambda e: e.review(request), progress, cache=cache, stream=stream)
        )
        if stream is not None:
            print("fused:")
    else:
        result = asyncio.run(_drive(settings, lambda e: e.explain(request), progress, cache=cache))
    required = getattr(args, "require_models", False) or os.environ.get("CI") == "true"
    if args.format == "json":
        print(result.model_dump_json(indent=2))
    elif args.format == "sarif" and isinstance(result, FusedReview):
        uri = artifact_uri(args.file, Path.cwd())
        log = to_sarif(result, split_lines(text), artifact_uri=uri, require_models=required)
        print(json.dumps(log, indent=2))
    elif args.format == "github" and isinstance(result, FusedReview):
        print(github_annotations(result, split_lines(text)))
    elif isinstance(result, FusedReview):
        print(render_review(result, split_lines(text)))
    else:
        print(render_explanation(result))
    if not models_answered(result.models, analyzers_count=True):
        print("fusion-ls: no model answered; see each model's status above", file=sys.stderr)
        return EXIT_NO_MODEL
    if required and not models_answered(result.models):
        why = "CI=true" if os.environ.get("CI") == "true" else "--require-models"
        print(
            f"fusion-ls: no model answered, only local analyzers ({why} asks for models); set "
            "the provider's key (a fork's pull request gets no secrets) or drop --require-models",
            file=sys.stderr,
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


async def _eval(
    dataset: Dataset,
    settings: Settings,
    on_progress: Callable[[EvalProgress], None],
    tape: Recorder | Replayer | None,
) -> EvalReport:
    """Eval on this process's runtime; its spend counts toward today's limit. A replay runs on
    its own runtime, which reaches no network and records no spend."""
    if isinstance(tape, Replayer):
        return await run_eval(dataset, settings, on_progress=on_progress, tape=tape)
    async with Runtime.default(cache=False) as runtime:
        return await run_eval(dataset, settings, runtime, on_progress=on_progress, tape=tape)


def _config_command(args: argparse.Namespace) -> int:
    if args.config_command != "check":
        print("usage: fusion-ls config check [PATH]", file=sys.stderr)
        return EXIT_USAGE
    loaded = load_settings(start=args.path.resolve())
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
    from fusion_ls.lsp.server import log_level, serve  # pygls is only imported when serving

    logging.basicConfig(
        stream=sys.stderr,
        level=log_level(args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    serve(tcp_port=args.port if args.tcp else None)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _serve(args)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
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
