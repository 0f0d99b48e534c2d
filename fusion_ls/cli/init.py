"""`fusion-ls init`: a commented starter `.fusion.toml`, so the first review needs no reading.

Its values come from the settings' own defaults and the mode and analyzer registries, so the
file never names a mode or a model the code no longer has. If Ollama or LM Studio answers on
its default port on this machine (a short GET of its model list), the file also defines that
server as provider `local`; with no OpenRouter key set, its models become the pool, so a review
works at once and no code leaves the machine. A project file's providers count only once
trusted, so `init` trusts the file it has just written (its content is ours, not a
repository's). An existing file is never overwritten.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from fusion_ls.config.settings import KNOWN_TOOLS, FusionSettings, ReviewSettings, Settings
from fusion_ls.config.trust import trust_file
from fusion_ls.engine.fusion.modes import MODES
from fusion_ls.errors import UsageError
from fusion_ls.reviewers.http import make_http_client

__all__ = ["LOCAL_SERVERS", "Found", "LocalServer", "detect_local", "init_command", "starter"]

PROBE_TIMEOUT_S = 0.3
"""A server on this machine answers its model list in milliseconds; nothing there, at once."""
PORTS_ENV = "_FUSION_LS_INIT_PORTS"
"""Test seam: comma-separated ports replacing the default ones of `LOCAL_SERVERS`, in order."""
_POOL_SIZE = 3


@dataclass(frozen=True)
class LocalServer:
    """An OpenAI-compatible server people run on their own machine, where it listens by default."""

    name: str
    port: int
    lists: tuple[str, ...]
    """Paths that list its models, tried in order."""

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


LOCAL_SERVERS = (
    # https://github.com/ollama/ollama/blob/main/docs/openai.md (and its native /api/tags)
    LocalServer("Ollama", 11434, ("/v1/models", "/api/tags")),
    # https://lmstudio.ai/docs/app/api/endpoints/openai
    LocalServer("LM Studio", 1234, ("/v1/models",)),
)


@dataclass(frozen=True)
class Found:
    """A local server that answered, and the models it lists."""

    server: LocalServer
    models: tuple[str, ...]


def _model_ids(body: Any) -> tuple[str, ...]:
    """Ids from `{"data": [{"id": …}]}` (OpenAI) or `{"models": [{"name": …}]}` (Ollama)."""
    if not isinstance(body, dict):
        return ()
    entries = body.get("data") or body.get("models") or []
    found = (e.get("id") or e.get("name") for e in entries if isinstance(e, dict))
    return tuple(ident for ident in found if isinstance(ident, str) and ident)


async def _probe(http: httpx.AsyncClient, server: LocalServer) -> Found | None:
    for path in server.lists:
        try:
            response = await http.get(f"{server.origin}{path}", timeout=PROBE_TIMEOUT_S)
            if response.is_success:
                return Found(server, _model_ids(response.json()))
        except (httpx.HTTPError, ValueError):
            continue
    return None


async def detect_local(servers: Sequence[LocalServer] = LOCAL_SERVERS) -> Found | None:
    """The first of `servers` that answers with its model list, all asked at once."""
    async with make_http_client() as http:
        answers = await asyncio.gather(*(_probe(http, server) for server in servers))
    return next((found for found in answers if found is not None), None)


def servers_for(env: Mapping[str, str]) -> tuple[LocalServer, ...]:
    ports = [p.strip() for p in env.get(PORTS_ENV, "").split(",") if p.strip()]
    if not ports:
        return LOCAL_SERVERS
    return tuple(replace(s, port=int(p)) for s, p in zip(LOCAL_SERVERS, ports, strict=False))


def _toml(value: object) -> str:
    return json.dumps(value)  # a JSON string or array of strings is valid TOML


def _pool_lines(found: Found | None, key_set: bool) -> list[str]:
    defaults = FusionSettings()
    cloud = [ref.model for ref in defaults.pool]
    cloud_lines = [
        "# Models on OpenRouter (ids as listed at https://openrouter.ai/models); they need",
        "# OPENROUTER_API_KEY in your environment.",
        f"pool = {_toml(cloud)}",
        f"judge = {_toml(defaults.judge.model)}",
    ]
    if found is None or not found.models:
        return cloud_lines
    local = [f'{{ model = {_toml(m)}, provider = "local" }}' for m in found.models[:_POOL_SIZE]]
    local_lines = [
        f"# Models {found.server.name} serves on this machine: no key, no code leaves it.",
        f"pool = [{', '.join(local)}]",
        f"judge = {local[0]}",
    ]
    chosen, other = (cloud_lines, local_lines) if key_set else (local_lines, cloud_lines)
    return [
        *chosen,
        "# Or:",
        *(f"# {line}" if not line.startswith("#") else line for line in other),
    ]


def starter(found: Found | None, key_set: bool) -> str:
    """The file's text: every value commented, the local provider block when one answered."""
    modes = "\n".join(f'#   "{name}": {mode.description}' for name, mode in MODES.items())
    tools = ", ".join(f'"tool:{name}"' for name in sorted(KNOWN_TOOLS))
    review = ReviewSettings()
    limits = Settings().limits
    lines = [
        "# fusion-ls settings for this project. Precedence: built-in defaults < your user config",
        "# < this file < command-line flags. Check it with `fusion-ls config check`.",
        "",
        "[fusion]",
        "# How the pool's answers become one set of findings:",
        modes,
        f"mode = {_toml(FusionSettings().mode)}",
        "# The models that review, each on its own, and the one that fuses their answers.",
        *_pool_lines(found, key_set),
        f"# Local analyzers join the pool like a model, e.g. pool = [..., {tools}].",
        "",
        "[review]",
        "# The noise dial: findings fewer models raised are demoted to hints",
        '# ("majority", or a number of models). `review --fix` applies only fixes at or above it.',
        f"min_agreement = {_toml(review.min_agreement)}",
        "# What your team cares about, sent with every review:",
        '# instructions = "We care about correctness and security first."',
        "# Files never sent to a model (besides .fusionignore):",
        'exclude = ["**/.env*", "secrets/**"]',
        "",
        "# [limits]  # a project file may only lower your own",
        f"# max_cost_usd = {limits.max_cost_usd}  # per day",
    ]
    if found is not None:
        lines += [
            "",
            f"# {found.server.name}, found answering at {found.server.origin}.",
            "[providers.local]",
            f'base_url = "{found.server.origin}/v1"',
        ]
    return "\n".join(lines) + "\n"


