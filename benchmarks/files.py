"""The command line on many files and on a diff: `fusion-ls review DIR` and `review --diff`.

Each phase runs `python -m fusion_ls` as a subprocess in a workspace of its own (user config
pointing at the fake, a fresh response cache), as a user or a CI job runs it. The subprocess is
reaped with `os.wait4`, whose resource usage is that process's own: `ru_maxrss` is its peak RSS,
not that of the language servers the other phases started.
"""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.figures import Figure
from benchmarks.harness import (
    FAST,
    JUDGE,
    STANDARD,
    BenchmarkError,
    ScriptedModels,
    Workspace,
    document_text,
)

__all__ = ["FileCounts", "diff_tokens", "many_files", "peak_memory"]

ROOT = Path(__file__).resolve().parent.parent
MODULE_LINES = 1000
SIZES = (6, 14, 9, 22, 35, 11, 60, 17, 28, 8, 45, 13)
"""Function lengths of the generated module, repeated: mostly short, some long, as real code."""


@dataclass(frozen=True)
class FileCounts:
    """How many files each phase reviews, and how many at once."""

    timed: int  # reviewed with the standard latencies, for wall time
    timed_concurrency: int
    many: int  # reviewed with short latencies, for peak memory
    many_concurrency: int


@dataclass(frozen=True)
class CliRun:
    code: int
    wall_s: float
    cpu_s: float  # user and system time of the process
    peak_mb: float
    err: str


def _run(workspace: Workspace, args: Sequence[str]) -> CliRun:
    env = {**workspace.env, "PYTHONPATH": str(ROOT)}  # this checkout's fusion_ls
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "fusion_ls", *args],
            cwd=workspace.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    return CliRun(process.returncode, wall, cpu, usage.ru_maxrss / 1024, text)


async def cli(workspace: Workspace, *args: str) -> CliRun:
    """`fusion-ls ARGS` in the workspace, off the event loop (the fake answers on its own
    threads); exit codes 0 and 1 (findings) are a review that ran."""
    run = await asyncio.to_thread(_run, workspace, args)
    if run.code not in (0, 1):
        raise BenchmarkError(f"fusion-ls {' '.join(args)} exited {run.code}: {run.err[-2000:]}")
    return run


def _write_files(root: Path, count: int, tag: str) -> None:
    folder = root / "src"
    folder.mkdir()
    for n in range(count):
        (folder / f"module_{n:03d}.py").write_text(document_text(f"{tag}-{n}"))


def _judged(models: ScriptedModels, mark: int, files: int, what: str) -> int:
    requests = models.since(mark)
    judged = sum(r.model == JUDGE for r in requests)
    if judged != files:
        raise BenchmarkError(f"{what}: the judge ran {judged} times for {files} files")
    return len(requests)


async def many_files(base: Path, models: ScriptedModels, counts: FileCounts) -> Figure:
    """`review src` of `counts.timed` files: wall time against whole batches of one review."""
    workers = counts.timed_concurrency
    config = f"\n[review]\nmax_concurrency = {workers}\n"
    workspace = Workspace.create(base / "files", models.fake.base_url, tables=config)
    _write_files(workspace.root, counts.timed, "timed")
    models.latencies = STANDARD
    mark = models.mark()
    run = await cli(workspace, "review", "src", "--quiet")
    _judged(models, mark, counts.timed, "many files")
    listing = await cli(workspace, "review", "src", "--dry-run")  # start-up, files, no model
    one = STANDARD.slowest + STANDARD.judge
    expected = math.ceil(counts.timed / workers) * one
    return Figure(
        "files_wall_ratio",
        f"`review DIR`, {counts.timed} files ÷ (⌈{counts.timed} / {workers}⌉ x (slowest + judge))",
        run.wall_s / expected,
        "ratio",
        1.2,
        f"{run.wall_s:.2f} s vs {expected:.1f} s, process start to exit; "
        f"max_concurrency {workers}; CPU {run.cpu_s:.1f} s; "
        f"`--dry-run` of the same files {listing.wall_s:.2f} s",
    )


