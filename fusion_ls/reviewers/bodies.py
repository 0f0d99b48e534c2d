"""Reading a provider's response within a size cap, so memory stays flat whatever it sends.

A model's answer is a few kilobytes; a body of many megabytes is a broken or hostile server.
Both readers count bytes as they arrive (a declared Content-Length over the cap fails before
anything is read) and stop at the cap, so a 50 MB body costs at most the cap in memory.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator

import httpx

__all__ = ["ResponseTooLarge", "read_capped", "sse_lines"]


class ResponseTooLarge(Exception):
    """The body is over the cap; the message says how big it was allowed to be."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        super().__init__(f"the response is larger than {_megabytes(cap)}")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def _check_declared(response: httpx.Response, cap: int) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ResponseTooLarge(cap)


async def _chunks(response: httpx.Response, cap: int) -> AsyncIterator[bytes]:
    """The decoded body in chunks, raising once more than `cap` bytes have arrived."""
    _check_declared(response, cap)
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > cap:
            raise ResponseTooLarge(cap)
        yield chunk


async def read_capped(response: httpx.Response, cap: int) -> bytes:
    """The whole body, or ResponseTooLarge."""
    parts = [chunk async for chunk in _chunks(response, cap)]
    return b"".join(parts)


async def sse_lines(response: httpx.Response, cap: int) -> AsyncIterator[str]:
    """The body's lines (without line endings) as they arrive; UTF-8 decoding never fails
    (a bad byte becomes U+FFFD), and the whole stream is capped like `read_capped`."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    async for chunk in _chunks(response, cap):
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line.removesuffix("\r")
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending.removesuffix("\r")
