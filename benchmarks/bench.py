"""Latency, throughput and memory of the language server, driven over stdio as an editor would.

    .venv/bin/python -m benchmarks.bench            # the full run: prints the tables
    .venv/bin/python -m benchmarks.bench --quick    # fewer repetitions (the test suite's run)
    .venv/bin/python -m benchmarks.bench --json     # one JSON object instead of tables

The models are the fake OpenAI-compatible server of `tests/fake_openai.py`, answering after
0.3 s, 0.6 s and 0.9 s (the judge after 0.4 s), so each ratio shows what the server, and the
rig itself (see "rig floor"), add to the models' latency. The first review of a freshly started
server is measured over HTTPS, with a self-signed certificate and a simulated network delay on
every new connection's handshake (`--handshake-ms`), so that connection set-up shows if it is on
that review's path. BENCHMARKS.md explains every figure.
Exits 1 when a full run misses a target, 2 when it cannot measure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
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
from benchmarks.files import FileCounts, diff_tokens, many_files, peak_memory
from benchmarks.harness import (
    JUDGE,
    SLOW,
    STANDARD,
    BenchmarkError,
    FakeOpenAI,
    OpensslMissing,
    ScriptedModels,
    SelfSigned,
    Server,
    Timing,
    Workspace,
    code_actions,
    hover,
    memory_mb,
    rig_floor_ms,
    self_signed,
    tls_setup_ms,
    trust_bundle,
    trust_store_ms,
    until,
)
from benchmarks.machine import CpuWindow, describe

MODES = ("best-of", "merge", "debate")
ROUNDS = {"best-of": 1, "merge": 1, "debate": 2}
"""Model rounds per mode; debate's `rounds = 2` is set in the benchmark's user config."""
PROBE_WINDOW_S = 2.1
"""Probes are spread over this long, while the slow reviews' models answer (1.0, 1.5, 2.0 s)."""
EDITOR_PAUSE_S = 0.5
"""The first review of a fresh server is sent this long after `initialize` is answered: an
editor that reviews a file soon after start-up. The sooner, the less time a server has to set
up in the background; a person takes longer. The review sent at once is reported too."""
HANDSHAKE_MS = 100.0
"""Added to every new TLS connection's handshake by default: two round trips (TCP, then TLS 1.3)
of 50 ms, a provider in another region. Loopback alone would hide the cost of connecting."""


@dataclass(frozen=True)
class Plan:
    """How much of everything to do."""

    reps: int  # reviews per fusion mode
    cache_hits: int
    busy: int  # reviews in flight while hover and code actions are probed
    probes: int
    concurrent: int
    cold_starts: int  # fresh servers reviewing after the pause, and as many reviewing at once
    files: FileCounts  # the command line's many-file reviews


FULL = Plan(
    reps=10,
    cache_hits=30,
    busy=20,
    probes=200,
    concurrent=100,
    cold_starts=5,
    files=FileCounts(timed=50, timed_concurrency=8, many=500, many_concurrency=16),
)
QUICK = Plan(
    reps=1,
    cache_hits=5,
    busy=20,
    probes=60,
    concurrent=50,
    cold_starts=1,
    files=FileCounts(timed=10, timed_concurrency=8, many=50, many_concurrency=16),
)


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


async def warm_up(server: Server) -> str:
    """A first review on the long-lived server, of the document the cache phase repeats.

    It is not a figure: the server has been idle since start-up, unlike an editor's, and the
    cold-start phase measures first reviews as an editor sends them.
    """
    uri = server.open("warm")
    await server.timed_review(uri)
    return uri


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


@dataclass(frozen=True)
class ColdStart:
    """The first review of one freshly started server, over HTTPS."""

    spawn_s: float
    idle_rss_mb: float | None  # after the pause, before the review (None: no pause)
    timing: Timing
    warmed: int  # TLS handshakes after `initialize`, before the review was sent
    on_path: int  # TLS handshakes after the review was sent, before it was answered


