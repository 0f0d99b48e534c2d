"""Latency, throughput and memory of the language server, driven over stdio as an editor would.

    .venv/bin/python -m benchmarks.bench            # the full run: prints the tables
    .venv/bin/python -m benchmarks.bench --quick    # fewer repetitions (the test suite's run)
    .venv/bin/python -m benchmarks.bench --json     # one JSON object instead of tables

The models are the fake OpenAI-compatible server of `tests/fake_openai.py`, answering after
0.3 s, 0.6 s and 0.9 s (the judge after 0.4 s), so each ratio shows what the server, and the
rig itself (see "rig floor"), add to the models' latency. BENCHMARKS.md explains every figure.
Exits 1 when a full run misses a target, 2 when it cannot measure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/bench.py`: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import (
    Figure,
    TokenUse,
    figure_table,
    median,
    p99,
    token_table,
    token_use,
)
from benchmarks.harness import (
    JUDGE,
    SLOW,
    STANDARD,
    BenchmarkError,
    FakeOpenAI,
    ScriptedModels,
    Server,
    Timing,
    Workspace,
    code_actions,
    hover,
    memory_mb,
    rig_floor_ms,
    until,
)
from benchmarks.machine import CpuWindow, describe

MODES = ("best-of", "merge", "debate")
ROUNDS = {"best-of": 1, "merge": 1, "debate": 2}
"""Model rounds per mode; debate's `rounds = 2` is set in the benchmark's user config."""
PROBE_WINDOW_S = 2.1
"""Probes are spread over this long, while the slow reviews' models answer (1.0, 1.5, 2.0 s)."""


@dataclass(frozen=True)
class Plan:
    """How much of everything to do."""

    reps: int  # reviews per fusion mode
    cache_hits: int
    busy: int  # reviews in flight while hover and code actions are probed
    probes: int
    concurrent: int
    spawns: int


FULL = Plan(reps=10, cache_hits=30, busy=20, probes=200, concurrent=100, spawns=5)
QUICK = Plan(reps=1, cache_hits=5, busy=20, probes=60, concurrent=50, spawns=1)


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    tokens: list[TokenUse] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)

    def add(self, *figures: Figure) -> None:
        self.figures.extend(figures)

    @property
    def passed(self) -> bool:
        return all(f.passed is not False for f in self.figures)


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> float:
    return seconds * 1000


# -- phases ------------------------------------------------------------------------------------


async def startup(server: Server, workspace: Workspace, spawns: int) -> list[Figure]:
    """Process start → `initialize` answered, and resident memory when idle after it."""
    samples = [(server.spawn_s, memory_mb(server.pid)["rss"])]
    for _ in range(spawns - 1):
        spare = await Server.spawn(workspace)
        samples.append((spare.spawn_s, memory_mb(spare.pid)["rss"]))
        await spare.stop()
    times, rss = [s for s, _ in samples], [r for _, r in samples]
    of = f"median of {len(samples)}" if len(samples) > 1 else "1 start"
    return [
        Figure("spawn_s", "spawn → `initialize` answered", median(times), "s", detail=of),
        Figure("idle_rss_mb", "idle RSS after `initialize`", median(rss), "MB", detail=of),
    ]


async def warm_up(server: Server) -> tuple[str, Figure]:
    """The first review after start (reported), on the document the cache phase repeats."""
    uri = server.open("warm")
    timing = await server.timed_review(uri)
    ratio = timing.fused_s / (STANDARD.slowest + STANDARD.judge)
    detail = f"{timing.fused_s:.3f} s, merge"
    return uri, Figure(
        "cold_fused_ratio",
        "first review after start, fused ÷ (slowest + judge)",
        ratio,
        "ratio",
        detail=detail,
    )


