"""Provider profiles: each documented rule, shown through the fake with plain httpx.

The rules and their sources are in tests/provider_profiles.py; these tests pin what the fake
answers, so the client's tests can rely on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fake_openai import FakeOpenAI, RecordedRequest, Reply
from provider_profiles import (
    DEFAULT_CATALOG,
    NO_ENDPOINTS_MESSAGE,
    OPENROUTER_PROCESSING,
    CatalogModel,
    LlamaCppProfile,
    OpenAIProfile,
    OpenRouterProfile,
    thinking,
)

SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "review", "strict": True, "schema": {"type": "object"}},
}
HELLO = [{"role": "user", "content": "review this code please"}]  # 23 characters: 5 tokens


def _post(fake: FakeOpenAI, model: str, **extra: Any) -> httpx.Response:
    body = {"model": model, "messages": HELLO, **extra}
    return httpx.post(f"{fake.base_url}/chat/completions", json=body, timeout=5)


def _events(response: httpx.Response) -> list[str]:
    return [e for e in response.text.split("\n\n") if e]


def _chunks(events: list[str]) -> list[dict[str, Any]]:
    return [json.loads(e[len("data: ") :]) for e in events if e.startswith("data: {")]


@pytest.fixture(scope="module")
def _openrouter_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(profile=OpenRouterProfile()) as fake:
        yield fake


@pytest.fixture(scope="module")
def _openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(profile=OpenAIProfile()) as fake:
        yield fake


@pytest.fixture(scope="module")
def _llama_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(profile=LlamaCppProfile()) as fake:
        yield fake


@pytest.fixture
def openrouter(_openrouter_server: FakeOpenAI) -> FakeOpenAI:
    _openrouter_server.reset()
    return _openrouter_server


@pytest.fixture
def openai(_openai_server: FakeOpenAI) -> FakeOpenAI:
    _openai_server.reset()
    return _openai_server


@pytest.fixture
def llama(_llama_server: FakeOpenAI) -> FakeOpenAI:
    _llama_server.reset()
    return _llama_server


# --- the fake's hooks ----------------------------------------------------------------------------


def test_head_answers_any_path_with_an_empty_200_and_is_recorded(fake_openai: FakeOpenAI) -> None:
    response = httpx.head(f"{fake_openai.base_url}/anything/at/all", timeout=5)
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-length"] == "0"
    assert [(r.method, r.path) for r in fake_openai.lookups] == [("HEAD", "/v1/anything/at/all")]
    assert fake_openai.requests == []  # model calls only


def test_a_refusal_is_answered_and_recorded_without_consuming_the_script(
    openrouter: FakeOpenAI,
) -> None:
    openrouter.script("openai/gpt-5-mini", Reply(content="first"), Reply(content="second"))
    refused = _post(
        openrouter, "openai/gpt-5-mini", temperature=0, provider={"require_parameters": True}
    )
    assert refused.status_code == 404
    accepted = _post(openrouter, "openai/gpt-5-mini")
    assert accepted.json()["choices"][0]["message"]["content"] == "first"
    assert len(openrouter.requests_for("openai/gpt-5-mini")) == 2


def test_a_profile_without_a_model_list_answers_404() -> None:
    class Quiet(LlamaCppProfile):
        def models(self) -> None:  # type: ignore[override]
            return None

    with FakeOpenAI(profile=Quiet()) as fake:
        assert httpx.get(f"{fake.base_url}/models", timeout=5).status_code == 404


# --- OpenRouter ----------------------------------------------------------------------------------


def test_openrouter_catalog_has_the_default_pool_judge_and_reasoning_models() -> None:
    ids = {m.id for m in DEFAULT_CATALOG}
    assert {
        "anthropic/claude-sonnet-4.5",
        "google/gemini-2.5-pro",
        "openai/gpt-4o",
        "openai/gpt-5-mini",
        "openai/gpt-5",
        "openai/o3",
        "deepseek/deepseek-r1",
    } <= ids
    assert len(ids) >= 9
    params = {m.id: set(m.supported_parameters) for m in DEFAULT_CATALOG}
    for reasoner in ("openai/gpt-5-mini", "openai/gpt-5", "openai/o3"):
        assert "temperature" not in params[reasoner]
        assert {"reasoning", "include_reasoning", "structured_outputs", "max_tokens"} <= params[
            reasoner
        ]
    for chat in ("openai/gpt-4o", "anthropic/claude-sonnet-4.5", "google/gemini-2.5-pro"):
        assert "temperature" in params[chat]
    assert "reasoning" not in params["openai/gpt-4o"]
    assert not {"response_format", "structured_outputs"} & params["deepseek/deepseek-r1"]


def test_openrouter_models_body_has_openrouters_shape(openrouter: FakeOpenAI) -> None:
    body = httpx.get(f"{openrouter.base_url}/models", timeout=5).json()
    assert body["total_count"] == len(body["data"]) == len(DEFAULT_CATALOG)
    entry = next(m for m in body["data"] if m["id"] == "openai/gpt-5-mini")
    assert {"id", "name", "created", "context_length", "pricing", "supported_parameters"} <= set(
        entry
    )
    assert entry["pricing"]["prompt"] == "0.00000025"
    assert isinstance(entry["pricing"]["completion"], str)
    assert entry["top_provider"] == {
        "context_length": 400_000,
        "max_completion_tokens": 128_000,
        "is_moderated": False,
    }
    assert entry["architecture"]["output_modalities"] == ["text"]
    assert "temperature" not in entry["supported_parameters"]


def test_openrouter_unknown_model_is_400_not_a_valid_model_id(openrouter: FakeOpenAI) -> None:
    openrouter.answer("vendor/nope", "never sent")
    response = _post(openrouter, "vendor/nope")
    assert response.status_code == 400
    assert response.json() == {
        "error": {"message": "vendor/nope is not a valid model ID", "code": 400}
    }


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        ("openai/gpt-5-mini", {"temperature": 0.2}),
        ("openai/gpt-5-mini", {"top_p": 0.9}),
        ("openai/gpt-5-mini", {"stop": ["\n\n"]}),
        ("openai/gpt-4o", {"reasoning": {"effort": "low"}}),
        ("deepseek/deepseek-r1", {"response_format": SCHEMA_FORMAT}),
        ("deepseek/deepseek-r1", {"response_format": {"type": "json_object"}}),
    ],
)
def test_openrouter_require_parameters_finds_no_endpoint_for_an_unsupported_parameter(
    openrouter: FakeOpenAI, model: str, extra: dict[str, Any]
) -> None:
    openrouter.answer(model, "never sent")
    response = _post(openrouter, model, provider={"require_parameters": True}, **extra)
    assert response.status_code == 404
    assert response.json() == {"error": {"message": NO_ENDPOINTS_MESSAGE, "code": 404}}


def test_openrouter_json_schema_needs_structured_outputs_in_the_catalog() -> None:
    only_json_mode = CatalogModel("vendor/json-mode", ("max_tokens", "response_format"))
    with FakeOpenAI(profile=OpenRouterProfile([only_json_mode])) as fake:
        fake.answer("vendor/json-mode", "{}")
        require = {"provider": {"require_parameters": True}}
        assert (
            _post(fake, "vendor/json-mode", response_format=SCHEMA_FORMAT, **require).status_code
            == 404
        )
        json_mode = {"type": "json_object"}
        assert (
            _post(fake, "vendor/json-mode", response_format=json_mode, **require).status_code == 200
        )


def test_openrouter_ignores_unsupported_parameters_without_require_parameters(
    openrouter: FakeOpenAI,
) -> None:
    openrouter.answer("openai/gpt-5-mini", "ok")
    response = _post(openrouter, "openai/gpt-5-mini", temperature=0.2, top_k=5, stop=["x"])
    assert response.status_code == 200


def test_openrouter_accepts_a_well_formed_request(openrouter: FakeOpenAI) -> None:
    openrouter.answer("anthropic/claude-sonnet-4.5", {"findings": []})
    response = _post(
        openrouter,
        "anthropic/claude-sonnet-4.5",
        max_tokens=4000,
        temperature=0.2,
        response_format=SCHEMA_FORMAT,
        reasoning={"max_tokens": 2000},
        provider={"require_parameters": True},
        usage={"include": True},
    )
    assert response.status_code == 200
    openrouter.answer("openai/gpt-5-mini", {"verdict": "ok"})
    judge = _post(
        openrouter,
        "openai/gpt-5-mini",
        max_tokens=4000,
        response_format=SCHEMA_FORMAT,
        reasoning={"effort": "low"},
        provider={"require_parameters": True},
    )
    assert judge.status_code == 200


def test_openrouter_usage_always_carries_cost_from_the_catalog_prices(
    openrouter: FakeOpenAI,
) -> None:
    openrouter.answer("openai/gpt-4o", "x" * 40)  # 10 completion tokens
    usage = _post(openrouter, "openai/gpt-4o").json()["usage"]  # no usage.include: still there
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (5, 10)
    expected = 5 * Decimal("0.0000025") + 10 * Decimal("0.00001")
    assert usage["cost"] == pytest.approx(float(expected))
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 0}


def test_openrouter_bills_reasoning_tokens_as_completion(openrouter: FakeOpenAI) -> None:
    openrouter.script("openai/gpt-5-mini", thinking("y" * 40, reasoning_tokens=300))
    usage = _post(openrouter, "openai/gpt-5-mini", usage={"include": True}).json()["usage"]
    assert usage["completion_tokens"] == 310
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 300
    expected = 5 * Decimal("0.00000025") + 310 * Decimal("0.000002")
    assert usage["cost"] == pytest.approx(float(expected))


def test_openrouter_stream_opens_with_processing_comments_and_ends_with_usage(
    openrouter: FakeOpenAI,
) -> None:
    openrouter.answer("google/gemini-2.5-pro", "streamed review text")
    response = _post(openrouter, "google/gemini-2.5-pro", stream=True)  # no stream_options
    events = _events(response)
    assert events[0] == OPENROUTER_PROCESSING
    assert events[-1] == "data: [DONE]"
    chunks = _chunks(events)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "streamed review text"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["cost"] > 0


def test_openrouter_processing_comments_can_be_turned_off() -> None:
    with FakeOpenAI(profile=OpenRouterProfile(processing_comments=False)) as fake:
        fake.answer("openai/gpt-4o", "text")
        events = _events(_post(fake, "openai/gpt-4o", stream=True))
        assert all(e.startswith("data: ") for e in events)


def test_openrouter_prepends_the_comment_to_scripted_sse(openrouter: FakeOpenAI) -> None:
    openrouter.script("openai/gpt-4o", Reply(sse=['data: {"raw": true}', "data: [DONE]"]))
    events = _events(_post(openrouter, "openai/gpt-4o", stream=True))
    assert events == [OPENROUTER_PROCESSING, 'data: {"raw": true}', "data: [DONE]"]


def test_openrouter_error_in_a_200_body_passes_through(openrouter: FakeOpenAI) -> None:
    openrouter.script("openai/gpt-4o", Reply(status=200, error="upstream failed"))
    response = _post(openrouter, "openai/gpt-4o")
    assert response.status_code == 200
    assert response.json() == {"error": {"message": "upstream failed", "code": 200}}


# --- OpenAI --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["o1", "o3", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5-nano"])
def test_openai_reasoning_models_refuse_max_tokens(openai: FakeOpenAI, model: str) -> None:
    openai.answer(model, "never sent")
    response = _post(openai, model, max_tokens=100)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "type": "invalid_request_error",
            "param": "max_tokens",
            "code": "unsupported_parameter",
        }
    }


def test_openai_reasoning_models_take_only_the_default_temperature(openai: FakeOpenAI) -> None:
    openai.answer("gpt-5-mini", "ok")
    response = _post(openai, "gpt-5-mini", temperature=0.2)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "message": "Unsupported value: 'temperature' does not support 0.2 with this model. "
        "Only the default (1) value is supported.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_value",
    }
    assert (
        _post(openai, "gpt-5-mini", temperature=0)
        .json()["error"]["message"]
        .startswith("Unsupported value: 'temperature' does not support 0 with")
    )
    assert _post(openai, "gpt-5-mini", temperature=1, max_completion_tokens=500).status_code == 200


def test_openai_reasoning_effort_values_per_model(openai: FakeOpenAI) -> None:
    openai.answer("gpt-5-mini", "ok")
    openai.answer("o3", "ok")
    assert _post(openai, "gpt-5-mini", reasoning_effort="minimal").status_code == 200
    assert _post(openai, "o3", reasoning_effort="high").status_code == 200
    refused = _post(openai, "o3", reasoning_effort="minimal")
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "reasoning_effort"
    assert refused.json()["error"]["code"] == "unsupported_value"
    assert "'low', 'medium', and 'high'" in refused.json()["error"]["message"]


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-mini", "gpt-5-chat-latest"])
def test_openai_chat_models_accept_max_tokens_and_any_temperature(
    openai: FakeOpenAI, model: str
) -> None:
    openai.answer(model, "ok")
    assert _post(openai, model, max_tokens=100, temperature=0.2).status_code == 200
    assert _post(openai, model, max_completion_tokens=100, temperature=0).status_code == 200
    refused = _post(openai, model, reasoning_effort="low")
    assert refused.status_code == 400
    assert (
        refused.json()["error"]["message"]
        == "Unrecognized request argument supplied: reasoning_effort"
    )


def test_openai_rejects_openrouter_parameters(openai: FakeOpenAI) -> None:
    openai.answer("gpt-5-mini", "never sent")
    response = _post(openai, "gpt-5-mini", reasoning={"effort": "low"})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "message": "Unrecognized request argument supplied: reasoning",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    several = _post(
        openai, "gpt-5-mini", usage={"include": True}, provider={"require_parameters": True}
    )
    assert (
        several.json()["error"]["message"]
        == "Unrecognized request arguments supplied: provider, usage"
    )


def test_openai_unknown_model_is_404_model_not_found(openai: FakeOpenAI) -> None:
    openai.answer("gpt-9", "never sent")
    response = _post(openai, "gpt-9")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "The model `gpt-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }


def test_openai_accepts_a_well_formed_reasoning_request_and_reports_reasoning_tokens(
    openai: FakeOpenAI,
) -> None:
    openai.script("gpt-5-mini", thinking('{"findings": []}', reasoning_tokens=64))
    response = _post(
        openai,
        "gpt-5-mini",
        max_completion_tokens=2000,
        reasoning_effort="low",
        response_format=SCHEMA_FORMAT,
        stream=True,
        stream_options={"include_usage": True},
    )
    assert response.status_code == 200
    events = _events(response)
    assert events[0].startswith("data: ")  # no OpenRouter comments on api.openai.com
    usage = _chunks(events)[-1]["usage"]
    assert usage["completion_tokens_details"] == {"reasoning_tokens": 64}
    assert usage["completion_tokens"] == 64 + len('{"findings": []}') // 4


def test_openai_models_list(openai: FakeOpenAI) -> None:
    body = httpx.get(f"{openai.base_url}/models", timeout=5).json()
    assert body["object"] == "list"
    assert {"gpt-5-mini", "gpt-4o"} <= {m["id"] for m in body["data"]}
    assert all(m["object"] == "model" and m["owned_by"] for m in body["data"])


# --- llama.cpp -----------------------------------------------------------------------------------


def test_llama_cpp_refuses_json_schema_with_its_error_shape(llama: FakeOpenAI) -> None:
    llama.answer("whatever", "{}")
    response = _post(llama, "whatever", response_format=SCHEMA_FORMAT)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": 400,
            "message": 'response_format type must be one of "text" or "json_object", '
            "but got: json_schema",
            "type": "invalid_request_error",
        }
    }


def test_llama_cpp_old_builds_answered_500() -> None:
    with FakeOpenAI(profile=LlamaCppProfile(status=500)) as fake:
        error = _post(fake, "m", response_format=SCHEMA_FORMAT).json()["error"]
        assert (error["code"], error["type"]) == (500, "server_error")


def test_llama_cpp_accepts_everything_else(llama: FakeOpenAI) -> None:
    llama.answer("any-name", "{}")
    response = _post(
        llama,
        "any-name",
        max_tokens=100,
        temperature=0.1,
        response_format={"type": "json_object"},
        reasoning={"effort": "low"},
        stream=True,
    )
    assert response.status_code == 200
    assert _events(response)[0].startswith("data: ")
    listing = httpx.get(f"{llama.base_url}/models", timeout=5).json()
    assert [(m["id"], m["owned_by"]) for m in listing["data"]] == [("local-model", "llamacpp")]


# --- thinking ------------------------------------------------------------------------------------


def _think(body: dict[str, Any], content: str = "a" * 400, spent: int = 600) -> Reply:
    """Run thinking() on a request body (content: 100 tokens)."""
    request = RecordedRequest(
        method="POST",
        path="/v1/chat/completions",
        headers={},
        body={"model": "m", "messages": HELLO, **body},
        raw=b"",
        model="m",
        received_at=0.0,
    )
    return thinking(content, spent)(request)


def _spent(reply: Reply) -> int:
    assert reply.usage is not None
    return int(reply.usage["completion_tokens_details"]["reasoning_tokens"])


def test_thinking_without_a_limit_thinks_and_answers_in_full() -> None:
    reply = _think({})
    assert (reply.content, reply.finish_reason, _spent(reply)) == ("a" * 400, "stop", 600)
    assert reply.usage is not None
    assert reply.usage["completion_tokens"] == 700
    assert reply.usage["total_tokens"] == 705


def test_thinking_shares_the_limit_and_the_answer_is_cut() -> None:
    reply = _think({"max_completion_tokens": 650})
    assert (_spent(reply), reply.content, reply.finish_reason) == (600, "a" * 200, "length")
    assert reply.usage is not None
    assert reply.usage["completion_tokens"] == 650


def test_thinking_can_use_up_the_whole_limit() -> None:
    reply = _think({"max_tokens": 500})
    assert (_spent(reply), reply.content, reply.finish_reason) == (500, "", "length")


def test_thinking_prefers_max_completion_tokens_over_max_tokens() -> None:
    reply = _think({"max_completion_tokens": 2000, "max_tokens": 10})
    assert (reply.finish_reason, reply.content) == ("stop", "a" * 400)


def test_thinking_obeys_openrouters_reasoning_budget() -> None:
    reply = _think({"max_tokens": 650, "reasoning": {"max_tokens": 200}})
    assert (_spent(reply), reply.finish_reason, reply.content) == (200, "stop", "a" * 400)


@pytest.mark.parametrize(
    ("effort", "spent"),
    [("minimal", 100), ("low", 200), ("medium", 500), ("high", 600), ("none", 0)],
)
def test_thinking_effort_caps_at_the_documented_share(effort: str, spent: int) -> None:
    assert _spent(_think({"max_tokens": 1000, "reasoning": {"effort": effort}})) == spent
    assert _spent(_think({"max_completion_tokens": 1000, "reasoning_effort": effort})) == spent


def test_thinking_high_effort_can_starve_the_answer() -> None:
    reply = _think({"max_tokens": 1000, "reasoning": {"effort": "high"}}, spent=5000)
    assert (_spent(reply), reply.finish_reason, len(reply.content or "")) == (800, "stop", 400)
    starved = _think({"max_tokens": 400, "reasoning": {"effort": "xhigh"}}, spent=5000)
    assert (_spent(starved), starved.finish_reason, starved.content) == (380, "length", "a" * 80)


def test_thinking_switched_off_or_excluded() -> None:
    assert _spent(_think({"reasoning": {"enabled": False}})) == 0
    assert _spent(_think({"reasoning": {"exclude": True}})) == 600  # still reasons, only hidden
    assert _spent(_think({"max_tokens": 1000, "reasoning": {"enabled": True}})) == 500


def test_thinking_keeps_its_delay() -> None:
    request = RecordedRequest("POST", "/", {}, {"messages": HELLO}, b"", "m", 0.0)
    assert thinking("x", 1, delay_s=0.25)(request).delay_s == 0.25
