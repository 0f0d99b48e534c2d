"""The default setup against providers as they document themselves (tests/provider_profiles.py).

Every test before these talked to a fake that accepts whatever it is sent. Here the fake plays
OpenRouter, OpenAI's own API or a llama.cpp server by their documented rules, and the CLI (a
subprocess, as a user runs it) and the client must still get a fused, non-degraded review.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_workspace import KEY, ROOT, Run, Workspace
from fake_openai import FakeOpenAI, RecordedRequest, Reply
from lsp_client import command, lines, open_document, server_env, start, until
from lsprotocol import types
from provider_profiles import (
    NO_ENDPOINTS_MESSAGE,
    CatalogModel,
    LlamaCppProfile,
    OpenAIProfile,
    OpenRouterProfile,
    Profile,
    thinking,
)
from pytest_lsp import LanguageClient
from reviewers import DIV, DIV_B, SAMPLE, SQLI, merging_judge, review

from fusion_ls.config.settings import FusionSettings, ProviderSettings
from fusion_ls.errors import ProviderError
from fusion_ls.reviewers.catalog import Catalog, Catalogs
from fusion_ls.reviewers.chat import ChatMessage, ChatRequest, ResponseSchema
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.model_rules import Budget, family_of, parameters
from fusion_ls.reviewers.openai_compat import Provider

DEFAULTS = FusionSettings()
POOL = [ref.model for ref in DEFAULTS.pool]
CLAUDE, GEMINI, GPT4O = POOL
JUDGE = DEFAULTS.judge.model
SCHEMA = ResponseSchema("review", {"type": "object"})


def judging(reasoning_tokens: int) -> Callable[[RecordedRequest], Reply]:
    """A judge that thinks first, then merges what the reviewers said."""

    def answer(request: RecordedRequest) -> Reply:
        merged = merging_judge(request).content or ""
        return thinking(merged, reasoning_tokens)(request)

    return answer


def workspace_for(tmp_path: Path, fake: FakeOpenAI, provider: str, fusion: str = "") -> Workspace:
    """A project with sample.py; the user config points the default provider at `fake`."""
    shutil.copy(SAMPLE, tmp_path / "sample.py")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "OPENROUTER_API_KEY": KEY,
        "PYTHONPATH": str(ROOT),  # the fusion_ls beside these tests, wherever it is installed
    }
    space = Workspace(tmp_path, env)
    space.user_config(
        f'[providers.openrouter]\nbase_url = "{fake.base_url}"\napi_key_env = "OPENROUTER_API_KEY"'
        f"\nmax_retries = 0\n{provider}\n\n[fusion]\n{fusion}\n"
    )
    return space


@pytest.fixture
def openrouter() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(profile=OpenRouterProfile()) as fake:
        yield fake


def reviewed(run: Run) -> dict[str, Any]:
    assert run.code in (0, 1), run.err
    data: dict[str, Any] = json.loads(run.out)
    return data


# --- the default configuration against OpenRouter --------------------------------------------


def test_the_default_pool_and_judge_fuse_on_openrouter(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    openrouter.script(CLAUDE, Reply(content=review(DIV, SQLI)))
    openrouter.script(GEMINI, thinking(review(SQLI), reasoning_tokens=1200))
    openrouter.script(GPT4O, Reply(content=review(DIV_B)))
    openrouter.script(JUDGE, judging(reasoning_tokens=900))
    space = workspace_for(tmp_path, openrouter, 'kind = "openrouter"')

    data = reviewed(space.run("review", "sample.py", "--format", "json"))

    assert data["degraded"] is False, data["degraded_reason"]
    assert [m["status"] for m in data["models"]] == ["ok", "ok", "ok"]
    assert data["judge"]["status"] == "ok"
    assert len(data["findings"]) >= 2
    (judged,) = openrouter.requests_for(JUDGE)
    # gpt-5-mini lists no temperature: none is sent, so require_parameters finds an endpoint.
    assert "temperature" not in judged.body
    assert judged.body["reasoning"] == {"effort": "low", "exclude": True}
    assert judged.body["provider"] == {"require_parameters": True}
    (claude,) = openrouter.requests_for(CLAUDE)
    assert claude.body["temperature"] == DEFAULTS.temperature
    assert claude.body["max_tokens"] == DEFAULTS.max_tokens
    # Every model's cost is counted: OpenRouter reports it on every response.
    assert data["usage"]["cost_usd"] > 0
    assert [r.method for r in openrouter.lookups] == ["GET"]  # the model list, once


def test_without_the_model_list_the_built_in_rules_still_fit(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    """OpenRouter's list unreachable (a proxy that blocks it): the table decides alone."""
    openrouter.profile = NoList(OpenRouterProfile())
    openrouter.script(CLAUDE, Reply(content=review(DIV)))
    openrouter.script(GEMINI, thinking(review(SQLI), reasoning_tokens=1200))
    openrouter.script(GPT4O, Reply(content=review(DIV_B)))
    openrouter.script(JUDGE, judging(reasoning_tokens=900))
    space = workspace_for(tmp_path, openrouter, 'kind = "openrouter"')

    run = space.run("review", "sample.py", "--format", "json")
    data = reviewed(run)

    assert data["judge"]["status"] == "ok" and data["degraded"] is False
    assert "model list" in run.err and "built-in request rules" in run.err
    assert "temperature" not in openrouter.requests_for(JUDGE)[0].body


