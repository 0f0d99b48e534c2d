"""Provider profiles for the fake server: what real providers DOCUMENT, not what our client sends.

A profile teaches `FakeOpenAI` one provider's rules::

    with FakeOpenAI(profile=OpenRouterProfile()) as fake:
        fake.script("openai/gpt-5-mini", thinking('{"findings": []}', reasoning_tokens=900))
        ... a request the provider documents as an error is answered with that error ...

Three hooks, called by the fake:

- `refuse(request)`: the provider's documented rejection of the request (status and body as the
  provider sends them), or None. A refusal is answered before any script is consulted; the request
  is still recorded.
- `finish(request, reply)`: documented decorations of a scripted reply (usage fields, cost, SSE
  comments). Error replies pass through untouched.
- `models()`: the body of GET /v1/models, or None for 404.

Every rule cites where it comes from. Sources, abbreviated below:

- OR-docs: OpenRouter's documentation, https://openrouter.ai/docs/... (the page is named per rule).
- OAI-ref: OpenAI's API reference for Chat Completions,
  https://platform.openai.com/docs/api-reference/chat/create (openai/openai-openapi, openapi.yaml).
- Catalog snapshot: two third-party copies of the body of https://openrouter.ai/api/v1/models
  (2025-2026); the supported_parameters arrays below are copied from them. They are not vendor
  documentation, and OpenRouter changes them over time: re-check live before trusting one.
- User report: an error body quoted in a public issue, i.e. what the API really answered, not what
  its documentation says. Rules resting only on reports say so.

UNCONFIRMED marks a rule for which no source was found; it is the most plausible behaviour.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol

from fake_openai import RecordedRequest, Reply, _sse_events

__all__ = [
    "DEFAULT_CATALOG",
    "LLAMA_CPP_JSON_SCHEMA_MESSAGE",
    "NO_ENDPOINTS_MESSAGE",
    "OPENAI_CHAT_MODELS",
    "OPENAI_CHAT_PARAMETERS",
    "OPENAI_REASONING_MODELS",
    "OPENROUTER_PROCESSING",
    "CatalogModel",
    "LlamaCppProfile",
    "OpenAIProfile",
    "OpenRouterProfile",
    "Profile",
    "effort_share",
    "thinking",
    "tokens",
    "unsupported_parameters",
]


def tokens(text: str) -> int:
    """The fake's token count for `text`: one token per 4 characters, as in its usage."""
    return len(text) // 4


class Profile(Protocol):
    """One provider's documented behaviour, as hooks for `FakeOpenAI`."""

    name: str

    def refuse(self, request: RecordedRequest) -> Reply | None:
        """The provider's documented rejection of this request, or None to go on to the scripts."""
        ...

    def finish(self, request: RecordedRequest, reply: Reply) -> Reply:
        """The scripted reply with the provider's documented decorations (usage, cost, ...)."""
        ...

    def models(self) -> dict[str, Any] | None:
        """The body of GET /v1/models; None answers 404."""
        ...


def _json_reply(status: int, payload: dict[str, Any]) -> Reply:
    return Reply(
        status=status, body=json.dumps(payload), headers={"Content-Type": "application/json"}
    )


def _is_error(reply: Reply) -> bool:
    return reply.body is not None or reply.error is not None or reply.status >= 400


def _base_usage(request: RecordedRequest, reply: Reply) -> dict[str, Any]:
    """The scripted usage, or the fake's default (same rule as fake_openai: len // 4)."""
    if reply.usage is not None:
        return dict(reply.usage)
    prompt = tokens(request.prompt_text)
    completion = tokens(reply.content or "")
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _with_reasoning_details(usage: dict[str, Any]) -> dict[str, Any]:
    """Add completion_tokens_details.reasoning_tokens (0 unless the script set it)."""
    details = dict(usage.get("completion_tokens_details") or {})
    details.setdefault("reasoning_tokens", 0)
    usage["completion_tokens_details"] = details
    return usage


def _wants_stream(request: RecordedRequest, reply: Reply) -> bool:
    if reply.sse is not None:
        return True
    if reply.stream is not None:
        return reply.stream
    return isinstance(request.body, dict) and bool(request.body.get("stream"))


# =================================================================================================
# OpenRouter
# =================================================================================================


