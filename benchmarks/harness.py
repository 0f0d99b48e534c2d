"""The benchmark's rig: scripted models on the fake server, and the real server over stdio.

The pool disagrees on purpose (so the judge really runs: when every model agrees it is skipped)
and every reply waits its model's latency on the fake server's side. The server is the real
`python -m fusion_ls` subprocess, started and initialised by the test suite's `lsp_client.start`
with VS Code's client capabilities; every `textDocument/publishDiagnostics` it sends is
timestamped with `time.perf_counter()` as the client receives it. The fake can also serve HTTPS
with a self-signed certificate (`tests/tls.py`), which the server trusts through `SSL_CERT_FILE`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from fake_openai import FakeOpenAI, RecordedRequest, Reply
from lsp_client import (
    code_actions,
    command,
    hover,
    lines,
    open_document,
    server_env,
    start,
    until,
)
from lsprotocol import types
from pytest_lsp import LanguageClient
from reviewers import (
    DIV,
    DIV_B,
    JUDGE,
    POOL,
    SAMPLE,
    SQLI,
    best_of_judge,
    merging_judge,
    review,
)
from tls import OpensslMissing, SelfSigned, self_signed, trust_bundle

__all__ = [
    "FAST",
    "JUDGE",
    "POOL",
    "SELECTION",
    "SLOW",
    "STANDARD",
    "BenchmarkError",
    "FakeOpenAI",
    "Latencies",
    "OpensslMissing",
    "ScriptedModels",
    "SelfSigned",
    "Server",
    "Timing",
    "Workspace",
    "code_actions",
    "document_text",
    "hover",
    "is_provisional",
    "memory_mb",
    "rig_floor_ms",
    "self_signed",
    "tls_setup_ms",
    "trust_bundle",
    "trust_store_ms",
    "until",
]

KEY = "sk-or-v1-benchmark-key"
SELECTION = (1, 40)
"""The reviewed lines; with the default 30 lines of context, lines 1-70 are sent."""
_BEST_OF_MARK = "Score each whole answer"
_PROVISIONAL_MARK = "models so far)"


class BenchmarkError(Exception):
    """The benchmark could not measure what it meant to (a review failed, the judge was skipped)."""


@dataclass(frozen=True)
class Latencies:
    """How long each model takes to answer, on the fake server's side."""

    pool: dict[str, float]
    judge: float

    @property
    def fastest(self) -> float:
        return min(self.pool.values())

    @property
    def slowest(self) -> float:
        return max(self.pool.values())


STANDARD = Latencies({"alpha": 0.3, "beta": 0.6, "gamma": 0.9}, judge=0.4)
SLOW = Latencies({"alpha": 1.0, "beta": 1.5, "gamma": 2.0}, judge=0.4)
FAST = Latencies({"alpha": 0.02, "beta": 0.04, "gamma": 0.06}, judge=0.02)
"""For phases that measure memory or tokens, not time: many reviews, soon done."""

ANSWERS = {"alpha": review(DIV, SQLI), "beta": review(SQLI), "gamma": review(DIV_B)}
"""Every model sees something the others miss, in every debate round: the judge is needed."""


class ScriptedModels:
    """The pool and judge on the fake server, with latencies that can change between phases."""

    def __init__(self, fake: FakeOpenAI, latencies: Latencies = STANDARD) -> None:
        self.fake = fake
        self.latencies = latencies
        for model in POOL:
            fake.script(model, partial(self._pool, model))
        fake.script(JUDGE, self._judge)

    def _pool(self, model: str, request: RecordedRequest) -> Reply:
        return Reply(content=ANSWERS[model], delay_s=self.latencies.pool[model])

    def _judge(self, request: RecordedRequest) -> Reply:
        best_of = _BEST_OF_MARK in request.prompt_text
        verdict = best_of_judge(request) if best_of else merging_judge(request)
        return dataclasses.replace(verdict, delay_s=self.latencies.judge)

    def mark(self) -> int:
        """Where the next phase's requests start in `fake.requests`."""
        return len(self.fake.requests)

    def since(self, mark: int) -> list[RecordedRequest]:
        return list(self.fake.requests[mark:])


