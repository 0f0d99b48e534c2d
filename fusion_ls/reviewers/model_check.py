"""Checking the configured model ids against the providers' model lists, before any review.

A mistyped id (`gpt4`, `claude sonnet`) otherwise fails only when a review is sent, once per
review. `config check` prints each model as its provider lists it; the server warns once after
start-up. Providers that publish no list (OpenAI's own API, local servers) are not checked.
`unusable_models` says which models cannot be asked at all (no key, nothing listening), so a
long run (`eval`) can stop before its first review instead of failing every one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from fusion_ls.config.settings import ModelRef, ProviderSettings, Settings
from fusion_ls.reviewers.cache import cache_dir
from fusion_ls.reviewers.catalog import Catalogs, ModelInfo, stored_catalog
from fusion_ls.reviewers.registry import Reviewers
from fusion_ls.reviewers.runtime import Runtime

__all__ = ["ModelCheck", "check_models", "stored_suggestion", "unusable_models"]


@dataclass(frozen=True)
class ModelCheck:
    """One pool member or the judge, as its provider's model list knows it."""

    role: str
    """"pool" or "judge"."""
    ref: ModelRef
    listed: bool
    """Whether the provider's model list could be read at all."""
    info: ModelInfo | None = None
    suggestion: str | None = None
    publishes: bool = True
    """Whether the provider publishes a list: an unlisted model of one that does (OpenRouter,
    offline) is unchecked because its list could not be read, not for want of one."""

    @property
    def unknown(self) -> bool:
        return self.listed and self.info is None

    def describe(self) -> str:
        """One line for `config check`."""
        where = f"{self.role} {self.ref.name}"
        provider = self.ref.provider
        if not self.listed and not self.publishes:
            return f"{where}: not checked (provider {provider} publishes no model list)"
        if not self.listed:
            return f"{where}: not checked (the model list of provider {provider} could not be read)"
        if self.info is None:
            hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
            return f"{where}: not in the model list of provider {provider}{hint}"
        info = self.info
        facts = []
        if info.context_length:
            facts.append(f"{info.context_length:,} tokens of context")
        if info.prompt_usd is not None and info.completion_usd is not None:
            facts.append(
                f"${info.prompt_usd * 1e6:.2f} in / ${info.completion_usd * 1e6:.2f} out "
                "per million tokens"
            )
        if info.supported_parameters is not None and not info.supports("temperature"):
            facts.append("takes no temperature")
        return f"{where}: listed" + (f" ({', '.join(facts)})" if facts else "")


async def check_models(settings: Settings, catalogs: Catalogs) -> list[ModelCheck]:
    """Every chat model of the pool and the judge, checked against its provider's list."""
    refs = [("pool", ref) for ref in settings.fusion.pool] + [("judge", settings.fusion.judge)]
    checks = []
    for role, ref in refs:
        if ref.is_tool:
            continue
        provider = settings.providers[ref.provider]
        catalog, info = await catalogs.lookup(provider, ref.model)
        if catalog is None:
            checks.append(ModelCheck(role, ref, False, publishes=Catalogs.publishes(provider)))
            continue
        suggestion = catalog.suggest(ref.model) if info is None else None
        checks.append(ModelCheck(role, ref, True, info, suggestion))
    return checks


async def unusable_models(
    settings: Settings, runtime: Runtime, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Each chat model of the pool that cannot be asked now, and why; nothing is sent."""
    reviewers = Reviewers(settings, runtime, env)
    refs = [ref for ref in settings.fusion.pool if not ref.is_tool]
    problems = await asyncio.gather(*(reviewers.get(ref).unavailable() for ref in refs))
    return {ref.name: problem for ref, problem in zip(refs, problems, strict=True) if problem}


def stored_suggestion(provider: ProviderSettings, model: str) -> str | None:
    """The listed id closest to `model`, from the provider's list as last kept on disk (no
    request: settings load without waiting on the network); the `suggest` of `load_settings`."""
    catalog = stored_catalog(cache_dir(), provider)
    return catalog.suggest(model) if catalog else None
