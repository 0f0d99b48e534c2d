"""The fake server is test infrastructure: if it lies, every provider test lies with it."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
from fake_openai import FakeOpenAI, RecordedRequest, Reply


def _post(fake: FakeOpenAI, model: str, **extra: Any) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi there"}], **extra}
    return httpx.post(f"{fake.base_url}/chat/completions", json=body, timeout=5)


def _content(response: httpx.Response) -> str:
    content = response.json()["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    return content


def test_queue_takes_replies_in_order_and_repeats_the_last(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("m", Reply(content="one"), Reply(content="two"))
    assert [_content(_post(fake_openai, "m")) for _ in range(3)] == ["one", "two", "two"]
    assert len(fake_openai.requests_for("m")) == 3
    assert fake_openai.requests_for("other") == []


def test_callable_script_sees_the_request(fake_openai: FakeOpenAI) -> None:
    def shout(request: RecordedRequest) -> Reply:
        return Reply(content=request.prompt_text.upper())

    fake_openai.script("m", shout)
    assert _content(_post(fake_openai, "m")) == "HI THERE"


def test_answer_dumps_dict_and_reports_usage(fake_openai: FakeOpenAI) -> None:
    fake_openai.answer("m", {"findings": []})
    data = _post(fake_openai, "m").json()
    assert json.loads(data["choices"][0]["message"]["content"]) == {"findings": []}
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["usage"]["prompt_tokens"] == len("hi there") // 4
    assert "cost" not in data["usage"]


def test_unscripted_model_is_404_with_openai_error(fake_openai: FakeOpenAI) -> None:
    response = _post(fake_openai, "nope")
    assert response.status_code == 404
    assert response.json() == {"error": {"message": "model 'nope' not found", "code": 404}}


def test_raw_body_and_headers(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("m", Reply(status=503, body="<html>oops</html>", headers={"X-A": "b"}))
    response = _post(fake_openai, "m")
    assert (response.status_code, response.text, response.headers["x-a"]) == (
        503,
        "<html>oops</html>",
        "b",
    )


def test_models_endpoint_lists_scripted_models(fake_openai: FakeOpenAI) -> None:
    fake_openai.answer("b", "x")
    fake_openai.answer("a", "y")
    data = httpx.get(f"{fake_openai.base_url}/models", timeout=5).json()
    assert [m["id"] for m in data["data"]] == ["a", "b"]


def test_stream_follows_openai_sse_format(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("m", Reply(content="streamed text here", usage={"prompt_tokens": 7}))
    response = _post(fake_openai, "m", stream=True, stream_options={"include_usage": True})
    assert response.headers["content-type"] == "text/event-stream"
    events = [line[len("data: ") :] for line in response.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "streamed text here"
    assert len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) > 1
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1] == {**chunks[-1], "choices": [], "usage": {"prompt_tokens": 7}}


def test_stop_is_prompt_while_a_reply_sleeps() -> None:
    fake = FakeOpenAI().start()
    fake.script("m", Reply(content="late", delay_s=30))
    errors: list[Exception] = []

    def call() -> None:
        try:
            _post(fake, "m")
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    fake.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 2
    assert not thread.is_alive()
    assert errors  # the client saw the connection close instead of an answer
