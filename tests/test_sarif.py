"""`fusion-ls review --format sarif`: valid SARIF 2.1.0 that says exactly what the review found.

The CLI runs as a subprocess against the fake model server, and its output is checked against
the official OASIS schema, which lives next to the repository (never copied into it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply
from reviewers import SAMPLE, finding, merging_judge, review

from fusion_ls.cli.sarif import artifact_uri, to_sarif
from fusion_ls.findings import Finding, Fix, FusedReview, LineRange, ModelRun, Usage
from fusion_ls.version import __version__

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "sarif-schema-2.1.0.json"
KEY = "sk-or-v1-test-key-0123456789abcdef"
SAFE_DIV = "    return total / len(values) if values else 0"
F_STRING = '    return f"Hello, {name}"'
DIV = finding(
    5, "return total / len(values)", "Division by zero when values is empty",
    fix={"line_start": 5, "line_end": 5, "replacement": SAFE_DIV}, rationale="len([]) is 0",
)  # fmt: skip
SQLI = finding(
    9, '"SELECT * FROM users WHERE id = " + user_id', "SQL injection via user_id",
    category="security", severity="warning",
)  # fmt: skip
HINT = finding(
    14, '"Hello, " + name', "Use an f-string", severity="hint", category="style",
    fix={"line_start": 14, "line_end": 14, "replacement": F_STRING},
)  # fmt: skip


@pytest.fixture(scope="module")
def validate() -> Any:
    """The official schema's own validator (its `$schema` says which draft), format checks on."""
    if not SCHEMA.is_file():
        pytest.skip(
            f"{SCHEMA} is not next to the repository; it is the official OASIS schema shared "
            "with the developers"
        )
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)

    def check(log: dict[str, Any]) -> None:
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(log)
        ]
        assert errors == []

    return check


@pytest.fixture
def project(tmp_path: Path, fake_openai: FakeOpenAI) -> Path:
    """sample.py under src/, and a user config pointing the default provider at the fake."""
    (tmp_path / "src").mkdir()
    shutil.copy(SAMPLE, tmp_path / "src" / "sample.py")
    config = tmp_path / "xdg" / "fusion-ls" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[providers.openrouter]\nbase_url = "{fake_openai.base_url}"\nkind = "compatible"\n'
        'max_retries = 0\n\n[fusion]\npool = ["alpha", "beta", "gamma"]\njudge = "judge"\n'
    )
    return tmp_path


