"""fusion-ls: review and explain code with several LLMs at once, and fuse their answers.

The public surface is what an adapter needs: load settings, run the engine, read the result.
"""

from __future__ import annotations

from fusion_ls.config.loading import LoadedSettings, load_settings
from fusion_ls.config.settings import Mode, ModelRef, Settings
from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import (
    Event,
    ExplanationFinished,
    JudgeStarted,
    ModelFinished,
    Progress,
    ReviewFinished,
    RoundStarted,
)
from fusion_ls.errors import ConfigError, ConfigIssue, FusionError, ProviderError, UsageError
from fusion_ls.findings import (
    Finding,
    Fix,
    FusedExplanation,
    FusedReview,
    LineRange,
    ModelRun,
    Usage,
)
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.version import __version__

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