@dataclass(frozen=True)
class CatalogModel:
    """One entry of OpenRouter's GET /api/v1/models (only the fields the fake needs to vary).

    Prices are USD per token, as decimal strings, the way OpenRouter sends them: "All pricing values
    are in USD per token/request/unit" (OR-docs guides/overview/models).
    """

    id: str
    supported_parameters: tuple[str, ...]
    context_length: int = 200_000
    prompt_price: str = "0.000001"  # USD per token, a string as OpenRouter sends it
    completion_price: str = "0.000004"
    max_completion_tokens: int | None = None  # top_provider.max_completion_tokens (may be null)

    def entry(self) -> dict[str, Any]:
        """This model as OpenRouter lists it. Fields and shape: OR-docs guides/overview/models
        (https://openrouter.ai/docs/guides/overview/models), "Model object"."""
        vendor, _, rest = self.id.partition("/")
        input_modalities = ["text"]
        return {
            "id": self.id,
            "canonical_slug": self.id,
            "hugging_face_id": "",
            "name": f"{vendor.title()}: {rest}",
            "created": 1_750_000_000,
            "description": f"{self.id} (fake catalog entry)",
            "context_length": self.context_length,
            "architecture": {
                "modality": "text->text",
                "input_modalities": input_modalities,
                "output_modalities": ["text"],
                "tokenizer": "Other",
                "instruct_type": None,
            },
            "pricing": {
                "prompt": self.prompt_price,
                "completion": self.completion_price,
                "request": "0",
                "image": "0",
                "web_search": "0",
                "internal_reasoning": "0",
            },
            "top_provider": {
                "context_length": self.context_length,
                "max_completion_tokens": self.max_completion_tokens,
                "is_moderated": False,
            },
            "per_request_limits": None,
            "supported_parameters": list(self.supported_parameters),
            "default_parameters": {},
        }


# The arrays are copied from the catalog snapshots (see the module docstring): openai/* and
# anthropic/claude-sonnet-4.5 from a raw dump of /api/v1/models (2026); google/gemini-2.5-pro
# and deepseek/deepseek-r1 from a derived catalogue of the same API. Prices likewise, except
# where noted.
DEFAULT_CATALOG: tuple[CatalogModel, ...] = (
    # Default pool, 1 of 3. Has temperature; reasoning is opt-in (Anthropic thinking).
    CatalogModel(
        "anthropic/claude-sonnet-4.5",
        (
            "include_reasoning",
            "max_tokens",
            "reasoning",
            "response_format",
            "stop",
            "structured_outputs",
            "temperature",
            "tool_choice",
            "tools",
            "top_k",
            "top_p",
        ),
        context_length=1_000_000,
        prompt_price="0.000003",
        completion_price="0.000015",
        max_completion_tokens=64_000,
    ),
    # Default pool, 2 of 3. Has temperature; a thinking model. Whether OpenRouter lets you turn
    # its reasoning off is UNCONFIRMED (users report "Reasoning is mandatory" for 2.5 Flash).
    CatalogModel(
        "google/gemini-2.5-pro",
        (
            "include_reasoning",
            "max_tokens",
            "reasoning",
            "response_format",
            "seed",
            "stop",
            "structured_outputs",
            "temperature",
            "tool_choice",
            "tools",
            "top_p",
        ),
        context_length=1_048_576,
        prompt_price="0.00000125",
        completion_price="0.00001",
        max_completion_tokens=65_536,
    ),
    # Default pool, 3 of 3. Not a reasoning model: no "reasoning", has temperature.
    CatalogModel(
        "openai/gpt-4o",
        (
            "frequency_penalty",
            "logit_bias",
            "logprobs",
            "max_tokens",
            "presence_penalty",
            "response_format",
            "seed",
            "stop",
            "structured_outputs",
            "temperature",
            "tool_choice",
            "tools",
            "top_logprobs",
            "top_p",
            "web_search_options",
        ),
        context_length=128_000,
        prompt_price="0.0000025",
        completion_price="0.00001",
        max_completion_tokens=16_384,
    ),
    # The default judge. An OpenAI reasoning model: NO temperature, NO top_p, NO stop.
    CatalogModel(
        "openai/gpt-5-mini",
        (
            "include_reasoning",
            "max_tokens",
            "reasoning",
            "response_format",
            "seed",
            "structured_outputs",
            "tool_choice",
            "tools",
        ),
        context_length=400_000,
        prompt_price="0.00000025",
        completion_price="0.000002",
        max_completion_tokens=128_000,
    ),
    CatalogModel(
        "openai/gpt-5",
        (
            "include_reasoning",
            "max_tokens",
            "reasoning",
            "response_format",
            "seed",
            "structured_outputs",
            "tool_choice",
            "tools",
        ),
        context_length=400_000,
        prompt_price="0.00000125",
        completion_price="0.00001",
        max_completion_tokens=128_000,
    ),
    CatalogModel(
        "openai/o3",
        (
            "include_reasoning",
            "max_tokens",
            "reasoning",
            "response_format",
            "seed",
            "structured_outputs",
            "tool_choice",
            "tools",
        ),
        context_length=200_000,
        prompt_price="0.000002",
        completion_price="0.000008",
        max_completion_tokens=100_000,
    ),
    CatalogModel(
        "openai/o4-mini",
        (
            "include_reasoning",
            "max_tokens",
            "reasoning",
            "response_format",
            "seed",
            "structured_outputs",
            "tool_choice",
            "tools",
        ),
        context_length=200_000,
        prompt_price="0.0000011",
        completion_price="0.0000044",
        max_completion_tokens=100_000,
    ),
    # A chat model with temperature but no reasoning, cheap: handy as a second judge.
    CatalogModel(
        "openai/gpt-4o-mini",
        (
            "frequency_penalty",
            "logit_bias",
            "logprobs",
            "max_tokens",
            "presence_penalty",
            "response_format",
            "seed",
            "stop",
            "structured_outputs",
            "temperature",
            "tool_choice",
            "tools",
            "top_logprobs",
            "top_p",
            "web_search_options",
        ),
        context_length=128_000,
        prompt_price="0.00000015",
        completion_price="0.0000006",
        max_completion_tokens=16_384,
    ),
    # Reasoning with temperature, but NO response_format / structured_outputs: a json_schema
    # request with require_parameters finds no endpoint. Price: UNCONFIRMED (varies by provider);
    # max_completion_tokens unknown (null, as OpenRouter sends it for some models).
    CatalogModel(
        "deepseek/deepseek-r1",
        (
            "frequency_penalty",
            "include_reasoning",
            "max_completion_tokens",
            "max_tokens",
            "presence_penalty",
            "reasoning",
            "repetition_penalty",
            "seed",
            "stop",
            "temperature",
            "tool_choice",
            "tools",
            "top_k",
            "top_p",
        ),
        context_length=163_840,
        prompt_price="0.0000007",
        completion_price="0.0000025",
        max_completion_tokens=None,
    ),
)

