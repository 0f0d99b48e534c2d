"""Which base URLs may receive code and keys.

Plain `http://` only reaches this machine or a private network (a local Ollama, a vLLM box on
the LAN); anything else needs TLS. Link-local addresses (cloud metadata services live there),
URLs with credentials in them and non-HTTP schemes are refused outright.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["check_base_url"]

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def _local_name(host: str) -> bool:
    """localhost, a single-label name (a container or LAN host), or a local-only suffix."""
    return host == "localhost" or "." not in host or host.endswith(_LOCAL_SUFFIXES)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_base_url(url: str) -> str:
    """The URL without a trailing slash, or ValueError saying why it may not be used."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL like 'https://openrouter.ai/api/v1'")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "a base_url must not carry credentials (user:password@); put the key in an "
            "environment variable and name it with api_key_env"
        )
    host = parts.hostname.lower()
    address = _address(host)
    if address is not None and address.is_link_local:
        raise ValueError(f"{host} is a link-local address (e.g. a cloud metadata service); refused")
    if parts.scheme == "http":
        private = address is not None and (address.is_loopback or address.is_private)
        if not (private or (address is None and _local_name(host))):
            raise ValueError(
                f"plain http:// is only allowed for this machine or a private network; "
                f"use https://{parts.netloc}{parts.path}"
            )
    return url.rstrip("/")