class NoList:
    """A profile whose model list answers 404, otherwise the wrapped profile's rules."""

    def __init__(self, inner: Profile) -> None:
        self._inner = inner
        self.name = inner.name

    def refuse(self, request: RecordedRequest) -> Reply | None:
        return self._inner.refuse(request)

    def finish(self, request: RecordedRequest, reply: Reply) -> Reply:
        return self._inner.finish(request, reply)

    def models(self) -> dict[str, Any] | None:
        return None


def test_a_model_without_structured_output_falls_back_once(tmp_path: Path) -> None:
    """deepseek-r1 lists no structured_outputs: offline, the schema is tried, OpenRouter's
    require_parameters 404 names what was sent, and the schema is dropped for that model."""
    r1 = "deepseek/deepseek-r1"
    with FakeOpenAI(profile=NoList(OpenRouterProfile())) as fake:
        fake.script(r1, thinking(review(DIV), reasoning_tokens=500))
        fake.script(JUDGE, judging(reasoning_tokens=300))
        space = workspace_for(tmp_path, fake, 'kind = "openrouter"', f'pool = ["{r1}"]')

        first = space.run("review", "sample.py", "--format", "json", "--no-cache")
        data = reviewed(first)

        assert data["models"][0]["status"] == "ok"
        refused, accepted = fake.requests_for(r1)
        assert "response_format" in refused.body and "provider" in refused.body
        assert "response_format" not in accepted.body and "provider" not in accepted.body


# --- OpenAI's own API ------------------------------------------------------------------------


def test_gpt5_and_o_series_work_on_openais_api(tmp_path: Path) -> None:
    with FakeOpenAI(profile=OpenAIProfile()) as fake:
        for model, found in (("gpt-5", DIV), ("o3", SQLI), ("gpt-4o", DIV_B)):
            fake.script(model, thinking(review(found), reasoning_tokens=700))
        fake.script("gpt-5-mini", judging(reasoning_tokens=400))
        space = workspace_for(
            tmp_path,
            fake,
            'kind = "openai"',
            'pool = ["gpt-5", "o3", "gpt-4o"]\njudge = "gpt-5-mini"',
        )

        data = reviewed(space.run("review", "sample.py", "--format", "json"))

        assert [m["status"] for m in data["models"]] == ["ok", "ok", "ok"]
        assert data["judge"]["status"] == "ok" and not data["degraded"]
        for model in ("gpt-5", "o3", "gpt-5-mini"):
            (sent,) = fake.requests_for(model)
            assert "max_tokens" not in sent.body and "temperature" not in sent.body
            assert sent.body["max_completion_tokens"] == 8000
            assert sent.body["reasoning_effort"] == "low"
        (chat,) = fake.requests_for("gpt-4o")
        assert chat.body["temperature"] == 0.2 and "reasoning_effort" not in chat.body