async def peak_memory(base: Path, models: ScriptedModels, counts: FileCounts) -> Figure:
    """`review src` of `counts.many` files with short latencies: the CLI's own peak RSS."""
    workers = counts.many_concurrency
    config = f"\n[review]\nmax_concurrency = {workers}\n"
    workspace = Workspace.create(base / "many", models.fake.base_url, tables=config)
    _write_files(workspace.root, counts.many, "many")
    models.latencies = FAST
    mark = models.mark()
    run = await cli(workspace, "review", "src", "--quiet")
    requests = _judged(models, mark, counts.many, "peak memory")
    models.latencies = STANDARD
    return Figure(
        "files_peak_rss_mb",
        f"peak RSS of `review DIR`, {counts.many} files",
        run.peak_mb,
        "MB",
        200,
        f"{run.wall_s:.1f} s, CPU {run.cpu_s:.1f} s, max_concurrency {workers}, "
        f"{requests} model requests",
    )


# -- a diff against the whole file -----------------------------------------------------------


def module_lines(count: int = MODULE_LINES) -> list[str]:
    """A Python module of `count` lines: functions of the lengths in `SIZES`, then constants."""
    lines = ['"""A generated module."""', "", "import json", "", ""]
    number = 0
    while True:
        size = SIZES[number % len(SIZES)]
        function = [
            f"def handler_{number}(request, store, limit={number}):",
            f'    """Handle request {number}."""',
            *(
                f"    value_{i} = store.fetch(request.get('key_{number}_{i}'), limit)"
                for i in range(size - 3)
            ),
            "    return json.dumps(value_0)",
            "",
            "",
        ]
        if len(lines) + len(function) > count:
            break
        lines.extend(function)
        number += 1
    lines.extend(f"CONSTANT_{n} = {n}" for n in range(len(lines), count))
    return lines


def changed(lines: Sequence[str], hunks: int, size: int) -> list[str]:
    """`hunks` runs of `size` changed lines, one in the middle of each equal part of the file."""
    out = list(lines)
    part = len(lines) // hunks
    for n in range(hunks):
        first = n * part + (part - size) // 2
        for index in range(first, first + size):
            out[index] = f"{out[index]}  # changed"
    return out


def _pool_tokens(models: ScriptedModels, mark: int) -> int:
    """Prompt tokens of the pool's requests (characters / 4, as the fake counts usage)."""
    return sum(len(r.prompt_text) for r in models.since(mark) if r.model != JUDGE) // 4


async def diff_tokens(base: Path, models: ScriptedModels) -> list[Figure]:
    """Tokens a diff review sends, as a share of a whole-file review of the same file.

    The diff changes 10 % of a 1,000-line module in 4 hunks of 25 lines (a change to four
    functions); it is reviewed with the defaults (`review.diff_context_lines`, 8, around each
    hunk, and the header of the function it is in: the target) and with 30 lines of context
    around each hunk (what a selection gets), and so is a diff of 10 hunks of 10 lines
    (reported).
    """
    config = "\n[limits]\nmax_input_tokens = 200000\n"  # a whole 1,000-line file, three times
    workspace = Workspace.create(base / "diff", models.fake.base_url, tables=config)
    root = workspace.root
    source = root / "service.py"
    original = module_lines()
    source.write_text("\n".join(original) + "\n")
    (root / ".gitignore").write_text(".fusion.toml\n")
    for command in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "start"],
    ):
        subprocess.run(["git", "-C", str(root), *command], check=True, capture_output=True)
    models.latencies = FAST

    async def tokens(context: int | None, *args: str) -> int:
        chosen = "" if context is None else f"[review]\ndiff_context_lines = {context}\n"
        (root / ".fusion.toml").write_text(chosen)
        mark = models.mark()
        await cli(workspace, "review", *args, "--quiet")
        return _pool_tokens(models, mark)

    source.write_text("\n".join(original) + "\n")
    whole = await tokens(None, "service.py")
    figures = []
    for hunks, size in ((4, 25), (10, 10)):
        source.write_text("\n".join(changed(original, hunks, size)) + "\n")
        for context in (None, 30):
            sent = await tokens(context, "--diff")
            target = hunks == 4 and context is None
            shown = "default" if context is None else str(context)
            figures.append(
                Figure(
                    f"diff_token_share_{hunks}x{size}_c{shown}",
                    f"diff tokens ÷ whole file, {hunks} hunks of {size} lines, context {shown}",
                    sent / whole,
                    "ratio",
                    0.25 if target else None,
                    f"{sent} vs {whole} pool prompt tokens",
                )
            )
    models.latencies = STANDARD
    return figures