# Request keys OpenRouter matches against supported_parameters, and which names satisfy each.
# The names are the documented ones (OR-docs guides/overview/models, "supported_parameters") plus
# those seen in the catalog snapshots. Keys not listed (model, messages, stream, stream_options,
# provider, usage, transforms, models, user, ...) are routing or envelope fields, never filtered.
_PARAMETER_NAMES: Mapping[str, tuple[str, ...]] = {
    "temperature": ("temperature",),
    "top_p": ("top_p",),
    "top_k": ("top_k",),
    "min_p": ("min_p",),
    "top_a": ("top_a",),
    "frequency_penalty": ("frequency_penalty",),
    "presence_penalty": ("presence_penalty",),
    "repetition_penalty": ("repetition_penalty",),
    "seed": ("seed",),
    "stop": ("stop",),
    "logit_bias": ("logit_bias",),
    "logprobs": ("logprobs",),
    "top_logprobs": ("top_logprobs",),
    "tools": ("tools",),
    "tool_choice": ("tool_choice",),
    "parallel_tool_calls": ("parallel_tool_calls",),
    "verbosity": ("verbosity",),
    "web_search_options": ("web_search_options",),
    "max_tokens": ("max_tokens",),
    # UNCONFIRMED: whether max_completion_tokens is matched as itself or as max_tokens. Most
    # models list only "max_tokens" and OpenRouter documents max_tokens; either name counts here.
    "max_completion_tokens": ("max_completion_tokens", "max_tokens"),
    "reasoning": ("reasoning",),
    "include_reasoning": ("include_reasoning",),
    # The top-level reasoning_effort is OpenRouter's alias of reasoning.effort (OR-docs
    # guides/best-practices/reasoning-tokens); which name it is matched by is UNCONFIRMED.
    "reasoning_effort": ("reasoning_effort", "reasoning"),
}

