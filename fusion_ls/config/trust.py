"""Trust in project files: which `.fusion.toml` files the user allowed to define providers.

The store maps the absolute path the user trusted to the SHA-256 of the content they trusted, so
editing the file revokes trust, like direnv's `allow`. A symlinked `.fusion.toml` is trusted by
its own path, not its target's, so another repository linking the same file does not inherit
the trust; and a link whose target lies outside the link's repository is not trusted at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from fusion_ls.config.locations import config_file_error, read_config_bytes, user_config_dir

__all__ = [
    "file_digest",
    "is_trusted",
    "is_trusted_content",
    "trust_file",
    "trusted_files",
    "untrust_file",
]

TRUST_STORE = "trusted.json"


def _trust_store(env: Mapping[str, str] | None) -> Path:
    return user_config_dir(env) / TRUST_STORE


def _trust_key(path: Path | str) -> str:
    """One spelling per path, so `./.fusion.toml` and its absolute path share one entry; a
    link is not followed (its own path is what the user trusted)."""
    return os.path.abspath(path)


def _refuse_links_out(path: Path) -> None:
    """A project file that is a link to somewhere outside its own folder's tree is code from
    elsewhere; trusting it would trust whatever else links there."""
    if not path.is_symlink():
        return
    target, home = path.resolve(), path.parent.resolve()
    if home not in target.parents:
        raise config_file_error(
            path,
            f"it is a link to {target}, outside this repository; fusion-ls does not trust a "
            "project file that lives elsewhere: copy it into the repository and trust the copy",
        )


def file_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def trusted_files(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Absolute path → sha256 of the trusted content. A missing or corrupt store trusts nothing,
    which is the safe reading."""
    try:
        raw = json.loads(_trust_store(env).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {key: value for key, value in raw.items() if isinstance(value, str)}


def is_trusted_content(path: Path | str, digest: str, env: Mapping[str, str] | None = None) -> bool:
    """True when `digest` is the content the user trusted for this path."""
    return trusted_files(env).get(_trust_key(path)) == digest


def is_trusted(path: Path | str, env: Mapping[str, str] | None = None) -> bool:
    """Trusted iff the recorded hash matches the file as it is now: editing revokes trust."""
    try:
        content = Path(path).read_bytes()
    except OSError:
        return False
    return is_trusted_content(path, file_digest(content), env)


def trust_file(path: Path | str, env: Mapping[str, str] | None = None) -> str:
    """Record the file's current content as trusted; returns its sha256.

    Raises ConfigError when the file cannot be read, so the CLI reports it like any config issue.
    """
    key = _trust_key(path)
    _refuse_links_out(Path(key))
    digest = file_digest(read_config_bytes(Path(key)))
    store = trusted_files(env)
    store[key] = digest
    _write_json_atomically(_trust_store(env), store)
    return digest


def untrust_file(path: Path | str, env: Mapping[str, str] | None = None) -> bool:
    """Forget the file; returns whether it was recorded at all."""
    store = trusted_files(env)
    if store.pop(_trust_key(path), None) is None:
        return False
    _write_json_atomically(_trust_store(env), store)
    return True


def _write_json_atomically(path: Path, data: Mapping[str, str]) -> None:
    """Temp file in the same directory + os.replace: a crash never leaves a half-written store."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
