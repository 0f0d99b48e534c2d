"""Model ids checked for shape when settings load, so `gpt4` or `claude sonnet` is an error on
its line of the file, not a failure of every review.

Only what is certain without a request is checked: an id never contains whitespace, and on
OpenRouter it is always `vendor/model` (https://openrouter.ai/docs/api-reference/list-available-models:
every id in the list has the vendor prefix). Whether the model exists is `config check`'s
question (`reviewers/model_check.py`), which asks the provider's list. The "did you mean" comes
from that list when a copy is on disk (the adapters pass `suggest`, since config does not read
the reviewers' files), else from the usual vendor of the model's family.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fusion_ls.config.settings import ModelRef, ProviderSettings, Settings
from fusion_ls.config.toml_lines import Loc

__all__ = ["Suggest", "model_id_problems"]

Suggest = Callable[[ProviderSettings, str], "str | None"]
"""The listed id closest to a wrong one, from a provider's model list; None if unknown."""

_VENDORS = {
    "gpt": "openai", "o1": "openai", "o3": "openai", "o4": "openai", "chatgpt": "openai",
    "claude": "anthropic", "gemini": "google", "gemma": "google", "llama": "meta-llama",
    "mistral": "mistralai", "codestral": "mistralai", "devstral": "mistralai",
    "deepseek": "deepseek", "qwen": "qwen", "grok": "x-ai",
}  # fmt: skip
"""The vendor prefix OpenRouter lists each family under."""
_FAMILY = re.compile(r"[a-z]+\d?")


def _guess(model: str, openrouter: bool) -> str | None:
    """`claude sonnet` → `anthropic/claude-sonnet`, `gpt4o` → `openai/gpt-4o`: the id's shape
    repaired, the vendor taken from the family's name."""
    guess = "-".join(model.lower().split())
    guess = re.sub(r"^(gpt)(\d)", r"\1-\2", guess)
    if openrouter and "/" not in guess:
        family = _FAMILY.match(guess)
        name = family.group() if family else ""
        vendor = _VENDORS.get(name) or _VENDORS.get(name.rstrip("0123456789"))
        if vendor is None:
            return None
        guess = f"{vendor}/{guess}"
    return guess if guess != model else None


def _problem(ref: ModelRef, provider: ProviderSettings, suggest: Suggest | None) -> str | None:
    openrouter = provider.resolved_kind == "openrouter"
    if any(c.isspace() for c in ref.model):
        why = "a model id has no spaces"
    elif openrouter and "/" not in ref.model:
        why = 'an OpenRouter model id is "vendor/model", as https://openrouter.ai/models lists it'
    else:
        return None
    close = (suggest(provider, ref.model) if suggest else None) or _guess(ref.model, openrouter)
    hint = f"; did you mean {close!r}?" if close else ""
    return f"{ref.model!r} is not a model id of provider {ref.provider!r}: {why}{hint}"


def model_id_problems(settings: Settings, suggest: Suggest | None = None) -> list[tuple[Loc, str]]:
    """Each pool entry or judge whose id cannot be right, with where it is set and why."""
    fusion = settings.fusion
    refs: list[tuple[Loc, ModelRef]] = [
        *((("fusion", "pool", index), ref) for index, ref in enumerate(fusion.pool)),
        (("fusion", "judge"), fusion.judge),
    ]
    found = []
    for loc, ref in refs:
        if ref.is_tool or ref.provider not in settings.providers:
            continue
        problem = _problem(ref, settings.providers[ref.provider], suggest)
        if problem is not None:
            found.append((loc, problem))
    return found
