"""Chat data types: what a reviewer asks a model and what comes back, whatever the provider.

The engine, the prompts and the response cache speak in these types; only `openai_compat`
turns them into HTTP, so they live apart from any one wire format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fusion_ls.findings import Usage

__all__ = ["ChatMessage", "ChatRequest", "ChatResult", "ResponseSchema"]


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ResponseSchema:
    """A JSON schema sent as `response_format` where the provider honours structured output."""

    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class ChatRequest:
    """What to ask; how it is spelled on the wire depends on the model (`model_rules`)."""

    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int
    """Room for the answer itself."""
    temperature: float
    schema: ResponseSchema | None = None
    reasoning_tokens: int = 0
    """Added to the limit of a model that thinks before it answers."""


@dataclass(frozen=True)
class ChatResult:
    text: str
    usage: Usage
    latency_s: float
    finish_reason: str | None
    reasoning_tokens: int = 0
    """Of `usage.completion_tokens`, how many the model spent thinking."""
