"""Recording every reviewer's answers, and answering from a recording: eval's `--record` and
`--replay`, so fusion can be re-run under other settings with no model call.

A `CallLog` wraps each reviewer of one review in a `RecordingReviewer`, which keeps, per `ask`,
the texts the prompt's parser was given (a chat model's raw answer, and its repaired answer when
the first did not validate; an analyzer's report), in order and with the salvage flag, plus the
outcome, usage and latency. A `Tape` of such calls wraps each reviewer in a `ReplayingReviewer`,
which finds the call by reviewer name and a hash of the prompt's messages and feeds the same
texts to the prompt's own parser in the same order, as `ChatModel.ask` would: a replayed answer
passes through exactly the code a live one does, so a changed parser is honoured too. A prompt
never recorded fails as `error` with "not recorded: …"; nothing is sent anywhere.

A call cancelled while it ran is replayed the way it ended: one that ran to the timeout times
out at once, any other (a straggler the pool stopped waiting for) waits until it is cancelled.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from fusion_ls.errors import ProviderError, ProviderFailure
from fusion_ls.findings import Usage
from fusion_ls.reviewers.base import Capability, Code, InvalidAnswer, Prompt, Reply, Reviewer
from fusion_ls.reviewers.chat import ChatMessage

__all__ = [
    "CallLog",
    "ParsedText",
    "RecordedCall",
    "RecordingReviewer",
    "ReplayingReviewer",
    "Tape",
    "prompt_key",
]

T = TypeVar("T")

_TIMEOUT_SLACK_S = 0.05
"""A call cancelled this close to the timeout was cancelled by it (the clocks start a hair
apart)."""


def prompt_key(messages: Sequence[ChatMessage]) -> str:
    """A stable hash of a prompt's messages: sha256 of their JSON, the same on every Python."""
    listed = [[m.role, m.content] for m in messages]
    text = json.dumps(listed, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParsedText(_Record):
    """One text the prompt's parser was given, and whether it was asked to salvage."""

    text: str
    salvage: bool


class RecordedCall(_Record):
    """One `ask`: who, which prompt, what its parser read, and how the call ended.

    outcome: `ok` (an answer), `error` (ProviderError or any other exception: `status` and
    `reason` say which), `timeout` (asyncio's timeout reached the reviewer), `cancelled`
    (stopped from outside while it ran, after `latency_s`).
    """

    reviewer: str
    prompt: str
    """`prompt_key` of the messages."""
    schema_name: str
    """The answer format asked for (`code_review`, `fused_review`, …), for a person reading."""
    parsed: list[ParsedText]
    outcome: Literal["ok", "error", "timeout", "cancelled"]
    status: ProviderFailure | None = None
    reason: str | None = None
    usage: Usage = Usage()
    latency_s: float
    cached: bool = False


class CallLog:
    """The calls of one review, in the order they were asked; `wrap` is the engine's seam."""

    def __init__(self) -> None:
        self._calls: dict[int, RecordedCall] = {}
        self._asked = 0

    def wrap(self, reviewer: Reviewer) -> Reviewer:
        return RecordingReviewer(reviewer, self)

    def asked(self) -> int:
        """A new call's number: calls are listed in the order they were asked."""
        self._asked += 1
        return self._asked

    def finished(self, number: int, call: RecordedCall) -> None:
        self._calls[number] = call

    @property
    def calls(self) -> list[RecordedCall]:
        """Every finished call, in the order it was asked."""
        return [self._calls[n] for n in sorted(self._calls)]


class _Wrapped:
    """What a wrapper passes through unchanged: who the reviewer is and what it reviews."""

    def __init__(self, inner: Reviewer) -> None:
        self._inner = inner

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._inner!r})"

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self._inner.capabilities

    def declines(self, path: str) -> str | None:
        return self._inner.declines(path)


