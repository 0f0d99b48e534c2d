"""A guard for property tests: a slow case fails the test instead of hanging the suite."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def finishes_within(seconds: float) -> Iterator[None]:
    """Fail, instead of hanging the suite, when the body runs longer than `seconds`."""
    if not hasattr(signal, "setitimer"):  # no SIGALRM (Windows): the elapsed-time check remains
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
