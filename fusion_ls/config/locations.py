"""Where settings live: the user config directory, the nearest `.fusion.toml`, reading them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from fusion_ls.errors import ConfigError, ConfigIssue

__all__ = [
    "PROJECT_FILE",
    "USER_FILE",
    "config_file_error",
    "environ",
    "find_project_file",
    "read_config_bytes",
    "user_config_dir",
    "user_config_path",
    "xdg_dir",
]

PROJECT_FILE = ".fusion.toml"
USER_FILE = "config.toml"


def environ(env: Mapping[str, str] | None) -> Mapping[str, str]:
    """An explicit env lets callers (and tests) keep away from the real home directory."""
    return os.environ if env is None else env


def xdg_dir(variable: str, fallback: str, env: Mapping[str, str] | None = None) -> Path:
    """`$variable/fusion-ls`, else `~/fallback/fusion-ls`; a relative XDG path is ignored, as
    the XDG base directory spec asks."""
    env = environ(env)
    xdg = env.get(variable, "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "fusion-ls"
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / fallback / "fusion-ls"


def user_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/fusion-ls`, else `~/.config/fusion-ls`."""
    return xdg_dir("XDG_CONFIG_HOME", ".config", env)


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The user-level config file: the only place a project file cannot override providers from."""
    return user_config_dir(env) / USER_FILE


def find_project_file(start: Path, root: Path | None = None) -> Path | None:
    """The nearest `.fusion.toml` walking up from `start` (a file or a directory).

    The walk stops after `root` (the workspace root, inclusive); a `root` that is not an ancestor
    of `start` does not limit it, so a file opened from outside the workspace still finds its own.
    """
    here = start.resolve()
    directory = here if here.is_dir() else here.parent
    stop = root.resolve() if root is not None else None
    for folder in (directory, *directory.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
        if folder == stop:
            break
    return None


def config_file_error(path: Path, message: str, line: int | None = None) -> ConfigError:
    return ConfigError([ConfigIssue(path, line, "", message)])


def read_config_bytes(path: Path) -> bytes:
    """The file's bytes, or a ConfigError that says what to do about it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise config_file_error(path, "no such file; check the path") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise config_file_error(
            path, f"cannot read the file ({reason}); check its permissions"
        ) from None