def sarif(project: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """Exit code and parsed stdout of `fusion-ls review src/sample.py --format sarif ARGS`."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(project),
        "XDG_CONFIG_HOME": str(project / "xdg"),
        "OPENROUTER_API_KEY": KEY,
    }
    command = ["review", "src/sample.py", "--format", "sarif", "--quiet", "--no-cache", *args]
    done = subprocess.run(
        [sys.executable, "-m", "fusion_ls", *command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode in (0, 1, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


def apply_fixes(text: str, result: dict[str, Any]) -> str:
    """Apply a result's fixes as a SARIF consumer does: line/column regions, code point columns."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    edits = []
    for fix in result["fixes"]:
        (change,) = fix["artifactChanges"]
        for replacement in change["replacements"]:
            region = replacement["deletedRegion"]
            start = offset(region["startLine"], region["startColumn"])
            end = offset(region["endLine"], region["endColumn"])
            edits.append((start, end, replacement["insertedContent"]["text"]))
    for start, end, inserted in sorted(edits, reverse=True):
        text = text[:start] + inserted + text[end:]
    return text


def script_pool(fake: FakeOpenAI) -> None:
    fake.script("alpha", Reply(content=review(DIV, SQLI)))
    fake.script("beta", Reply(content=review(SQLI)))
    fake.script("gamma", Reply(content=review(DIV, HINT)))
    fake.script("judge", merging_judge)


def test_findings_with_and_without_fixes(
    project: Path, fake_openai: FakeOpenAI, validate: Any
) -> None:
    script_pool(fake_openai)

    code, log = sarif(project)

    assert code == 0
    validate(log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("fusion-ls", __version__)
    assert driver["informationUri"] == "https://github.com/fusion-ls/fusion-ls"
    rules = [rule["id"] for rule in driver["rules"]]
    assert rules == ["bug", "security", "performance", "correctness", "maintainability", "style"]
    assert all(
        r["shortDescription"]["text"] and r["fullDescription"]["text"] for r in driver["rules"]
    )
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert run["columnKind"] == "unicodeCodePoints"

    location = {"uri": "src/sample.py", "uriBaseId": "%SRCROOT%"}
    below = " · below min_agreement"  # one of three is under the default dial, "majority"
    expected = [
        ("bug", "error", 5, "Division by zero when values is empty", "2/3", ["alpha", "gamma"]),
        ("security", "warning", 9, "SQL injection via user_id", "2/3", ["alpha", "beta"]),
        ("style", "note", 14, "Use an f-string", "1/3", ["gamma"]),
    ]
    for result, (category, level, line, message, agreement, models) in zip(
        run["results"], expected, strict=True
    ):
        assert result["ruleId"] == category
        assert rules[result["ruleIndex"]] == category
        assert result["level"] == level
        mark = below if agreement == "1/3" else ""
        assert result["message"] == {"text": f"{message} ({agreement} models{mark})"}
        assert result["locations"] == [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": {"startLine": line, "startColumn": 5, "endLine": line},
                }
            }
        ]
        finding_id = Finding.make_id("src/sample.py", line, category, message)
        assert result["partialFingerprints"] == {"fusionFindingId/v1": finding_id}
        rationale = "len([]) is 0" if category == "bug" else ""
        demoted = {"demotedFrom": "hint"} if mark else {}
        assert result["properties"] == {
            "agreement": agreement,
            "models": models,
            "failed": 0,
            "rationale": rationale,
            **demoted,
        }
    div, sqli, hint = run["results"]
    assert "fixes" not in sqli
    assert div["fixes"] == [
        {
            "description": {"text": "Replace line 5 with the suggested code"},
            "artifactChanges": [
                {
                    "artifactLocation": location,
                    "replacements": [
                        {
                            "deletedRegion": {
                                "startLine": 5,
                                "startColumn": 1,
                                "endLine": 6,
                                "endColumn": 1,
                            },
                            "insertedContent": {"text": SAFE_DIV + "\n"},
                        }
                    ],
                }
            ],
        }
    ]
    # The last line may have no newline: the region stops at its end and inserts none.
    last = hint["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert last["deletedRegion"] == {
        "startLine": 14,
        "startColumn": 1,
        "endLine": 14,
        "endColumn": 28,
    }
    assert last["insertedContent"] == {"text": F_STRING}

    source = (project / "src" / "sample.py").read_text()
    fixed = apply_fixes(apply_fixes(source, div), hint)
    lines = source.splitlines(keepends=True)
    lines[4], lines[13] = SAFE_DIV + "\n", F_STRING + "\n"
    assert fixed == "".join(lines)


def test_run_properties_say_how_the_review_went(project: Path, fake_openai: FakeOpenAI) -> None:
    script_pool(fake_openai)

    _, log = sarif(project, "--lines", "1-10", "--mode", "merge")

    properties = log["runs"][0]["properties"]
    assert properties["mode"] == "merge"
    assert properties["lines"] == {"start": 1, "end": 10}
    assert properties["summary"] == "merged by the judge"
    assert properties["models"] == [
        {"model": "alpha", "status": "ok"},
        {"model": "beta", "status": "ok"},
        {"model": "gamma", "status": "ok"},
    ]
    assert properties["judge"] == {"model": "judge", "status": "ok"}
    assert properties["degraded"] is False and "degradedReason" not in properties
    usage = properties["usage"]
    assert usage["promptTokens"] > 0
    assert usage["totalTokens"] == usage["promptTokens"] + usage["completionTokens"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in
            log["runs"][0]["results"]] == [5, 9]  # fmt: skip


def test_no_findings(project: Path, fake_openai: FakeOpenAI, validate: Any) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review()))

    code, log = sarif(project, "--fail-on", "hint")

    assert code == 0
    validate(log)
    (run,) = log["runs"]
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert len(run["tool"]["driver"]["rules"]) == 6


