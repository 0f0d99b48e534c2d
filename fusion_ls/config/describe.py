"""Describing settings: the effective settings as `fusion-ls config check` prints them.

A person checks where each value came from and which keys are in use, so keys are named by
their variable and masked in URLs, never printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from fusion_ls.config.loading import LoadedSettings
from fusion_ls.config.locations import environ
from fusion_ls.config.messages import number, shown
from fusion_ls.config.settings import ProviderSettings, Settings

__all__ = ["describe_settings"]


def _masked_url(url: str) -> str:
    """Credentials written into a URL (`https://user:token@host`) are a key too."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _describe_provider(name: str, provider: ProviderSettings, env: Mapping[str, str]) -> str:
    """Names the key's variable and whether it is set, never its value."""
    if provider.api_key_env is None:
        key = "no API key"
    else:
        state = "set" if env.get(provider.api_key_env) else "not set"
        key = f"key from ${provider.api_key_env} ({state})"
    line = f"  {name}: {_masked_url(provider.base_url)}, kind {provider.resolved_kind}, {key}"
    if provider.headers:
        line += f", headers: {', '.join(sorted(provider.headers))}"
    return line


def _no_model_can_be_asked(settings: Settings, env: Mapping[str, str]) -> str | None:
    """Why no model of the pool and judge can be asked (each one's provider needs a key that is
    not set), or None. Reviews then fall back to the local analyzers, so it is worth a warning
    wherever settings are checked (`config check`, the editors' health checks)."""
    used = settings.providers_used()
    if not used or any(provider.can_be_asked(env) for provider in used):
        return None
    keys = ", ".join(sorted({f"${p.api_key_env}" for p in used if p.api_key_env}))
    return (
        f"no model can be asked: {keys} not set and no model on a keyless (local) provider; "
        "reviews use local analyzers only. Export the key, or add a local model to fusion.pool"
    )


def describe_settings(loaded: LoadedSettings, env: Mapping[str, str] | None = None) -> str:
    """The effective settings as `fusion-ls config check` prints them (keys masked)."""
    env = environ(env)
    settings = loaded.settings
    fusion, review, limits = settings.fusion, settings.review, settings.limits
    sources = ", ".join(str(path) for path in loaded.sources) or "built-in defaults only"
    lines = [
        f"sources (lowest precedence first): {sources}",
        "fusion:",
        f"  mode: {fusion.mode}",
        f"  pool: {', '.join(ref.name for ref in fusion.pool)}",
        f"  judge: {fusion.judge.name}",
        f"  rounds: {fusion.rounds}, quorum: {fusion.quorum}",
        f"  timeout_s: {number(fusion.timeout_s)}, "
        f"straggler_grace_s: {number(fusion.straggler_grace_s)}",
        f"  max_tokens: {fusion.max_tokens}, reasoning_tokens: {fusion.reasoning_tokens}, "
        f"temperature: {fusion.temperature}",
        f"  provisional: {shown(fusion.provisional)}, "
        f"judge_on_agreement: {shown(fusion.judge_on_agreement)}",
        "review:",
        f"  instructions: {shown(review.instructions) if review.instructions else '(none)'}",
        f"  context_lines: {review.context_lines}",
        f"  exclude: {', '.join(review.exclude) or '(none)'}",
        "limits:",
        f"  max_input_tokens: {limits.max_input_tokens}",
        f"  max_cost_usd: {number(limits.max_cost_usd)}, "
        f"max_response_mb: {number(limits.max_response_mb)}",
        "providers:",
        *(_describe_provider(name, p, env) for name, p in sorted(settings.providers.items())),
    ]
    unusable = _no_model_can_be_asked(settings, env)
    warnings = [*map(str, loaded.warnings), *([unusable] if unusable else [])]
    if warnings:
        lines += ["warnings:", *(f"  {warning}" for warning in warnings)]
    return "\n".join(lines)