def _filler(count: int = 10) -> str:
    """Plain request handlers, so a review sends a realistic 70-line window."""
    blocks = [
        f"def handler_{n}(request, store):\n"
        f'    key = request.get("key_{n}")\n'
        "    if key is None:\n"
        f'        return {{"status": 400, "error": "missing key_{n}"}}\n'
        f"    value = store.fetch(key, default={n})\n"
        f'    return {{"status": 200, "value": value * {n + 1}}}\n'
        for n in range(count)
    ]
    return "\n\n".join(blocks)


def document_text(tag: str) -> str:
    """The test sample (lines 1-14), a line naming the document, then filler code.

    The name is line 16, inside the reviewed lines, so no two documents' requests are alike
    and only a deliberate repeat is answered from the response cache.
    """
    return f"{SAMPLE.read_text().rstrip()}\n\n# benchmark document {tag}\n\n\n{_filler()}"


def is_provisional(params: types.PublishDiagnosticsParams) -> bool:
    return any(d.message.endswith(_PROVISIONAL_MARK) for d in params.diagnostics)


@dataclass(frozen=True)
class Published:
    at: float
    params: types.PublishDiagnosticsParams


@dataclass
class Timeline:
    """Every publishDiagnostics, by uri, with the time the client received it."""

    by_uri: dict[str, list[Published]] = field(default_factory=lambda: defaultdict(list))

    def record(self, params: types.PublishDiagnosticsParams) -> None:
        self.by_uri[params.uri].append(Published(time.perf_counter(), params))

    def since(self, uri: str, started: float) -> list[Published]:
        return [p for p in self.by_uri.get(uri, []) if p.at >= started]


