"""The one error tree of fusion-ls, drawn once here.

    FusionError                  anything fusion-ls reports to a person
    ├── ConfigError              .fusion.toml / user config invalid; carries every ConfigIssue
    ├── UsageError               a request that cannot be served (bad line range, unreadable file)
    │   └── NoReviewer           no model can be asked and no local analyzer reads the file
    └── ProviderError            one model call failed; `status` says how (error/timeout/invalid)

A review where no model answered is not an error: its result says so (each model's status and
`degraded_reason`), and the CLI exits 3.

Foreign errors (httpx, json, pydantic, OSError) are mapped to these at the boundary where
they happen; the message is short and says what to do, the log gets the detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fusion_ls.findings import Usage

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "FusionError",
    "NoReviewer",
    "ProviderError",
    "TooLarge",
    "UsageError",
]


class FusionError(Exception):
    """Base class: `str(error)` is the message a person reads."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in one config file, located by line and dotted key."""

    path: Path | None
    line: int | None
    key: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = str(self.path) if self.path else "<settings>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        key = f"{self.key}: " if self.key else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{key}{self.message}"


class ConfigError(FusionError):
    """The settings could not be built; every issue is listed, not only the first."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class UsageError(FusionError):
    """The request itself is wrong (a line range past the end of the file, say)."""


class TooLarge(UsageError):
    """The code (with the project's instructions) would send more tokens than
    `limits.max_input_tokens` allows: one file of a many-file run is then skipped, not failed."""


class NoReviewer(UsageError):
    """Nothing can review the file: no model can be asked (`models` says why: a missing key,
    said once for a whole run of many files) and no local analyzer reads it (`analyzers`)."""

    def __init__(self, path: str, models: str, analyzers: str) -> None:
        self.models = models
        self.analyzers = analyzers
        super().__init__(
            f"nothing can review {path}: no model can be used ({models}), and {analyzers}"
        )


ProviderFailure = Literal["error", "timeout", "invalid", "truncated", "skipped"]


class ProviderError(FusionError):
    """One model call failed: `reason` is for a person, `retryable` guides the retry loop,
    `usage` is what the failed call still cost (a truncated answer is paid for)."""

    def __init__(
        self,
        reason: str,
        *,
        status: ProviderFailure = "error",
        http_status: int | None = None,
        retryable: bool = False,
        retry_after_s: float | None = None,
        usage: Usage | None = None,
    ) -> None:
        self.reason = reason
        self.status: ProviderFailure = status
        self.http_status = http_status
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.usage = usage or Usage()
        super().__init__(reason)
