"""A dry run of a review's CPU path, so the first review after start-up is as fast as later ones.

A fresh process pays once for what Python does lazily on first use: regular expressions compiled
on first call, pydantic's and the matcher's first runs. The language server calls `rehearse()`
after `initialize`, while nobody waits; nothing is sent anywhere and nothing is kept.
"""

from __future__ import annotations

from fusion_ls.engine.anchoring import SentText, anchor_all, split_lines
from fusion_ls.engine.answers import parse_review
from fusion_ls.engine.fusion.consensus import cluster, consensus
from fusion_ls.engine.postprocess import postprocess
from fusion_ls.engine.prompts import CodeExcerpt, review_messages
from fusion_ls.engine.redact import redact
from fusion_ls.findings import Finding, LineRange, Scope

__all__ = ["rehearse"]

_CODE = 'def mean(values):\n    total = sum(values)\n    return total / len(values)\nTOKEN = "x"\n'
_ANSWER = (
    '{"findings": [{"line_start": 3, "line_end": 3, "quote": "return total / len(values)", '
    '"severity": "error", "category": "bug", "message": "Division by zero when values is empty", '
    '"rationale": "len([]) is 0", "fix": null}], "summary": "one bug"}'
)


def rehearse() -> list[Finding]:
    """Prepare, parse, anchor, cluster and post-process a canned review; returns its findings."""
    lines = split_lines(_CODE)
    scope = Scope.of([LineRange(start=1, end=len(lines))])
    sent = list(redact(lines, 1, len(lines)).lines)
    excerpt = CodeExcerpt.around("rehearsal.py", "python", sent, scope, context_lines=0)
    review_messages(excerpt, "")
    answer = parse_review(_ANSWER, salvage=False)
    kept = anchor_all(answer.findings, SentText(lines=sent, reviewed=scope)).kept
    answers = {"a": kept, "b": kept}
    found = consensus("rehearsal.py", cluster(answers), 2)
    return postprocess(found, scope, answers).findings