def test_a_failed_model_is_a_notification(
    project: Path, fake_openai: FakeOpenAI, validate: Any
) -> None:
    fake_openai.script("alpha", Reply(status=500, error="upstream exploded"))
    fake_openai.script("beta", Reply(content=review(DIV)))
    fake_openai.script("gamma", Reply(content=review(DIV)))
    fake_openai.script("judge", merging_judge)

    code, log = sarif(project)

    assert code == 0
    validate(log)
    (run,) = log["runs"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "warning"
    assert note["message"]["text"].startswith("alpha: error: ")
    assert note["properties"] == {"model": "alpha", "status": "error"}
    assert run["results"][0]["properties"]["agreement"] == "2/2"
    assert {"model": "alpha", "status": "error"}.items() <= run["properties"]["models"][0].items()


def test_no_model_answered_exits_3_with_a_valid_log(
    project: Path, fake_openai: FakeOpenAI, validate: Any
) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(status=401, error="invalid key"))

    code, log = sarif(project, "--fail-on", "error")

    assert code == 3
    validate(log)
    (run,) = log["runs"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert [(n["properties"]["model"], n["level"]) for n in notes] == [
        ("alpha", "error"),
        ("beta", "error"),
        ("gamma", "error"),
    ]
    assert run["results"] == []
    assert KEY not in json.dumps(log)


@pytest.mark.parametrize(
    ("found", "fail_on", "code"),
    [
        (DIV, "error", 1),
        (DIV, None, 0),
        (SQLI, "error", 0),
        (SQLI, "warning", 1),
        (HINT, "info", 0),
        (HINT, "hint", 1),
    ],
)
def test_fail_on_still_sets_the_exit_code(
    project: Path, fake_openai: FakeOpenAI, found: dict[str, Any], fail_on: str | None, code: int
) -> None:
    for model in ("alpha", "beta", "gamma"):
        fake_openai.script(model, Reply(content=review(found)))

    exit_code, log = sarif(project, *(["--fail-on", fail_on] if fail_on else []))

    assert exit_code == code
    assert len(log["runs"][0]["results"]) == 1


def test_explain_has_no_sarif(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fusion_ls", "explain", "src/sample.py", "--format", "sarif"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "invalid choice: 'sarif'" in done.stderr


# -- to_sarif and artifact_uri without the CLI -------------------------------------------


def fused(*findings: Finding, **fields: Any) -> FusedReview:
    return FusedReview(
        path="a.py",
        lines=LineRange(start=1, end=3),
        findings=list(findings),
        summary="",
        mode="best-of",
        models=[ModelRun(model="m", status="ok")],
        judge=None,
        usage=Usage(prompt_tokens=10, completion_tokens=5, cost_usd=0.25),
        elapsed_s=1.0,
        **fields,
    )


def made(severity: Any, line: int = 1, fix: Fix | None = None) -> Finding:
    return Finding(
        id="0123456789ab", line_start=line, line_end=line, quote="x", severity=severity,
        category="bug", message="m", rationale="", fix=fix, models=["m"], answered=1,
    )  # fmt: skip


LINES = ["def f():", "\t  x = 1", "    return x"]


def test_levels_and_columns() -> None:
    review_ = fused(made("error"), made("warning", 2), made("info", 3), made("hint"))
    results = to_sarif(review_, LINES, artifact_uri="a.py")["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note", "note"]
    columns = [r["locations"][0]["physicalLocation"]["region"]["startColumn"] for r in results]
    assert columns == [1, 4, 5, 1]


def test_run_properties_for_a_degraded_review(validate: Any) -> None:
    review_ = fused(
        made("error", 3, Fix(line_start=3, line_end=3, replacement="    return 0")),
        degraded=True,
        degraded_reason="the judge failed",
    )
    log = to_sarif(review_, LINES, artifact_uri="a.py")
    validate(log)
    assert log["runs"][0]["properties"] == {
        "mode": "best-of",
        "summary": "",
        "lines": {"start": 1, "end": 3},
        "models": [{"model": "m", "status": "ok"}],
        "degraded": True,
        "degradedReason": "the judge failed",
        "dropped": 0,
        "outside": 0,
        "redacted": 0,
        "usage": {"promptTokens": 10, "completionTokens": 5, "totalTokens": 15, "costUsd": 0.25},
    }
    replacement = log["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacement[0]["deletedRegion"]["endColumn"] == len(LINES[2]) + 1


def test_the_schema_check_has_teeth(validate: Any) -> None:
    log = to_sarif(fused(made("error")), LINES, artifact_uri="a.py")
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] = 0
    with pytest.raises(AssertionError, match="startColumn"):
        validate(log)


def test_artifact_uri(tmp_path: Path) -> None:
    assert artifact_uri(tmp_path / "src" / "my file.py", tmp_path) == "src/my%20file.py"
    outside = tmp_path.parent / "elsewhere.py"
    uri = artifact_uri(outside, tmp_path)
    assert uri == outside.as_uri()
    location = to_sarif(fused(made("error")), LINES, artifact_uri=uri)["runs"][0]["results"][0]
    assert location["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": uri}