async def test_a_refused_parameter_is_dropped_once_and_remembered() -> None:
    """An endpoint the rules misjudge (o3 behind a generic kind): OpenAI's 400 on max_tokens
    turns into max_completion_tokens, and the next request starts with it."""
    with FakeOpenAI(profile=OpenAIProfile()) as fake:
        fake.script("o3", Reply(content='{"findings": []}'))
        async with make_http_client() as http:
            conf = ProviderSettings(base_url=fake.base_url, kind="compatible")
            provider = Provider("local", conf, http)
            await provider.chat(chat_request("o3"), 5)
            await provider.chat(chat_request("o3"), 5)
        refused, retried, later = fake.requests_for("o3")
        assert "max_tokens" in refused.body
        assert "max_tokens" not in retried.body and retried.body["max_completion_tokens"] > 0
        assert later.body == retried.body


# --- local servers ---------------------------------------------------------------------------


def test_llama_cpp_with_structured_output_falls_back_once(tmp_path: Path) -> None:
    with FakeOpenAI(profile=LlamaCppProfile()) as fake:
        for model, found in (("alpha", DIV), ("beta", SQLI), ("gamma", DIV_B)):
            fake.script(model, Reply(content=review(found)))
        fake.script("judge", merging_judge)
        space = workspace_for(
            tmp_path,
            fake,
            "structured_output = true",
            'pool = ["alpha", "beta", "gamma"]\njudge = "judge"',
        )

        data = reviewed(space.run("review", "sample.py", "--format", "json"))

        assert [m["status"] for m in data["models"]] == ["ok", "ok", "ok"]
        assert data["judge"]["status"] == "ok"
        # The pool's three calls went out together and each was refused once; the judge,
        # asked after the refusal was remembered, was sent no schema at all.
        for model in ("alpha", "beta", "gamma"):
            refused, accepted = fake.requests_for(model)
            assert "response_format" in refused.body
            assert "response_format" not in accepted.body
        (judged,) = fake.requests_for("judge")
        assert "response_format" not in judged.body


# --- thinking models out of tokens -----------------------------------------------------------


