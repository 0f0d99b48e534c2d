"""Provider.chat against a real (fake) OpenAI-compatible server over real sockets."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from fake_openai import FakeOpenAI, Reply

from fusion_ls.config.settings import ProviderSettings
from fusion_ls.errors import ProviderError
from fusion_ls.reviewers.chat import ChatMessage, ChatRequest, ResponseSchema
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.openai_compat import Provider
from fusion_ls.reviewers.retry import RetryPolicy, parse_retry_after, retry_delay

KEY = "sk-test-SECRET-0123456789abcdef"
KEY_ENV = "FAKE_API_KEY"
FAST = RetryPolicy(max_retries=2, base_s=0.001, cap_s=0.005)
SCHEMA = ResponseSchema(
    name="review", schema={"type": "object", "properties": {"findings": {"type": "array"}}}
)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_http_client() as http:
        yield http


def make_provider(
    fake: FakeOpenAI,
    client: httpx.AsyncClient,
    *,
    env: dict[str, str] | None = None,
    retry: RetryPolicy = FAST,
    **settings: Any,
) -> Provider:
    fields: dict[str, Any] = {
        "base_url": fake.base_url,
        "api_key_env": KEY_ENV,
        "kind": "compatible",
    }
    fields.update(settings)
    env = {KEY_ENV: KEY} if env is None else env
    return Provider("fake", ProviderSettings(**fields), client, env=env, retry=retry)


def chat_request(model: str = "m", schema: ResponseSchema | None = None) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(
            ChatMessage("system", "You review code."),
            ChatMessage("user", "Review this: x = 1"),
        ),
        max_tokens=500,
        temperature=0.2,
        schema=schema,
    )


async def fails(provider: Provider, timeout_s: float = 10.0, **kwargs: Any) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await provider.chat(chat_request(**kwargs), timeout_s)
    return info.value


def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
    payload = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return "data: " + json.dumps(payload)


async def wait_until(condition: Any, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


# --- happy paths -----------------------------------------------------------------------------


async def test_non_stream_answer(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15, "cost": 0.0042}
    fake_openai.script("m", Reply(content="hello world", usage=usage, delay_s=0.05))
    result = await make_provider(fake_openai, client).chat(chat_request(), 10)
    assert result.text == "hello world"
    assert result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (12, 3)
    assert result.usage.cost_usd == pytest.approx(0.0042)
    assert 0.05 <= result.latency_s < 5
    (sent,) = fake_openai.requests_for("m")
    assert sent.path == "/v1/chat/completions"
    assert sent.body == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "You review code."},
            {"role": "user", "content": "Review this: x = 1"},
        ],
        "max_tokens": 500,
        "temperature": 0.2,
    }
    assert sent.headers["user-agent"].startswith("fusion-ls/")


async def test_usage_without_cost(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    fake_openai.answer("m", {"findings": []})
    result = await make_provider(fake_openai, client).chat(chat_request(), 10)
    assert json.loads(result.text) == {"findings": []}
    assert result.usage.cost_usd is None
    assert result.usage.prompt_tokens == len(fake_openai.requests[0].prompt_text) // 4


async def test_stream_answer(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    usage = {"prompt_tokens": 20, "completion_tokens": 6, "cost": 0.01}
    fake_openai.script("m", Reply(content="a streamed answer in pieces", usage=usage))
    provider = make_provider(fake_openai, client, stream=True)
    result = await provider.chat(chat_request(), 10)
    assert result.text == "a streamed answer in pieces"
    assert result.finish_reason == "stop"
    assert result.usage.model_dump() == {
        "prompt_tokens": 20,
        "completion_tokens": 6,
        "cost_usd": 0.01,
    }
    assert result.latency_s > 0
    body = fake_openai.requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_stream_skips_comments(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    sse = [
        ": OPENROUTER PROCESSING",
        chunk({"role": "assistant", "content": "Hel"}),
        ": keep-alive",
        chunk({"content": "lo"}),
        chunk({}, "stop"),
        "data: [DONE]",
    ]
    fake_openai.script("m", Reply(sse=sse))
    result = await make_provider(fake_openai, client, stream=True).chat(chat_request(), 10)
    assert (result.text, result.finish_reason) == ("Hello", "stop")
    assert result.usage.total_tokens == 0  # no usage chunk: zeros, not a failure


async def test_stream_request_answered_without_sse(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.script("m", Reply(content="plain json", stream=False))
    result = await make_provider(fake_openai, client, stream=True).chat(chat_request(), 10)
    assert result.text == "plain json"


# --- stream failures -------------------------------------------------------------------------


async def test_stream_error_event(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    error = {"error": {"message": "upstream rejected the prompt", "code": 400}}
    fake_openai.script("m", Reply(sse=[chunk({"content": "par"}), "data: " + json.dumps(error)]))
    failure = await fails(make_provider(fake_openai, client, stream=True))
    assert "upstream rejected the prompt" in failure.reason
    assert not failure.retryable
    assert len(fake_openai.requests) == 1


async def test_stream_without_finish_reason(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.script("m", Reply(content="partial answer", finish_reason=None))
    failure = await fails(make_provider(fake_openai, client, stream=True))
    assert failure.reason.startswith("stream ended before the model finished")
    assert len(fake_openai.requests) == 3  # a cut stream is transient: retried


# --- HTTP errors -----------------------------------------------------------------------------


async def test_401_names_the_variable_and_hides_the_key(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.script("m", Reply(status=401, error=f"Incorrect API key provided: {KEY}"))
    failure = await fails(make_provider(fake_openai, client))
    assert KEY_ENV in failure.reason
    assert "Incorrect API key provided" in failure.reason
    assert KEY not in failure.reason
    assert (failure.http_status, failure.retryable) == (401, False)
    assert len(fake_openai.requests) == 1


async def test_401_without_key_variable(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    fake_openai.script("m", Reply(status=401, error="missing key"))
    failure = await fails(make_provider(fake_openai, client, api_key_env=None))
    assert "none is configured" in failure.reason
    assert "fake" in failure.reason


async def test_missing_key_fails_before_sending(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.answer("m", {"findings": []})
    failure = await fails(make_provider(fake_openai, client, env={}))
    assert f"{KEY_ENV} is not set" in failure.reason and "export" in failure.reason
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    ("status", "words"),
    [(402, "out of credits"), (403, "refused"), (404, "not found on provider fake")],
)
async def test_client_errors_are_not_retried(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient, status: int, words: str
) -> None:
    fake_openai.script("m", Reply(status=status, error="the API says why"))
    failure = await fails(make_provider(fake_openai, client))
    assert words in failure.reason
    assert "the API says why" in failure.reason
    assert (failure.http_status, failure.retryable, failure.status) == (status, False, "error")
    assert len(fake_openai.requests) == 1


async def test_long_api_message_is_truncated(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.script("m", Reply(status=400, error="x" * 5000))
    failure = await fails(make_provider(fake_openai, client))
    assert 200 <= len(failure.reason) < 300


async def test_429_with_retry_after_then_success(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.script(
        "m", Reply(status=429, headers={"Retry-After": "0"}), Reply(content="finally")
    )
    result = await make_provider(fake_openai, client).chat(chat_request(), 10)
    assert result.text == "finally"
    assert len(fake_openai.requests) == 2


async def test_500_is_retried_then_fails(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.script("m", Reply(status=500, error="boom"))
    failure = await fails(make_provider(fake_openai, client))
    assert (failure.http_status, failure.retryable) == (500, True)
    assert "boom" in failure.reason
    assert len(fake_openai.requests) == 3


async def test_retry_after_above_cap_is_not_retried(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.script("m", Reply(status=429, headers={"Retry-After": "3600"}))
    started = time.monotonic()
    failure = await fails(make_provider(fake_openai, client))
    assert failure.http_status == 429
    assert failure.retry_after_s == 3600
    assert len(fake_openai.requests) == 1
    assert time.monotonic() - started < 2


async def test_retry_after_beyond_budget_fails_with_the_real_reason(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.script("m", Reply(status=429, headers={"retry-after-ms": "5000"}))
    failure = await fails(make_provider(fake_openai, client), timeout_s=1)
    assert (failure.http_status, failure.status) == (429, "error")
    assert len(fake_openai.requests) == 1


# --- malformed answers -----------------------------------------------------------------------


@pytest.mark.parametrize("body", ["not json at all", '{"id": "x", "choices": []}', "[1, 2]"])
async def test_malformed_body(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient, body: str
) -> None:
    fake_openai.script("m", Reply(body=body))
    failure = await fails(make_provider(fake_openai, client))
    assert failure.reason.startswith("malformed response")


async def test_error_in_200_body(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    fake_openai.script("m", Reply(error="Provider returned error"))
    failure = await fails(make_provider(fake_openai, client))
    assert "Provider returned error" in failure.reason
    assert len(fake_openai.requests) == 1


async def test_length_is_passed_on(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    """The provider reports a cut-off answer as it came; the reviewer decides (see
    test_real_providers: a truncated answer that does not parse fails as "truncated")."""
    fake_openai.script("m", Reply(content=None, finish_reason="length"))
    result = await make_provider(fake_openai, client).chat(chat_request(), 5)
    assert (result.text, result.finish_reason) == ("", "length")


# --- transport and time ----------------------------------------------------------------------


async def test_connection_refused_names_the_url(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    settings = ProviderSettings(base_url=url, api_key_env=KEY_ENV)
    provider = Provider("local", settings, client, env={KEY_ENV: KEY}, retry=FAST)
    with pytest.raises(ProviderError) as info:
        await provider.chat(chat_request(), 10)
    assert f"cannot reach {url}" in info.value.reason
    assert info.value.retryable


async def test_timeout(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    fake_openai.script("m", Reply(content="too late", delay_s=5))
    started = time.monotonic()
    failure = await fails(make_provider(fake_openai, client), timeout_s=0.3)
    assert failure.status == "timeout"
    assert failure.reason == "no answer within 0.3 s"
    assert time.monotonic() - started < 2


async def test_cancellation_closes_the_request(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.script("m", Reply(content="never read", delay_s=5))
    task = asyncio.create_task(make_provider(fake_openai, client).chat(chat_request(), 30))
    await wait_until(lambda: len(fake_openai.requests) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: fake_openai.disconnects == 1)
    assert task.cancelled()


# --- what is sent ----------------------------------------------------------------------------


async def test_openrouter_only_fields(fake_openai: FakeOpenAI, client: httpx.AsyncClient) -> None:
    fake_openai.answer("m", {"findings": []})
    await make_provider(fake_openai, client, kind="openrouter").chat(chat_request(schema=SCHEMA), 5)
    await make_provider(fake_openai, client, kind="compatible", structured_output=True).chat(
        chat_request(schema=SCHEMA), 5
    )
    openrouter, other = fake_openai.requests
    expected_format = {
        "type": "json_schema",
        "json_schema": {"name": "review", "strict": True, "schema": dict(SCHEMA.schema)},
    }
    assert openrouter.body["provider"] == {"require_parameters": True}
    assert openrouter.body["response_format"] == expected_format
    # "usage: {include: true} ... deprecated and have no effect" (OpenRouter's usage docs).
    assert "usage" not in openrouter.body
    assert openrouter.headers["http-referer"] == "https://github.com/fusion-ls/fusion-ls"
    assert openrouter.headers["x-openrouter-title"] == "fusion-ls"
    assert "provider" not in other.body
    assert other.body["response_format"] == expected_format
    assert "http-referer" not in other.headers
    assert "x-title" not in other.headers


async def test_no_response_format_without_structured_output(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.answer("m", {"findings": []})
    await make_provider(fake_openai, client).chat(chat_request(schema=SCHEMA), 5)
    await make_provider(fake_openai, client, kind="openrouter", structured_output=False).chat(
        chat_request(schema=SCHEMA), 5
    )
    await make_provider(fake_openai, client, kind="openrouter").chat(chat_request(), 5)
    openai, openrouter_off, no_schema = (r.body for r in fake_openai.requests)
    assert "response_format" not in openai
    assert "response_format" not in openrouter_off
    assert "provider" not in openrouter_off  # require_parameters only guards a schema
    assert "response_format" not in no_schema


async def test_authorization_only_with_a_key(
    fake_openai: FakeOpenAI, client: httpx.AsyncClient
) -> None:
    fake_openai.answer("m", "ok")
    headers = {"HTTP-Referer": "https://example.org"}
    await make_provider(fake_openai, client, headers=headers).chat(chat_request(), 5)
    await make_provider(fake_openai, client, api_key_env=None).chat(chat_request(), 5)
    with_key, unconfigured = (r.headers for r in fake_openai.requests)
    assert with_key["authorization"] == f"Bearer {KEY}"
    assert with_key["http-referer"] == "https://example.org"
    assert "authorization" not in unconfigured


# --- retry_delay and parse_retry_after -------------------------------------------------------


def test_retry_delay_gives_up() -> None:
    policy = RetryPolicy(max_retries=2)
    assert retry_delay(policy, 0, ProviderError("bad request")) is None
    assert retry_delay(policy, 2, ProviderError("busy", retryable=True)) is None
    too_long = ProviderError("busy", retryable=True, retry_after_s=121)
    assert retry_delay(policy, 0, too_long) is None


def test_retry_delay_honours_retry_after() -> None:
    policy = RetryPolicy(max_retries=2)
    assert retry_delay(policy, 1, ProviderError("busy", retryable=True, retry_after_s=7)) == 7
    assert retry_delay(policy, 0, ProviderError("busy", retryable=True, retry_after_s=0)) == 0


def test_retry_delay_backoff_with_jitter_and_cap() -> None:
    policy = RetryPolicy(max_retries=5, base_s=0.5, cap_s=3.0)
    error = ProviderError("busy", retryable=True)
    rng = random.Random(1)
    for attempt, full in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 3.0), (4, 3.0)]:
        delays = [retry_delay(policy, attempt, error, rng) for _ in range(50)]
        assert all(d is not None and full * 0.5 <= d <= full for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after(httpx.Headers({"Retry-After": "3"}), now) == 3
    assert parse_retry_after(httpx.Headers({"Retry-After": "1.5"}), now) == 1.5
    date = "Wed, 01 Jan 2025 12:00:30 GMT"
    assert parse_retry_after(httpx.Headers({"Retry-After": date}), now) == 30
    past = "Wed, 01 Jan 2025 11:00:00 GMT"
    assert parse_retry_after(httpx.Headers({"Retry-After": past}), now) == 0
    both = httpx.Headers({"retry-after-ms": "250", "Retry-After": "9"})
    assert parse_retry_after(both, now) == 0.25
    bad_ms = httpx.Headers({"retry-after-ms": "soon", "Retry-After": "9"})
    assert parse_retry_after(bad_ms, now) == 9
    assert parse_retry_after(httpx.Headers({"Retry-After": "later, maybe"}), now) is None
    assert parse_retry_after(httpx.Headers({"Retry-After": "-4"}), now) is None
    assert parse_retry_after(httpx.Headers(), now) is None


async def test_the_shared_client_speaks_http1_only() -> None:
    """Parallel calls get parallel connections (see make_http_client on HTTP/2)."""
    async with make_http_client() as http:
        pool = http._transport._pool  # type: ignore[attr-defined]
        assert pool._http2 is False and pool._http1 is True
