"""What leaves the machine: secrets replaced by placeholders, invisible characters made visible.

Both keep every line where it was (a PEM block becomes as many placeholder lines as it had), so
line numbers in prompts, findings and the editor still agree.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PLACEHOLDER_PREFIX", "Redacted", "Redaction", "make_visible", "redact"]

PLACEHOLDER_PREFIX = "[REDACTED:"

_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("openrouter-key", re.compile(r"sk-or-v1-[A-Za-z0-9]{20,}")),
    ("anthropic-key", re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}")),
    ("openai-key", re.compile(r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("slack-webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+")),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_ASSIGNED = re.compile(
    r"""(?ix)
    (?P<name>[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key
        |private[_-]?key|client[_-]?secret|auth)[a-z0-9_.-]*)
    (?P<sep>["']?\s*(?::=|=|:)\s*)
    (?P<quote>["'`])(?P<value>[^"'`\n]{8,})(?P=quote)
    """
)
_NOT_A_SECRET = re.compile(
    r"[A-Z][A-Z0-9_]*"  # the name of an environment variable, not its value
    r"|.*\s.*"  # prose
    r"|.*\[REDACTED:.*"  # already replaced
)
_SUSPECT = re.compile(
    r"sk-|A(?:KIA|SIA|GPA|IDA|ROA|Iza)|gh[pousr]_|github_pat_|xox[abposr]-|hooks\.slack\.com|eyJ"
    r"|(?i:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|auth)"
)
"""Something every pattern above needs: a line without it has nothing to redact (one search
instead of ten substitutions per line)."""
_MIN_ENTROPY = 3.0  # bits per character; "changeme123" has about 3.3, a random key over 4

# Bidirectional controls and zero-width characters: they can make code read differently to a
# person than to a model ("Trojan Source"), so models see them spelled out.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class Redaction:
    kind: str
    line: int


@dataclass(frozen=True)
class Redacted:
    lines: tuple[str, ...]
    redactions: tuple[Redaction, ...]


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _placeholder(kind: str) -> str:
    return f"{PLACEHOLDER_PREFIX}{kind}]"


def _redact_line(line: str, number: int, found: list[Redaction]) -> str:
    if not _SUSPECT.search(line):
        return line
    for kind, pattern in _TOKENS:
        line, count = pattern.subn(_placeholder(kind), line)
        found += [Redaction(kind, number)] * count

    def assigned(match: re.Match[str]) -> str:
        value = match["value"]
        if _NOT_A_SECRET.fullmatch(value) or _entropy(value) < _MIN_ENTROPY:
            return match[0]
        found.append(Redaction("assigned-secret", number))
        quote = match["quote"]
        return f"{match['name']}{match['sep']}{quote}{_placeholder('assigned-secret')}{quote}"

    return _ASSIGNED.sub(assigned, line)


def _inside_pem(lines: Sequence[str], index: int) -> bool:
    """Whether line `index` (0-based) falls inside a private key block opened above it."""
    for line in reversed(lines[:index]):
        if "PRIVATE KEY" in line:
            if _PEM_END.search(line):
                return False
            if _PEM_BEGIN.search(line):
                return True
    return False


def redact(lines: Sequence[str], first: int = 1, last: int | None = None) -> Redacted:
    """Secrets on lines `first..last` (1-based; all by default) replaced by `[REDACTED:kind]`.

    Every line keeps its place; lines outside the span are returned as they are, since they
    are not sent. A private key block that starts above the span is still recognised.
    """
    last = len(lines) if last is None else min(last, len(lines))
    found: list[Redaction] = []
    out = list(lines)
    in_pem = _inside_pem(lines, first - 1)
    for number in range(first, last + 1):
        line = lines[number - 1]
        if in_pem or _PEM_BEGIN.search(line):
            if not in_pem:
                found.append(Redaction("private-key", number))
            in_pem = not _PEM_END.search(line)
            out[number - 1] = _placeholder("private-key")
            continue
        out[number - 1] = _redact_line(line, number, found)
    return Redacted(tuple(out), tuple(found))


def make_visible(text: str) -> str:
    """Invisible and bidirectional control characters written out as `<U+202E>`."""
    return _INVISIBLE.sub(lambda match: f"<U+{ord(match[0]):04X}>", text)