# OR-docs guides/routing/provider-selection ("require_parameters"), and the body users quote
# (issues block/buzz#3018, AventurasTeam/Aventuras#48): HTTP 404 with this message.
NO_ENDPOINTS_MESSAGE = (
    "No endpoints found that can handle the requested parameters. To learn more about provider "
    "routing, visit: https://openrouter.ai/docs/guides/routing/provider-selection"
)

# OR-docs api_reference/streaming (https://openrouter.ai/docs/api_reference/streaming): "For SSE
# streams, OpenRouter occasionally sends comments to prevent connection timeouts. These comments
# look like: : OPENROUTER PROCESSING".
OPENROUTER_PROCESSING = ": OPENROUTER PROCESSING"


def _required_names(key: str, value: Any) -> tuple[str, ...] | None:
    """The supported_parameters names that satisfy request key `key`, or None if not filtered."""
    if key == "response_format":
        # OR-docs guides/features/structured-outputs: json_schema needs an endpoint listing
        # "structured_outputs" ("Set require_parameters: true" routes to those only). Plain JSON
        # mode ({"type": "json_object"}) needs "response_format". Counter-evidence (UNCONFIRMED):
        # a user report (openstory-so/openstory#1302) saw require_parameters match json_schema on
        # an endpoint listing response_format alone; this fake follows the docs.
        kind = value.get("type") if isinstance(value, dict) else None
        if kind == "json_schema":
            return ("structured_outputs",)
        if kind == "text":
            return None
        return ("response_format",)
    return _PARAMETER_NAMES.get(key)


def unsupported_parameters(body: Mapping[str, Any], model: CatalogModel) -> list[str]:
    """The request keys `model` does not list in supported_parameters, in request order."""
    supported = set(model.supported_parameters)
    missing = []
    for key, value in body.items():
        names = _required_names(key, value)
        if names is not None and not supported.intersection(names):
            missing.append(key)
    return missing


class OpenRouterProfile:
    """https://openrouter.ai/api/v1 as its documentation describes it."""

    name = "openrouter"

    def __init__(
        self, catalog: Iterable[CatalogModel] = DEFAULT_CATALOG, processing_comments: bool = True
    ) -> None:
        self.catalog: dict[str, CatalogModel] = {m.id: m for m in catalog}
        self.processing_comments = processing_comments

    # --- refusals --------------------------------------------------------------------------

    def refuse(self, request: RecordedRequest) -> Reply | None:
        body = request.body if isinstance(request.body, dict) else {}
        model = self.catalog.get(request.model or "")
        if model is None:
            # An unknown id is HTTP 400 {"error": {"message": "<id> is not a valid model ID",
            # "code": 400}}. The status class is documented (OR-docs api_reference/
            # errors-and-debugging: 400 "Bad Request (invalid or missing params, CORS)"; "The HTTP
            # Response will have the same status code as error.code"); the message text rests on
            # user reports (OpenRouterTeam/openrouter-examples#74, sipeed/picoclaw#199).
            message = f"{request.model} is not a valid model ID"
            return _json_reply(400, {"error": {"message": message, "code": 400}})
        provider = body.get("provider")
        require = isinstance(provider, dict) and provider.get("require_parameters") is True
        # Without require_parameters an unsupported parameter is ignored: "If the chosen model
        # doesn't support a request parameter (such as logit_bias in non-OpenAI models, or top_k
        # for OpenAI), then the parameter is ignored" (OR-docs api_reference/overview,
        # https://openrouter.ai/docs/api_reference/overview). With it, "the request won't even be
        # routed to that provider" (OR-docs guides/routing/provider-selection): no endpoint is left.
        if require and unsupported_parameters(body, model):
            return _json_reply(404, {"error": {"message": NO_ENDPOINTS_MESSAGE, "code": 404}})
        return None

    # --- decorations -----------------------------------------------------------------------

    def finish(self, request: RecordedRequest, reply: Reply) -> Reply:
        # Errors pass through. An error inside a 200 body is already scriptable as
        # Reply(error=..., status=200): "the returned HTTP response status will be 200 OK and any
        # error occurred while the LLM is producing the output will be emitted in the response
        # body or as an SSE data event" (OR-docs api_reference/errors-and-debugging,
        # https://openrouter.ai/docs/api_reference/errors-and-debugging).
        if _is_error(reply):
            return reply
        model = self.catalog.get(request.model or "")
        usage = self.usage(request, reply, model)
        finished = replace(reply, usage=usage)
        if not _wants_stream(request, finished):
            return finished
        # Usage is sent in every stream too, "exactly once in the final chunk before the [DONE]
        # message, with an empty choices array" (OR-docs api_reference/overview); the fake sends
        # that chunk when the request asks for it, so the events are built as if it had asked.
        if finished.sse is not None:
            events = list(finished.sse)
        else:
            body = request.body if isinstance(request.body, dict) else {}
            asked = replace(request, body={**body, "stream_options": {"include_usage": True}})
            events = list(_sse_events(asked, finished))
        if self.processing_comments:
            events.insert(0, OPENROUTER_PROCESSING)
        return replace(finished, sse=events)

    def usage(
        self, request: RecordedRequest, reply: Reply, model: CatalogModel | None
    ) -> dict[str, Any]:
        """OpenRouter's usage object for `reply`, with cost from the catalog prices.

        Always present: "The usage: { include: true } and stream_options: { include_usage: true }
        parameters are deprecated and have no effect. Full usage details are now always included
        automatically in every response" (OR-docs cookbook/administration/usage-accounting,
        https://openrouter.ai/docs/use-cases/usage-accounting). `cost` is in credits (1 credit is
        1 USD, as the per-token prices are USD); reasoning tokens "are considered output tokens and
        charged accordingly" (OR-docs guides/best-practices/reasoning-tokens), so they are part of
        completion_tokens and billed at the completion price.
        """
        usage = _with_reasoning_details(_base_usage(request, reply))
        if model is not None and "cost" not in usage:
            prompt = Decimal(int(usage.get("prompt_tokens", 0)))
            completion = Decimal(int(usage.get("completion_tokens", 0)))
            cost = prompt * Decimal(model.prompt_price) + completion * Decimal(
                model.completion_price
            )
            usage["cost"] = float(cost)
            usage["is_byok"] = False
        usage.setdefault("prompt_tokens_details", {"cached_tokens": 0})
        return usage

    # --- catalog ---------------------------------------------------------------------------

    def models(self) -> dict[str, Any]:
        """GET /api/v1/models: {"data": [...], "total_count": n, "links": {"next": null}}; without
        limit/offset "the full list is returned and links.next is null" (OR-docs
        guides/overview/models)."""
        data = [m.entry() for m in self.catalog.values()]
        return {"data": data, "total_count": len(data), "links": {"next": None}}


