"""The server's log: stderr only (stdout is the protocol), at the level the user asks for, and
without warnings about cancellations that lost a race.

An editor cancels a review by `$/cancelRequest` and by `window/workDoneProgress/cancel` (VS Code
sends both, so that reviews it did not request, such as on save, stop too). Whichever arrives
second finds its work already ended, and pygls logs a WARNING for it. That is a race every
client can lose, not a fault, so those records are lowered to DEBUG: a user reading the server
output after clicking "cancel" sees nothing that looks like a failure.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["configure", "log_level"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_RACES = {
    "pygls.protocol.json_rpc": "Cancel notification for unknown message id",
    "pygls.protocol.language_server": "Ignoring work done progress cancel for unknown token",
}


def log_level(explicit: str | None) -> int:
    """--log-level, else $FUSION_LS_LOG, else WARNING; unknown names mean WARNING."""
    level = logging.getLevelName((explicit or os.environ.get("FUSION_LS_LOG") or "WARNING").upper())
    return level if isinstance(level, int) else logging.WARNING


def configure(explicit_level: str | None) -> None:
    """Log to stderr at the chosen level, with cancellation races at DEBUG."""
    logging.basicConfig(stream=sys.stderr, level=log_level(explicit_level), format=FORMAT)
    for name, message in _RACES.items():
        logging.getLogger(name).addFilter(_LostRace(message))


class _LostRace(logging.Filter):
    """Lowers the records that start with `message` to DEBUG (and drops them below it)."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self._message = message

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str) or not record.msg.startswith(self._message):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)