async def cold_start(
    workspace: Workspace, models: ScriptedModels, certificate: SelfSigned, tag: str, pause_s: float
) -> ColdStart:
    """Start a server, wait `pause_s` after `initialize` is answered, then open a document and
    review it at once, as an editor does; the document is new, so nothing comes from the cache."""
    server = await Server.spawn(workspace, round_trip=pause_s > 0)
    try:
        rss = None
        if pause_s > 0:
            await asyncio.sleep(max(0.0, server.initialized_at + pause_s - time.perf_counter()))
            rss = memory_mb(server.pid)["rss"]
        mark = models.mark()
        sent = time.perf_counter()
        timing = await server.timed_review(server.open(tag))
        on_path = certificate.handshakes_since(sent)
        warmed = certificate.handshakes_since(server.initialized_at) - on_path
    finally:
        await server.stop()
    if not any(r.model == JUDGE for r in models.since(mark)):
        raise BenchmarkError(f"the first review {tag} never reached the judge over HTTPS")
    return ColdStart(server.spawn_s, rss, timing, warmed, on_path)


def _ratios(starts: Sequence[ColdStart]) -> tuple[list[float], list[float]]:
    first = [c.timing.first_s / STANDARD.fastest for c in starts]
    fused = [c.timing.fused_s / (STANDARD.slowest + STANDARD.judge) for c in starts]
    return first, fused


def cold_figures(paused: Sequence[ColdStart], at_once: Sequence[ColdStart]) -> list[Figure]:
    """Start-up, and the first review after start: targets after the pause, reported at once."""
    of = f"median of {len(paused)}" if len(paused) > 1 else "1 start"
    pause = f"sent {EDITOR_PAUSE_S:g} s after `initialize`"
    first, fused = _ratios(paused)
    first_now, fused_now = _ratios(at_once)
    slowest = STANDARD.slowest + STANDARD.judge

    def seconds(starts: Sequence[ColdStart], fused: bool) -> str:
        return f"{median([c.timing.fused_s if fused else c.timing.first_s for c in starts]):.3f} s"

    def handshakes(starts: Sequence[ColdStart]) -> str:
        on_path = [c.on_path for c in starts]
        warmed = [c.warmed for c in starts]
        return (
            f"{median(on_path):g} during the review (max {max(on_path)}), {median(warmed):g} before"
        )

    return [
        Figure(
            "spawn_s",
            "spawn → `initialize` answered",
            median([c.spawn_s for c in paused]),
            "s",
            detail=of,
        ),
        Figure(
            "idle_rss_mb",
            f"idle RSS {EDITOR_PAUSE_S:g} s after `initialize`",
            median([c.idle_rss_mb or 0.0 for c in paused]),
            "MB",
            detail=of,
        ),
        Figure(
            "cold_first_ratio",
            "first review after start, first diagnostic ÷ fastest model",
            median(first),
            "ratio",
            1.10,
            f"{seconds(paused, False)} vs {STANDARD.fastest} s, {pause}; "
            f"max {max(first):.3f}; {of}",
        ),
        Figure(
            "cold_fused_ratio",
            "first review after start, fused ÷ (slowest + judge)",
            median(fused),
            "ratio",
            1.05,
            f"{seconds(paused, True)} vs {slowest:.1f} s, merge, {pause}; "
            f"max {max(fused):.3f}; {of}",
        ),
        Figure(
            "cold_handshakes",
            "first review after start, TLS handshakes during it",
            median([c.on_path for c in paused]),
            "",
            detail=f"{pause}: {handshakes(paused)}; sent at once: {handshakes(at_once)}",
        ),
        Figure(
            "cold_first_ratio_at_once",
            "first review sent at once after start, first diagnostic ÷ fastest model",
            median(first_now),
            "ratio",
            detail=f"{seconds(at_once, False)}; max {max(first_now):.3f}; {of}",
        ),
        Figure(
            "cold_fused_ratio_at_once",
            "first review sent at once after start, fused ÷ (slowest + judge)",
            median(fused_now),
            "ratio",
            detail=f"{seconds(at_once, True)}; max {max(fused_now):.3f}; {of}",
        ),
    ]