# =================================================================================================
# OpenAI (api.openai.com)
# =================================================================================================

# Reasoning models, with the reasoning_effort values each accepts. OAI-ref, reasoning_effort: "All
# models before gpt-5.1 default to medium reasoning effort, and do not support none"; the o-series
# takes low/medium/high (OpenAI's reasoning guide, older copies); "minimal" came with GPT-5 (Azure
# OpenAI docs: "minimal is now supported with GPT-5 series reasoning models").
# gpt-5-chat-latest is NOT here: it is a chat model (third-party tests accept temperature 0.7 on
# it: UNCONFIRMED by OpenAI).
_O_SERIES = ("low", "medium", "high")
_GPT5 = ("minimal", "low", "medium", "high")
OPENAI_REASONING_MODELS: Mapping[str, tuple[str, ...]] = {
    "o1": _O_SERIES,
    "o3": _O_SERIES,
    "o3-mini": _O_SERIES,
    "o4-mini": _O_SERIES,
    "gpt-5": _GPT5,
    "gpt-5-mini": _GPT5,
    "gpt-5-nano": _GPT5,
}
OPENAI_CHAT_MODELS: tuple[str, ...] = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5-chat-latest",
)

# The request body fields of CreateChatCompletionRequest (OAI-ref). Anything else is rejected.
OPENAI_CHAT_PARAMETERS = frozenset(
    {
        "messages",
        "model",
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "metadata",
        "modalities",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    }
)


def _openai_error(
    status: int,
    message: str,
    *,
    param: str | None,
    code: str | None,
    kind: str = "invalid_request_error",
) -> Reply:
    """OpenAI's error body: {"error": {"message", "type", "param", "code"}} (OAI-ref, "Error")."""
    error = {"message": message, "type": kind, "param": param, "code": code}
    return _json_reply(status, {"error": error})


def _quoted_list(values: Iterable[str]) -> str:
    """'a', 'b', and 'c' - the way OpenAI lists supported values."""
    items = [f"'{v}'" for v in values]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


