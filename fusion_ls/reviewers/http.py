"""The shared HTTP client: one `httpx.AsyncClient` per process, for every model call.

The server, the CLI and `eval` each make one and pass it down, so the timeouts, pool limits
and User-Agent are set here once.
"""

from __future__ import annotations

import httpx

from fusion_ls.version import __version__

__all__ = ["make_http_client"]


def make_http_client() -> httpx.AsyncClient:
    """The one client per process, so every model call shares connection pools and keep-alive.

    The read timeout is generous on purpose: `Provider.chat` bounds each call by its own
    `timeout_s`, and a shorter read timeout would only turn a slow-but-working model into a
    retry that pays for the same tokens twice. Redirects are not followed because a redirected
    POST to an API is almost always a wrong `base_url`, which is better reported than chased.
    HTTP/2 is not offered. A review asks its models at once, and with HTTP/1.1 keep-alive each
    call gets a connection of its own, opened in parallel: the same wall time as one HTTP/2
    connection. Offering HTTP/2 to a TLS server that answers HTTP/1.1 (a self-hosted vLLM
    behind a proxy, say) makes httpcore open those connections one after another, because a
    connection still being set up counts as available for every request to its origin: the
    cold-start benchmark measured 3 calls in 0.235 s instead of 0.114 s (BENCHMARKS.md).
    """
    return httpx.AsyncClient(
        http2=False,
        timeout=httpx.Timeout(connect=10.0, read=300.0, write=30.0, pool=30.0),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16, keepalive_expiry=60),
        headers={"User-Agent": f"fusion-ls/{__version__}"},
        follow_redirects=False,
    )