def _timestamp_diagnostics(client: LanguageClient, timeline: Timeline) -> None:
    """Wrap pytest-lsp's publishDiagnostics handler (it keeps `client.diagnostics`)."""
    features: dict[str, Callable[..., Any]] = client.protocol.fm.features
    keep = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def handler(params: types.PublishDiagnosticsParams) -> Any:
        timeline.record(params)
        return keep(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = handler


@dataclass(frozen=True)
class Workspace:
    """A project folder and the server's environment: user config, cache and state of its own."""

    root: Path
    env: dict[str, str]

    @classmethod
    def create(
        cls,
        base: Path,
        base_url: str,
        *,
        quorum: int = 3,
        grace_s: float = 30,
        env: Mapping[str, str] | None = None,
        tables: str = "",
    ) -> Workspace:
        """`env` adds to or overrides the server's environment (`SSL_CERT_FILE`, say), and
        `tables` to the user config."""
        root = base / "project"
        config = base / "xdg" / "fusion-ls" / "config.toml"
        config.parent.mkdir(parents=True)
        root.mkdir()
        pool = ", ".join(f'"{m}"' for m in POOL)
        config.write_text(
            f'[providers.openrouter]\nbase_url = "{base_url}"\nkind = "compatible"\n'
            "max_retries = 0\n\n"
            f'[fusion]\npool = [{pool}]\njudge = "{JUDGE}"\nrounds = 2\nquorum = {quorum}\n'
            f"straggler_grace_s = {grace_s:g}\n{tables}"
        )
        return cls(root, {**server_env(base / "xdg", KEY), **(env or {})})


@dataclass(frozen=True)
class Timing:
    """One review: command → first (provisional) diagnostics, and → the fused diagnostics."""

    first_s: float
    fused_s: float
    result: dict[str, Any]


@dataclass
class Server:
    """The real server, initialised; `spawn_s` is process start → `initialize` answered, and
    `initialized_at` the `time.perf_counter()` of that answer."""

    client: LanguageClient
    pid: int
    spawn_s: float
    initialized_at: float
    workspace: Workspace
    timeline: Timeline
    opened: int = 0

    @classmethod
    async def spawn(cls, workspace: Workspace, *, round_trip: bool = True) -> Server:
        """Start and initialise; then one request answered, unless `round_trip` is off (so a
        review can follow `initialize` at once, as from an editor that opens a file and asks)."""
        started = time.perf_counter()
        client = await start(workspace.root, workspace.env, "visual-studio-code")
        initialized_at = time.perf_counter()
        timeline = Timeline()
        _timestamp_diagnostics(client, timeline)
        process = client._server
        if process is None:
            raise BenchmarkError("the server process did not start")
        spawn_s = initialized_at - started
        server = cls(client, process.pid, spawn_s, initialized_at, workspace, timeline)
        if round_trip:
            await server.round_trip()
        return server

    async def round_trip(self) -> None:
        """A request answered means every earlier message (`initialized` too) was handled."""
        await hover(self.client, (self.workspace.root / "nowhere.py").as_uri(), 1)

    async def stop(self) -> None:
        await self.client.shutdown_session()
        await self.client.stop()  # type: ignore[no-untyped-call]  # pytest-lsp is untyped here

    def open(self, tag: str) -> str:
        self.opened += 1
        path = self.workspace.root / f"doc_{self.opened:04d}.py"
        return open_document(self.client, path, document_text(tag))

    def set_mode(self, mode: str) -> None:
        """As an editor's settings would: `workspace/didChangeConfiguration`."""
        self.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"fusion": {"mode": mode}})
        )

    async def review(self, uri: str) -> dict[str, Any]:
        result: dict[str, Any] = await command(self.client, "fusion.review", uri, lines(*SELECTION))
        if result.get("status") != "ok" or result.get("degraded"):
            raise BenchmarkError(f"review of {uri} did not succeed: {result}")
        return result

    async def timed_review(self, uri: str) -> Timing:
        started = time.perf_counter()
        result = await self.review(uri)
        published = self.timeline.since(uri, started)
        provisional = [p for p in published if is_provisional(p.params)]
        if not provisional:
            raise BenchmarkError(f"no provisional diagnostics for {uri}")
        fused = published[-1]  # the last one before the command answered
        if is_provisional(fused.params) or not fused.params.diagnostics:
            raise BenchmarkError(f"the last diagnostics for {uri} are not the fused result")
        return Timing(provisional[0].at - started, fused.at - started, result)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) of a process, in MB (Linux /proc)."""
    wanted = {"VmRSS": "rss", "VmHWM": "peak"}
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in wanted:
            found[wanted[name]] = int(value.split()[0]) / 1024
    return found


async def rig_floor_ms(fake: FakeOpenAI, rounds: int = 20) -> float:
    """Three POSTs at once to the fake with no delay, median ms: the rig's own cost per round.

    This is the part of every latency figure that is the fake server and an HTTP client in
    Python on the same machine, not fusion-ls.
    """
    fake.script("floor", Reply(content=ANSWERS["alpha"]))
    prompt = document_text("floor")
    body = {"model": "floor", "messages": [{"role": "user", "content": prompt}]}
    url = f"{fake.base_url}/chat/completions"
    samples: list[float] = []
    async with httpx.AsyncClient() as client:
        for _ in range(rounds + 2):
            started = time.perf_counter()
            await asyncio.gather(*(client.post(url, json=body) for _ in range(3)))
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples[2:])


async def tls_setup_ms(fake: FakeOpenAI, trust: ssl.SSLContext, rounds: int = 10) -> float:
    """What a new HTTPS connection to the fake costs over a reused one, median ms.

    Each round is a fresh httpx client (HTTP/1.1, as fusion-ls's) sending one POST, which
    opens a connection and shakes hands, then a second on that connection. The difference is
    the connection set-up a first review pays unless the connection was opened beforehand.
    """
    fake.script("floor", Reply(content=ANSWERS["alpha"]))
    body = {"model": "floor", "messages": [{"role": "user", "content": document_text("tls")}]}
    url = f"{fake.base_url}/chat/completions"
    extra: list[float] = []
    for _ in range(rounds):
        async with httpx.AsyncClient(verify=trust) as client:
            started = time.perf_counter()
            await client.post(url, json=body)
            opened = time.perf_counter()
            await client.post(url, json=body)
            extra.append((opened - started) - (time.perf_counter() - opened))
    return statistics.median(extra) * 1000


def trust_store_ms(bundle: Path, rounds: int = 10) -> float:
    """Loading the trust store `SSL_CERT_FILE` names, median ms: what httpx does when a client
    is made (`ssl.create_default_context(cafile=...)`), before its first connection."""
    samples: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        ssl.create_default_context(cafile=str(bundle))
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)