class OpenAIProfile:
    """https://api.openai.com/v1 (Chat Completions), as its API reference and error bodies show."""

    name = "openai"

    def __init__(
        self,
        reasoning_models: Mapping[str, tuple[str, ...]] = OPENAI_REASONING_MODELS,
        chat_models: Iterable[str] = OPENAI_CHAT_MODELS,
    ) -> None:
        self.reasoning_models = dict(reasoning_models)
        self.chat_models = tuple(chat_models)

    def _known(self, model: str) -> bool:
        return model in self.reasoning_models or model in self.chat_models

    def refuse(self, request: RecordedRequest) -> Reply | None:
        body = request.body if isinstance(request.body, dict) else {}
        model = request.model or ""
        # UNCONFIRMED: the order OpenAI checks things in. Here: unknown fields, then the model,
        # then per-model rules.
        unknown = sorted(k for k in body if k not in OPENAI_CHAT_PARAMETERS)
        if unknown:
            # OpenRouter-style fields (reasoning, provider, usage, ...) are not Chat Completions
            # parameters. The API answers 400 "Unrecognized request argument supplied: reasoning"
            # ("arguments", comma-separated, for several) with param and code null. User reports:
            # xlinx/sd-webui-decadetw-auto-prompt-llm#29 (top_k), langchain-ai/langchain#8593
            # (plural form); the lean-ctx docs state "api.openai.com rejects unknown top-level
            # fields with a 400". Not in OpenAI's own documentation: UNCONFIRMED there.
            noun = "argument" if len(unknown) == 1 else "arguments"
            message = f"Unrecognized request {noun} supplied: {', '.join(unknown)}"
            return _openai_error(400, message, param=None, code=None)
        if not self._known(model):
            # 404 model_not_found. The body rests on user reports (Aider-AI/aider#2030,
            # shobrook/wut#14, ksred/GitPilotAI#12); not found in OpenAI's own documentation.
            message = f"The model `{model}` does not exist or you do not have access to it."
            return _openai_error(404, message, param=None, code="model_not_found")
        efforts = self.reasoning_models.get(model)
        if efforts is None:
            # Chat models take max_tokens and any temperature. reasoning_effort is for reasoning
            # models only (OAI-ref: "Constrains effort on reasoning for reasoning models"); sent
            # to gpt-4o-mini it is "Unrecognized request argument supplied: reasoning_effort"
            # (user reports: coroot/coroot#698, yaroslavyaroslav/OpenAI-sublime-text#146).
            if body.get("reasoning_effort") is not None:
                message = "Unrecognized request argument supplied: reasoning_effort"
                return _openai_error(400, message, param=None, code=None)
            return None
        # A JSON null counts as absent (UNCONFIRMED: the parameters are nullable in OAI-ref).
        if body.get("max_tokens") is not None:
            # OAI-ref, max_tokens: "This value is now deprecated in favor of
            # max_completion_tokens, and is not compatible with o-series models." The body is
            # the one users quote for o1, o3-mini, gpt-5 (teilomillet/gollm#33,
            # microsoft/clarity-agent#59, devnullvoid/dms-ai-assistant#12).
            message = (
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead."
            )
            return _openai_error(400, message, param="max_tokens", code="unsupported_parameter")
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            # Reasoning models take only the default temperature. Body quoted by users for o1,
            # o3, o4-mini, gpt-5-mini (cline/cline#341, holoviz/lumen#1087, QwenLM/qwen-code#921,
            # NVlabs/cvdp_benchmark#29). (o3-mini once answered "Unsupported parameter:
            # 'temperature' is not supported with this model." instead: npiv/chatblade#100.)
            shown = json.dumps(temperature)
            message = (
                f"Unsupported value: 'temperature' does not support {shown} with this model. "
                "Only the default (1) value is supported."
            )
            return _openai_error(400, message, param="temperature", code="unsupported_value")
        effort = body.get("reasoning_effort")
        if effort is not None and effort not in efforts:
            # Values per model: see OPENAI_REASONING_MODELS. The wording follows the
            # unsupported_value bodies users quote (anomalyco/opencode#4451 for gpt-5.1 'minimal');
            # the exact Chat Completions text for these models is UNCONFIRMED.
            message = (
                f"Unsupported value: 'reasoning_effort' does not support {json.dumps(effort)} "
                f"with this model. Supported values are: {_quoted_list(efforts)}."
            )
            return _openai_error(400, message, param="reasoning_effort", code="unsupported_value")
        return None

    def finish(self, request: RecordedRequest, reply: Reply) -> Reply:
        # Usage carries completion_tokens_details.reasoning_tokens (OAI-ref, CompletionUsage:
        # "reasoning_tokens: Tokens generated by the model for reasoning"), and reasoning tokens
        # are part of completion_tokens ("max_completion_tokens: An upper bound for the number of
        # tokens that can be generated for a completion, including visible output tokens and
        # reasoning tokens"). Streams carry usage only with stream_options.include_usage, as the
        # fake already does.
        if _is_error(reply):
            return reply
        usage = _with_reasoning_details(_base_usage(request, reply))
        usage.setdefault("prompt_tokens_details", {"cached_tokens": 0})
        return replace(reply, usage=usage)

    def models(self) -> dict[str, Any]:
        """GET /v1/models: {"object": "list", "data": [{"id", "object": "model", "created",
        "owned_by"}]} (OAI-ref, https://platform.openai.com/docs/api-reference/models/list)."""
        ids = [*self.reasoning_models, *self.chat_models]
        data = [
            {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "openai"}
            for m in ids
        ]
        return {"object": "list", "data": data}


