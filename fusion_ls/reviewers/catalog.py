"""Model metadata a provider publishes: which parameters each model takes, its limits and prices.

OpenRouter publishes its whole model list at `GET /api/v1/models`, no key needed, each entry
with `supported_parameters`, `context_length`, `pricing` (US dollars per token, as strings) and
`top_provider.max_completion_tokens` (https://openrouter.ai/docs/api-reference/list-available-models).
It is fetched once per process and kept on disk for a day, so a review sends only what a model
takes, `config check` can say "did you mean …?", and a review's cost is known before it is
sent. Without it (offline, or a provider that publishes none) the built-in rules of
`model_rules.py` decide, and the log says so once.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from fusion_ls.config.settings import ProviderSettings
from fusion_ls.reviewers.bodies import ResponseTooLarge, read_capped

__all__ = ["Catalog", "Catalogs", "ModelInfo", "stored_catalog"]

log = logging.getLogger(__name__)

FRESH_S = 24 * 3600.0
"""How long a fetched model list is used before it is fetched again."""
RETRY_S = 300.0
"""After a failed fetch, how long the built-in rules are used before trying again."""
_MAX_LIST_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ModelInfo:
    """One model as its provider describes it; None where the provider says nothing."""

    id: str
    supported_parameters: frozenset[str] | None = None
    context_length: int | None = None
    prompt_usd: float | None = None
    """Per prompt token."""
    completion_usd: float | None = None
    """Per completion token (reasoning tokens are billed as completion tokens)."""
    max_completion_tokens: int | None = None

    def supports(self, parameter: str) -> bool:
        """Whether the model takes `parameter` (anything, when the provider lists none)."""
        return self.supported_parameters is None or parameter in self.supported_parameters

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """US dollars for that many tokens, or None when the model has no fixed price."""
        if self.prompt_usd is None or self.completion_usd is None:
            return None
        return prompt_tokens * self.prompt_usd + completion_tokens * self.completion_usd


@dataclass(frozen=True)
class Catalog:
    """Every model a provider lists, by id."""

    models: Mapping[str, ModelInfo]

    def get(self, model: str) -> ModelInfo | None:
        return self.models.get(model)

    def suggest(self, model: str) -> str | None:
        """The listed id closest to a mistyped one (`gpt4` → `openai/gpt-4`), or None."""
        ids = list(self.models)
        wanted = model.lower().replace(" ", "-")
        close = difflib.get_close_matches(wanted, ids, n=1, cutoff=0.6)
        if close:
            return close[0]
        # Without the vendor prefix: `claude-sonnet-4.5` → `anthropic/claude-sonnet-4.5`.
        tails = {ident.rsplit("/", 1)[-1]: ident for ident in ids}
        close = difflib.get_close_matches(wanted.rsplit("/", 1)[-1], list(tails), n=1, cutoff=0.6)
        return tails[close[0]] if close else None

    @classmethod
    def parse(cls, body: Any) -> Catalog:
        """From the `{"data": [...]}` body of a model list; malformed entries are skipped."""
        entries = body.get("data") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            raise ValueError('the model list has no "data" array')
        infos = (_model_info(entry) for entry in entries)
        return cls({info.id: info for info in infos if info is not None})


def _model_info(entry: Any) -> ModelInfo | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        return None
    parameters = entry.get("supported_parameters")
    pricing = _object(entry.get("pricing"))
    top = _object(entry.get("top_provider"))
    return ModelInfo(
        id=entry["id"],
        supported_parameters=frozenset(p for p in parameters if isinstance(p, str))
        if isinstance(parameters, list)
        else None,
        context_length=_positive_int(entry.get("context_length")),
        prompt_usd=_price(pricing.get("prompt")),
        completion_usd=_price(pricing.get("completion")),
        max_completion_tokens=_positive_int(top.get("max_completion_tokens")),
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _price(value: Any) -> float | None:
    """OpenRouter sends prices as decimal strings; "-1" marks a router with no fixed price."""
    try:
        price = float(value)
    except (TypeError, ValueError):
        return None
    return price if math.isfinite(price) and price >= 0 else None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


class Catalogs:
    """The model lists of this process's providers: one fetch per base URL, shared by every
    caller, kept on disk in `directory` (none: memory only) for `FRESH_S`."""

    def __init__(
        self, http: httpx.AsyncClient, directory: Path | None = None, timeout_s: float = 5.0
    ) -> None:
        self._http = http
        self._directory = directory
        self._timeout_s = timeout_s
        self._loads: dict[str, tuple[float, asyncio.Task[Catalog | None]]] = {}
        self._fetched: set[str] = set()
        """Lists fetched (or tried) in this process, not read from disk."""

    @staticmethod
    def publishes(settings: ProviderSettings) -> bool:
        """Only OpenRouter's list carries what the rules need (OpenAI's gives bare ids)."""
        return settings.resolved_kind == "openrouter"

    async def get(self, settings: ProviderSettings) -> Catalog | None:
        """The provider's model list, or None when it publishes none or cannot be reached."""
        if not self.publishes(settings):
            return None
        url = f"{settings.base_url}/models"
        now = time.monotonic()
        started, task = self._loads.get(url, (now, None))
        if task is None or (_failed(task) and now - started > RETRY_S):
            task = asyncio.ensure_future(self._load(url))
            self._loads[url] = (now, task)
        try:
            return await asyncio.shield(task)
        except Exception:  # a bug in reading a list must not fail the review that wanted it
            log.exception("model list %s could not be read", url)
            return None

    async def lookup(
        self, settings: ProviderSettings, model: str
    ) -> tuple[Catalog | None, ModelInfo | None]:
        """The provider's list and `model` in it. A model missing from a copy read from disk
        may have been added since: the list is then fetched again, once per process."""
        catalog = await self.get(settings)
        if catalog is None or model in catalog.models:
            return catalog, catalog.get(model) if catalog else None
        url = f"{settings.base_url}/models"
        if url not in self._fetched:
            self._fetched.add(url)
            task = asyncio.ensure_future(self._load(url, from_disk=False))
            self._loads[url] = (time.monotonic(), task)
            catalog = await asyncio.shield(task) or catalog
        return catalog, catalog.get(model)

    def prefetch(self, providers: Iterable[ProviderSettings]) -> None:
        """Start loading the lists of `providers` now (the server does so after `initialize`)."""
        for settings in providers:
            if self.publishes(settings):
                url = f"{settings.base_url}/models"
                if url not in self._loads:
                    self._loads[url] = (time.monotonic(), asyncio.ensure_future(self._load(url)))

    async def aclose(self) -> None:
        for _, task in self._loads.values():
            task.cancel()
        await asyncio.gather(*(task for _, task in self._loads.values()), return_exceptions=True)

    async def _load(self, url: str, from_disk: bool = True) -> Catalog | None:
        path = self._file(url)
        stored = await asyncio.to_thread(_read, path) if path else None
        if from_disk and stored is not None and time.time() - stored[0] < FRESH_S:
            return stored[1]
        self._fetched.add(url)
        try:
            body = await self._fetch(url)
            catalog = Catalog.parse(body)
        except (httpx.HTTPError, ResponseTooLarge, ValueError) as error:
            kept = "the copy from an earlier day" if stored else "the built-in request rules"
            log.warning("model list %s unavailable (%s); using %s", url, error or "?", kept)
            return stored[1] if stored else None
        if path is not None:
            await asyncio.to_thread(_write, path, body)
        log.info("model list %s: %d models", url, len(catalog.models))
        return catalog

    async def _fetch(self, url: str) -> Any:
        """GET the list, with no key: it is public, and a key goes only where it is needed."""
        async with self._http.stream(
            "GET", url, headers={"Accept": "application/json"}, timeout=self._timeout_s
        ) as response:
            if not response.is_success:
                raise ValueError(f"HTTP {response.status_code}")
            return json.loads(await read_capped(response, _MAX_LIST_BYTES))

    def _file(self, url: str) -> Path | None:
        return None if self._directory is None else _list_file(self._directory, url)


def _list_file(directory: Path, url: str) -> Path:
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return directory / f"models-{digest}.json"


def stored_catalog(directory: Path, settings: ProviderSettings) -> Catalog | None:
    """The provider's list as last kept in `directory`, however old, without any request (for
    `review --dry-run`, which sends nothing)."""
    if not Catalogs.publishes(settings):
        return None
    found = _read(_list_file(directory, f"{settings.base_url}/models"))
    return found[1] if found else None


def _failed(task: asyncio.Task[Catalog | None]) -> bool:
    """Finished without a list (unreachable, cancelled or broken)."""
    if not task.done():
        return False
    return task.cancelled() or task.exception() is not None or task.result() is None


def _read(path: Path) -> tuple[float, Catalog] | None:
    """(fetched at, catalog) from disk, or None when absent or unreadable."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        return float(stored["fetched"]), Catalog.parse(stored["list"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, body: Any) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(f".{os.getpid()}.tmp")
        temp.write_text(json.dumps({"fetched": time.time(), "list": body}), encoding="utf-8")
        os.replace(temp, path)
