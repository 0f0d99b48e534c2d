"""What every reviewer is: a name, capabilities, and one async call that answers a prompt.

Chat models, local analyzers and test fakes all satisfy `Reviewer` and are built by the one
registry (`reviewers/registry.py`), so the engine asks a pool member without knowing what it
is: it checks `capabilities` and calls `ask`. The answer is always parsed by the prompt's own
parser, so an analyzer's report and a model's JSON reach the engine through the same gate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, Protocol, TypeVar

from fusion_ls.findings import LineRange, Usage
from fusion_ls.reviewers.chat import ChatMessage, ResponseSchema

__all__ = [
    "Capability",
    "Code",
    "InvalidAnswer",
    "Parse",
    "Prompt",
    "Reply",
    "Reviewer",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

Capability = Literal["review", "revise", "explain", "judge"]
"""review: answer a review prompt · revise: take part in debate rounds · explain · judge."""

Parse = Callable[[str, bool], T]
"""Parse a reviewer's text; the flag asks to salvage what is valid (used after a repair)."""


class InvalidAnswer(ValueError):
    """No usable answer in the text; the message says why (a repair prompt quotes it)."""


@dataclass(frozen=True)
class Prompt(Generic[T]):
    """One question: the messages, the JSON schema asked for, how to read the answer, and how
    to ask again when the answer does not validate (the engine owns every prompt text)."""

    messages: tuple[ChatMessage, ...]
    schema: ResponseSchema
    parse: Parse[T]
    repair: Callable[[tuple[ChatMessage, ...], str, str], tuple[ChatMessage, ...]]


@dataclass(frozen=True)
class Code:
    """The code a prompt is about, as sent (secrets already replaced): what an analyzer reads."""

    path: str
    lines: Sequence[str]
    reviewed: tuple[LineRange, ...]
    cwd: Path | None = None

    def in_review(self, line: int) -> bool:
        return any(line in span for span in self.reviewed)


@dataclass(frozen=True)
class Reply(Generic[T_co]):
    """A parsed answer and what it cost (repair retries included)."""

    value: T_co
    usage: Usage
    cached: bool = False


class Reviewer(Protocol):
    """A pool member (or the judge): how results name it, what it can do, one async call."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    def declines(self, path: str) -> str | None:
        """Why this reviewer does not review `path` at all (e.g. another language), or None."""
        ...

    async def unavailable(self) -> str | None:
        """Why it cannot be asked right now (no key, nothing listening), or None."""
        ...

    async def max_cost_usd(self, prompt_tokens: int) -> float | None:
        """The most one call with a prompt this long may cost (its whole token limit used);
        0 for what is free, None when the price is unknown."""
        ...

    async def ask(self, prompt: Prompt[T], code: Code) -> Reply[T]:
        """Answer `prompt` about `code`; raises ProviderError when it cannot."""
        ...
