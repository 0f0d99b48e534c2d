"""What the figures were measured on (CPU, memory, OS, Python, libraries) and how busy it was."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


def _first(path: str, key: str) -> str | None:
    """The value of the first `key: value` (or `key=value`) line of a /proc or /etc file."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, sep, value = line.partition(":" if ":" in line else "=")
        if sep and name.strip() == key:
            return value.strip().strip('"')
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, str]:
    """The machine in a few strings (Linux reads /proc; elsewhere `platform` only)."""
    memory = _first("/proc/meminfo", "MemTotal")
    memory_gb = f"{int(memory.split()[0]) / 1024 / 1024:.1f} GB" if memory else "unknown"
    mhz = _first("/proc/cpuinfo", "cpu MHz")
    cpu = _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown"
    return {
        "cpu": f"{cpu}{f' @ {float(mhz):.0f} MHz' if mhz else ''}",
        "cores": str(os.cpu_count()),
        "memory": memory_gb,
        "os": _first("/etc/os-release", "PRETTY_NAME") or platform.platform(),
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "libraries": (
            f"pygls {_version('pygls')}, lsprotocol {_version('lsprotocol')}, "
            f"httpx {_version('httpx')}, pytest-lsp {_version('pytest-lsp')}"
        ),
    }


@dataclass(frozen=True)
class _Ticks:
    busy: int
    steal: int
    total: int
    own: float  # CPU seconds of this process and its reaped children (the servers)


def _ticks() -> _Ticks | None:
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in first[:8])
    times = os.times()
    own = times.user + times.system + times.children_user + times.children_system
    busy = user + nice + system + irq + softirq
    return _Ticks(busy, steal, busy + idle + iowait + steal, own)


class CpuWindow:
    """How the machine's CPU time was spent while the benchmark ran (Linux /proc/stat).

    `others` is CPU used by processes other than the benchmark and its servers, `steal` the
    time the hypervisor gave to other machines; both make latency figures noisier.
    """

    def __init__(self) -> None:
        self._start = _ticks()

    def shares(self) -> dict[str, float]:
        end = _ticks()
        if self._start is None or end is None or end.total == self._start.total:
            return {}
        total = end.total - self._start.total
        own = (end.own - self._start.own) * os.sysconf("SC_CLK_TCK")
        busy = end.busy - self._start.busy
        return {
            "benchmark": round(100 * min(own, busy) / total, 1),
            "others": round(100 * max(0.0, busy - own) / total, 1),
            "steal": round(100 * (end.steal - self._start.steal) / total, 1),
        }
