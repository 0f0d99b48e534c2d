"""The response cache: repeats cost no request, answers are marked cached, two writers are safe."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from cli_workspace import Workspace
from fake_openai import FakeOpenAI, Reply
from reviewers import finding, merging_judge, review, run, settings_for
from test_cli import script_pool

from fusion_ls.engine.events import ReviewFinished
from fusion_ls.findings import Usage
from fusion_ls.reviewers.cache import ResponseCache
from fusion_ls.reviewers.chat import ChatMessage, ChatRequest, ChatResult

DIV = finding(5, "return total / len(values)", "Division by zero")
SQLI = finding(9, "user_id", "SQL injection", category="security")


def request(text: str = "review this") -> ChatRequest:
    return ChatRequest(
        model="m", messages=(ChatMessage("user", text),), max_tokens=100, temperature=0.2
    )


def result(text: str) -> ChatResult:
    return ChatResult(text=text, usage=Usage(prompt_tokens=5), latency_s=1.0, finish_reason="stop")


async def test_a_stored_answer_comes_back_without_usage(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite3")
    key = cache.key("http://a/v1", False, request())

    assert await cache.get(key) is None
    await cache.put(key, result("answer"))
    hit = await cache.get(key)

    assert hit is not None and hit.text == "answer" and hit.usage == Usage()


def test_the_key_covers_everything_that_changes_the_answer() -> None:
    base = ResponseCache.key("http://a/v1", False, request())
    assert ResponseCache.key("http://b/v1", False, request()) != base
    assert ResponseCache.key("http://a/v1", True, request()) != base
    assert ResponseCache.key("http://a/v1", False, request("other")) != base
    assert ResponseCache.key("http://a/v1", False, request()) == base


async def test_least_recently_used_answers_are_evicted(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite3", max_bytes=1000)
    keys = [cache.key("e", False, request(str(n))) for n in range(5)]
    for key in keys:
        await cache.put(key, result("x" * 300))
    assert await cache.get(keys[0]) is None  # the oldest went first
    assert await cache.get(keys[-1]) is not None


def test_two_writers_at_once_are_safe(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        cache = ResponseCache(path)
        try:
            for n in range(40):
                cache._put(cache.key(name, False, request(str(n))), result(f"{name}{n}"))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    cache = ResponseCache(path)
    hits = [cache._get(cache.key(name, False, request(str(n)))) for name in "ab" for n in range(40)]
    assert all(hit is not None for hit in hits)


async def test_a_repeated_review_sends_nothing_and_says_cached(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV, SQLI)))
    fake_openai.script("beta", Reply(content=review(SQLI)))
    fake_openai.script("gamma", Reply(content=review(DIV)))
    fake_openai.script("judge", merging_judge)
    settings = settings_for(fake_openai.base_url)
    cache = ResponseCache(tmp_path / "c.sqlite3")

    first = (await run(settings, cache=cache))[-1]
    sent = len(fake_openai.requests)
    second = (await run(settings, cache=cache))[-1]

    assert isinstance(first, ReviewFinished) and isinstance(second, ReviewFinished)
    assert sent == 4 and len(fake_openai.requests) == 4  # the judge is cached too
    assert [m.cached for m in second.review.models] == [True, True, True]
    assert second.review.judge is not None and second.review.judge.cached
    assert second.review.findings == first.review.findings
    assert second.review.usage.total_tokens == 0


def test_cli_no_cache_asks_again(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    script_pool(fake_openai)
    fake_openai.script("judge", merging_judge)

    first = workspace.run("review", "sample.py", "--format", "json")
    again = workspace.run("review", "sample.py", "--format", "json")
    fresh = workspace.run("review", "sample.py", "--format", "json", "--no-cache")

    assert len(fake_openai.requests) == 8  # 4 for the first run, 0 cached, 4 with --no-cache
    assert [m["cached"] for m in json.loads(again.out)["models"]] == [True, True, True]
    assert not any(m["cached"] for m in json.loads(fresh.out)["models"])
    assert json.loads(first.out)["findings"] == json.loads(again.out)["findings"]
    assert "cached" in workspace.run("review", "sample.py").out


def test_cli_stream_prints_provisional_findings_first(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script("alpha", Reply(content=review(DIV)))
    fake_openai.script("beta", Reply(content=review(DIV), delay_s=0.3))
    fake_openai.script("gamma", Reply(content=review(SQLI), delay_s=0.6))
    fake_openai.script("judge", merging_judge)

    out = workspace.run("review", "sample.py", "--stream", "--quiet").out.splitlines()

    fused_at = out.index("fused:")
    assert out[:fused_at] == [
        "sample.py:5:5: error [bug] Division by zero (1/3 models so far)",
        "sample.py:5:5: error [bug] Division by zero (2/3 models so far)",
        # the default dial ("majority") is reached once two models answered: one of three is
        # below it, so the injection is shown as a hint, marked
        "sample.py:9:5: hint [security] SQL injection (1/3 models so far · below min_agreement)",
    ]
    assert out[fused_at + 1] == "sample.py:5:5: error [bug] Division by zero (2/3 models)"


def test_event_loop_is_not_blocked_by_the_cache(tmp_path: Path) -> None:
    """Cache I/O runs in a worker thread: a ticking task keeps ticking during a cache write."""

    async def scenario() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        cache = ResponseCache(tmp_path / "c.sqlite3")
        for n in range(20):
            await cache.put(cache.key("e", False, request(str(n))), result("x" * 1000))
        task.cancel()
        return ticks

    assert asyncio.run(scenario()) > 20
