"""Turn a model's raw text into a validated answer, tolerating the ways models wrap JSON.

Models put JSON in code fences, after a sentence of prose, or after a `<think>` block; some
get one finding's types wrong while the rest are fine. Extraction finds the object, pydantic
validates it, and `InvalidAnswer` says what was wrong in words a repair prompt can quote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from fusion_ls.findings import (
    BestOfVerdict,
    ExplainAnswer,
    JudgedFinding,
    ProposedFinding,
)
from fusion_ls.reviewers.base import InvalidAnswer

__all__ = [
    "InvalidAnswer",
    "ParsedReview",
    "extract_json",
    "parse_explanation",
    "parse_judged_review",
    "parse_review",
    "parse_verdict",
]

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n(.*?)```", re.DOTALL)
_LEADING_THINK = re.compile(r"^\s*<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_MAX_OBJECT_STARTS = 200  # bounds the scan on hostile or huge text

F = TypeVar("F", bound=ProposedFinding)
M = TypeVar("M", bound=BaseModel)


def _decode_object(candidate: str) -> dict[str, Any] | None:
    """`candidate` as one JSON object, or None."""
    try:
        value = json.loads(candidate)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _scan_objects(text: str) -> Iterator[dict[str, Any]]:
    """Every JSON object that starts at some `{` in the text, in order."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    tries = 0
    while start != -1 and tries < _MAX_OBJECT_STARTS:
        tries += 1
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            yield value
            start = text.find("{", end)
        else:
            start = text.find("{", start + 1)


def _candidates(text: str) -> Iterator[dict[str, Any]]:
    """JSON objects in order of how likely each is the answer: all, fenced, then in prose."""
    whole = _decode_object(text)
    if whole is not None:
        yield whole
    for block in _FENCE.findall(text):
        fenced = _decode_object(block.strip())
        if fenced is not None:
            yield fenced
    yield from _scan_objects(text)


def extract_json(text: str, key: str | None = None) -> dict[str, Any]:
    """The answer object in `text`: the first one holding `key`, else the first one at all.

    Looks at the whole text, then fenced blocks, then any `{…}` in prose; a leading
    `<think>…</think>` block (reasoning models) is skipped.
    """
    stripped = _LEADING_THINK.sub("", text, count=1).strip()
    if not stripped:
        raise InvalidAnswer("the answer was empty")
    first: dict[str, Any] | None = None
    for candidate in _candidates(stripped):
        if key is None or key in candidate:
            return candidate
        first = first if first is not None else candidate
    if first is None:
        raise InvalidAnswer("no JSON object was found in the answer")
    return first


def _explain_errors(error: ValidationError, prefix: str = "") -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"])
        parts.append(f"{prefix}{where}: {item['msg']}" if where or prefix else item["msg"])
    return "; ".join(parts)


def _validate(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidAnswer(_explain_errors(error)) from None


@dataclass(frozen=True)
class ParsedReview(Generic[F]):
    """A review answer's valid findings, and how many findings were unusable and skipped."""

    findings: list[F]
    summary: str
    skipped: int


def _parse_findings(text: str, finding: type[F], *, salvage: bool) -> ParsedReview[F]:
    data = extract_json(text, "findings")
    raw = data.get("findings")
    if not isinstance(raw, list):
        raise InvalidAnswer('the object must have a "findings" array')
    summary = data.get("summary")
    good: list[F] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        try:
            good.append(finding.model_validate(item))
        except ValidationError as error:
            problems.append(_explain_errors(error, prefix=f"findings.{index}."))
    if problems and not salvage:
        raise InvalidAnswer("; ".join(problems[:3]))
    return ParsedReview(
        findings=good,
        summary=summary if isinstance(summary, str) else "",
        skipped=len(problems),
    )


def parse_review(text: str, *, salvage: bool = False) -> ParsedReview[ProposedFinding]:
    """A pool model's review. With `salvage`, bad findings are skipped instead of failing it all."""
    return _parse_findings(text, ProposedFinding, salvage=salvage)


def parse_judged_review(text: str, *, salvage: bool = False) -> ParsedReview[JudgedFinding]:
    """The judge's merged review: findings that also name their `supporters`."""
    return _parse_findings(text, JudgedFinding, salvage=salvage)


def parse_verdict(text: str) -> BestOfVerdict:
    return _validate(BestOfVerdict, extract_json(text, "winner"))


def parse_explanation(text: str) -> ExplainAnswer:
    return _validate(ExplainAnswer, extract_json(text, "explanation"))