# =================================================================================================
# llama.cpp (llama-server)
# =================================================================================================

# ggml-org/llama.cpp tools/server: response types other than "text" and "json_object" are refused
# with this message (server-common.cpp, oaicompat_chat_params_parse).
LLAMA_CPP_JSON_SCHEMA_MESSAGE = (
    'response_format type must be one of "text" or "json_object", but got: json_schema'
)


class LlamaCppProfile:
    """A llama-server build that answers 400 to response_format json_schema.

    Which builds do that: builds before ggml-org/llama.cpp PR #9527 (Sept 2024) knew only "text"
    and "json_object" and refused json_schema with the message above (issue #9522). Those builds
    answered it with HTTP 500 {"type": "server_error"}: the exception was a runtime_error and the
    server's exception handler reports those as server errors; `LlamaCppProfile(status=500)`
    reproduces them exactly. Later builds map std::invalid_argument to 400 invalid_request_error
    (ex_wrapper, server.cpp), accept json_schema, and answer 400 only to schemas they cannot turn
    into a grammar ("JSON schema conversion failed: ...", PR #17572, Nov 2025; before it, 500).
    The default here, 400 with the old message, stands for "this server will not take my schema".

    Body shape (both status codes): {"error": {"code": N, "message": "...", "type": "..."}}
    (format_error_response in tools/server; the server README: "llama-server returns errors in
    the same format as OAI"). Everything else is accepted, and the request's `model` is not
    checked: llama-server answers with the model it loaded whatever the request names.
    """

    name = "llama.cpp"

    def __init__(self, status: int = 400, model_id: str = "local-model") -> None:
        if status not in (400, 500):
            raise ValueError("llama-server answers this with 400 (new builds) or 500 (old builds)")
        self.status = status
        self.model_id = model_id

    def refuse(self, request: RecordedRequest) -> Reply | None:
        body = request.body if isinstance(request.body, dict) else {}
        response_format = body.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
            kind = "invalid_request_error" if self.status == 400 else "server_error"
            error = {"code": self.status, "message": LLAMA_CPP_JSON_SCHEMA_MESSAGE, "type": kind}
            return _json_reply(self.status, {"error": error})
        return None

    def finish(self, request: RecordedRequest, reply: Reply) -> Reply:
        return reply

    def models(self) -> dict[str, Any]:
        """GET /v1/models: an OpenAI-style list with the one loaded model (tools/server README,
        "GET /v1/models"; owned_by "llamacpp")."""
        entry = {"id": self.model_id, "object": "model", "created": int(time.time())}
        return {"object": "list", "data": [{**entry, "owned_by": "llamacpp"}]}


# =================================================================================================
# A thinking model
# =================================================================================================

# OR-docs guides/best-practices/reasoning-tokens (https://openrouter.ai/docs/guides/best-practices/
# reasoning-tokens): effort "xhigh" allocates "approximately 95% of max_tokens", "high" 80%,
# "medium" 50%, "low" 20%, "minimal" 10%; "none" disables reasoning. ("max" is listed with xhigh.)
_EFFORT_SHARE: Mapping[str, Decimal] = {
    "max": Decimal("0.95"),
    "xhigh": Decimal("0.95"),
    "high": Decimal("0.8"),
    "medium": Decimal("0.5"),
    "low": Decimal("0.2"),
    "minimal": Decimal("0.1"),
    "none": Decimal("0"),
}