async def cache_hits(server: Server, models: ScriptedModels, uri: str, count: int) -> Figure:
    """The same unchanged text again: every answer from the cache, nothing sent."""
    mark = models.mark()
    timings = [await server.timed_review(uri) for _ in range(count)]
    sent = models.since(mark)
    if sent:
        raise BenchmarkError(
            f"{len(sent)} model requests sent for reviews that should hit the cache"
        )
    fused = [_ms(t.fused_s) for t in timings]
    detail = f"{count} reviews, max {max(fused):.1f} ms, 0 requests sent"
    return Figure(
        "cache_ms", "cache hit, command → diagnostics, median", median(fused), "ms", 30, detail
    )


async def one_mode(server: Server, models: ScriptedModels, mode: str, reps: int) -> list[Timing]:
    server.set_mode(mode)
    mark = models.mark()
    timings = [await server.timed_review(server.open(f"{mode}-{n}")) for n in range(reps)]
    judged = [r for r in models.since(mark) if r.model == JUDGE]
    if len(judged) != reps:
        raise BenchmarkError(f"{mode}: the judge ran {len(judged)} times for {reps} reviews")
    return timings


def mode_figure(mode: str, timings: Sequence[Timing]) -> Figure:
    rounds = ROUNDS[mode]
    expected = rounds * STANDARD.slowest + STANDARD.judge
    ratios = [t.fused_s / expected for t in timings]
    base = "slowest + judge" if rounds == 1 else f"{rounds} * slowest + judge"
    detail = (
        f"{median([t.fused_s for t in timings]):.3f} s vs {expected:.1f} s; max {max(ratios):.3f}"
    )
    return Figure(
        f"fused_ratio_{mode}", f"fused ÷ ({base}), {mode}", median(ratios), "ratio", 1.05, detail
    )


def first_figure(timings: Sequence[Timing]) -> Figure:
    ratios = [t.first_s / STANDARD.fastest for t in timings]
    seconds = median([t.first_s for t in timings])
    detail = f"{seconds:.3f} s vs {STANDARD.fastest} s; max {max(ratios):.3f}"
    return Figure(
        "first_ratio", "first diagnostic ÷ fastest model", median(ratios), "ratio", 1.10, detail
    )


async def modes(server: Server, models: ScriptedModels, reps: int, report: Report) -> None:
    every: list[Timing] = []
    figures: list[Figure] = []
    for mode in MODES:
        _say(f"{mode}: {reps} reviews")
        mark = models.mark()
        timings = await one_mode(server, models, mode, reps)
        report.tokens.append(token_use(mode, models.since(mark), reps))
        figures.append(mode_figure(mode, timings))
        every.extend(timings)
    server.set_mode("merge")
    report.add(first_figure(every), *figures)


async def responsiveness(server: Server, models: ScriptedModels, warm: str, plan: Plan) -> Figure:
    """Hover and code action latency while `plan.busy` slow reviews run."""
    diagnostic = next(d for d in server.client.diagnostics[warm] if d.code == "bug")
    actions = await code_actions(server.client, warm, 5, 5, [diagnostic])
    if not any(a.kind == "quickfix" for a in actions) or not await hover(server.client, warm, 5):
        raise BenchmarkError("the probed finding has no quick fix or no hover")
    models.latencies = SLOW
    uris = [server.open(f"busy-{n}") for n in range(plan.busy)]
    mark = models.mark()
    running = [asyncio.ensure_future(server.review(uri)) for uri in uris]
    await until(lambda: len(models.since(mark)) >= 3 * plan.busy)
    loop = asyncio.get_running_loop()
    begin, step = loop.time(), PROBE_WINDOW_S / plan.probes
    latencies: list[float] = []
    in_flight = 0
    for n in range(plan.probes):
        await asyncio.sleep(max(0.0, begin + n * step - loop.time()))
        started = time.perf_counter()
        if n % 2:
            await code_actions(server.client, warm, 5, 5, [diagnostic])
        else:
            await hover(server.client, warm, 5)
        latencies.append(_ms(time.perf_counter() - started))
        in_flight += not any(task.done() for task in running)
    await asyncio.gather(*running)
    models.latencies = STANDARD
    detail = (
        f"median {median(latencies):.1f} ms, max {max(latencies):.1f} ms; "
        f"{in_flight} of {plan.probes} with all {plan.busy} in flight"
    )
    return Figure(
        "probe_p99_ms",
        f"hover + code action p99, {plan.busy} reviews in flight",
        p99(latencies),
        "ms",
        50,
        detail,
    )


