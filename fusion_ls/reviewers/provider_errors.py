"""How a provider's failures read: a `ProviderError` whose reason says what happened and what
to do, in the provider's own words where it gave some, bounded, and never showing the key.

Also where a refusal of one parameter is recognised (`Refused`): an OpenAI 400 naming it in
`error.param`, a message naming it, a llama.cpp build refusing `response_format`, OpenRouter's
404 when `provider.require_parameters` leaves no endpoint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from fusion_ls.config.settings import ProviderSettings
from fusion_ls.errors import ProviderError
from fusion_ls.reviewers.catalog import ModelInfo
from fusion_ls.reviewers.chat import ChatRequest
from fusion_ls.reviewers.retry import parse_retry_after

__all__ = ["DROPPABLE", "ErrorReasons", "Refused"]

# API messages are quoted in reasons so people see the provider's own words, but bounded:
# some providers put whole HTML error pages or stack traces in the body.
_MAX_API_MESSAGE = 200
_RETRYABLE_STATUS = frozenset({408, 409, 429})
DROPPABLE = ("temperature", "reasoning_effort", "reasoning", "response_format", "max_tokens")
"""Parameters a request can go without when an endpoint refuses them (max_tokens becomes
max_completion_tokens)."""
_SCHEMA_WORDS = ("response_format", "json_schema", "structured output", "grammar")
_NO_ENDPOINT = "handle the requested parameters"
"""OpenRouter's 404 when `require_parameters` leaves no endpoint for the model."""


class Refused(ProviderError):
    """The endpoint refused one parameter of the request; sending it without may work."""

    def __init__(self, reason: str, parameter: str, *, http_status: int) -> None:
        super().__init__(reason, http_status=http_status)
        self.parameter = parameter


class ErrorReasons:
    """The reasons of one provider's failures."""

    def __init__(self, name: str, settings: ProviderSettings, api_key: str | None) -> None:
        self.name = name
        self.settings = settings
        self._api_key = api_key

    def http_error(
        self,
        request: ChatRequest,
        body: Mapping[str, Any],
        info: ModelInfo | None,
        response: httpx.Response,
        raw: bytes,
    ) -> ProviderError:
        status, headers = response.status_code, response.headers
        api = self._api_message(raw)
        said = f": {api}" if api else ""
        if status in (400, 404, 422, 500):
            # 500: llama.cpp builds before late 2025 answered a json_schema they could not
            # convert with a server error (ggml-org/llama.cpp PR #17572 made it a 400).
            refusal = self._refusal(request.model, body, info, status, raw, api)
            if refusal is not None:
                return refusal
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

    def _refusal(
        self,
        model: str,
        body: Mapping[str, Any],
        info: ModelInfo | None,
        status: int,
        raw: bytes,
        api: str,
    ) -> ProviderError | None:
        """A rejection of one parameter we sent, as `Refused` naming it (or, for OpenRouter's
        "no endpoint" 404 with nothing left to drop, an error that lists what was sent)."""
        said = f": {api}" if api else ""
        sent = [name for name in DROPPABLE if name in body]
        lowered = api.lower()
        if status == 404 and _NO_ENDPOINT in lowered:
            # OpenRouter's require_parameters found no endpoint taking all of them: name the
            # ones the model list says it does not take, else every one that was sent.
            unsupported = [n for n in sent if info is not None and not info.supports(n)]
            named = ", ".join(unsupported or sent) or "none"
            reason = (
                f"HTTP 404: provider {self.name} has no endpoint for {model!r} that takes "
                f"every parameter sent (with provider.require_parameters: {named}){said}"
            )
            if "response_format" in body:
                return Refused(reason, "response_format", http_status=status)
            return ProviderError(reason, http_status=status)
        param = _error_param(raw)
        if param not in sent:
            param = next((n for n in sent if re.search(rf"\b{n}\b", lowered)), None)
        if param is None and "response_format" in sent and any(w in lowered for w in _SCHEMA_WORDS):
            param = "response_format"
        if param is None:
            return None
        reason = f"HTTP {status}: provider {self.name} refused {param!r} for {model!r}{said}"
        return Refused(reason, param, http_status=status)

    def body_error(self, error: Any) -> ProviderError:
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

    def malformed(self, what: str) -> ProviderError:
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

    def detail(self, exc: Exception) -> str:
        return self._clean(str(exc)) or type(exc).__name__

    def _clean(self, text: str) -> str:
        """One line, bounded, and never the key (some APIs echo part of a rejected key)."""
        text = " ".join(text.split())
        if self._api_key:
            text = text.replace(self._api_key, "***")
        if len(text) > _MAX_API_MESSAGE:
            text = text[: _MAX_API_MESSAGE - 1] + "…"
        return text


def _error_param(raw: bytes) -> str | None:
    """The `error.param` OpenAI's API names in a 400 ("max_tokens", "temperature"...)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    param = error.get("param") if isinstance(error, dict) else None
    return param if isinstance(param, str) else None
