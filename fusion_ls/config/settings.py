"""Resolved, validated settings: what the engine runs with (loading lives in config.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pathspec import GitIgnoreSpec
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from fusion_ls.config.endpoints import check_base_url
from fusion_ls.findings import Category, Mode

__all__ = [
    "DEFAULT_PROVIDER",
    "KNOWN_TOOLS",
    "TOOL_PROVIDER",
    "FusionSettings",
    "LimitSettings",
    "MinAgreement",
    "Mode",
    "ModelRef",
    "PathRule",
    "ProviderSettings",
    "ReviewSettings",
    "Settings",
]

DEFAULT_PROVIDER = "openrouter"
TOOL_PROVIDER = "tool"
KNOWN_TOOLS = frozenset({"ruff", "bandit", "mypy", "shellcheck", "oxlint", "govet"})
"""Local analyzers a pool may name as `tool:NAME` (their adapters live in reviewers/tools/)."""
OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"


class _Strict(BaseModel):
    """Unknown keys are errors here; config.py turns them into warnings and drops them."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelRef(_Strict):
    """A model on a provider. Written in TOML as `"vendor/model"` or `{model=…, provider=…}`."""

    model: str = Field(min_length=1)
    provider: str = DEFAULT_PROVIDER

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("tool:"):
                return {"model": value.removeprefix("tool:"), "provider": TOOL_PROVIDER}
            return {"model": value}
        return value

    @model_validator(mode="after")
    def _known_tool(self) -> ModelRef:
        if self.is_tool and self.model not in KNOWN_TOOLS:
            known = ", ".join(f"tool:{name}" for name in sorted(KNOWN_TOOLS))
            raise ValueError(f"'tool:{self.model}' is not a known analyzer; known: {known}")
        return self

    @property
    def is_tool(self) -> bool:
        return self.provider == TOOL_PROVIDER

    @property
    def name(self) -> str:
        """How results and logs name this model: the bare id on the default provider."""
        if self.provider == DEFAULT_PROVIDER:
            return self.model
        if self.is_tool:
            return f"tool:{self.model}"
        return f"{self.model}@{self.provider}"


class FusionSettings(_Strict):
    mode: Mode = "merge"
    pool: list[ModelRef] = Field(
        default_factory=lambda: [
            ModelRef(model="anthropic/claude-sonnet-4.5"),
            ModelRef(model="google/gemini-2.5-pro"),
            ModelRef(model="openai/gpt-4o"),
        ],
        min_length=1,
        max_length=26,  # reviewers are labelled A to Z for the judge
    )
    judge: ModelRef = ModelRef(model="openai/gpt-5-mini")
    rounds: int = Field(2, ge=1, le=5)
    quorum: int = Field(2, ge=1)
    straggler_grace_s: float = Field(5.0, ge=0)
    provisional: bool = True
    judge_on_agreement: bool = False
    timeout_s: float = Field(90.0, gt=0)
    max_tokens: int = Field(2000, ge=64)
    reasoning_tokens: int = Field(6000, ge=0)
    """Added to the token limit of a model that thinks before it answers (gpt-5, o-series,
    Gemini 2.5, DeepSeek-R1): its reasoning comes out of the same limit as its answer."""
    temperature: float = Field(0.2, ge=0, le=2)

    @field_validator("pool")
    @classmethod
    def _distinct(cls, pool: list[ModelRef]) -> list[ModelRef]:
        names = [ref.name for ref in pool]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"each model may appear once in the pool; repeated: {repeated}")
        return pool


class ProviderSettings(_Strict):
    """An OpenAI-compatible endpoint. `kind` decides which request rules apply (see
    `reviewers/model_rules.py`): OpenRouter's, OpenAI's own API's, or a generic server's."""

    base_url: str
    api_key_env: str | None = None
    kind: Literal["openrouter", "openai", "compatible"] | None = None
    structured_output: bool | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    stream: bool = False
    max_retries: int = Field(2, ge=0, le=5)

    @field_validator("base_url")
    @classmethod
    def _allowed_url(cls, url: str) -> str:
        return check_base_url(url)

    @property
    def resolved_kind(self) -> Literal["openrouter", "openai", "compatible"]:
        """The kind named in the config, else the one the host says (api.openai.com: openai)."""
        if self.kind is not None:
            return self.kind
        host = urlsplit(self.base_url).hostname or ""
        if host == "openrouter.ai" or host.endswith(".openrouter.ai"):
            return "openrouter"
        return "openai" if host == "api.openai.com" else "compatible"

    def can_be_asked(self, env: Mapping[str, str]) -> bool:
        """Needs no key, or its key variable is set: otherwise it is never contacted."""
        return self.api_key_env is None or bool(env.get(self.api_key_env, "").strip())

    @property
    def uses_structured_output(self) -> bool:
        """json_schema response_format: on by default where the API documents it (OpenRouter,
        per model; OpenAI's own API). Local servers differ by version and build (some llama.cpp
        builds answer 400, Ollama honours schemas only since 0.5), so they opt in."""
        if self.structured_output is not None:
            return self.structured_output
        return self.resolved_kind in ("openrouter", "openai")


MinAgreement = Annotated[int, Field(ge=1)] | Literal["majority"]


def _inside_the_project(path: str) -> str:
    """A path a project file names must stay in the project: a cloned repository's
    `.fusion.toml` must not make a review send `~/.ssh/id_rsa` as a rule file, nor a
    dismissal write its baseline over `~/.docker/config.json`."""
    parts = path.replace("\\", "/").split("/")
    if path.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", path) or ".." in parts:
        raise ValueError(f"{path!r} must be a path inside the project, relative to its root")
    return path


