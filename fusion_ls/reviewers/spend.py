"""Spend per day, summed from the providers' reported cost, so `limits.max_cost_usd` can hold.

The ledger is a small JSON file in the user state directory, updated under a lock so two
processes (an editor's server and a terminal run) add up correctly.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from fusion_ls.config.locations import xdg_dir

__all__ = ["SpendLedger", "state_dir"]

_KEEP_DAYS = 31


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_STATE_HOME/fusion-ls`, else `~/.local/state/fusion-ls`."""
    return xdg_dir("XDG_STATE_HOME", ".local/state", env)


class SpendLedger:
    """US dollars spent per local calendar day."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def default(cls, env: Mapping[str, str] | None = None) -> SpendLedger:
        return cls(state_dir(env) / "spend.json")

    @staticmethod
    def _today() -> str:
        return datetime.date.today().isoformat()

    def _read(self) -> dict[str, float]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(raw, dict):
            return {}
        return {k: float(v) for k, v in raw.items() if isinstance(v, int | float)}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def spent_today(self) -> float:
        return self._read().get(self._today(), 0.0)

    def add(self, usd: float) -> None:
        if usd <= 0:
            return
        with self._locked():
            days = self._read()
            today = self._today()
            days[today] = days.get(today, 0.0) + usd
            recent = dict(sorted(days.items())[-_KEEP_DAYS:])
            temp = self.path.with_suffix(".tmp")
            temp.write_text(json.dumps(recent, indent=1), encoding="utf-8")
            os.replace(temp, self.path)