class RecordingReviewer(_Wrapped):
    """`inner`, with every `ask` kept in `log`: the texts its parser read, outcome and usage."""

    def __init__(self, inner: Reviewer, log: CallLog) -> None:
        super().__init__(inner)
        self._log = log

    async def unavailable(self) -> str | None:
        return await self._inner.unavailable()

    async def max_cost_usd(self, prompt_tokens: int) -> float | None:
        return await self._inner.max_cost_usd(prompt_tokens)

    async def ask(self, prompt: Prompt[T], code: Code) -> Reply[T]:
        number = self._log.asked()
        parsed: list[ParsedText] = []

        def parse(text: str, salvage: bool) -> T:
            parsed.append(ParsedText(text=text, salvage=salvage))
            return prompt.parse(text, salvage)

        started = time.monotonic()

        def keep(outcome: str, **fields: object) -> None:
            call = RecordedCall.model_validate(
                {
                    "reviewer": self.name,
                    "prompt": prompt_key(prompt.messages),
                    "schema_name": prompt.schema.name,
                    "parsed": parsed,
                    "outcome": outcome,
                    "latency_s": round(time.monotonic() - started, 3),
                    **fields,
                }
            )
            self._log.finished(number, call)

        try:
            reply = await self._inner.ask(replace(prompt, parse=parse), code)
        except ProviderError as error:
            keep("error", status=error.status, reason=error.reason, usage=error.usage)
            raise
        except asyncio.CancelledError:
            keep("cancelled")
            raise
        except asyncio.TimeoutError:
            keep("timeout")
            raise
        except Exception as error:  # reported by the pool as an internal error; so replayed
            keep("error", status="error", reason=f"internal error: {type(error).__name__}: {error}")
            raise
        keep("ok", usage=reply.usage, cached=reply.cached)
        return reply


class Tape:
    """Recorded calls to answer from: `calls` first (the same review's own recording, each
    asked once, in order), then `others` (other recordings of the same code, the first that
    holds the prompt). `timeout_s` is the replayed setup's: a call cancelled at or past it
    times out."""

    def __init__(
        self,
        calls: Iterable[RecordedCall],
        others: Iterable[RecordedCall] = (),
        *,
        timeout_s: float,
        source: str = "the recording",
    ) -> None:
        self._own: dict[tuple[str, str], list[RecordedCall]] = {}
        for call in calls:
            self._own.setdefault((call.reviewer, call.prompt), []).append(call)
        self._others: dict[tuple[str, str], RecordedCall] = {}
        for call in others:
            self._others.setdefault((call.reviewer, call.prompt), call)
        self._taken: dict[tuple[str, str], int] = {}
        self.timeout_s = timeout_s
        self.source = source

    def wrap(self, reviewer: Reviewer) -> Reviewer:
        return ReplayingReviewer(reviewer, self)

    def take(self, reviewer: str, prompt: str) -> RecordedCall | None:
        """The recorded call for this reviewer and prompt: the n-th of the same review's own
        recording for its n-th ask (the last again past the end), else another recording's."""
        key = (reviewer, prompt)
        own = self._own.get(key)
        if own:
            taken = self._taken.get(key, 0)
            self._taken[key] = taken + 1
            return own[min(taken, len(own) - 1)]
        return self._others.get(key)


class ReplayingReviewer(_Wrapped):
    """`inner`'s name, capabilities and declines; its answers come from `tape`, never from
    `inner`, so nothing is sent, no key is read and nothing is paid."""

    def __init__(self, inner: Reviewer, tape: Tape) -> None:
        super().__init__(inner)
        self._tape = tape

    async def unavailable(self) -> str | None:
        return None  # a recording can always be read

    async def max_cost_usd(self, prompt_tokens: int) -> float | None:
        return 0.0  # replaying is free

    async def ask(self, prompt: Prompt[T], code: Code) -> Reply[T]:
        call = self._tape.take(self.name, prompt_key(prompt.messages))
        if call is None:
            raise ProviderError(
                f"not recorded: {self.name} was never asked this {prompt.schema.name} prompt "
                f"in {self._tape.source}",
                status="error",
            )
        problem: InvalidAnswer | None = None
        for attempt in call.parsed:  # as ChatModel.ask: the answer, then the repaired one
            try:
                return Reply(prompt.parse(attempt.text, attempt.salvage), call.usage, call.cached)
            except InvalidAnswer as invalid:
                problem = invalid
        if call.outcome == "cancelled":
            if call.latency_s < self._tape.timeout_s - _TIMEOUT_SLACK_S:
                await asyncio.Event().wait()  # a straggler: until the pool stops waiting for it
            raise asyncio.TimeoutError
        if call.outcome == "timeout":
            raise asyncio.TimeoutError
        if call.outcome == "error":
            raise ProviderError(call.reason or "", status=call.status or "error", usage=call.usage)
        raise ProviderError(f"invalid answer: {problem}", status="invalid", usage=call.usage)