ProjectPath = Annotated[str, AfterValidator(_inside_the_project)]


class PathRule(_Strict):
    """`[[review.paths]]`: what changes for files under `glob` (gitignore syntax, relative to
    the project root, as `exclude`). The first rule that matches a file wins."""

    glob: str = Field(min_length=1)
    instructions: str = ""
    """Added to `review.instructions` for these files."""
    exclude_categories: list[Category] = Field(default_factory=list)
    min_agreement: MinAgreement | None = None
    mode: Mode | None = None

    @field_validator("glob")
    @classmethod
    def _posix_glob(cls, glob: str) -> str:
        """`./tests/**` (as other tools write it) is the root's tests folder, `/tests/**` in
        gitignore syntax; a Windows path would match nothing, silently."""
        if "\\" in glob:
            raise ValueError(f"{glob!r}: write paths with '/', also on Windows")
        return "/" + glob.removeprefix("./") if glob.startswith("./") else glob

    def matches(self, relative: str) -> bool:
        return GitIgnoreSpec.from_lines([self.glob]).match_file(relative)


class ReviewSettings(_Strict):
    instructions: str = ""
    context_lines: int = Field(30, ge=0, le=2000)
    exclude: list[str] = Field(default_factory=list)
    min_agreement: MinAgreement = "majority"
    """The noise dial: findings fewer models raised are demoted or hidden (`below_agreement`).
    "majority": more than half of the models that answered."""
    below_agreement: Literal["demote", "hide"] = "demote"
    """demote: shown as hints, marked; hide: not shown, only counted."""
    max_concurrency: int = Field(4, ge=1, le=32)
    """Files reviewed at once by a multi-file or diff review."""
    near_changes: int = Field(0, ge=0, le=200)
    """A diff review also reviews (and shows findings on) this many lines around each hunk."""
    diff_context_lines: int = Field(8, ge=0, le=2000)
    """Context around each changed hunk of a diff review, instead of `context_lines`: the
    enclosing definition's header is sent besides, so a few lines suffice (pr-agent sends 3
    before and 1 after, and stretches to the enclosing function up to 8 lines above)."""
    exclude_categories: list[Category] = Field(default_factory=list)
    """Findings of these categories are never shown."""
    paths: list[PathRule] = Field(default_factory=list)
    rule_files: list[ProjectPath] | None = None
    """The team's rule files sent as conventions, relative to the project root; None: the
    known files (AGENTS.md, CLAUDE.md, …) nearest the reviewed file."""
    baseline: ProjectPath = ".fusion-baseline.json"
    """Findings recorded here (relative to the project root) are not shown again."""
    report_unused_suppressions: bool = False
    """A whole-file review reports `fusion: ignore` comments that suppressed nothing."""
    dismiss_with: Literal["baseline", "comment"] = "baseline"
    """What the editor's "dismiss" writes: an entry in the baseline, or a `fusion: ignore`."""

    def for_path(self, relative: str) -> tuple[ReviewSettings, Mode | None]:
        """These settings as the first `[[review.paths]]` rule matching `relative` changes
        them, and the mode that rule asks for (None: no rule, or it keeps the mode)."""
        rule = next((r for r in self.paths if r.matches(relative)), None)
        if rule is None:
            return self, None
        joined = "\n\n".join(t for t in (self.instructions.strip(), rule.instructions.strip()) if t)
        changed = self.model_copy(
            update={
                "instructions": joined,
                "exclude_categories": [*self.exclude_categories, *rule.exclude_categories],
                "min_agreement": rule.min_agreement or self.min_agreement,
            }
        )
        return changed, rule.mode

    on_save: bool = False
    """Editor: review the changed hunks of a file when it is saved (opt-in: it spends tokens)."""
    on_save_debounce_ms: int = Field(1500, ge=0, le=60000)
    """Wait this long after a save for the next; longer than editors' auto-save delay (VS Code:
    1 s) so that a review starts when the typing stops, not at every pause."""


class LimitSettings(_Strict):
    max_input_tokens: int = Field(20000, ge=1)
    max_cost_usd: float = Field(5.0, ge=0)
    max_response_mb: float = Field(4.0, gt=0)
    """A provider's response larger than this fails that model (an answer is a few KB)."""


def _default_providers() -> dict[str, ProviderSettings]:
    return {
        DEFAULT_PROVIDER: ProviderSettings(
            base_url=OPENROUTER_BASE_URL, api_key_env="OPENROUTER_API_KEY"
        )
    }


class Settings(_Strict):
    fusion: FusionSettings = Field(default_factory=FusionSettings)
    providers: dict[str, ProviderSettings] = Field(default_factory=_default_providers)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)

    def providers_used(self) -> list[ProviderSettings]:
        """The provider of each chat model in the pool and of the judge, once per model."""
        refs = [*self.fusion.pool, self.fusion.judge]
        return [self.providers[ref.provider] for ref in refs if not ref.is_tool]

    @model_validator(mode="after")
    def _known_providers(self) -> Settings:
        if self.fusion.judge.is_tool:
            raise ValueError(
                "fusion.judge: a local analyzer cannot judge; name a model, e.g. "
                '"openai/gpt-5-mini"'
            )
        for where, ref in [("pool", r) for r in self.fusion.pool] + [("judge", self.fusion.judge)]:
            if ref.provider not in self.providers and not ref.is_tool:
                known = ", ".join(sorted(self.providers))
                raise ValueError(
                    f"fusion.{where}: {ref.model!r} names provider {ref.provider!r}, which is not "
                    f"defined; add a [providers.{ref.provider}] table or use one of: {known}"
                )
        return self
