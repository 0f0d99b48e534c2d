"""SARIF 2.1.0 for a review, so CI can upload it to GitHub code scanning or any SARIF viewer.

Only what SARIF defines is written outside property bags; what SARIF has no place for (who
agreed, the fusion mode, tokens and cost) goes in `properties`. Lines are 1-based, as SARIF's are.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fusion_ls.cli.report import first_column, models_answered
from fusion_ls.findings import (
    CATEGORIES,
    Category,
    Finding,
    Fix,
    FusedReview,
    ModelRun,
    Severity,
    Usage,
)
from fusion_ls.version import __version__

__all__ = ["SCHEMA_URI", "artifact_uri", "to_sarif"]

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/fusion-ls/fusion-ls"
FINGERPRINT = "fusionFindingId/v1"  # versioned: a new id scheme gets a new key, not new values

# SARIF has three result levels; info and hint both become "note".
LEVELS: dict[Severity, str] = {
    "error": "error",
    "warning": "warning",
    "info": "note",
    "hint": "note",
}

# A rule per category. Every result states its own level; the rule's default level is only what
# a viewer shows for the rule itself, so it is the usual weight of the category.
RULES: dict[Category, tuple[str, str, str]] = {
    "bug": ("Bug", "Code that does not do what it evidently means to do.", "error"),
    "security": (
        "Security issue",
        "Code an attacker could exploit, or that leaks secrets.",
        "error",
    ),
    "performance": ("Performance problem", "Work that is needlessly slow or wasteful.", "warning"),
    "correctness": ("Correctness issue", "Code that is wrong for some inputs or states.", "error"),
    "maintainability": ("Maintainability issue", "Code that is hard to read or change.", "note"),
    "style": ("Style issue", "Code that departs from the language's conventions.", "note"),
}


def artifact_uri(path: Path, root: Path) -> str:
    """`path` as a URI reference relative to `root` (forward slashes, percent-encoded).

    GitHub resolves relative URIs against the checkout (`%SRCROOT%`), so CI runs from the
    repository root. A file outside `root` gets an absolute `file:` URI instead. Symlinks are
    not resolved: the path the user named is the one the repository has.
    """
    absolute = Path(os.path.abspath(path))
    try:
        relative = absolute.relative_to(os.path.abspath(root))
    except ValueError:
        return absolute.as_uri()
    return quote(relative.as_posix())


def _rule(category: Category) -> dict[str, Any]:
    short, full, level = RULES[category]
    return {
        "id": category,
        "name": category.capitalize(),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "defaultConfiguration": {"level": level},
        "properties": {"tags": [category]},  # `tags` is SARIF's own property; GitHub filters on it
    }


def _deleted_region(fix: Fix, lines: Sequence[str]) -> tuple[dict[str, int], str]:
    """The fix's whole lines as a SARIF region, and the text that replaces them.

    As the LSP quick fix does: the region ends at column 1 of the line after the fix, so the
    newline goes too and the inserted text brings its own. On the file's last line, which may have
    no newline, the region ends after the line's last character (`endColumn` is exclusive) and
    the text has no newline. Both are plain line/column regions the schema allows; GitHub code
    scanning accepts `fixes` but does not show them, SARIF viewers apply them.
    """
    start, end = fix.line_start, fix.line_end
    if end < len(lines):
        region = {"startLine": start, "startColumn": 1, "endLine": end + 1, "endColumn": 1}
        return region, fix.replacement + "\n"
    last = lines[end - 1] if 0 < end <= len(lines) else ""
    region = {"startLine": start, "startColumn": 1, "endLine": end, "endColumn": len(last) + 1}
    return region, fix.replacement


def _fix(fix: Fix, lines: Sequence[str], location: dict[str, str]) -> dict[str, Any]:
    region, inserted = _deleted_region(fix, lines)
    span = (
        f"line {fix.line_start}"
        if fix.line_start == fix.line_end
        else f"lines {fix.line_start}-{fix.line_end}"
    )
    return {
        "description": {"text": f"Replace {span} with the suggested code"},
        "artifactChanges": [
            {
                "artifactLocation": location,
                "replacements": [{"deletedRegion": region, "insertedContent": {"text": inserted}}],
            }
        ],
    }


def _result(finding: Finding, lines: Sequence[str], location: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.category,
        "ruleIndex": CATEGORIES.index(finding.category),
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.message} ({finding.agreement_label()})"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": {
                        "startLine": finding.line_start,
                        "startColumn": first_column(lines, finding.line_start),
                        "endLine": finding.line_end,
                    },
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT: finding.id},
        "properties": {
            "agreement": finding.agreement,
            "models": finding.models,
            "failed": finding.failed,
            "rationale": finding.rationale,
        },
    }
    if finding.demoted_from is not None:
        result["properties"]["demotedFrom"] = finding.demoted_from
    if finding.fix is not None:
        result["fixes"] = [_fix(finding.fix, lines, location)]
    return result


def _model(run: ModelRun) -> dict[str, Any]:
    model: dict[str, Any] = {"model": run.model, "status": run.status}
    if run.error:
        model["error"] = run.error
    return model


def _usage(usage: Usage) -> dict[str, Any]:
    totals: dict[str, Any] = {
        "promptTokens": usage.prompt_tokens,
        "completionTokens": usage.completion_tokens,
        "totalTokens": usage.total_tokens,
    }
    if usage.cost_usd is not None:
        totals["costUsd"] = usage.cost_usd
    return totals


def _invocation(review: FusedReview, require_models: bool) -> dict[str, Any]:
    """Did the run work: false when no model answered, with a notification per model that failed.

    A skipped judge (nothing to judge) is not a failure. Failures are errors when they left
    nothing to report, warnings when other models answered. With `require_models` (CI), local
    analyzers answering alone is not success: a fork's pull request with no key must not pass.
    """
    answered = models_answered(review.models, analyzers_count=not require_models)
    runs = [*review.models, *([review.judge] if review.judge else [])]
    notifications = [
        {
            "level": "warning" if answered else "error",
            "message": {
                "text": f"{run.model}: {run.status}" + (f": {run.error}" if run.error else "")
            },
            "properties": {"model": run.model, "status": run.status},
        }
        for run in runs
        if run.status not in ("ok", "skipped")
    ]
    if require_models and not answered:
        notifications.append(
            {
                "level": "error",
                "message": {"text": "no model answered; only local analyzers ran"},
                "properties": {"status": "no-model"},
            }
        )
    invocation: dict[str, Any] = {"executionSuccessful": answered}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _tool() -> dict[str, Any]:
    return {
        "driver": {
            "name": "fusion-ls",
            "version": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [_rule(category) for category in CATEGORIES],
        }
    }


def to_sarif(
    review: FusedReview,
    lines: Sequence[str],
    *,
    artifact_uri: str,
    require_models: bool = False,
) -> dict[str, Any]:
    """One SARIF log with one run for `review` of the file whose lines are `lines`.

    `artifact_uri` is the file's URI: relative ones (see `artifact_uri()`) are resolved against
    `%SRCROOT%`, the checkout on GitHub. Columns count code points, as Python strings do, and the
    run says so (`columnKind`), so a viewer does not read them as UTF-16 units.
    """
    location = {"uri": artifact_uri}
    if not urlsplit(artifact_uri).scheme:
        location["uriBaseId"] = "%SRCROOT%"
    properties: dict[str, Any] = {
        "mode": review.mode,
        "summary": review.summary,
        "lines": {"start": review.lines.start, "end": review.lines.end},
        "models": [_model(run) for run in review.models],
        "degraded": review.degraded,
        "dropped": review.dropped,
        "outside": review.outside,
        "redacted": review.redacted,
        "usage": _usage(review.usage),
    }
    if review.judge is not None:
        properties["judge"] = _model(review.judge)
    if review.degraded_reason:
        properties["degradedReason"] = review.degraded_reason
    run = {
        "tool": _tool(),
        "invocations": [_invocation(review, require_models)],
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, lines, location) for finding in review.findings],
        "properties": properties,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def to_sarif_many(
    reviews: Sequence[tuple[FusedReview, Sequence[str], str]],
    *,
    require_models: bool = False,
    failures: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """One SARIF log, one run, for several files: every file's results, one invocation that
    succeeded only if every file's did and no file's review failed (`failures`: its URI and
    why), and each file's properties under `properties.files`. A notification several files
    share (no key) is said once."""
    logs = [
        to_sarif(review, lines, artifact_uri=uri, require_models=require_models)
        for review, lines, uri in reviews
    ]
    runs = [log["runs"][0] for log in logs]
    merged: dict[str, Any] = {
        "tool": _tool(),
        "columnKind": "unicodeCodePoints",
        "results": [r for run in runs for r in run["results"]],
    }
    invocations = [run["invocations"][0] for run in runs]
    notifications = [n for i in invocations for n in i.get("toolExecutionNotifications", [])]
    notifications += [_failure(uri, why) for uri, why in failures]
    invocation: dict[str, Any] = {
        "executionSuccessful": all(i["executionSuccessful"] for i in invocations) and not failures
    }
    if notifications:
        unique = {json.dumps(n, sort_keys=True): n for n in notifications}
        invocation["toolExecutionNotifications"] = list(unique.values())
    merged["invocations"] = [invocation]
    uris = [uri for _, _, uri in reviews]
    merged["properties"] = {
        "files": [{"uri": uri, **run["properties"]} for uri, run in zip(uris, runs, strict=True)]
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [merged]}


def _failure(uri: str, why: str) -> dict[str, Any]:
    """A file that was not reviewed, as an error notification located at it."""
    location = {"uri": uri}
    if not urlsplit(uri).scheme:
        location["uriBaseId"] = "%SRCROOT%"
    return {
        "level": "error",
        "message": {"text": why},
        "locations": [{"physicalLocation": {"artifactLocation": location}}],
        "properties": {"status": "not-reviewed"},
    }
