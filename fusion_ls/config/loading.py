"""Loading settings: user config + nearest `.fusion.toml` + overrides → validated Settings; trust.

Raw TOML dicts are merged first and validated once, so a field set in any file is checked in
the context of all the others. Every issue is traced back to the file, line and dotted key
that caused it, because a person fixes a file, not a pydantic error.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any, TypeGuard, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from fusion_ls.config.keys import bind_keys
from fusion_ls.config.locations import (
    config_file_error,
    environ,
    find_project_file,
    read_config_bytes,
    user_config_path,
)
from fusion_ls.config.messages import dotted, error_message, key_in_message
from fusion_ls.config.model_ids import Suggest, model_id_problems
from fusion_ls.config.settings import LimitSettings, Settings
from fusion_ls.config.toml_lines import KeyLines, Loc, tomllib
from fusion_ls.config.trust import file_digest, is_trusted_content
from fusion_ls.errors import ConfigError, ConfigIssue

__all__ = ["LoadedSettings", "load_settings"]


# --- reading one file -------------------------------------------------------------------------


@dataclass(frozen=True)
class _ConfigFile:
    """One parsed file, with what trust and error locating need to know about it."""

    path: Path
    digest: str
    data: dict[str, Any]
    locator: KeyLines


def _read_config(path: Path) -> _ConfigFile:
    """Read, decode (UTF-8, a BOM tolerated) and parse one TOML file."""
    content = read_config_bytes(path)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise config_file_error(
            path, "the file is not UTF-8 text; save it as UTF-8", line
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_issue(path, text, str(exc))]) from None
    return _ConfigFile(path, file_digest(content), data, KeyLines(text))


_TOML_POSITION_RE = re.compile(r"\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$")
_TOML_AT_END = " (at end of document)"


def _syntax_issue(path: Path, text: str, error: str) -> ConfigIssue:
    """tomllib only reports the position inside its message; lift the line out of it."""
    if match := _TOML_POSITION_RE.search(error):
        line: int | None = int(match["line"])
        detail = f"{error[: match.start()]} (column {match['column']})"
    elif error.endswith(_TOML_AT_END):
        line = text.rstrip("\n").count("\n") + 1
        detail = f"{error.removesuffix(_TOML_AT_END)} (at the end of the file)"
    else:
        line, detail = None, error
    return ConfigIssue(path, line, "", f"invalid TOML: {detail}; fix the syntax there")


def _read_each(paths: Sequence[Path | None]) -> list[_ConfigFile | None]:
    """Read every file before failing, so a broken user config and a broken project file are
    reported together."""
    files: list[_ConfigFile | None] = []
    issues: list[ConfigIssue] = []
    for path in paths:
        try:
            files.append(None if path is None else _read_config(path))
        except ConfigError as exc:
            issues.extend(exc.issues)
    if issues:
        raise ConfigError(issues)
    return files


# --- what a project file may contribute -------------------------------------------------------


def _without_untrusted_providers(
    project: _ConfigFile, env: Mapping[str, str], workspace_trusted: bool
) -> tuple[dict[str, Any], list[ConfigIssue]]:
    """An untrusted file's `providers` would send code (and maybe a key) to a URL the
    repository's author chose, so they are dropped before merging. An editor that has not
    trusted the workspace (VS Code's Restricted Mode) overrules `fusion-ls trust`."""
    trusted = workspace_trusted and is_trusted_content(project.path, project.digest, env)
    if "providers" not in project.data or trusted:
        return project.data, []
    data = {key: value for key, value in project.data.items() if key != "providers"}
    message = (
        "providers in this project file are ignored until you trust it: "
        f"run `fusion-ls trust {shlex.quote(str(project.path))}`"
        if workspace_trusted
        else "providers in this project file are ignored: the editor has not trusted this workspace"
    )
    line = project.locator.line_of(("providers",))
    return data, [ConfigIssue(project.path, line, "providers", message, "warning")]


def _without_key_variables(
    project: _ConfigFile, data: dict[str, Any], env: Mapping[str, str]
) -> tuple[dict[str, Any], list[ConfigIssue]]:
    """Keys are only read from variables the user config (or the built-in default) names, so even
    a trusted project cannot point its base_url at, say, `$GITHUB_TOKEN`."""
    providers = data.get("providers")
    if not isinstance(providers, dict):
        return data, []
    kept: dict[str, Any] = {}
    issues: list[ConfigIssue] = []
    for name, table in providers.items():
        if isinstance(table, dict) and "api_key_env" in table:
            loc = ("providers", name, "api_key_env")
            message = (
                "ignored: only your user config may name the variable an API key is read from; "
                f"set it under [providers.{name}] in {user_config_path(env)}"
            )
            issues.append(
                ConfigIssue(
                    project.path, project.locator.line_of(loc), dotted(loc), message, "warning"
                )
            )
            table = {key: value for key, value in table.items() if key != "api_key_env"}
        kept[name] = table
    return {**data, "providers": kept}, issues


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _user_limits(user: _ConfigFile | None) -> Mapping[str, Any]:
    limits = user.data.get("limits") if user is not None else None
    return limits if isinstance(limits, dict) else {}


def _limit_ceiling(name: str, user: Mapping[str, Any]) -> object:
    """The user's value for a limit, else the built-in default (None for an unknown limit)."""
    if name in user:
        return user[name]
    field = LimitSettings.model_fields.get(name)
    return None if field is None else field.default


def _within_user_limits(
    project: _ConfigFile, data: dict[str, Any], user: _ConfigFile | None
) -> tuple[dict[str, Any], list[ConfigIssue]]:
    """A repository may ask for less spending than the user allows, never more: a project limit
    above the user's (or default) value is dropped, leaving min(user, project) in force."""
    limits = data.get("limits")
    if not isinstance(limits, dict):
        return data, []
    user_limits = _user_limits(user)
    kept: dict[str, Any] = {}
    issues: list[ConfigIssue] = []
    for name, value in limits.items():
        ceiling = _limit_ceiling(name, user_limits)
        if _is_number(value) and _is_number(ceiling) and value > ceiling:
            message = (
                f"{value} is ignored: a project file may only lower limits, and yours is {ceiling}"
            )
            line = project.locator.line_of(("limits", name))
            issues.append(ConfigIssue(project.path, line, f"limits.{name}", message, "warning"))
        else:
            kept[name] = value
    return {**data, "limits": kept}, issues


# --- merging and validating -------------------------------------------------------------------


@dataclass(frozen=True)
class _Layer:
    """One contribution to the merged settings and where its keys are written.
    Overrides (CLI flags, editor options) have no file: path and locator are None."""

    path: Path | None
    data: dict[str, Any]
    locator: KeyLines | None


def _deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key, recursively; arrays and scalars from `top` replace."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, Mapping):
            merged[key] = _deep_merge(below if isinstance(below, Mapping) else {}, value)
        else:
            merged[key] = value
    return merged


def _builtin_defaults() -> dict[str, Any]:
    """The built-in providers as raw TOML, so a user's `[providers.local]` adds to them instead of
    replacing the whole `providers` default (the default provider is always defined)."""
    providers = Settings().providers
    return {
        "providers": {name: p.model_dump(exclude_defaults=True) for name, p in providers.items()}
    }


def _validate(
    data: dict[str, Any], layers: Sequence[_Layer]
) -> tuple[Settings | None, list[ConfigIssue]]:
    """Validate the merged data; unknown keys become warnings and are removed, then validate again.

    Returns the settings (None while anything is still invalid) and every issue found.
    """
    warnings: list[ConfigIssue] = []
    while True:
        try:
            return Settings.model_validate(data), warnings
        except ValidationError as exc:
            errors = exc.errors()
        unknown = [error for error in errors if error["type"] == "extra_forbidden"]
        if not unknown:
            return None, [*(_error_issue(error, layers) for error in errors), *warnings]
        for error in unknown:
            warnings.append(_unknown_key_issue(error, layers))
            _delete(data, tuple(error["loc"]))


def _delete(data: Any, loc: Loc) -> None:
    for part in loc[:-1]:
        data = data[part]
    del data[loc[-1]]


# --- locating issues --------------------------------------------------------------------------


def _depth(data: Any, loc: Loc) -> int:
    """How many leading parts of `loc` a layer's raw data contains."""
    for depth, part in enumerate(loc):
        if not _has(data, part):
            return depth
        data = data[part]
    return len(loc)


def _has(data: Any, part: str | int) -> bool:
    if isinstance(data, Mapping):
        return isinstance(part, str) and part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)


