"""The OpenAI-compatible chat client: one POST per attempt, retries, and error mapping.

Everything a model call can go wrong with (HTTP status, transport failure, malformed or
oversized body, cut stream, time budget) ends here as a `ProviderError` whose `reason` tells a
person what to do; callers never see httpx or json exceptions. What a request carries follows
the model's rules (`model_rules.py`, with the provider's model list where it publishes one);
a parameter the endpoint still refuses is dropped, the request sent once more, and the refusal
remembered for the rest of the process. The API key is only ever put in the Authorization
header: it is redacted from every message built from a response and never logged.

Parsing (`completions.py`), error reasons (`provider_errors.py`), retries, the request rules
and the model list live in their own modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from fusion_ls.config.settings import LimitSettings, ProviderSettings
from fusion_ls.errors import ProviderError
from fusion_ls.reviewers.bodies import ResponseTooLarge, read_capped, sse_lines
from fusion_ls.reviewers.catalog import Catalog, Catalogs, ModelInfo
from fusion_ls.reviewers.chat import ChatRequest, ChatResult
from fusion_ls.reviewers.completions import (
    Completion,
    ErrorInBody,
    Malformed,
    parse_completion,
    read_stream,
)
from fusion_ls.reviewers.model_rules import Budget, parameters, sends_schema
from fusion_ls.reviewers.provider_errors import ErrorReasons, Refused
from fusion_ls.reviewers.retry import RetryPolicy, retry_delay

__all__ = ["ATTRIBUTION", "DEFAULT_MAX_RESPONSE_BYTES", "Cooldowns", "Provider", "Refusals"]

log = logging.getLogger(__name__)

_MAX_ERROR_BODY = 64 * 1024
DEFAULT_MAX_RESPONSE_BYTES = int(LimitSettings().max_response_mb * 1_000_000)

ATTRIBUTION = {
    "HTTP-Referer": "https://github.com/fusion-ls/fusion-ls",
    "X-OpenRouter-Title": "fusion-ls",
    "X-Title": "fusion-ls",
}
"""OpenRouter's app attribution headers (https://openrouter.ai/docs/app-attribution): the
referer creates the app's page, the title names it ("`X-Title` is still supported for
backwards compatibility", so both are sent). They only feed OpenRouter's rankings and are
sent to OpenRouter only."""


class Refusals:
    """Parameters endpoints refused in this process, so each refusal costs one request only.

    Kept per base URL and model; a schema refused by a server that is not OpenRouter is
    refused for all its models (a llama.cpp build without structured output, say).
    """

    def __init__(self) -> None:
        self._per_model: dict[tuple[str, str], set[str]] = {}
        self._no_schema: set[str] = set()

    def of(self, base_url: str, model: str) -> frozenset[str]:
        refused = set(self._per_model.get((base_url, model), ()))
        if base_url in self._no_schema:
            refused.add("response_format")
        return frozenset(refused)

    def add(self, base_url: str, model: str, parameter: str, *, server_wide: bool) -> None:
        self._per_model.setdefault((base_url, model), set()).add(parameter)
        if parameter == "response_format" and server_wide:
            self._no_schema.add(base_url)


class Cooldowns:
    """When a provider asks us to wait (429 with Retry-After), every call to it waits.

    A rate limit belongs to the account, not to one call: a run over many files slows down
    together, rather than each file's calls meeting the limit in turn and each paying a retry.
    """

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    def hold(self, base_url: str, seconds: float) -> None:
        until = time.monotonic() + seconds
        self._until[base_url] = max(self._until.get(base_url, 0.0), until)

    async def wait(self, base_url: str) -> None:
        delay = self._until.get(base_url, 0.0) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


# --- the provider ----------------------------------------------------------------------------


class Provider:
    """One configured OpenAI-compatible endpoint (OpenRouter, OpenAI, a local server...)."""

    def __init__(
        self,
        name: str,
        settings: ProviderSettings,
        client: httpx.AsyncClient,
        env: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        *,
        catalogs: Catalogs | None = None,
        refusals: Refusals | None = None,
        cooldowns: Cooldowns | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.name = name
        self.settings = settings
        self._client = client
        self._retry = retry or RetryPolicy(max_retries=settings.max_retries)
        self._catalogs = catalogs
        self._max_bytes = max_response_bytes
        env = os.environ if env is None else env
        key = env.get(settings.api_key_env, "").strip() if settings.api_key_env else ""
        self._api_key: str | None = key or None
        self._url = f"{settings.base_url}/chat/completions"
        self._errors = ErrorReasons(name, settings, self._api_key)
        self._kind = settings.resolved_kind
        self._refusals = refusals or Refusals()
        self._cooldowns = cooldowns or Cooldowns()

    def __repr__(self) -> str:
        # Spelled out so the key can never reach a log line through a repr.
        return f"Provider(name={self.name!r}, base_url={self.settings.base_url!r})"

    async def chat(self, request: ChatRequest, timeout_s: float) -> ChatResult:
        """Send one chat request, retrying transient failures, all within `timeout_s` seconds.

        Raises ProviderError for every failure. Cancellation propagates unchanged, and the
        HTTP request in flight is closed with it (the server sees the connection drop).
        """
        self._require_key()
        started = time.monotonic()
        deadline = started + timeout_s
        try:
            info, completion = await asyncio.wait_for(
                self._answer(request, deadline), timeout=timeout_s
            )
        except asyncio.TimeoutError:
            log.debug("%s/%s: no answer within %g s", self.name, request.model, timeout_s)
            raise ProviderError(f"no answer within {timeout_s:g} s", status="timeout") from None
        latency = time.monotonic() - started
        usage = completion.usage
        if usage.cost_usd is None and info is not None:
            # Priced from the model list where the provider reports no cost, so the daily
            # limit holds for it too.
            cost = info.cost(usage.prompt_tokens, usage.completion_tokens)
            usage = usage.model_copy(update={"cost_usd": cost})
        log.debug(
            "%s/%s: answered in %.2f s (%d+%d tokens, %d reasoning, finish_reason=%s)",
            self.name,
            request.model,
            latency,
            usage.prompt_tokens,
            usage.completion_tokens,
            completion.reasoning_tokens,
            completion.finish_reason,
        )
        return ChatResult(
            text=completion.text,
            usage=usage,
            latency_s=latency,
            finish_reason=completion.finish_reason,
            reasoning_tokens=completion.reasoning_tokens,
        )

    async def model_info(self, model: str) -> ModelInfo | None:
        """What the provider's model list says of `model` (None: no list, or not in it)."""
        _, info = await self._lookup(model)
        return info

    async def _lookup(self, model: str) -> tuple[Catalog | None, ModelInfo | None]:
        if self._catalogs is None:
            return None, None
        return await self._catalogs.lookup(self.settings, model)

    def key_problem(self) -> str | None:
        """Why this provider cannot be asked at all (its key variable is empty), or None."""
        variable = self.settings.api_key_env
        if variable and self._api_key is None:
            return (
                f"{variable} is not set: export {variable}=<your key> for provider "
                f"{self.name!r}, or put a provider that needs no key (e.g. a local Ollama) "
                "in the pool"
            )
        return None

    async def reachable(self, timeout_s: float = 0.5) -> bool:
        """Whether something listens at the base URL (a TCP connect; nothing is sent)."""
        parts = urlsplit(self.settings.base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, port), timeout_s
            )
        except (OSError, asyncio.TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    def _require_key(self) -> None:
        """A provider that names a key variable gets no request while that variable is empty."""
        problem = self.key_problem()
        if problem is not None:
            raise ProviderError(problem)

    async def _answer(
        self, request: ChatRequest, deadline: float
    ) -> tuple[ModelInfo | None, Completion]:
        catalog, info = await self._lookup(request.model)
        if catalog is not None and info is None:  # the provider lists its models: not this one
            suggestion = catalog.suggest(request.model)
            hint = f"; did you mean {suggestion!r}?" if suggestion else ""
            raise ProviderError(
                f"{request.model!r} is not a model of provider {self.name} (not in its model "
                f"list){hint}"
            )
        return info, await self._with_retries(request, info, deadline)

    async def _with_retries(
        self, request: ChatRequest, info: ModelInfo | None, deadline: float
    ) -> Completion:
        attempt = 0
        dropped: set[str] = set()
        while True:
            await self._cooldowns.wait(self.settings.base_url)
            try:
                return await self._attempt(request, info, attempt)
            except Refused as refusal:
                # Sent once more without it (it is only raised for a parameter that was
                # sent), and remembered, so later requests leave it out from the start.
                if refusal.parameter in dropped:
                    raise
                dropped.add(refusal.parameter)
                self._remember_refusal(request.model, refusal.parameter)
                log.info(
                    "%s/%s: %s; sending it without %s from now on",
                    self.name,
                    request.model,
                    refusal.reason,
                    refusal.parameter,
                )
            except ProviderError as error:
                delay = retry_delay(self._retry, attempt, error)
                if delay is None:
                    raise
                if time.monotonic() + delay >= deadline:
                    # Sleeping past the budget would only replace this reason with "timeout".
                    log.debug("%s/%s: no time left to retry: %s", self.name, request.model, error)
                    raise
                log.debug(
                    "%s/%s: attempt %d failed (%s); retrying in %.2f s",
                    self.name,
                    request.model,
                    attempt + 1,
                    error,
                    delay,
                )
                if error.http_status == 429:
                    self._cooldowns.hold(self.settings.base_url, delay)
                await asyncio.sleep(delay)
                attempt += 1

    def _remember_refusal(self, model: str, parameter: str) -> None:
        """OpenRouter routes each model to other upstreams, so there a refusal is the model's;
        elsewhere a refused schema is the server's."""
        server_wide = self._kind != "openrouter"
        self._refusals.add(self.settings.base_url, model, parameter, server_wide=server_wide)

    # --- one attempt ---------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = dict(ATTRIBUTION) if self._kind == "openrouter" else {}
        headers.update(self.settings.headers)
        headers["Accept"] = "text/event-stream" if self.settings.stream else "application/json"
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _body(self, request: ChatRequest, info: ModelInfo | None) -> dict[str, Any]:
        refused = self._refusals.of(self.settings.base_url, request.model)
        budget = Budget(request.max_tokens, request.reasoning_tokens, request.temperature)
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            **parameters(self._kind, request.model, budget, info, refused),
        }
        openrouter = self._kind == "openrouter"
        # Without structured output nothing extra is sent, not even {"type": "json_object"}:
        # many local servers reject response_format outright, and the prompt asks for JSON.
        wants_schema = sends_schema(self._kind, self.settings.uses_structured_output, info)
        if request.schema is not None and wants_schema and "response_format" not in refused:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema.name,
                    "strict": True,
                    "schema": dict(request.schema.schema),
                },
            }
            if openrouter:
                # Route only to upstreams that honour the schema instead of silently dropping
                # it; the rules above send only parameters the model takes, so this cannot
                # leave the model without an endpoint unless its list entry was wrong.
                body["provider"] = {"require_parameters": True}
        if self.settings.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    async def _attempt(
        self, request: ChatRequest, info: ModelInfo | None, attempt: int
    ) -> Completion:
        body = self._body(request, info)
        log.debug(
            "%s/%s: POST %s (attempt %d, stream=%s, parameters %s)",
            self.name,
            request.model,
            self._url,
            attempt + 1,
            self.settings.stream,
            sorted(set(body) - {"model", "messages"}),
        )
        try:
            async with self._client.stream(
                "POST", self._url, json=body, headers=self._headers()
            ) as response:
                if not response.is_success:
                    raw = await self._error_body(response)
                    raise self._errors.http_error(request, body, info, response, raw)
                return await self._completion(response)
        except ResponseTooLarge as error:
            raise ProviderError(
                f"provider {self.name} sent {error}, the most limits.max_response_mb allows; "
                "an answer is a few KB, so the server is broken or not an OpenAI-compatible API"
            ) from None
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"{self.settings.base_url} did not answer in time ({type(exc).__name__})",
                status="timeout",
                retryable=True,
            ) from None
        except httpx.ConnectError as exc:
            raise ProviderError(
                f"cannot reach {self.settings.base_url}: {self._errors.detail(exc)}", retryable=True
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError(
                f"the connection to {self.settings.base_url} broke: {self._errors.detail(exc)}",
                retryable=True,
            ) from None
        except httpx.HTTPError as exc:
            raise ProviderError(
                f"request to {self.settings.base_url} failed: {self._errors.detail(exc)}"
            ) from None

    # --- responses -----------------------------------------------------------------------

    async def _completion(self, response: httpx.Response) -> Completion:
        content_type = response.headers.get("content-type", "")
        try:
            # Some servers ignore "stream": true and answer with one JSON body: accept it.
            if self.settings.stream and "text/event-stream" in content_type:
                completion = await read_stream(sse_lines(response, self._max_bytes))
            else:
                completion = parse_completion(await read_capped(response, self._max_bytes))
        except Malformed as problem:
            raise self._errors.malformed(str(problem)) from None
        except ErrorInBody as error:
            raise self._errors.body_error(error.error) from None
        if completion is None:
            raise ProviderError(
                f"stream ended before the model finished (provider {self.name} sent no "
                "finish_reason); the connection was probably cut",
                retryable=True,
            )
        if completion.finish_reason == "error":
            # OpenRouter ends a stream that failed upstream with finish_reason "error".
            raise ProviderError(
                f"provider {self.name} reported that the model failed while answering",
                retryable=True,
            )
        return completion

    async def _error_body(self, response: httpx.Response) -> bytes:
        """The start of an error body: enough for its message, never the whole of a huge one."""
        try:
            return await read_capped(response, _MAX_ERROR_BODY)
        except ResponseTooLarge:
            return b""