async def concurrency(server: Server, models: ScriptedModels, count: int) -> list[Figure]:
    """`count` reviews at once of a 3-model pool: all complete, and the server's peak memory."""
    uris = [server.open(f"crowd-{n}") for n in range(count)]
    mark = models.mark()
    started = time.perf_counter()
    results = await asyncio.gather(*(server.review(u) for u in uris), return_exceptions=True)
    wall = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, BaseException)]
    for problem in failed[:3]:
        _say(f"concurrent review failed: {problem!r}")
    requests = len(models.since(mark))
    peak = memory_mb(server.pid)["peak"]
    return [
        Figure(
            "concurrent_failed",
            f"{count} concurrent reviews, failed",
            len(failed),
            "",
            0,
            f"{count - len(failed)} ok, {requests} model requests",
        ),
        Figure("concurrent_wall_s", f"{count} concurrent reviews, wall time", wall, "s"),
        Figure("peak_rss_mb", "peak RSS of the server (VmHWM), whole run", peak, "MB", 150),
    ]


# -- the run -----------------------------------------------------------------------------------


async def measure(plan: Plan) -> Report:
    report = Report()
    cpu = CpuWindow()
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory(prefix="fusion-bench-") as tmp:
        floor = await rig_floor_ms(fake)
        models = ScriptedModels(fake)
        workspace = Workspace.create(Path(tmp), fake.base_url)
        _say("starting the server")
        server = await Server.spawn(workspace)
        try:
            starting = await startup(server, workspace, plan.spawns)
            _say("first review, then cache hits")
            warm, cold = await warm_up(server)
            cached = await cache_hits(server, models, warm, plan.cache_hits)
            await modes(server, models, plan.reps, report)
            _say(f"hover and code actions while {plan.busy} reviews run")
            probed = await responsiveness(server, models, warm, plan)
            _say(f"{plan.concurrent} concurrent reviews")
            crowd = await concurrency(server, models, plan.concurrent)
        finally:
            await server.stop()
    rig = Figure("rig_floor_ms", "rig floor: 3 POSTs at once to the fake, no delay", floor, "ms")
    report.add(cached, probed, *crowd, *starting, cold, rig)
    report.cpu = cpu.shares()
    return report


def as_json(report: Report, plan: Plan, quick: bool) -> str:
    return json.dumps(
        {
            "quick": quick,
            "plan": asdict(plan),
            "machine": describe(),
            "cpu_percent": report.cpu,
            "passed": report.passed,
            "figures": [f.as_dict() for f in report.figures],
            "tokens": [asdict(t) for t in report.tokens],
        },
        indent=2,
    )


def as_text(report: Report) -> str:
    machine = "; ".join(f"{k} {v}" for k, v in describe().items())
    cpu = ", ".join(f"{k} {v:g}%" for k, v in report.cpu.items()) or "not measured"
    lines = [
        figure_table(report.figures),
        "",
        "Prompt tokens sent per review (characters / 4; round and judge figures are per call):",
        "",
        token_table(report.tokens),
        "",
        f"machine: {machine}",
        f"CPU time during the run (all cores): {cpu}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions; never fails")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    try:
        report = asyncio.run(asyncio.wait_for(measure(plan), 120 if args.quick else 900))
    except (BenchmarkError, asyncio.TimeoutError) as error:
        print(f"bench: could not measure: {error!r}", file=sys.stderr)
        return 2
    print(as_json(report, plan, args.quick) if args.json else as_text(report))
    return 0 if args.quick or report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
