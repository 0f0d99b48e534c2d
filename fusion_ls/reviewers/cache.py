"""Response cache: the same request to the same endpoint gets the stored answer, instantly.

Content-addressed (endpoint, model, messages, parameters) → answer text, in SQLite in the user
cache directory. SQLite's WAL mode and busy timeout make it safe for an editor's server and a
terminal run at once; the file is capped in size, least recently used answers going first.
All I/O runs on one worker thread with one connection, so the event loop never waits on the
disk and this process's own reads and writes never contend for SQLite's lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import sqlite3
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fusion_ls.config.locations import xdg_dir
from fusion_ls.findings import Usage
from fusion_ls.reviewers.chat import ChatRequest, ChatResult

__all__ = ["ResponseCache", "cache_dir"]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_SETUP_TRIES = 10
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    finish_reason TEXT,
    size INTEGER NOT NULL,
    used REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_used ON responses (used);
"""


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CACHE_HOME/fusion-ls`, else `~/.cache/fusion-ls`."""
    return xdg_dir("XDG_CACHE_HOME", ".cache", env)


class ResponseCache:
    """Model answers by request, on disk."""

    def __init__(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._db: sqlite3.Connection | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fusion-ls-cache")

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> ResponseCache:
        return cls(cache_dir(env) / "responses.sqlite3")

    @staticmethod
    def key(endpoint: str, structured: bool, request: ChatRequest) -> str:
        """Everything that can change the answer, hashed."""
        material = {
            "endpoint": endpoint,
            "structured": structured,
            "model": request.model,
            "messages": [[m.role, m.content] for m in request.messages],
            "max_tokens": request.max_tokens,
            "reasoning_tokens": request.reasoning_tokens,
            "temperature": request.temperature,
            "schema": [request.schema.name, request.schema.schema] if request.schema else None,
        }
        encoded = json.dumps(material, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(encoded).hexdigest()

    def _connection(self) -> sqlite3.Connection:
        """Opened once; WAL with synchronous=NORMAL: a power cut may lose the newest answers."""
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            try:
                self._set_up(db)
            except sqlite3.Error:
                db.close()
                raise
            self._db = db
        return self._db

    @staticmethod
    def _set_up(db: sqlite3.Connection) -> None:
        """Switching a new file to WAL needs it alone, and SQLite's busy handler does not wait
        for that: two processes opening a brand-new cache at once retry briefly instead."""
        for attempt in range(_SETUP_TRIES):
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError:
                if attempt == _SETUP_TRIES - 1:
                    raise
                time.sleep(0.02 * (attempt + 1))

    def _get(self, key: str) -> ChatResult | None:
        db = self._connection()
        row = db.execute(
            "SELECT text, finish_reason FROM responses WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        db.execute("UPDATE responses SET used = ? WHERE key = ?", (time.time(), key))
        return ChatResult(text=row[0], usage=Usage(), latency_s=0.0, finish_reason=row[1])

    def _put(self, key: str, result: ChatResult) -> None:
        size = len(result.text.encode()) + len(key)
        db = self._connection()
        db.execute(
            "INSERT OR REPLACE INTO responses (key, text, finish_reason, size, used) "
            "VALUES (?, ?, ?, ?, ?)",
            (key, result.text, result.finish_reason, size, time.time()),
        )
        self._evict(db)

    def _evict(self, db: sqlite3.Connection) -> None:
        """Drop least recently used answers until the stored text fits in `max_bytes`."""
        (total,) = db.execute("SELECT COALESCE(SUM(size), 0) FROM responses").fetchone()
        if total <= self.max_bytes:
            return
        excess = total - int(self.max_bytes * 0.9)
        keys: list[str] = []
        for key, size in db.execute("SELECT key, size FROM responses ORDER BY used"):
            keys.append(key)
            excess -= size
            if excess <= 0:
                break
        db.executemany("DELETE FROM responses WHERE key = ?", [(k,) for k in keys])

    def _clear(self) -> int:
        return self._connection().execute("DELETE FROM responses").rowcount

    def _put_quietly(self, key: str, result: ChatResult) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._put(key, result)

    async def get(self, key: str) -> ChatResult | None:
        """The stored answer, or None; a broken cache file counts as a miss, never an error."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker, self._get, key)
        except sqlite3.Error:
            return None

    async def put(self, key: str, result: ChatResult) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._worker, self._put_quietly, key, result)

    def open_soon(self) -> None:
        """Open the file now, on the worker (the server does at start-up): the first review
        should not wait for SQLite to open and set up its file."""
        self._worker.submit(self._open_quietly)

    def _open_quietly(self) -> None:
        with contextlib.suppress(sqlite3.Error, OSError):
            self._connection()

    def put_soon(self, key: str, result: ChatResult) -> None:
        """Store without waiting: the answer is not held back for the disk. Later reads of
        this cache run after the write (one worker, in order), and the interpreter waits
        for the worker before exiting, so a CLI run keeps its answers too."""
        self._worker.submit(self._put_quietly, key, result)

    async def clear(self) -> int:
        """Forget every answer; returns how many there were."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, self._clear)
