"""fusion-ls: review and explain code with several LLMs at once, and fuse their answers.

The public surface is what an adapter needs: load settings, run the engine, read the result.
"""

from __future__ import annotations

from .config import LoadedSettings, load_settings
from .engine import CodeRequest, Engine
from .errors import ConfigError, ConfigIssue, FusionError, ProviderError, UsageError
from .events import (
    Event,
    ExplanationFinished,
    JudgeStarted,
    ModelFinished,
    Progress,
    ReviewFinished,
    RoundStarted,
)
from .findings import Finding, Fix, FusedExplanation, FusedReview, LineRange, ModelRun, Usage
from .providers import make_http_client
from .settings import Mode, ModelRef, Settings
from .version import __version__

__all__ = [
    "CodeRequest",
    "ConfigError",
    "ConfigIssue",
    "Engine",
    "Event",
    "ExplanationFinished",
    "Finding",
    "Fix",
    "FusedExplanation",
    "FusedReview",
    "FusionError",
    "JudgeStarted",
    "LineRange",
    "LoadedSettings",
    "Mode",
    "ModelFinished",
    "ModelRef",
    "ModelRun",
    "Progress",
    "ProviderError",
    "ReviewFinished",
    "RoundStarted",
    "Settings",
    "Usage",
    "UsageError",
    "__version__",
    "load_settings",
    "make_http_client",
]
