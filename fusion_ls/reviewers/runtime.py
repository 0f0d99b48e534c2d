"""What a process shares across reviews: one HTTP client, the response cache, the spend ledger.

Built once per process (the server keeps one for its lifetime, a CLI run one per command) and
handed to every `Engine`, so connections are reused and no review opens its own client.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from fusion_ls.reviewers.cache import ResponseCache
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.spend import SpendLedger

__all__ = ["Runtime"]


@dataclass
class Runtime:
    """The process-wide resources the engine and the reviewers use."""

    http: httpx.AsyncClient
    cache: ResponseCache | None = None
    ledger: SpendLedger | None = None

    @classmethod
    def default(cls, *, cache: bool = True) -> Runtime:
        """The shared client, the user's response cache (unless `cache` is off) and ledger."""
        return cls(
            http=make_http_client(),
            cache=ResponseCache.default() if cache else None,
            ledger=SpendLedger.default(),
        )

    async def spent_today(self) -> float:
        """Dollars spent today; the ledger's file lock is taken off the event loop."""
        if self.ledger is None:
            return 0.0
        return await asyncio.to_thread(self.ledger.spent_today)

    async def record_spend(self, usd: float | None) -> None:
        if self.ledger is not None and usd:
            await asyncio.to_thread(self.ledger.add, usd)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
