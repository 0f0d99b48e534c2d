"""Whether two findings, from different models, are about the same issue.

Two reviewers rarely phrase one issue alike: measured on real reviews, two comments about the
same issue share a median 20% of their words, so word overlap finds few of them. What they do
share is the place and the few words that say what is wrong there (the identifier, "injection",
"divide"). So a match needs both:

- **the same place**: line ranges that overlap within `SLACK` lines, or one quote containing
  the other;
- **similar content**: the cosine of TF-IDF vectors over the message, the rationale and the
  identifiers of the quote and the fix, with IDF taken over the review's own findings, so words
  every finding uses ("line", "value") count little and the distinctive ones count most.

A shared category adds `CATEGORY_BONUS`; it never makes a match alone. Local analyzers are the
exception to content: their messages are terse rule texts, so two findings that both name an
analyzer `rule` are the same issue exactly when they name the same rule at the same place (the
rules are made comparable across analyzers in `reviewers/tools/rules.py`). A model's finding
has no rule and is compared by content, with an analyzer's as with another model's. Everything
is computed from the findings only, in a fixed order, so the result is deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from fusion_ls.findings import ProposedFinding

__all__ = ["CATEGORY_BONUS", "SAME_ISSUE", "SLACK", "Matcher", "same_place"]

SAME_ISSUE = 0.2
"""The least score of two findings about one issue (measured on the labelled pairs in
tests/fixtures/matching_pairs.json; see BENCHMARKS.md)."""
CATEGORY_BONUS = 0.05
CODE_WEIGHT = 0.3
"""How much an identifier of the quote or fix counts against a word of the message: findings
on one line share its quote, so at full weight the line alone would look like agreement."""
SLACK = 1
"""Lines two ranges may be apart and still be the same place."""

_WORD = re.compile(r"[a-z0-9_]+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_STOPWORDS = frozenset(
    (  # noqa: SIM905 - a list of words reads best as words
        "a an the is are was were be been being to of in on at for and or if it its this that "
        "these those with by from as not no but so than then there here when which what who can "
        "could may might will would should does do did has have had into out up down over only "
        "also just very more most any all each every some such same other "
        # what reviewers say of any issue, which tells no two issues apart
        "use using used consider possibly potential potentially instead avoid ensure make sure "
        "need needs like likely issue problem cause causes lead leads"
    ).split()
)
_SUFFIXES = ("ing", "ed", "es", "s")


def _stem(word: str) -> str:
    """A light stemmer: `divides`, `divided`, `dividing` → `divid`; short words as they are."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _words(text: str) -> list[str]:
    """Content words, stemmed; a snake_case name also as its parts (`literal_eval` → eval)."""
    found: list[str] = []
    for word in _WORD.findall(text.lower()):
        parts = [p for p in word.split("_") if p] if "_" in word else []
        found += [w for w in (word, *parts) if w not in _STOPWORDS and len(w) > 1]
    return [_stem(w) for w in found]


def _identifiers(code: str) -> list[str]:
    """Identifiers in code, and their parts: `per_page` → per_page, per, page; `userId` → …"""
    found: list[str] = []
    for name in _IDENTIFIER.findall(code):
        lowered = name.lower()
        parts = [p.lower() for p in re.split(r"_+", _CAMEL.sub("_", name)) if p]
        found += [lowered, *(_stem(p) for p in parts if len(parts) > 1 and len(p) > 1)]
    return [w for w in found if w not in _STOPWORDS]


def _texts(finding: ProposedFinding) -> tuple[str, str]:
    """What a finding says, and the code it cites."""
    code = finding.quote + (f" {finding.fix.replacement}" if finding.fix else "")
    return f"{finding.message} {finding.rationale}", code


@lru_cache(maxsize=4096)
def _counted(text: str, code: str) -> tuple[tuple[str, float], ...]:
    """Cached: one review scores each finding against many (provisional results, clusters,
    statements), and splitting words is most of a score's cost."""
    counts: dict[str, float] = dict(Counter(_words(text)))
    for name in _identifiers(code):
        counts[name] = counts.get(name, 0.0) + CODE_WEIGHT
    return tuple(counts.items())


def terms(finding: ProposedFinding) -> dict[str, float]:
    """The words a finding is made of, each with its count (code identifiers weigh less)."""
    return dict(_counted(*_texts(finding)))


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def same_place(a: ProposedFinding, b: ProposedFinding) -> bool:
    """Overlapping lines within `SLACK`, or one quote inside the other."""
    if a.line_start <= b.line_end + SLACK and b.line_start <= a.line_end + SLACK:
        return True
    left, right = _squeezed(a.quote), _squeezed(b.quote)
    return len(min(left, right, key=len)) >= 8 and (left in right or right in left)


@dataclass(frozen=True)
class Matcher:
    """Scores findings against each other with one IDF, taken over a review's findings."""

    idf: Mapping[str, float]
    _vectors: dict[tuple[str, str], dict[str, float]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def over(cls, findings: Iterable[ProposedFinding]) -> Matcher:
        """IDF over `findings`, smoothed: log((1 + N) / (1 + df)) + 1."""
        documents = [set(terms(f)) for f in findings]
        frequency = Counter(term for document in documents for term in document)
        count = len(documents)
        return cls({t: math.log((1 + count) / (1 + df)) + 1 for t, df in frequency.items()})

    def _vector(self, finding: ProposedFinding) -> dict[str, float]:
        key = _texts(finding)
        vector = self._vectors.get(key)
        if vector is None:
            unseen = math.log(1 + len(self.idf)) + 1  # a term of neither review: rare, weighty
            # Sublinear term frequency: a word said five times is not five times the evidence.
            vector = self._vectors[key] = {
                t: (1 + math.log(n) if n >= 1 else n) * self.idf.get(t, unseen)
                for t, n in _counted(*key)
            }
        return vector

    def content(self, a: ProposedFinding, b: ProposedFinding) -> float:
        """Cosine of the two findings' TF-IDF vectors, 0 to 1."""
        left, right = self._vector(a), self._vector(b)
        dot = sum(weight * right.get(term, 0.0) for term, weight in left.items())
        norms = math.sqrt(sum(w * w for w in left.values())) * math.sqrt(
            sum(w * w for w in right.values())
        )
        return dot / norms if norms else 0.0

    def score(self, a: ProposedFinding, b: ProposedFinding) -> float | None:
        """How alike two findings are; None when they are not at the same place, or are two
        analyzers' reports of different rules."""
        if not same_place(a, b):
            return None
        if a.rule is not None and b.rule is not None:
            return 1.0 + CATEGORY_BONUS if a.rule == b.rule else None
        bonus = CATEGORY_BONUS if a.category == b.category else 0.0
        return self.content(a, b) + bonus

    def same(self, a: ProposedFinding, b: ProposedFinding, least: float = SAME_ISSUE) -> bool:
        score = self.score(a, b)
        return score is not None and score >= least
