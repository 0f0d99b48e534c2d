"""The command line's grammar: every command, flag and help text, with examples in `--help`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TypeAlias

from fusion_ls.engine.fusion.modes import MODES
from fusion_ls.findings import SEVERITIES, LineRange
from fusion_ls.version import __version__

__all__ = ["build_parser"]

_Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What `add_subparsers` returns (argparse names no public type for it)."""

_EXAMPLES = """\
examples:
  fusion-ls init                           write a commented starter .fusion.toml here
  fusion-ls review app.py                  review a file with the model pool
  fusion-ls review app.py --lines 10-40    review only those lines
  fusion-ls review --diff origin/main      review what this branch changed
  fusion-ls review src/ --fail-on error    exit 1 when a model finds an error (CI)
  fusion-ls review app.py --show-fixes     show each finding's rationale and fix as a diff
  fusion-ls review app.py --fix            apply the fixes enough models agree on
  fusion-ls explain app.py --lines 10-40   explain code
  fusion-ls config check                   validate the settings and the model ids

exit codes: 0 ran, 1 findings at or above --fail-on, 2 usage or configuration error,
3 no model answered. Colour: on a terminal; NO_COLOR=1 turns it off, FORCE_COLOR=1 on."""


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


def _min_agreement(text: str) -> int | str:
    if text == "majority":
        return text
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f'{text!r} is not a number from 1 up, or "majority"')


def _quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress line or notes on stderr"
    )


def _code_command(commands: _Commands, name: str, help_text: str) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=help_text, description=help_text)
    if name == "review":  # files, directories, globs; none with --diff
        sub.add_argument("paths", metavar="PATH", nargs="*")
    else:
        sub.add_argument("file", metavar="FILE", type=Path)
    sub.add_argument("--lines", type=_line_range, metavar="A-B", help="1-based, inclusive")
    formats = ["text", "json", "sarif", "github"] if name == "review" else ["text", "json"]
    sub.add_argument("--format", choices=formats, default="text")
    sub.add_argument("--config", type=Path, metavar="PATH", help="use this .fusion.toml")
    _quiet(sub)
    sub.add_argument(
        "--no-cache", action="store_true", help="ask the models even for a cached request"
    )
    return sub


def _review_options(review: argparse.ArgumentParser) -> None:
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
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="record the findings in FILE (e.g. .fusion-baseline.json) so later reviews hide them",
    )
    review.add_argument(
        "--stream",
        action="store_true",
        help="print each model's findings as it answers, then the fused set (text format)",
    )
    review.add_argument(
        "--show-fixes",
        action=argparse.BooleanOptionalAction,
        help="show each finding's rationale and fix (a unified diff) under it (default: for "
        "errors, on a terminal)",
    )
    review.add_argument(
        "--fix",
        action="store_true",
        help="apply the fixes of findings at or above review.min_agreement to the files, if "
        "they did not change during the review",
    )
    review.add_argument("--fail-on", choices=SEVERITIES, metavar="SEVERITY",
                        help="exit 1 when a finding is at least this severe: "
                        + ", ".join(SEVERITIES))  # fmt: skip


def _eval_command(commands: _Commands) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="compare each pool model alone with fusion in each mode on a labelled dataset",
        description="Run every setup over a labelled dataset (a directory with a dataset.toml; "
        "see eval/README.md) and print precision, recall, F1, latency, tokens and cost.",
    )
    evaluate.add_argument("dataset", metavar="DATASET", type=Path)
    evaluate.add_argument("--config", type=Path, metavar="PATH", help="use this .fusion.toml")
    evaluate.add_argument("--format", choices=["text", "json"], default="text")
    _quiet(evaluate)
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


def _settings_commands(commands: _Commands) -> None:
    init = commands.add_parser(
        "init",
        help="write a commented starter .fusion.toml",
        description="Write a commented starter .fusion.toml in DIR (default: here), with a local "
        "provider if Ollama or LM Studio answers on its default port. An existing file is "
        "never overwritten.",
    )
    init.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR")
    _quiet(init)
    config = commands.add_parser("config", help="inspect settings")
    config_commands = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    check = config_commands.add_parser("check", help="validate and print the effective settings")
    check.add_argument("path", nargs="?", type=Path, default=Path.cwd(), metavar="PATH")

    trust = commands.add_parser("trust", help="let a project .fusion.toml define providers")
    trust.add_argument("path", nargs="?", type=Path, metavar="PATH")
    trust.add_argument("--list", action="store_true", help="list trusted files")
    untrust = commands.add_parser("untrust", help="revoke trust in a project .fusion.toml")
    untrust.add_argument("path", nargs="?", type=Path, metavar="PATH")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fusion-ls",
        description="Review and explain code with several LLMs at once, and fuse their answers. "
        "Without a command, serve the language server over stdio (what editors run).",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"fusion-ls {__version__}")
    parser.add_argument("--tcp", action="store_true", help="serve LSP over TCP (for debugging)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (with --tcp)")
    parser.add_argument(
        "--log-level", metavar="LEVEL", help="server log level on stderr (or $FUSION_LS_LOG)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    review = _code_command(
        commands, "review", "review code with the model pool and fuse the findings"
    )
    _review_options(review)
    _code_command(
        commands, "explain", "explain code with the model pool and merge the explanations"
    )
    _eval_command(commands)
    _settings_commands(commands)
    return parser
