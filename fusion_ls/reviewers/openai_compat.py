"""The OpenAI-compatible chat client: one POST per attempt, retries, and error mapping.

Everything a model call can go wrong with (HTTP status, transport failure, malformed body,
cut stream, time budget) ends here as a `ProviderError` whose `reason` tells a person what to
do; callers never see httpx or json exceptions. The API key is only ever put in the
Authorization header: it is redacted from every message built from a response and never logged.

It is longer than 450 lines because every way a response can fail is mapped here, next to the
code that reads it; retries, the HTTP client and the data types live in their own modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from fusion_ls.config.settings import ProviderSettings
from fusion_ls.errors import ProviderError
from fusion_ls.findings import Usage
from fusion_ls.reviewers.chat import ChatRequest, ChatResult
from fusion_ls.reviewers.retry import RetryPolicy, parse_retry_after, retry_delay

__all__ = ["Provider"]

log = logging.getLogger(__name__)

# API messages are quoted in reasons so people see the provider's own words, but bounded:
# some providers put whole HTML error pages or stack traces in the body.
_MAX_API_MESSAGE = 200
_RETRYABLE_STATUS = frozenset({408, 409, 429})


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
    ) -> None:
        self.name = name
        self.settings = settings
        self._client = client
        self._retry = retry or RetryPolicy(max_retries=settings.max_retries)
        env = os.environ if env is None else env
        key = env.get(settings.api_key_env, "").strip() if settings.api_key_env else ""
        self._api_key: str | None = key or None
        self._url = f"{settings.base_url}/chat/completions"

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
            text, usage, finish_reason = await asyncio.wait_for(
                self._with_retries(request, deadline), timeout=timeout_s
            )
        except asyncio.TimeoutError:
            log.debug("%s/%s: no answer within %g s", self.name, request.model, timeout_s)
            raise ProviderError(f"no answer within {timeout_s:g} s", status="timeout") from None
        latency = time.monotonic() - started
        log.debug(
            "%s/%s: answered in %.2f s (%d+%d tokens, finish_reason=%s)",
            self.name,
            request.model,
            latency,
            usage.prompt_tokens,
            usage.completion_tokens,
            finish_reason,
        )
        return ChatResult(text=text, usage=usage, latency_s=latency, finish_reason=finish_reason)

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

    async def _with_retries(
        self, request: ChatRequest, deadline: float
    ) -> tuple[str, Usage, str | None]:
        attempt = 0
        while True:
            try:
                return await self._attempt(request, attempt)
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
                await asyncio.sleep(delay)
                attempt += 1

    # --- one attempt ---------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = dict(self.settings.headers)
        headers["Accept"] = "text/event-stream" if self.settings.stream else "application/json"
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        openrouter = self.settings.resolved_kind == "openrouter"
        # Without structured output nothing extra is sent, not even {"type": "json_object"}:
        # many local servers reject response_format outright, and the prompt asks for JSON.
        if request.schema is not None and self.settings.uses_structured_output:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema.name,
                    "strict": True,
                    "schema": dict(request.schema.schema),
                },
            }
            if openrouter:
                # Route only to upstreams that honour the schema instead of silently dropping it.
                body["provider"] = {"require_parameters": True}
        if openrouter:
            body["usage"] = {"include": True}  # OpenRouter reports the cost only when asked
        if self.settings.stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    async def _attempt(self, request: ChatRequest, attempt: int) -> tuple[str, Usage, str | None]:
        body = self._body(request)
        log.debug(
            "%s/%s: POST %s (attempt %d, stream=%s)",
            self.name,
            request.model,
            self._url,
            attempt + 1,
            self.settings.stream,
        )
        try:
            async with self._client.stream(
                "POST", self._url, json=body, headers=self._headers()
            ) as response:
                if not response.is_success:
                    raw = await response.aread()
                    raise self._http_error(request, response.status_code, raw, response.headers)
                content_type = response.headers.get("content-type", "")
                # Some servers ignore "stream": true and answer with one JSON body: accept it.
                if self.settings.stream and "text/event-stream" in content_type:
                    return await self._read_stream(request, response)
                return self._parse_completion(request, await response.aread())
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"{self.settings.base_url} did not answer in time ({type(exc).__name__})",
                status="timeout",
                retryable=True,
            ) from None
        except httpx.ConnectError as exc:
            raise ProviderError(
                f"cannot reach {self.settings.base_url}: {self._detail(exc)}", retryable=True
            ) from None
        except httpx.TransportError as exc:
            raise ProviderError(
                f"the connection to {self.settings.base_url} broke: {self._detail(exc)}",
                retryable=True,
            ) from None
        except httpx.HTTPError as exc:
            raise ProviderError(
                f"request to {self.settings.base_url} failed: {self._detail(exc)}"
            ) from None

    # --- responses -----------------------------------------------------------------------

    def _parse_completion(self, request: ChatRequest, raw: bytes) -> tuple[str, Usage, str | None]:
        try:
            data = json.loads(raw)
        except ValueError:
            raise self._malformed(f"the body is not JSON: {self._snippet(raw)!r}") from None
        if not isinstance(data, dict):
            raise self._malformed("the body is not a JSON object")
        if "error" in data:
            raise self._body_error(data["error"])
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise self._malformed("it has no choices")
        choice = choices[0]
        message = choice.get("message")
        if not isinstance(message, dict):
            raise self._malformed("choices[0] has no message")
        text = _content_text(message.get("content"))
        finish_reason = _opt_str(choice.get("finish_reason"))
        self._check_finished(request, text, finish_reason)
        return text, _usage(data.get("usage")), finish_reason

    async def _read_stream(
        self, request: ChatRequest, response: httpx.Response
    ) -> tuple[str, Usage, str | None]:
        parts: list[str] = []
        finish_reason: str | None = None
        usage = Usage()
        async with contextlib.aclosing(_sse_data(response)) as events:
            async for data in events:
                if data == "[DONE]":
                    break
                try:
                    event = json.loads(data)
                except ValueError:
                    raise self._malformed(f"a stream event is not JSON: {data[:80]!r}") from None
                if not isinstance(event, dict):
                    raise self._malformed("a stream event is not a JSON object")
                if event.get("error") is not None:
                    raise self._body_error(event["error"])
                choices = event.get("choices")
                if isinstance(choices, list) and choices and isinstance(choices[0], dict):
                    choice = choices[0]
                    delta = choice.get("delta")
                    if isinstance(delta, dict):
                        parts.append(_content_text(delta.get("content")))
                    finish_reason = _opt_str(choice.get("finish_reason")) or finish_reason
                if isinstance(event.get("usage"), dict):
                    usage = _usage(event["usage"])
        if finish_reason is None:
            raise ProviderError(
                f"stream ended before the model finished (provider {self.name} sent no "
                "finish_reason); the connection was probably cut",
                retryable=True,
            )
        text = "".join(parts)
        self._check_finished(request, text, finish_reason)
        return text, usage, finish_reason

    def _check_finished(self, request: ChatRequest, text: str, finish_reason: str | None) -> None:
        if finish_reason == "length" and not text.strip():
            raise ProviderError(
                f"the model stopped at max_tokens={request.max_tokens} before writing an answer "
                "(reasoning models spend tokens thinking); raise fusion.max_tokens"
            )

    # --- errors --------------------------------------------------------------------------

    def _http_error(
        self, request: ChatRequest, status: int, raw: bytes, headers: httpx.Headers
    ) -> ProviderError:
        api = self._api_message(raw)
        said = f": {api}" if api else ""
        env = self.settings.api_key_env
        retryable = status in _RETRYABLE_STATUS or status >= 500
        if status == 401:
            if env is None:
                reason = (
                    f"HTTP 401: provider {self.name} needs an API key, but none is configured; "
                    f"set api_key_env in [providers.{self.name}]"
                )
            else:
                reason = f"HTTP 401: the API key was rejected; check the environment variable {env}"
            reason += said
        elif status == 402:
            reason = (
                f"HTTP 402: payment required; the account of provider {self.name} is out of "
                f"credits (add credits or lower fusion.max_tokens){said}"
            )
        elif status == 403:
            reason = (
                f"HTTP 403: provider {self.name} refused the request (moderation or access){said}"
            )
        elif status == 404:
            reason = f"HTTP 404: model {request.model!r} not found on provider {self.name}{said}"
        elif status in (400, 422):
            reason = f"HTTP {status}: provider {self.name} rejected the request{said}"
        elif status == 429:
            reason = f"HTTP 429: rate limited by provider {self.name}{said}"
        elif status >= 500:
            reason = f"HTTP {status}: provider {self.name} failed on its side{said}"
        elif 300 <= status < 400:
            location = headers.get("location", "?")
            reason = (
                f"HTTP {status}: {self.settings.base_url} redirects to {location}; "
                "check base_url of the provider"
            )
        else:
            reason = f"HTTP {status} from provider {self.name}{said}"
        return ProviderError(
            reason,
            http_status=status,
            retryable=retryable,
            retry_after_s=parse_retry_after(headers) if retryable else None,
        )

    def _body_error(self, error: Any) -> ProviderError:
        """An `{"error": ...}` in a 200 body or stream: OpenRouter reports upstream failures so."""
        message = self._error_text(error) or "no details given"
        code = error.get("code") if isinstance(error, dict) else None
        status = code if isinstance(code, int) and not isinstance(code, bool) else None
        retryable = status is not None and (status in _RETRYABLE_STATUS or status >= 500)
        return ProviderError(
            f"provider {self.name} reported an error: {message}",
            http_status=status,
            retryable=retryable,
        )

    def _malformed(self, what: str) -> ProviderError:
        return ProviderError(f"malformed response from provider {self.name}: {what}")

    def _api_message(self, raw: bytes) -> str:
        """The API's own error message, from the usual JSON shapes or else the body text."""
        try:
            data = json.loads(raw)
        except ValueError:
            return self._snippet(raw)
        if isinstance(data, dict):
            for key in ("error", "message", "detail"):
                if key in data:
                    return self._error_text(data[key])
        return self._snippet(raw)

    def _error_text(self, error: Any) -> str:
        if isinstance(error, dict):
            error = error.get("message") or error.get("detail") or json.dumps(error)
        if not isinstance(error, str):
            error = json.dumps(error)
        return self._clean(error)

    def _snippet(self, raw: bytes) -> str:
        return self._clean(raw.decode("utf-8", errors="replace"))

    def _detail(self, exc: Exception) -> str:
        return self._clean(str(exc)) or type(exc).__name__

    def _clean(self, text: str) -> str:
        """One line, bounded, and never the key (some APIs echo part of a rejected key)."""
        text = " ".join(text.split())
        if self._api_key:
            text = text.replace(self._api_key, "***")
        if len(text) > _MAX_API_MESSAGE:
            text = text[: _MAX_API_MESSAGE - 1] + "…"
        return text


# --- helpers ---------------------------------------------------------------------------------


async def _sse_data(response: httpx.Response) -> AsyncGenerator[str, None]:
    """Yield the data of each server-sent event; comments (`:` lines) and other fields skipped.

    Multi-line data fields of one event are joined by newlines, as the SSE spec says.
    """
    lines: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if lines:
                yield "\n".join(lines)
                lines = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            lines.append(value[1:] if value.startswith(" ") else value)
    if lines:
        yield "\n".join(lines)


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


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, float) and math.isfinite(value):
        return max(0, int(value))
    return 0
