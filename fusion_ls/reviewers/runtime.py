"""What a process shares across reviews: one HTTP client, the response cache, the spend ledger,
the providers' model lists and what each endpoint refused.

Built once per process (the server keeps one for its lifetime, a CLI run one per command) and
handed to every `Engine`, so connections are reused, a model list is fetched once, and no
review opens its own client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fusion_ls.config.settings import ProviderSettings
from fusion_ls.reviewers.cache import ResponseCache, cache_dir
from fusion_ls.reviewers.catalog import Catalogs
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.openai_compat import Cooldowns, Provider, Refusals
from fusion_ls.reviewers.spend import SpendLedger

__all__ = ["Runtime"]

log = logging.getLogger(__name__)

_WARM_TIMEOUT_S = 5.0


@dataclass
class Runtime:
    """The process-wide resources the engine and the reviewers use."""

    http: httpx.AsyncClient
    cache: ResponseCache | None = None
    ledger: SpendLedger | None = None
    catalog_dir: Path | None = None
    """Where model lists are kept between processes (None: in memory only, as in tests)."""
    refusals: Refusals = field(default_factory=Refusals)
    cooldowns: Cooldowns = field(default_factory=Cooldowns)
    catalogs: Catalogs = field(init=False)
    _warming: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self.catalogs = Catalogs(self.http, self.catalog_dir)

    @classmethod
    def default(cls, *, cache: bool = True) -> Runtime:
        """The shared client, the user's response cache (unless `cache` is off), ledger and
        model lists (kept on disk for a day)."""
        return cls(
            http=make_http_client(),
            cache=ResponseCache.default() if cache else None,
            ledger=SpendLedger.default(),
            catalog_dir=cache_dir(),
        )

    def provider(
        self,
        name: str,
        settings: ProviderSettings,
        env: Mapping[str, str] | None,
        max_response_mb: float,
    ) -> Provider:
        """A client for one configured provider, sharing this process's connections, model
        lists and remembered refusals."""
        return Provider(
            name,
            settings,
            self.http,
            env,
            catalogs=self.catalogs,
            refusals=self.refusals,
            cooldowns=self.cooldowns,
            max_response_bytes=int(max_response_mb * 1_000_000),
        )

    def warm(
        self, providers: Iterable[ProviderSettings], env: Mapping[str, str] | None = None
    ) -> None:
        """Open connections to `providers` in the background (one per time a provider is
        listed: a review asks its models at once) and start loading their model lists, so
        the first review pays for neither the TLS handshakes nor the list (nor for opening
        the response cache). A provider whose key variable is empty cannot be asked, so it is
        not contacted either."""
        env = os.environ if env is None else env
        if self.cache is not None:
            self.cache.open_soon()
        listed = [p for p in providers if p.can_be_asked(env)]
        self.catalogs.prefetch(listed)
        for base_url, count in Counter(p.base_url for p in listed).items():
            for _ in range(count):
                task = asyncio.ensure_future(self._open(base_url))
                self._warming.add(task)
                task.add_done_callback(self._warming.discard)

    async def _open(self, base_url: str) -> None:
        """One HEAD request with no key: it leaves a kept-alive connection in the pool."""
        try:
            await self.http.head(f"{base_url}/models", timeout=_WARM_TIMEOUT_S)
        except httpx.HTTPError as error:
            log.debug("warming %s: %s", base_url, error)

    async def spent_today(self) -> float:
        """Dollars spent today; the ledger's file lock is taken off the event loop."""
        if self.ledger is None:
            return 0.0
        return await asyncio.to_thread(self.ledger.spent_today)

    async def record_spend(self, usd: float | None) -> None:
        if self.ledger is not None and usd:
            await asyncio.to_thread(self.ledger.add, usd)

    async def aclose(self) -> None:
        for task in list(self._warming):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._warming, return_exceptions=True)
        await self.catalogs.aclose()
        await self.http.aclose()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