def init_command(folder: Path, env: Mapping[str, str], quiet: bool) -> int:
    """Write `folder/.fusion.toml`; refuse (UsageError, exit 2) when one is already there."""
    target = folder / ".fusion.toml"
    if target.exists():
        raise UsageError(
            f"{target} already exists; edit it, or remove it and run `fusion-ls init` again"
        )
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a directory")
    found = asyncio.run(detect_local(servers_for(env)))
    key_set = bool(env.get("OPENROUTER_API_KEY", "").strip())
    try:
        with open(target, "x", encoding="utf-8") as out:
            out.write(starter(found, key_set))
    except FileExistsError:
        raise UsageError(f"{target} appeared while init ran; it was left as it is") from None
    if found is not None:
        trust_file(target)  # its provider is one this machine runs, written by us
    if not quiet:
        _say(target, found, key_set)
    return 0


def _say(target: Path, found: Found | None, key_set: bool) -> None:
    print(f"wrote {target}")
    if found is not None:
        models = f"{len(found.models)} models" if found.models else "no models yet"
        print(f"found {found.server.name} at {found.server.origin} ({models}): provider `local`")
        print("trusted the file so its provider counts; editing it revokes trust")
    if not key_set and (found is None or not found.models):
        print("set OPENROUTER_API_KEY (https://openrouter.ai/keys) for the models in the pool")
    print("next: `fusion-ls config check`, then `fusion-ls review FILE`")