def _locate(loc: Loc, layers: Sequence[_Layer]) -> tuple[Path | None, int | None]:
    """The file and line that set `loc`: the layer holding most of it, the highest-precedence
    layer on a tie (its value won the merge). Overrides and unset keys have no line."""
    if not layers:
        return None, None
    _, layer = max(enumerate(layers), key=lambda pair: (_depth(pair[1].data, loc), pair[0]))
    if layer.locator is None or _depth(layer.data, loc) == 0:
        return None, None
    return layer.path, layer.locator.line_of(loc)


def _error_issue(error: ErrorDetails, layers: Sequence[_Layer]) -> ConfigIssue:
    loc: Loc = tuple(error["loc"])
    message = error_message(error)
    if not loc:
        loc, message = key_in_message(message)
    path, line = _locate(loc, layers)
    return ConfigIssue(path, line, dotted(loc), message)


def _is_model(kind: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The settings model that validates the table at `loc`, to name the keys it knows."""
    kind: Any = Settings
    for part in loc:
        if _is_model(kind) and isinstance(part, str):
            field = kind.model_fields.get(part)
            kind = None if field is None else field.annotation
        elif get_origin(kind) in (list, dict):
            kind = get_args(kind)[-1]
        else:
            return None
    return kind if _is_model(kind) else None


def _unknown_key_issue(error: ErrorDetails, layers: Sequence[_Layer]) -> ConfigIssue:
    loc: Loc = tuple(error["loc"])
    name = str(loc[-1])
    message = f"unknown key {name!r} (ignored)"
    model = _model_at(loc[:-1])
    known = list(model.model_fields) if model is not None else []
    if close := difflib.get_close_matches(name, known, n=1):
        message += f"; did you mean {close[0]!r}?"
    path, line = _locate(loc, layers)
    return ConfigIssue(path, line, dotted(loc), message, "warning")


# --- the public entry points ------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedSettings:
    """Validated settings plus what a person needs to trust them: where they came from, and
    what was ignored on the way."""

    settings: Settings
    sources: tuple[Path, ...]
    warnings: tuple[ConfigIssue, ...]


def _project_path(start: Path | None, project_file: Path | None, root: Path | None) -> Path | None:
    """An explicit file (CLI `--config`) replaces discovery; it is made absolute (a link not
    followed) so that trust, which is keyed by the path the user trusted, sees one spelling."""
    if project_file is not None:
        return Path(os.path.abspath(project_file))
    found = find_project_file(start, root) if start is not None else None
    return None if found is None else Path(os.path.abspath(found))


def _project_layer(
    project: _ConfigFile, user: _ConfigFile | None, env: Mapping[str, str], workspace_trusted: bool
) -> tuple[_Layer, list[ConfigIssue]]:
    data, untrusted = _without_untrusted_providers(project, env, workspace_trusted)
    data, key_names = _without_key_variables(project, data, env)
    data, lowered = _within_user_limits(project, data, user)
    return _Layer(project.path, data, project.locator), [*untrusted, *key_names, *lowered]


def load_settings(
    *,
    start: Path | None = None,
    project_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    root: Path | None = None,
    workspace_trusted: bool = True,
    suggest: Suggest | None = None,
) -> LoadedSettings:
    """Build the effective settings: defaults < user config < project file < overrides.

    Raises ConfigError listing every error (and, for context, the warnings found so far), each
    with its file, line and dotted key. `suggest` names the listed model closest to a
    malformed id (see `model_ids.py`).
    """
    env = environ(env)
    user_path = user_config_path(env)
    user, project = _read_each(
        [user_path if user_path.is_file() else None, _project_path(start, project_file, root)]
    )
    layers: list[_Layer] = []
    warnings: list[ConfigIssue] = []
    if user is not None:
        layers.append(_Layer(user.path, user.data, user.locator))
    if project is not None:
        layer, found = _project_layer(project, user, env, workspace_trusted)
        layers.append(layer)
        warnings.extend(found)
    if overrides and layers:
        # The files are checked as written first: a flag must not hide an error in a file.
        _, found = _validate(_merged(layers), layers)
        if any(issue.severity == "error" for issue in found):
            raise ConfigError(_errors_first([*warnings, *found]))
    if overrides:
        layers.append(_Layer(None, _deep_merge({}, overrides), None))
    settings, issues = _validate(_merged(layers), layers)
    issues = [*warnings, *issues]
    if settings is not None:
        issues += _model_id_issues(settings, layers, suggest)
    if settings is None or any(issue.severity == "error" for issue in issues):
        raise ConfigError(_errors_first(issues))
    if project is not None:
        settings, bound = _keys_stay_home(settings, project, user)
        issues.extend(bound)
    sources = tuple(layer.path for layer in layers if layer.path is not None)
    return LoadedSettings(settings, sources, tuple(issues))


def _keys_stay_home(
    settings: Settings, project: _ConfigFile, user: _ConfigFile | None
) -> tuple[Settings, list[ConfigIssue]]:
    """Drop the key of every provider the project moved (see `keys.py`), with a warning."""
    user_layers = [_Layer(user.path, user.data, user.locator)] if user is not None else []
    user_level, _ = _validate(_merged(user_layers), user_layers)
    settings, dropped = bind_keys(settings, user_level.providers if user_level else {})
    issues = [
        ConfigIssue(
            project.path,
            project.locator.line_of(("providers", name)),
            f"providers.{name}",
            message,
            "warning",
        )
        for name, message in dropped.items()
    ]
    return settings, issues


def _model_id_issues(
    settings: Settings, layers: Sequence[_Layer], suggest: Suggest | None
) -> list[ConfigIssue]:
    issues = []
    for loc, message in model_id_problems(settings, suggest):
        path, line = _locate(loc, layers)
        issues.append(ConfigIssue(path, line, dotted(loc), message))
    return issues


def _merged(layers: Sequence[_Layer]) -> dict[str, Any]:
    return copy.deepcopy(reduce(_deep_merge, (layer.data for layer in layers), _builtin_defaults()))


def _errors_first(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    return sorted(issues, key=lambda issue: issue.severity != "error")
