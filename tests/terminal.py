"""`fusion-ls` on a terminal: stdout and stderr on one pseudo-terminal, as a person sees them.

Colour, the erased progress line and the details shown by default depend on `isatty()`, which a
pipe never is; a pty is a real terminal device to the child.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["SGR", "on_terminal"]

SGR = re.compile(r"\x1b\[[0-9;]*m")
"""An ANSI colour or style code (Select Graphic Rendition)."""


def on_terminal(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60
) -> tuple[int, str]:
    """Run `fusion-ls ARGS` with stdout and stderr on a pty; its exit code and everything it
    showed, line ends as written (the terminal turns "\\n" into "\\r\\n")."""
    controller, device = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "fusion_ls", *args],
        cwd=cwd,
        env={"TERM": "xterm-256color", **env},
        stdin=subprocess.DEVNULL,
        stdout=device,
        stderr=device,
    )
    os.close(device)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.1)
            if not ready:
                if child.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        code = child.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if child.poll() is None:
            child.kill()
        os.close(controller)
    return code, shown.decode("utf-8", "replace").replace("\r\n", "\n")
