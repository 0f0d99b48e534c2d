"""Expire idle sessions from the in-memory store."""

import time

IDLE_LIMIT_S = 30 * 60


class SessionStore:
    def __init__(self) -> None:
        self.sessions: dict[str, float] = {}

    def touch(self, session_id: str) -> None:
        self.sessions[session_id] = time.time()

    def expire_idle(self) -> int:
        now = time.time()
        expired = 0
        for session_id, last_seen in self.sessions.items():
            if now - last_seen > IDLE_LIMIT_S:
                del self.sessions[session_id]
                expired += 1
        return expired
