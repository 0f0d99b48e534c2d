"""What the CLI shows while it works: the live progress line on stderr, and `--stream`'s
provisional findings on stdout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from fusion_ls.cli.colour import PLAIN, Palette
from fusion_ls.cli.report import finding_line
from fusion_ls.engine.events import Event, Notice, Progress, Provisional

__all__ = ["ProgressLine", "StreamedFindings"]


_CLEAR = "\r\x1b[2K"
"""Back to the start of the line, and erase all of it."""


class ProgressLine:
    """The live stderr line: rewritten in place on a terminal, one line per change elsewhere."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self._stream = stream
        self._enabled = enabled
        self._tty = stream.isatty()
        self._progress = Progress()
        self._last = ""

    def show(self, event: Event) -> None:
        self.write(self._progress.update(event))

    def write(self, text: str) -> None:
        if not self._enabled or text == self._last:
            return
        self._last = text
        if self._tty:
            self._stream.write(f"{_CLEAR}{text}")
        else:
            self._stream.write(f"{text}\n")
        self._stream.flush()

    @contextmanager
    def above(self) -> Iterator[None]:
        """Print other output while the line is live: it is erased first (else the output would
        start at its end) and drawn again after."""
        live = self._enabled and self._tty and bool(self._last)
        if live:
            self._stream.write(_CLEAR)
            self._stream.flush()
        yield
        if live:
            self._stream.write(self._last)
            self._stream.flush()

    def close(self) -> None:
        if self._enabled and self._tty and self._last:
            self._stream.write(_CLEAR)
            self._stream.flush()


class StreamedFindings:
    """`--stream`: each provisional finding on stdout as soon as it is known, before the fused
    set; a finding is printed once, however often the consensus so far is recomputed."""

    def __init__(
        self, path: str, lines: list[str], progress: ProgressLine, palette: Palette = PLAIN
    ) -> None:
        self._path, self._lines = path, lines
        self._progress, self._palette = progress, palette
        self._printed: set[str] = set()

    def show(self, event: Event) -> None:
        if isinstance(event, Notice):
            self._print(f"note: {event.text}")
        if not isinstance(event, Provisional):
            return
        for found in event.findings:
            line = finding_line(
                self._path, found, self._lines, provisional=True, palette=self._palette
            )
            if line not in self._printed:
                self._printed.add(line)
                self._print(line)

    def _print(self, line: str) -> None:
        with self._progress.above():
            print(line, flush=True)
