"""A chat model on an OpenAI-compatible provider as a reviewer: it can do every task.

One `ask` is one prompt with one repair retry for an answer that does not validate, each
call answered from the response cache when the same request was made before. An answer cut
off at the token limit gets no repair (the repair would be cut off too): it fails as
`truncated`, saying which limit to raise, and what it cost still counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from fusion_ls.config.settings import ModelRef
from fusion_ls.errors import ProviderError
from fusion_ls.findings import Usage
from fusion_ls.reviewers.base import Capability, Code, InvalidAnswer, Prompt, Reply
from fusion_ls.reviewers.cache import ResponseCache
from fusion_ls.reviewers.chat import ChatMessage, ChatRequest, ChatResult
from fusion_ls.reviewers.model_rules import Budget, token_limit
from fusion_ls.reviewers.openai_compat import Provider

__all__ = ["ChatModel", "ChatOptions"]

T = TypeVar("T")


@dataclass(frozen=True)
class ChatOptions:
    """What every request to the model carries, from `[fusion]`."""

    max_tokens: int
    temperature: float
    timeout_s: float
    reasoning_tokens: int = 0


class ChatModel:
    """`ref` on `provider`: reviews, revises in debate, explains and judges."""

    capabilities: frozenset[Capability] = frozenset({"review", "revise", "explain", "judge"})

    def __init__(
        self,
        ref: ModelRef,
        provider: Provider,
        options: ChatOptions,
        cache: ResponseCache | None = None,
    ) -> None:
        self._ref = ref
        self._provider = provider
        self._options = options
        self._cache = cache

    def __repr__(self) -> str:
        return f"ChatModel({self.name!r})"

    @property
    def name(self) -> str:
        return self._ref.name

    def declines(self, path: str) -> str | None:
        return None  # a model reads any text

    async def unavailable(self) -> str | None:
        """No key where one is needed, or (for a keyless, local server) nothing listening."""
        problem = self._provider.key_problem()
        keyless = problem is None and self._provider.settings.api_key_env is None
        if keyless and not await self._provider.reachable():
            problem = f"nothing answers at {self._provider.settings.base_url}"
        return problem

    async def max_cost_usd(self, prompt_tokens: int) -> float | None:
        """From the prices in the provider's model list, with the whole limit used (reasoning
        included for a model that thinks); None where the provider publishes no prices, or
        where the model cannot be asked (no key: it costs nothing, and its list is not fetched
        for a run that will not send to it)."""
        if self._provider.key_problem() is not None:
            return None
        info = await self._provider.model_info(self._ref.model)
        if info is None:
            return None
        options = self._options
        budget = Budget(options.max_tokens, options.reasoning_tokens, options.temperature)
        return info.cost(prompt_tokens, token_limit(self._ref.model, budget, info))

    async def ask(self, prompt: Prompt[T], code: Code) -> Reply[T]:
        """The parsed answer; one repair retry, then ProviderError(status="invalid")."""
        first, cached = await self._chat(prompt.messages, prompt)
        try:
            return Reply(prompt.parse(first.text, False), first.usage, cached)
        except InvalidAnswer as problem:
            self._refuse_truncated(first, first.usage)
            repair = prompt.repair(prompt.messages, first.text, str(problem))
            retry, cached = await self._chat(repair, prompt)
        usage = first.usage + retry.usage
        try:
            return Reply(prompt.parse(retry.text, True), usage, cached)
        except InvalidAnswer as problem:
            self._refuse_truncated(retry, usage)
            reason = f"invalid answer: {problem}"
            raise ProviderError(reason, status="invalid", usage=usage) from None

    def _refuse_truncated(self, result: ChatResult, usage: Usage) -> None:
        """An unusable answer that hit the token limit is truncated, not invalid."""
        if result.finish_reason != "length":
            return
        options, thought = self._options, result.reasoning_tokens
        spent = f", {thought} of them spent reasoning" if thought else ""
        advice = f"raise fusion.max_tokens (now {options.max_tokens})"
        if thought:
            advice += f" or fusion.reasoning_tokens (now {options.reasoning_tokens})"
        raise ProviderError(
            f"the answer was cut off at the token limit after {result.usage.completion_tokens} "
            f"tokens{spent}; {advice}",
            status="truncated",
            usage=usage,
        )

    async def _chat(
        self, messages: tuple[ChatMessage, ...], prompt: Prompt[T]
    ) -> tuple[ChatResult, bool]:
        """One chat call, answered from the response cache when the same request was made."""
        request = ChatRequest(
            model=self._ref.model,
            messages=messages,
            max_tokens=self._options.max_tokens,
            temperature=self._options.temperature,
            schema=prompt.schema,
            reasoning_tokens=self._options.reasoning_tokens,
        )
        timeout_s = self._options.timeout_s
        if self._cache is None:
            return await self._provider.chat(request, timeout_s), False
        conf = self._provider.settings
        key = self._cache.key(conf.base_url, conf.uses_structured_output, request)
        hit = await self._cache.get(key)
        if hit is not None:
            return hit, True
        result = await self._provider.chat(request, timeout_s)
        self._cache.put_soon(key, result)
        return result, False
