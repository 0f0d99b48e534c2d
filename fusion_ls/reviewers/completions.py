"""Reading a chat completion off the wire: one JSON body, or a stream of server-sent events.

Pure parsing, apart from reading the stream: what can be wrong with a body is raised as
`Malformed` or `ErrorInBody`, and `Provider` turns those into reasons a person reads.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

from fusion_ls.findings import Usage

__all__ = ["Completion", "ErrorInBody", "Malformed", "parse_completion", "read_stream"]


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    finish_reason: str | None
    reasoning_tokens: int = 0
    """Of `usage.completion_tokens`, how many the model spent thinking."""


class Malformed(Exception):
    """The body is not a chat completion; the message says what is wrong with it."""


class ErrorInBody(Exception):
    """An `{"error": …}` object where a completion should be (OpenRouter reports upstream
    failures so, in 200 bodies and inside streams)."""

    def __init__(self, error: Any) -> None:
        self.error = error
        super().__init__(str(error))


def parse_completion(raw: bytes) -> Completion:
    """One JSON completion; an invalid UTF-8 byte becomes U+FFFD rather than losing the answer."""
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        text = " ".join(raw[:80].decode("utf-8", errors="replace").split())
        raise Malformed(f"the body is not JSON: {text!r}") from None
    if not isinstance(data, dict):
        raise Malformed("the body is not a JSON object")
    if "error" in data:
        raise ErrorInBody(data["error"])
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise Malformed("it has no choices")
    choice = choices[0]
    if isinstance(choice.get("error"), dict):
        # OpenRouter: "any error occurred while the LLM is producing the output will be
        # emitted in the response body", on the choice, with finish_reason "error".
        # https://openrouter.ai/docs/api_reference/errors-and-debugging
        raise ErrorInBody(choice["error"])
    message = choice.get("message")
    if not isinstance(message, dict):
        raise Malformed("choices[0] has no message")
    usage = data.get("usage")
    return Completion(
        text=_content_text(message.get("content")),
        usage=_usage(usage),
        finish_reason=_opt_str(choice.get("finish_reason")),
        reasoning_tokens=_reasoning_tokens(usage),
    )


async def read_stream(lines: AsyncIterator[str]) -> Completion | None:
    """The completion a stream of SSE lines carries; None when it ended before the model
    finished (no finish_reason: the connection was probably cut)."""
    parts: list[str] = []
    finish_reason: str | None = None
    usage: Any = None
    async with contextlib.aclosing(_sse_data(lines)) as events:
        async for data in events:
            if data == "[DONE]":
                break
            try:
                event = json.loads(data)
            except ValueError:
                raise Malformed(f"a stream event is not JSON: {data[:80]!r}") from None
            if not isinstance(event, dict):
                raise Malformed("a stream event is not a JSON object")
            if event.get("error") is not None:
                raise ErrorInBody(event["error"])
            choices = event.get("choices")
            if isinstance(choices, list) and choices and isinstance(choices[0], dict):
                choice = choices[0]
                delta = choice.get("delta")
                if isinstance(delta, dict):
                    parts.append(_content_text(delta.get("content")))
                finish_reason = _opt_str(choice.get("finish_reason")) or finish_reason
            if isinstance(event.get("usage"), dict):
                usage = event["usage"]
    if finish_reason is None:
        return None
    return Completion("".join(parts), _usage(usage), finish_reason, _reasoning_tokens(usage))


async def _sse_data(lines: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    """Yield the data of each server-sent event; comments (`:` lines, such as OpenRouter's
    `: OPENROUTER PROCESSING` keep-alives) and other fields skipped. Multi-line data fields
    of one event are joined by newlines, as the SSE spec says."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def _content_text(content: Any) -> str:
    """Message content as text: a string, null, or a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    cost = raw.get("cost")
    return Usage(
        prompt_tokens=_int(raw.get("prompt_tokens")),
        completion_tokens=_int(raw.get("completion_tokens")),
        cost_usd=float(cost)
        if isinstance(cost, (int, float)) and not isinstance(cost, bool) and math.isfinite(cost)
        else None,
    )


def _reasoning_tokens(raw: Any) -> int:
    """`usage.completion_tokens_details.reasoning_tokens` (OpenAI's and OpenRouter's field)."""
    details = raw.get("completion_tokens_details") if isinstance(raw, dict) else None
    return _int(details.get("reasoning_tokens")) if isinstance(details, dict) else 0


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, float) and math.isfinite(value):
        return max(0, int(value))
    return 0
