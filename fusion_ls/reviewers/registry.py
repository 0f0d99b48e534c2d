"""The one registry of reviewers: every pool entry and the judge become a `Reviewer` here.

A pool entry names a chat model on a provider (`vendor/model`, `{model, provider}`) or a local
analyzer (`tool:NAME`). Analyzers register themselves with `@register_analyzer` in their own
module under `reviewers/tools/`, which is imported on first use, so adding one is one file;
tests register their fakes the same way. Chat models need no registration: any id on a
configured provider is one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from functools import cache
from typing import TypeVar

from fusion_ls.config.settings import ModelRef, Settings
from fusion_ls.findings import CATEGORIES, Category, is_analyzer
from fusion_ls.reviewers import tools
from fusion_ls.reviewers.base import Reviewer
from fusion_ls.reviewers.chat_model import ChatModel, ChatOptions
from fusion_ls.reviewers.runtime import Runtime
from fusion_ls.reviewers.tools.base import Analyzer

__all__ = [
    "ANALYZERS",
    "AnalyzerFactory",
    "Reviewers",
    "analyzers",
    "checked_categories",
    "describe_analyzers",
    "register_analyzer",
]

AnalyzerFactory = Callable[[float], Reviewer]
"""Builds an analyzer from its time budget in seconds (a class whose __init__ takes it)."""

ANALYZERS: dict[str, AnalyzerFactory] = {}
"""`tool:NAME` → factory. Filled by `register_analyzer`; read through `analyzers()`."""

A = TypeVar("A", bound=AnalyzerFactory)


def register_analyzer(factory: A) -> A:
    """Class decorator: make `tool:<factory.tool>` a pool member."""
    ANALYZERS[getattr(factory, "tool")] = factory  # noqa: B009 - a ClassVar of Analyzer
    return factory


@cache
def _import_tools() -> None:
    """Import every module of `reviewers/tools` once, so each registers its analyzer."""
    for module in pkgutil.iter_modules(tools.__path__):
        importlib.import_module(f"{tools.__name__}.{module.name}")


def analyzers() -> Mapping[str, AnalyzerFactory]:
    """Every registered analyzer by tool name (`ruff` for `tool:ruff`)."""
    _import_tools()
    return ANALYZERS


def checked_categories(name: str) -> frozenset[Category]:
    """The categories pool member `name` looks for: an analyzer's own (bandit: security),
    every category for a model."""
    factory = analyzers().get(name.removeprefix("tool:")) if is_analyzer(name) else None
    return frozenset(getattr(factory, "checks", CATEGORIES))


def describe_analyzers() -> list[str]:
    """One line per analyzer: what it reviews, and its program or how to install it."""
    lines = []
    for name, factory in sorted(analyzers().items()):
        analyzer = factory(0.0)
        if isinstance(analyzer, Analyzer):
            suffixes = " ".join(sorted(analyzer.suffixes))
            lines.append(f"tool:{name} ({suffixes}): {analyzer.located()}")
        else:  # registered by a plugin or a test, not built on `Analyzer`
            lines.append(f"tool:{name}: registered")
    return lines


class Reviewers:
    """The reviewers of one `Settings`: a `Reviewer` for each pool entry and for the judge.

    `wrap`, when given, is applied to every reviewer built (eval's recording and replay,
    `reviewers/recorded.py`).
    """

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        env: Mapping[str, str] | None = None,
        *,
        wrap: Callable[[Reviewer], Reviewer] | None = None,
    ) -> None:
        fusion = settings.fusion
        self._options = ChatOptions(
            fusion.max_tokens, fusion.temperature, fusion.timeout_s, fusion.reasoning_tokens
        )
        self._timeout_s = fusion.timeout_s
        self._wrap = wrap
        self._cache = runtime.cache
        self._providers = {
            name: runtime.provider(name, conf, env, settings.limits.max_response_mb)
            for name, conf in settings.providers.items()
        }

    def get(self, ref: ModelRef) -> Reviewer:
        reviewer: Reviewer
        if ref.is_tool:
            reviewer = analyzers()[ref.model](self._timeout_s)
        else:
            reviewer = ChatModel(ref, self._providers[ref.provider], self._options, self._cache)
        return self._wrapped(reviewer)

    def analyzers_for(self, path: str) -> list[Reviewer]:
        """Every registered analyzer that reviews `path` (the offline fallback's pool), by
        name."""
        factories = sorted(analyzers().items())
        built = (self._wrapped(factory(self._timeout_s)) for _, factory in factories)
        return [reviewer for reviewer in built if reviewer.declines(path) is None]

    def _wrapped(self, reviewer: Reviewer) -> Reviewer:
        return reviewer if self._wrap is None else self._wrap(reviewer)
