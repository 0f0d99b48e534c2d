"""What each model family accepts, per kind of endpoint: the one table of request rules.

Real providers refuse parameters a model does not take, and they refuse loudly: OpenRouter
with `provider.require_parameters` answers 404 "No endpoints found that can handle the
requested parameters", OpenAI answers 400 to `max_tokens` and to any `temperature` but 1 for
its reasoning models. And reasoning models think out of the same token budget as their answer,
so a limit sized for the answer alone ends it mid-JSON. `parameters()` decides, for one
request, the token limit, temperature and reasoning budget to send: from the provider's own
model metadata where it publishes some (`catalog.ModelInfo`), else from `FAMILIES`. Every
line of the table cites the documentation it follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from fusion_ls.reviewers.catalog import ModelInfo

__all__ = [
    "FAMILIES",
    "Budget",
    "Family",
    "Kind",
    "family_of",
    "parameters",
    "sends_schema",
    "token_limit",
]

Kind = Literal["openrouter", "openai", "compatible"]
"""openrouter: OpenRouter's API · openai: OpenAI's own API (and Azure's) · compatible: any
other OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio)."""

REASONING_EFFORT = "low"
"""Review answers need little thinking; more costs tokens and waits without finding more."""


@dataclass(frozen=True)
class Family:
    """Models whose id (vendor prefix and `:tag` aside) starts with `pattern`."""

    name: str
    pattern: str
    thinks: bool
    """Reasons before it answers, spending tokens from the same limit as the answer."""
    temperature: bool
    """Takes a temperature other than its default."""

    def matches(self, bare_id: str) -> bool:
        return re.match(self.pattern, bare_id) is not None


FAMILIES: tuple[Family, ...] = (
    # OpenAI's reasoning models o1, o3, o4-mini...: "reasoning models ... do not support
    # temperature"; max_tokens is "not compatible with o-series models", use
    # max_completion_tokens, which "includes visible output tokens and reasoning tokens".
    # https://platform.openai.com/docs/guides/reasoning
    # https://platform.openai.com/docs/api-reference/chat/create#chat-create-max_tokens
    Family("openai-o-series", r"o\d", thinks=True, temperature=False),
    # gpt-5-chat(-latest) is the non-reasoning chat model of the family and takes temperature.
    # https://platform.openai.com/docs/models/gpt-5-chat-latest
    Family("gpt-5-chat", r"gpt-5(\.\d+)?-chat", thinks=False, temperature=True),
    # The gpt-5 family (gpt-5, -mini, -nano, 5.1...) are reasoning models: no temperature.
    # https://platform.openai.com/docs/guides/latest-model ; OpenRouter's model list gives
    # openai/gpt-5-mini no "temperature" in supported_parameters.
    Family("gpt-5", r"gpt-5", thinks=True, temperature=False),
    # DeepSeek-R1 / deepseek-reasoner: "Not Supported Parameters: temperature, top_p, ..."
    # https://api-docs.deepseek.com/guides/reasoning_model
    Family("deepseek-r1", r"deepseek-(r1|reasoner)", thinks=True, temperature=False),
    # Gemini 2.5 Pro and later think by default ("thinking cannot be turned off" for 2.5 Pro);
    # temperature is accepted. https://ai.google.dev/gemini-api/docs/thinking
    Family("gemini-thinking", r"gemini-(2\.5|[3-9])", thinks=True, temperature=True),
    # Qwen3 and QwQ think by default when served by Ollama or vLLM; temperature is accepted.
    # https://ollama.com/library/qwen3 ; https://docs.vllm.ai/en/latest/features/reasoning_outputs.html
    Family("qwen-thinking", r"(qwq|qwen3)", thinks=True, temperature=True),
    # gpt-oss always reasons (its effort is set in the system prompt); temperature is accepted.
    # https://openai.com/index/introducing-gpt-oss/ ; https://ollama.com/library/gpt-oss
    Family("gpt-oss", r"gpt-oss", thinks=True, temperature=True),
)
OTHER = Family("other", r"", thinks=False, temperature=True)
"""Everything else (Claude, GPT-4o/4.1, Llama, Mistral...): answers directly, takes temperature."""


@dataclass(frozen=True)
class Budget:
    """What `[fusion]` asks of every request."""

    answer_tokens: int
    """`fusion.max_tokens`: room for the answer itself."""
    reasoning_tokens: int
    """`fusion.reasoning_tokens`: added to the limit of a model that thinks first."""
    temperature: float


def bare_id(model: str) -> str:
    """`openai/gpt-5-mini` → `gpt-5-mini`; `qwen3:14b` → `qwen3`; lower case."""
    return model.rsplit("/", 1)[-1].split(":", 1)[0].lower()


def family_of(model: str) -> Family:
    bare = bare_id(model)
    return next((family for family in FAMILIES if family.matches(bare)), OTHER)


def _thinks(family: Family, info: ModelInfo | None) -> bool:
    """A model the table does not know thinks if its metadata says it reasons and takes no
    temperature (the signature of OpenAI-style reasoning models, e.g. a new o-series id)."""
    if family.thinks:
        return True
    return info is not None and info.supports("reasoning") and not info.supports("temperature")


def _takes_temperature(family: Family, info: ModelInfo | None) -> bool:
    if info is not None:
        return info.supports("temperature")
    return family.temperature


def token_limit(model: str, budget: Budget, info: ModelInfo | None = None) -> int:
    """The most tokens one answer of `model` may take: the answer's room, plus the reasoning
    budget for a model that thinks first, within the output cap its provider lists."""
    thinks = _thinks(family_of(model), info)
    limit = budget.answer_tokens + (budget.reasoning_tokens if thinks else 0)
    if info is not None and info.max_completion_tokens:
        limit = min(limit, info.max_completion_tokens)
    return limit


def parameters(
    kind: Kind,
    model: str,
    budget: Budget,
    info: ModelInfo | None = None,
    refused: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The token limit, temperature and reasoning parameters of one request to `model`.

    `refused` names parameters this endpoint already refused for this model in this process;
    they are left out (`max_tokens` is then sent as `max_completion_tokens`).
    """
    family = family_of(model)
    thinks = _thinks(family, info)
    sent: dict[str, Any] = {}
    # OpenAI's own API: max_tokens "is now deprecated in favor of max_completion_tokens, and is
    # not compatible with o-series models"; reasoning_effort sets how much a reasoning model
    # thinks. https://platform.openai.com/docs/api-reference/chat/create
    openai_api = kind == "openai" or "max_tokens" in refused
    if info is None or info.supports("max_tokens"):
        sent["max_completion_tokens" if openai_api else "max_tokens"] = token_limit(
            model, budget, info
        )
    if _takes_temperature(family, info):
        sent["temperature"] = budget.temperature
    if thinks and kind == "openai":
        sent["reasoning_effort"] = REASONING_EFFORT
    if thinks and kind == "openrouter" and (info is None or info.supports("reasoning")):
        # OpenRouter's unified reasoning parameter: effort "low" gives about 20% of max_tokens
        # to thinking on budget-based models (Gemini, Claude) and is passed as effort to
        # OpenAI's; "exclude" keeps the reasoning text out of the response (it is not needed).
        # https://openrouter.ai/docs/use-cases/reasoning-tokens
        sent["reasoning"] = {"effort": REASONING_EFFORT, "exclude": True}
    return {name: value for name, value in sent.items() if name not in refused}


def sends_schema(kind: Kind, configured: bool, info: ModelInfo | None) -> bool:
    """Whether to ask for structured output (response_format json_schema).

    `configured` is the provider's `structured_output` setting (or its kind's default). On
    OpenRouter, a model whose metadata lacks "structured_outputs" gets no schema: with
    `require_parameters` the request would find no endpoint, without it the schema would be
    silently dropped. https://openrouter.ai/docs/features/structured-outputs
    """
    if not configured:
        return False
    if kind == "openrouter" and info is not None:
        return info.supports("structured_outputs")
    return True
