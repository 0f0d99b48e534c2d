"""Keys are bound to the origin the user gave them: no project file can move one.

A trusted project may add providers and point models at them, but a key named in user config
(or the built-in default) goes only to the origin (scheme, host, port) that user config gives
its provider, with the kind and headers user config gives it. A project that redefines that
provider's `base_url` to another origin, switches its `kind` or changes its headers keeps its
models and its URL, and loses the key: this is the pattern of a 2026 CVE in an AI coding tool,
where a repository's config redirected the base URL and the key followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from fusion_ls.config.settings import ProviderSettings, Settings

__all__ = ["bind_keys", "origin"]


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _moved(mine: ProviderSettings | None, theirs: ProviderSettings) -> str | None:
    """What the project changed that a key must not follow, or None."""
    if mine is None or mine.api_key_env != theirs.api_key_env:
        return "your user config names no key for this provider"
    if origin(mine.base_url) != origin(theirs.base_url):
        scheme, host, port = origin(mine.base_url)
        return (
            f"its base_url is not the origin your user config gives it ({scheme}://{host}:{port})"
        )
    if mine.resolved_kind != theirs.resolved_kind:
        return f"its kind is not the one your user config gives it ({mine.resolved_kind})"
    if mine.headers != theirs.headers:
        return "its headers are not the ones your user config gives it"
    return None


def bind_keys(
    effective: Settings, user_level: Mapping[str, ProviderSettings]
) -> tuple[Settings, dict[str, str]]:
    """`effective` with the key dropped from every provider a project moved, and why, by name.

    `user_level` are the providers as built-in defaults and user config give them.
    """
    providers = dict(effective.providers)
    dropped: dict[str, str] = {}
    for name, provider in effective.providers.items():
        if provider.api_key_env is None:
            continue
        why = _moved(user_level.get(name), provider)
        if why is not None:
            providers[name] = provider.model_copy(update={"api_key_env": None})
            dropped[name] = (
                f"no API key is sent to {provider.base_url}: {why}; a project file may point "
                "models at another server, never a key"
            )
    if not dropped:
        return effective, {}
    return effective.model_copy(update={"providers": providers}), dropped