def test_a_truncated_thinker_is_reported_without_a_repair_and_its_usage_counts(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    openrouter.script(CLAUDE, Reply(content=review(DIV)))
    # Effort "low" leaves Gemini 80% of its limit (OpenRouter's reasoning docs); with a
    # limit of 64 tokens that is still too little for a two-finding answer.
    openrouter.script(GEMINI, thinking(review(DIV, SQLI), reasoning_tokens=5000))
    openrouter.script(GPT4O, Reply(content=review(DIV)))
    openrouter.script(JUDGE, judging(reasoning_tokens=10))
    space = workspace_for(
        tmp_path, openrouter, 'kind = "openrouter"', "max_tokens = 64\nreasoning_tokens = 0"
    )

    data = reviewed(space.run("review", "sample.py", "--format", "json"))

    gemini = next(m for m in data["models"] if m["model"] == GEMINI)
    assert gemini["status"] == "truncated"
    assert "cut off at the token limit" in gemini["error"]
    assert "fusion.max_tokens" in gemini["error"] and "reasoning" in gemini["error"]
    assert len(openrouter.requests_for(GEMINI)) == 1  # no repair call
    assert gemini["usage"]["completion_tokens"] > 0 and gemini["usage"]["cost_usd"] > 0
    total = sum(m["usage"]["cost_usd"] or 0 for m in data["models"])
    assert data["usage"]["cost_usd"] >= total


# --- config check ----------------------------------------------------------------------------


def test_config_check_flags_an_unknown_model_with_a_suggestion(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    space = workspace_for(
        tmp_path, openrouter, 'kind = "openrouter"', f'pool = ["openai/gpt4o", "{CLAUDE}"]'
    )

    run = space.run("config", "check")

    assert run.code == 2
    assert "pool openai/gpt4o: not in the model list of provider openrouter; did you mean " in (
        run.out
    )
    assert "'openai/gpt-4o'?" in run.err
    assert f"pool {CLAUDE}: listed (" in run.out and "per million tokens" in run.out
    assert f"judge {JUDGE}: listed" in run.out and "takes no temperature" in run.out


def test_a_malformed_id_is_refused_at_load_with_the_stored_lists_suggestion(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    """Once `config check` has kept the list on disk, "did you mean" names a listed model
    (without it, the shape repaired: 'anthropic/claude-sonnet')."""
    space = workspace_for(tmp_path, openrouter, 'kind = "openrouter"')
    assert space.run("config", "check").code == 0  # fetches and keeps the list
    (tmp_path / ".fusion.toml").write_text('[fusion]\npool = ["claude sonnet"]\n')

    run = space.run("review", "sample.py")

    assert run.code == 2
    assert f"{tmp_path / '.fusion.toml'}:2: fusion.pool[0]: 'claude sonnet' is not" in run.err
    assert f"did you mean '{CLAUDE}'?" in run.err
    assert [r for r in openrouter.requests if r.method == "POST"] == []


def test_a_review_with_an_unknown_model_fails_that_model_before_sending(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    openrouter.script(CLAUDE, Reply(content=review(DIV)))
    space = workspace_for(
        tmp_path,
        openrouter,
        'kind = "openrouter"',
        f'pool = ["anthropic/claude-sonet", "{CLAUDE}"]',
    )

    data = reviewed(space.run("review", "sample.py", "--format", "json"))

    typo = data["models"][0]
    assert typo["status"] == "error" and "did you mean" in typo["error"]
    assert openrouter.requests_for("anthropic/claude-sonet") == []


# --- the size of what comes back -------------------------------------------------------------

FIFTY_MB = 50 * 1024 * 1024


def test_a_50_mb_body_fails_one_model_and_memory_stays_flat(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.script("alpha", Reply(content=review(DIV)))
        fake.script("beta", Reply(body=b'{"choices": "' + b"x" * FIFTY_MB + b'"}'))
        fake.script("gamma", Reply(sse=["data: " + "y" * FIFTY_MB]))  # chunked, no length
        fake.script("judge", merging_judge)
        space = workspace_for(
            tmp_path,
            fake,
            'kind = "compatible"',
            'pool = ["alpha", "beta", "gamma"]\njudge = "judge"',
        )

        process = subprocess.Popen(
            [sys.executable, "-m", "fusion_ls", "review", "sample.py", "--format", "json"],
            cwd=space.root,
            env=space.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        assert process.stdout is not None
        peak_mb = 0.0
        while process.poll() is None:
            peak_mb = max(peak_mb, high_water_mb(process.pid))
            time.sleep(0.01)
        out = process.stdout.read()

    data = json.loads(out)
    runs = {m["model"]: m for m in data["models"]}
    assert runs["alpha"]["status"] == "ok"
    for model in ("beta", "gamma"):
        assert runs[model]["status"] == "error"
        assert "larger than 4 MB" in runs[model]["error"]
        assert "limits.max_response_mb" in runs[model]["error"]
    assert 10 < peak_mb < 150, f"peak RSS {peak_mb:.0f} MB"


def high_water_mb(pid: int) -> float:
    """The process's peak resident memory since its exec (VmHWM). Not ru_maxrss: a child's
    counts the parent's memory it shared before exec, here the fake's two 50 MB bodies."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) / 1024


# --- the rules table and the model list ------------------------------------------------------


def chat_request(model: str, schema: ResponseSchema | None = None) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=(ChatMessage("user", "Review x = 1"),),
        max_tokens=2000,
        temperature=0.2,
        schema=schema,
        reasoning_tokens=6000,
    )


BUDGET = Budget(answer_tokens=2000, reasoning_tokens=6000, temperature=0.2)


@pytest.mark.parametrize(
    ("kind", "model", "expected"),
    [
        ("openrouter", "openai/gpt-5-mini", {"max_tokens": 8000, "reasoning": ...}),
        ("openrouter", "anthropic/claude-sonnet-4.5", {"max_tokens": 2000, "temperature": 0.2}),
        ("openrouter", "google/gemini-2.5-pro", {"max_tokens": 8000, "temperature": 0.2}),
        ("openai", "o4-mini", {"max_completion_tokens": 8000, "reasoning_effort": "low"}),
        ("openai", "gpt-5-chat-latest", {"max_completion_tokens": 2000, "temperature": 0.2}),
        ("openai", "gpt-4o", {"max_completion_tokens": 2000, "temperature": 0.2}),
        ("compatible", "qwen3:14b", {"max_tokens": 8000, "temperature": 0.2}),
        ("compatible", "deepseek-r1:8b", {"max_tokens": 8000}),
        ("compatible", "llama3.1:8b", {"max_tokens": 2000, "temperature": 0.2}),
    ],
)
def test_the_rules_table(kind: Any, model: str, expected: dict[str, Any]) -> None:
    sent = parameters(kind, model, BUDGET)
    if "reasoning" in expected:
        assert sent.pop("reasoning") == {"effort": "low", "exclude": True}
        expected = {k: v for k, v in expected.items() if k != "reasoning"}
    elif kind == "openrouter" and family_of(model).thinks:
        sent.pop("reasoning")
    assert sent == expected


def test_the_model_list_decides_over_the_table() -> None:
    """A model the table does not know: its list entry says it reasons and takes no
    temperature, so it is treated as a thinker, and its listed output cap holds."""
    entry = CatalogModel("openai/o9", ("max_tokens", "reasoning"), max_completion_tokens=5000)
    info = Catalog.parse({"data": [entry.entry()]}).get("openai/o9")
    assert family_of("openai/o9").name == "openai-o-series"  # o\d: the table knows this one
    other = CatalogModel("newlab/thinker", ("max_tokens", "reasoning"))
    unknown = Catalog.parse({"data": [other.entry()]}).get("newlab/thinker")

    assert parameters("openrouter", "openai/o9", BUDGET, info) == {
        "max_tokens": 5000,
        "reasoning": {"effort": "low", "exclude": True},
    }
    assert "temperature" not in parameters("openrouter", "newlab/thinker", BUDGET, unknown)
    assert parameters("openrouter", "newlab/thinker", BUDGET, unknown)["max_tokens"] == 8000


def test_suggestions_for_mistyped_ids() -> None:
    catalog = Catalog.parse({"data": [m.entry() for m in OpenRouterProfile().catalog.values()]})
    assert catalog.suggest("gpt4o") == "openai/gpt-4o"
    assert catalog.suggest("claude sonnet 4.5") == "anthropic/claude-sonnet-4.5"
    assert catalog.suggest("gemini-2.5-por") == "google/gemini-2.5-pro"
    assert catalog.suggest("completely-different") is None


async def test_the_model_list_is_kept_on_disk_for_a_day(
    tmp_path: Path, openrouter: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    conf = ProviderSettings(base_url=openrouter.base_url, kind="openrouter")
    async with make_http_client() as http:
        first = await Catalogs(http, tmp_path).get(conf)
        again = await Catalogs(http, tmp_path).get(conf)  # a new process, same day
    assert first is not None and again is not None
    assert first.models.keys() == again.models.keys()
    assert len(openrouter.lookups) == 1
    assert "authorization" not in openrouter.lookups[0].headers  # the list is public

    openrouter.profile = NoList(OpenRouterProfile())
    async with make_http_client() as http:
        catalogs = Catalogs(http, tmp_path / "elsewhere")
        assert await catalogs.get(conf) is None
        assert await catalogs.get(conf) is None
    said = [r.getMessage() for r in caplog.records if "model list" in r.getMessage()]
    assert len(said) == 1 and "built-in request rules" in said[0]  # said once


async def test_cost_is_priced_from_the_list_when_the_provider_reports_none() -> None:
    with FakeOpenAI(profile=WithoutCost(OpenRouterProfile())) as fake:
        fake.script(
            CLAUDE, Reply(content="{}", usage={"prompt_tokens": 1000, "completion_tokens": 100})
        )
        async with make_http_client() as http:
            conf = ProviderSettings(base_url=fake.base_url, kind="openrouter")
            catalogs = Catalogs(http)
            provider = Provider("openrouter", conf, http, catalogs=catalogs)
            result = await provider.chat(chat_request(CLAUDE), 5)
            info = await provider.model_info(CLAUDE)
    assert info is not None and info.prompt_usd is not None and info.completion_usd is not None
    expected = 1000 * info.prompt_usd + 100 * info.completion_usd
    assert result.usage.cost_usd == pytest.approx(expected)


class WithoutCost(NoList):
    """OpenRouter's rules and model list, but responses carry no cost (a proxy strips it)."""

    def finish(self, request: RecordedRequest, reply: Reply) -> Reply:
        return reply

    def models(self) -> dict[str, Any] | None:
        return OpenRouterProfile().models()


async def test_the_no_endpoint_404_names_the_parameters() -> None:
    """OpenRouter's 404 when require_parameters leaves no endpoint: the schema is dropped once;
    when that does not help either, the reason lists what was sent, not "model not found"."""
    with FakeOpenAI() as fake:
        fake.script("lab/plain", Reply(status=404, error=NO_ENDPOINTS_MESSAGE))
        async with make_http_client() as http:
            conf = ProviderSettings(base_url=fake.base_url, kind="openrouter", max_retries=0)
            provider = Provider("openrouter", conf, http)
            with pytest.raises(ProviderError) as failure:
                await provider.chat(chat_request("lab/plain", SCHEMA), 5)
    first, second = fake.requests
    assert "response_format" in first.body and "response_format" not in second.body
    reason = failure.value.reason
    assert "no endpoint for 'lab/plain' that takes every parameter sent" in reason
    assert "temperature" in reason and "max_tokens" in reason
    assert "not found" not in reason


async def test_response_bodies_over_the_cap_fail_with_the_setting_named() -> None:
    with FakeOpenAI() as fake:
        fake.script("m", Reply(content="z" * 2_000_000))
        async with make_http_client() as http:
            conf = ProviderSettings(base_url=fake.base_url, kind="compatible")
            provider = Provider("local", conf, http, max_response_bytes=1_000_000)
            with pytest.raises(ProviderError) as failure:
                await provider.chat(chat_request("m"), 5)
    assert "larger than 1 MB" in failure.value.reason
    assert "limits.max_response_mb" in failure.value.reason


# --- the language server ---------------------------------------------------------------------


async def start_on_openrouter(tmp_path: Path, fake: FakeOpenAI, fusion: str = "") -> LanguageClient:
    """The server, with a user config pointing the default provider (kind openrouter) at `fake`."""
    config = tmp_path / "xdg" / "fusion-ls" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[providers.openrouter]\nbase_url = "{fake.base_url}"\nkind = "openrouter"\n\n'
        f"[fusion]\n{fusion}\n"
    )
    return await start(tmp_path, server_env(tmp_path / "xdg", KEY), "visual-studio-code")


async def test_the_server_warms_up_then_fuses_the_default_setup_on_openrouter(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    openrouter.script(CLAUDE, Reply(content=review(DIV, SQLI)))
    openrouter.script(GEMINI, thinking(review(SQLI), reasoning_tokens=1200))
    openrouter.script(GPT4O, Reply(content=review(DIV_B)))
    openrouter.script(JUDGE, judging(reasoning_tokens=900))
    lsp = await start_on_openrouter(tmp_path, openrouter)
    try:
        # After `initialize`, before any review: one connection per model and the list.
        await until(lambda: len(openrouter.lookups) == 5)
        assert sorted(r.method for r in openrouter.lookups) == ["GET", *["HEAD"] * 4]
        assert all("authorization" not in r.headers for r in openrouter.lookups)
        uri = open_document(lsp, tmp_path / "svc.py", SAMPLE.read_text())

        result = await command(lsp, "fusion.review", uri, lines(1, 10))

        assert result["status"] == "ok" and result["degraded"] is False
        assert [m["status"] for m in result["models"]] == ["ok", "ok", "ok"]
        assert len(openrouter.requests_for(JUDGE)) == 1 and result["findings"] >= 2
        assert len(openrouter.lookups) == 5  # the list was not fetched again
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


def test_a_review_that_could_pass_the_daily_limit_is_refused_before_sending(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    """Spend is $4.95 of $5: this review's most (whole token limits at the listed prices,
    about $0.15 for the default pool and judge) would pass the limit."""
    space = workspace_for(tmp_path, openrouter, 'kind = "openrouter"')
    ledger = tmp_path / "state" / "fusion-ls" / "spend.json"
    ledger.parent.mkdir(parents=True)
    ledger.write_text(json.dumps({datetime.date.today().isoformat(): 4.95}))

    run = space.run("review", "sample.py")

    assert run.code == 2
    assert "this review could cost up to $0." in run.err and "max_cost_usd" in run.err
    assert openrouter.requests == []


async def test_the_server_suggests_a_listed_model_for_a_malformed_id(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    """As the CLI does: once the list is on disk (the server fetched it at start-up), a
    malformed id in `.fusion.toml` is an error on its line that names the closest listed id."""
    lsp = await start_on_openrouter(tmp_path, openrouter)
    try:
        await until(lambda: any(r.method == "GET" for r in openrouter.lookups))
        project = tmp_path / ".fusion.toml"
        project.write_text('[fusion]\npool = ["claude sonnet"]\n')
        uri = open_document(lsp, tmp_path / "svc.py", SAMPLE.read_text())

        await command(lsp, "fusion.review", uri, lines(1, 10))

        await until(lambda: bool(lsp.diagnostics.get(project.as_uri())))
        [problem] = lsp.diagnostics[project.as_uri()]
        assert problem.range.start.line == 1 and "fusion.pool[0]" in problem.message
        assert f"did you mean '{CLAUDE}'?" in problem.message
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


async def test_the_server_warns_once_of_an_unknown_model_id(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    lsp = await start_on_openrouter(tmp_path, openrouter, f'pool = ["openai/gpt4o", "{CLAUDE}"]')
    try:
        await until(lambda: any("gpt4o" in m.message for m in lsp.messages))
        (warning,) = [m for m in lsp.messages if "gpt4o" in m.message]
        assert "did you mean 'openai/gpt-4o'?" in warning.message
        assert warning.type == types.MessageType.Warning
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


async def test_openrouter_streams_with_processing_comments_and_errors_in_200_bodies() -> None:
    """Streams open with `: OPENROUTER PROCESSING` comments; an upstream failure after the
    status was sent arrives as an error on the choice of a 200 body (OpenRouter's
    errors-and-debugging page)."""
    upstream_error = {
        "id": "gen-1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ""},
                "finish_reason": "error",
                "error": {"code": 502, "message": "upstream model crashed"},
            }
        ],
    }
    with FakeOpenAI(profile=OpenRouterProfile()) as fake:
        fake.script(CLAUDE, Reply(content='{"findings": []}'))
        fake.script(GPT4O, Reply(body=json.dumps(upstream_error)))
        async with make_http_client() as http:
            streaming = ProviderSettings(base_url=fake.base_url, kind="openrouter", stream=True)
            result = await Provider("openrouter", streaming, http).chat(chat_request(CLAUDE), 5)
            plain = ProviderSettings(base_url=fake.base_url, kind="openrouter", max_retries=0)
            with pytest.raises(ProviderError) as failure:
                await Provider("openrouter", plain, http).chat(chat_request(GPT4O), 5)
    assert result.text == '{"findings": []}' and result.usage.cost_usd
    assert "upstream model crashed" in failure.value.reason
    assert failure.value.retryable and failure.value.http_status == 502


async def test_a_model_missing_from_yesterdays_list_is_looked_up_again(tmp_path: Path) -> None:
    """A model released after the list was stored is not called unknown: the list is
    fetched again, once per process."""
    old = [m for m in OpenRouterProfile().catalog.values() if m.id != "openai/o3"]
    with FakeOpenAI(profile=OpenRouterProfile(catalog=old)) as fake:
        conf = ProviderSettings(base_url=fake.base_url, kind="openrouter")
        async with make_http_client() as http:
            stored = await Catalogs(http, tmp_path).get(conf)
            assert stored is not None and stored.get("openai/o3") is None
            fake.profile = OpenRouterProfile()  # o3 is released
            catalogs = Catalogs(http, tmp_path)  # a later process reads the stored copy
            _, info = await catalogs.lookup(conf, "openai/o3")
            _, typo = await catalogs.lookup(conf, "openai/o33")
    assert info is not None and typo is None
    assert len(fake.lookups) == 2  # stored once, fetched again once, not for the typo


async def test_the_server_reports_a_truncated_thinker(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    openrouter.script(CLAUDE, Reply(content=review(DIV)))
    openrouter.script(GEMINI, thinking(review(DIV, SQLI), reasoning_tokens=5000))
    openrouter.script(GPT4O, Reply(content=review(DIV)))
    openrouter.script(JUDGE, judging(reasoning_tokens=10))
    lsp = await start_on_openrouter(tmp_path, openrouter, "max_tokens = 64\nreasoning_tokens = 0")
    try:
        uri = open_document(lsp, tmp_path / "svc.py", SAMPLE.read_text())
        result = await command(lsp, "fusion.review", uri, lines(1, 10))
        states = {m["model"]: m["status"] for m in result["models"]}
        assert states == {CLAUDE: "ok", GEMINI: "truncated", GPT4O: "ok"}
        assert len(openrouter.requests_for(GEMINI)) == 1
        assert result["usage"]["cost_usd"] > 0
    finally:
        await lsp.shutdown_session()
        await lsp.stop()


async def test_an_invalid_utf8_byte_does_not_lose_the_answer() -> None:
    body = json.dumps(
        {"choices": [{"message": {"content": "caf\u00e9 BYTE"}, "finish_reason": "stop"}]}
    ).encode()
    with FakeOpenAI() as fake:
        fake.script("m", Reply(body=body.replace(b"BYTE", b"\xff\xfe")))
        async with make_http_client() as http:
            conf = ProviderSettings(base_url=fake.base_url, kind="compatible")
            result = await Provider("local", conf, http).chat(chat_request("m"), 5)
    assert result.text == "caf\u00e9 \ufffd\ufffd"


async def test_a_rate_limit_slows_every_call_to_that_provider() -> None:
    """A 429 with Retry-After is the account's: a call that starts while another waits out the
    limit waits too, instead of meeting the limit itself."""
    with FakeOpenAI() as fake:
        fake.script(
            "first",
            Reply(status=429, error="slow down", headers={"Retry-After": "0.6"}),
            Reply(content="{}"),
        )
        fake.script("second", Reply(content="{}"))
        async with make_http_client() as http:
            conf = ProviderSettings(base_url=fake.base_url, kind="compatible", max_retries=1)
            provider = Provider("local", conf, http)
            first = asyncio.ensure_future(provider.chat(chat_request("first"), 5))
            while not fake.requests_for("first"):
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # the 429 has arrived; the cooldown is on
            await provider.chat(chat_request("second"), 5)
            await first
    limited = fake.requests_for("first")[0].received_at
    (second,) = fake.requests_for("second")
    assert second.received_at - limited >= 0.5


async def test_dry_run_prices_from_the_stored_model_list_and_sends_nothing(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    space = workspace_for(tmp_path, openrouter, 'kind = "openrouter"')
    conf = ProviderSettings(base_url=openrouter.base_url, kind="openrouter")
    async with make_http_client() as http:  # an earlier run kept the list on disk
        assert await Catalogs(http, tmp_path / "cache" / "fusion-ls").get(conf) is not None
    kept = len(openrouter.lookups)

    run = await asyncio.to_thread(space.run, "review", "sample.py", "--dry-run")

    assert run.code == 0, run.err
    assert "up to $" in run.out and "at the providers' listed prices" in run.out
    assert openrouter.requests == [] and len(openrouter.lookups) == kept


async def test_dry_run_without_a_stored_list_says_how_to_get_a_price_and_that_works(
    tmp_path: Path, openrouter: FakeOpenAI
) -> None:
    space = workspace_for(tmp_path, openrouter, 'kind = "openrouter"')

    unknown = await asyncio.to_thread(space.run, "review", "sample.py", "--dry-run")
    await asyncio.to_thread(space.run, "config", "check")  # what the message says to run
    priced = await asyncio.to_thread(space.run, "review", "sample.py", "--dry-run")

    assert "cost unknown" in unknown.out and "`fusion-ls config check` fetches them" in unknown.out
    assert "up to $" in priced.out
    assert openrouter.requests == []
