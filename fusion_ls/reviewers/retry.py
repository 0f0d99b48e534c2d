"""Retries: how long to wait after a failed model call, and when to give up.

A pure policy (no I/O besides reading headers), so backoff, jitter and a server's Retry-After
are tested without a server; `Provider` applies it to its attempts.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import httpx

from fusion_ls.errors import ProviderError

__all__ = ["RetryPolicy", "parse_retry_after", "retry_delay"]

_RNG = random.Random()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait. `max_retry_after_s` caps what a server may ask of us."""

    max_retries: int = 2
    base_s: float = 0.5
    cap_s: float = 8.0
    max_retry_after_s: float = 120.0


def retry_delay(
    policy: RetryPolicy, attempt: int, error: ProviderError, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait before retrying after failed attempt `attempt` (0-based); None: give up.

    A server's Retry-After is honoured exactly (it knows its rate window better than any
    backoff), unless it asks for longer than `max_retry_after_s`: then waiting is pointless for
    an interactive review, so we fail now with the server's reason. Otherwise exponential
    backoff with jitter, so parallel calls that failed together do not retry together.
    """
    if not error.retryable or attempt >= policy.max_retries:
        return None
    if error.retry_after_s is not None:
        if error.retry_after_s > policy.max_retry_after_s:
            return None
        return max(0.0, error.retry_after_s)
    backoff = min(policy.base_s * 2.0**attempt, policy.cap_s)
    return backoff * (rng or _RNG).uniform(0.5, 1.0)


def parse_retry_after(headers: httpx.Headers, now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, from `retry-after-ms` or `Retry-After`; None if absent.

    `retry-after-ms` (sent by OpenAI and Azure) is more precise, so it wins. `Retry-After` may be
    delta-seconds or an HTTP date; a date in the past means "now" (0). Garbage is ignored rather
    than raised: a bad header must not turn a retryable error into a crash.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _non_negative_float(millis)
        if seconds is not None:
            return seconds / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _non_negative_float(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" dates come back naive; HTTP dates are always UTC
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _non_negative_float(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