def effort_share(effort: str) -> Decimal | None:
    """The documented share of max_tokens an effort level may spend thinking (None: unknown)."""
    return _EFFORT_SHARE.get(effort)


def _token_limit(body: Mapping[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _thinking_cap(body: Mapping[str, Any], limit: int | None) -> int | None:
    """How many tokens the request lets the model think (None: no cap but the overall limit)."""
    reasoning = body.get("reasoning")
    effort: Any = None
    if isinstance(reasoning, dict):
        if reasoning.get("enabled") is False:
            return 0  # "enabled": false turns reasoning off (where the model allows it)
        budget = reasoning.get("max_tokens")
        if isinstance(budget, int) and not isinstance(budget, bool):
            return budget  # Anthropic-style: "Directly specifies the maximum number of tokens"
        effort = reasoning.get("effort")
        if effort is None and reasoning.get("enabled") is True:
            effort = "medium"  # "enabled": true "Enables reasoning at the medium effort level"
        # "exclude": true hides the reasoning text but the model still reasons and is billed for
        # it ("exclude ... Set to true to exclude reasoning tokens from response"): no effect here.
    if effort is None:
        # OpenAI's reasoning_effort; OpenRouter takes it as reasoning.effort (OR-docs
        # reasoning-tokens). OpenAI itself documents no token share for the levels: applying
        # OpenRouter's shares to it is this fake's simplification (UNCONFIRMED for api.openai.com).
        effort = body.get("reasoning_effort")
    if not isinstance(effort, str):
        return None
    share = effort_share(effort)
    if share is None:
        return None
    if share == 0:
        return 0
    if limit is None:
        return None  # a share of no limit: uncapped
    return int(Decimal(limit) * share)


def thinking(
    content: str, reasoning_tokens: int, *, delay_s: float = 0.0
) -> Callable[[RecordedRequest], Reply]:
    """A Script for a model that thinks `reasoning_tokens` tokens, then writes `content`.

    The rule, from the providers' documentation:

    - Thinking and answer share one limit: `max_completion_tokens`, else `max_tokens`, else none.
      OAI-ref: max_completion_tokens is "An upper bound for the number of tokens that can be
      generated for a completion, including visible output tokens and reasoning tokens"; OpenAI's
      reasoning guide: running out "might occur before any visible output tokens are produced"
      (https://platform.openai.com/docs/guides/reasoning). OpenRouter computes its thinking budgets
      from max_tokens, and "max_tokens must be strictly higher than the reasoning budget to ensure
      there are tokens available for the final response after thinking" (OR-docs reasoning-tokens).
    - What the request allows to think: OpenRouter's `reasoning` object - {"max_tokens": N} caps
      thinking at N; {"effort": e} at the documented share of max_tokens (see `effort_share`);
      {"enabled": false} or effort "none" turns it off; {"exclude": true} changes nothing here -
      and OpenAI's `reasoning_effort`, read like reasoning.effort.
    - The answer gets what is left. If its tokens (len // 4, like the fake's usage) do not fit,
      it is cut to what is left (possibly empty) and finish_reason is "length".
    - usage.completion_tokens counts thinking and answer; completion_tokens_details
      .reasoning_tokens counts the thinking ("Reasoning tokens are considered output tokens and
      charged accordingly", OR-docs reasoning-tokens).
    """
    if reasoning_tokens < 0:
        raise ValueError("reasoning_tokens must be >= 0")

    def script(request: RecordedRequest) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        limit = _token_limit(body)
        spent = reasoning_tokens
        cap = _thinking_cap(body, limit)
        if cap is not None:
            spent = min(spent, cap)
        if limit is not None:
            spent = min(spent, limit)
        answer, finish_reason = content, "stop"
        if limit is not None:
            left = limit - spent
            if tokens(content) > left:
                answer, finish_reason = content[: left * 4], "length"
        prompt = tokens(request.prompt_text)
        completion = spent + tokens(answer)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "completion_tokens_details": {"reasoning_tokens": spent},
        }
        return Reply(content=answer, finish_reason=finish_reason, usage=usage, delay_s=delay_s)

    return script
