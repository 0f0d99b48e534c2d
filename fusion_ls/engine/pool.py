"""Ask several models at once: parallel fan-out, per-model timeout, quorum and straggler grace.

`fan_out` yields each model's outcome as soon as it is known, so callers can report progress
and show provisional results; leaving the loop early (or being cancelled) cancels every call
still running, which closes its HTTP request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from fusion_ls.errors import ProviderError
from fusion_ls.findings import ModelRun, ModelStatus, Usage
from fusion_ls.reviewers.base import Reply

__all__ = ["Answered", "Call", "Failed", "Outcome", "ask_one", "fan_out"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Answered(Generic[T]):
    model: str
    value: T
    run: ModelRun


@dataclass(frozen=True)
class Failed:
    model: str
    run: ModelRun


Outcome = Answered[T] | Failed
Call = Callable[[], Awaitable[Reply[T]]]


async def ask_one(model: str, call: Call[T], timeout_s: float) -> Outcome[T]:
    """Run one call to completion and describe how it went; never raises but CancelledError."""
    started = time.monotonic()

    def run(
        status: ModelStatus,
        error: str | None = None,
        usage: Usage | None = None,
        cached: bool = False,
    ) -> ModelRun:
        latency = round(time.monotonic() - started, 3)
        return ModelRun(
            model=model,
            status=status,
            latency_s=latency,
            error=error,
            usage=usage or Usage(),
            cached=cached,
        )

    try:
        reply = await asyncio.wait_for(call(), timeout_s)
    except asyncio.TimeoutError:
        return Failed(model, run("timeout", f"no answer within {timeout_s:g} s"))
    except ProviderError as error:
        return Failed(model, run(error.status, error.reason, usage=error.usage))
    except Exception as error:  # a bug in parsing must not take the whole review down
        log.exception("model %s: unexpected failure", model)
        return Failed(model, run("error", f"internal error: {type(error).__name__}: {error}"))
    return Answered(model, reply.value, run("ok", usage=reply.usage, cached=reply.cached))


async def fan_out(
    calls: Mapping[str, Call[T]],
    *,
    timeout_s: float,
    quorum: int,
    grace_s: float,
) -> AsyncGenerator[Outcome[T], None]:
    """Yield each model's outcome as it arrives.

    Once `quorum` models have answered, the rest get `grace_s` more seconds; any still running
    then are cancelled and reported as `late`, so one slow model cannot hold the review hostage.
    """
    tasks = {
        asyncio.ensure_future(ask_one(model, call, timeout_s)): model
        for model, call in calls.items()
    }
    order = list(calls)
    pending = set(tasks)
    needed = min(quorum, len(calls))
    answered = 0
    deadline: float | None = None
    loop = asyncio.get_running_loop()
    try:
        while pending:
            wait = None if deadline is None else max(0.0, deadline - loop.time())
            done, pending = await asyncio.wait(
                pending, timeout=wait, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                break
            for task in sorted(done, key=lambda t: order.index(tasks[t])):
                outcome = task.result()
                answered += isinstance(outcome, Answered)
                yield outcome
            if deadline is None and answered >= needed:
                deadline = loop.time() + grace_s
        for task in sorted(pending, key=lambda t: order.index(tasks[t])):
            task.cancel()
            reason = f"still running {grace_s:g} s after {answered} models answered; not waited for"
            yield Failed(tasks[task], ModelRun(model=tasks[task], status="late", error=reason))
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
