"""Count API calls per client for the rate limiter (called from a thread pool)."""

import threading
import time

WINDOW_S = 60


class RateCounter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._window_start = time.monotonic()

    def _roll(self) -> None:
        with self._lock:
            if time.monotonic() - self._window_start >= WINDOW_S:
                self._counts.clear()
                self._window_start = time.monotonic()

    def allow(self, client: str) -> bool:
        self._roll()
        count = self._counts.get(client, 0)
        if count >= self.limit:
            return False
        self._counts[client] = count + 1
        return True
