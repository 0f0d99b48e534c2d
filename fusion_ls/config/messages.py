"""Config messages: a pydantic error, or a key path, as the short sentence a person reads.

Pydantic's wording names Python types and internal models; a person edits TOML, so every
message here says what the value must be, in TOML terms, and every key is written as dotted
TOML. Kept apart from loading so the wording can be read and changed on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from pydantic_core import ErrorDetails

from fusion_ls.config.toml_lines import BARE_KEY, Loc

__all__ = ["dotted", "error_message", "key_in_message", "number", "shown"]


def dotted(loc: Loc) -> str:
    """("fusion", "pool", 1, "model") → "fusion.pool[1].model"; odd keys quoted as in TOML."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if re.fullmatch(BARE_KEY, part) else json.dumps(part)
            text += f".{key}" if text else key
    return text


_KEY_IN_MESSAGE_RE = re.compile(
    r"(?P<key>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+): (?P<rest>.*)", re.S
)


def key_in_message(message: str) -> tuple[Loc, str]:
    """Model validators have no loc; ours start their message with the key ("fusion.pool: …")."""
    if match := _KEY_IN_MESSAGE_RE.fullmatch(message):
        return tuple(match["key"].split(".")), match["rest"]
    return (), message


_EXPECTED_TYPES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "an array",
    "dict_type": "a table",
}
_BOUNDS = {
    "greater_than": ("a number greater than", "gt"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("a number less than", "lt"),
    "less_than_equal": ("at most", "le"),
}
_ITEM_NOUNS = {"pool": ("model", "models"), "exclude": ("pattern", "patterns")}
_MODEL_REF_FORMS = 'a model id like "vendor/model" or a table like { model = "…", provider = "…" }'


def shown(value: object) -> str:
    """A value as a person wrote it in TOML, short enough for one line."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def number(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _count(amount: int, nouns: tuple[str, str]) -> str:
    return f"one {nouns[0]}" if amount == 1 else f"{amount} {nouns[1]}"


def _not_one_of(error: ErrorDetails) -> str:
    choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
    return f"{error['input']!r} is not one of " + ", ".join(f'"{choice}"' for choice in choices)


def _missing(error: ErrorDetails) -> str:
    return f"required key {error['loc'][-1]!r} is missing; add it"


def _wrong_table(error: ErrorDetails) -> str:
    is_ref = error.get("ctx", {}).get("class_name") == "ModelRef"
    return f"must be {_MODEL_REF_FORMS if is_ref else 'a table'} (got {shown(error['input'])})"


def _list_length(error: ErrorDetails) -> str:
    ctx = error.get("ctx", {})
    nouns = _ITEM_NOUNS.get(str(error["loc"][-1]), ("entry", "entries"))
    if error["type"] == "too_short":
        return f"must list at least {_count(ctx['min_length'], nouns)}"
    return f"must list at most {_count(ctx['max_length'], nouns)}"


def _short_string(error: ErrorDetails) -> str:
    least = error.get("ctx", {}).get("min_length", 1)
    return "must not be empty" if least == 1 else f"must be at least {least} characters long"


def _value_error(error: ErrorDetails) -> str:
    return error["msg"].removeprefix("Value error, ")


_MESSAGES: dict[str, Callable[[ErrorDetails], str]] = {
    "literal_error": _not_one_of,
    "missing": _missing,
    "model_type": _wrong_table,
    "too_short": _list_length,
    "too_long": _list_length,
    "string_too_short": _short_string,
    "value_error": _value_error,
}


def error_message(error: ErrorDetails) -> str:
    """Pydantic's message rewritten as a short sentence saying what the value must be."""
    kind = error["type"]
    got = f" (got {shown(error['input'])})"
    if kind in _MESSAGES:
        return _MESSAGES[kind](error)
    if kind in _EXPECTED_TYPES:
        return f"must be {_EXPECTED_TYPES[kind]}{got}"
    if kind in _BOUNDS:
        words, bound = _BOUNDS[kind]
        return f"must be {words} {number(error.get('ctx', {})[bound])}{got}"
    return error["msg"].replace("Input should be", "must be")