async def cold_starts(base: Path, cache_home: str, plan: Plan, handshake_s: float) -> list[Figure]:
    """Fresh servers' first reviews over HTTPS, each server on its own, one after another.

    They share the response cache with the main server's workspace, as an editor restarted
    over a user's existing cache would; every document is new, so no answer comes from it.
    """
    folder = base / "tls"
    folder.mkdir()
    try:
        certificate = self_signed(folder, handshake_delay_s=handshake_s)
    except OpensslMissing as error:
        raise BenchmarkError(str(error)) from error
    bundle = trust_bundle(certificate.cert, folder / "ca-bundle.pem")
    trust = ssl.create_default_context(cafile=str(bundle))
    with FakeOpenAI(tls=certificate.context) as fake:
        models = ScriptedModels(fake)
        setup = await tls_setup_ms(fake, trust, rounds=10 if plan.cold_starts > 1 else 3)
        env = {"SSL_CERT_FILE": str(bundle), "XDG_CACHE_HOME": cache_home}
        workspace = Workspace.create(base / "cold", fake.base_url, env=env)
        paused: list[ColdStart] = []
        at_once: list[ColdStart] = []
        for n in range(plan.cold_starts):
            paused.append(
                await cold_start(workspace, models, certificate, f"cold-{n}", EDITOR_PAUSE_S)
            )
            at_once.append(await cold_start(workspace, models, certificate, f"now-{n}", 0.0))
    link = f"{handshake_s * 1000:g} ms of it simulated network"
    trust_ms = trust_store_ms(bundle)
    return [
        *cold_figures(paused, at_once),
        Figure(
            "tls_setup_ms",
            "new HTTPS connection, time over a reused one",
            setup,
            "ms",
            detail=f"{link}; loading the trust store: {trust_ms:.1f} ms",
        ),
    ]


# -- the run -----------------------------------------------------------------------------------


async def measure(plan: Plan, handshake_s: float) -> Report:
    report = Report()
    cpu = CpuWindow()
    with tempfile.TemporaryDirectory(prefix="fusion-bench-") as tmp:
        with FakeOpenAI() as fake:
            floor = await rig_floor_ms(fake)
            models = ScriptedModels(fake)
            workspace = Workspace.create(Path(tmp) / "plain", fake.base_url)
            _say("starting the server")
            server = await Server.spawn(workspace)
            try:
                _say("first review, then cache hits")
                warm = await warm_up(server)
                cached = await cache_hits(server, models, warm, plan.cache_hits)
                await modes(server, models, plan.reps, report)
                _say(f"hover and code actions while {plan.busy} reviews run")
                probed = await responsiveness(server, models, warm, plan)
                _say(f"{plan.concurrent} concurrent reviews")
                crowd = await concurrency(server, models, plan.concurrent)
            finally:
                await server.stop()
            counts = plan.files
            _say(f"fusion-ls review of {counts.timed} files, of {counts.many}, and of a diff")
            files = [
                await many_files(Path(tmp), models, counts),
                await peak_memory(Path(tmp), models, counts),
                *await diff_tokens(Path(tmp), models),
            ]
        _say(f"first reviews of {2 * plan.cold_starts} fresh servers, over HTTPS")
        cold = await cold_starts(Path(tmp), workspace.env["XDG_CACHE_HOME"], plan, handshake_s)
    rig = Figure("rig_floor_ms", "rig floor: 3 POSTs at once to the fake, no delay", floor, "ms")
    report.add(cached, probed, *crowd, *files, *cold, rig)
    report.cpu = cpu.shares()
    return report


def as_json(report: Report, plan: Plan, quick: bool, handshake_s: float) -> str:
    return json.dumps(
        {
            "quick": quick,
            "plan": asdict(plan),
            "editor_pause_s": EDITOR_PAUSE_S,
            "handshake_delay_s": handshake_s,
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
    parser.add_argument(
        "--handshake-ms",
        type=float,
        default=HANDSHAKE_MS,
        help=f"simulated network delay of every new HTTPS connection (default {HANDSHAKE_MS:g})",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    handshake_s = args.handshake_ms / 1000
    try:
        report = asyncio.run(
            asyncio.wait_for(measure(plan, handshake_s), 120 if args.quick else 900)
        )
    except (BenchmarkError, asyncio.TimeoutError) as error:
        print(f"bench: could not measure: {error!r}", file=sys.stderr)
        return 2
    text = as_json(report, plan, args.quick, handshake_s) if args.json else as_text(report)
    print(text)
    return 0 if args.quick or report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
