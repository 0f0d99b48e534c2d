"""`fusion-ls eval`: matching, metrics and every setup, against scripted reviewers of known quality.

The reviewers answer from a fixed list of the test dataset's defects, each missing the ones it
is told to miss, so every expected number below can be worked out by hand.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_workspace import Workspace
from fake_openai import FakeOpenAI, RecordedRequest, Reply
from reviewers import best_of_judge, finding, merging_judge, review, settings_for

from fusion_ls.cli.evaluation import (
    CaseOutcome,
    DatasetError,
    EvalProgress,
    EvalReport,
    load_dataset,
    match,
    run_eval,
    setups_for,
    summarise,
)
from fusion_ls.cli.evaluation.scoring import ScoredFinding, by_agreement, by_min_agreement
from fusion_ls.engine.anchoring import split_lines
from fusion_ls.engine.redact import redact
from fusion_ls.findings import LineRange, Usage

SHIPPED = Path(__file__).resolve().parents[1] / "eval" / "dataset"
SETUPS = ["alpha", "beta", "gamma", "best-of", "merge", "debate"]
COST = 1 / 1024  # sums exactly in binary floating point
USAGE = {"prompt_tokens": 100, "completion_tokens": 10, "cost": COST}

SNIPPETS = {
    "a.py": "def average(values):\n    total = sum(values)\n    return total / len(values)\n\n\n"
    "def first(items):\n    return items[1]\n",
    "b.py": "import sqlite3\n\n\ndef find(conn, name):\n"
    '    return conn.execute("SELECT * FROM users WHERE name = \'" + name + "\'")\n\n\n'
    "def load(path):\n    return open(path).read()\n",
    "c.js": "export function show(el, html) {\n  el.innerHTML = html;\n}\n",
    "d.go": "package size\n\nfunc Bytes(w, h int32) int32 {\n\treturn w * h * 4\n}\n",
    "clean1.py": "def add(a, b):\n    return a + b\n",
    "clean2.py": 'def greet(name):\n    return f"Hello, {name}"\n',
}


@dataclass(frozen=True)
class Defect:
    file: str
    line: int
    quote: str
    category: str

    def reported(self) -> dict[str, Any]:
        return finding(self.line, self.quote, f"defect at {self.file}:{self.line}",
                       category=self.category)  # fmt: skip


DEFECTS = [
    Defect("a.py", 3, "return total / len(values)", "bug"),
    Defect("a.py", 7, "return items[1]", "bug"),
    Defect("b.py", 5, "return conn.execute(", "security"),
    Defect("b.py", 9, "return open(path).read()", "bug"),
    Defect("c.js", 2, "el.innerHTML = html;", "security"),
    Defect("d.go", 4, "return w * h * 4", "bug"),
]
DATASET_TOML = """
[[cases]]
file = "a.py"
labels = [
  { lines = "3", category = "bug", why = "division by zero for an empty list" },
  { lines = "7", category = "bug", why = "the first item is at index 0" },
]

[[cases]]
file = "b.py"
labels = [
  { lines = "5", category = "security", why = "SQL injection" },
  { lines = "9", category = "bug", why = "the file is never closed" },
]

[[cases]]
file = "c.js"
labels = [{ lines = "2", category = "security", why = "XSS" }]

[[cases]]
file = "d.go"
labels = [{ lines = "4", category = "bug", why = "int32 overflow" }]

[[cases]]
file = "clean1.py"
labels = []

[[cases]]
file = "clean2.py"
labels = []
"""
_CODE_PATH = re.compile(r'<code path="([^"]+)"')
Extra = Mapping[str, Sequence[dict[str, Any]]]


def write_dataset(root: Path, toml: str = DATASET_TOML) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in SNIPPETS.items():
        (root / name).write_text(text)
    (root / "dataset.toml").write_text(toml)
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "dataset")


def reviewer(
    misses: Collection[int] = (), extra: Extra | None = None
) -> Callable[[RecordedRequest], Reply]:
    """Reports every defect of the snippet it is shown except `misses` (indexes into DEFECTS),
    plus any `extra` findings for that file; the same answer in every debate round."""

    def answer(request: RecordedRequest) -> Reply:
        match_ = _CODE_PATH.search(request.prompt_text)
        assert match_ is not None
        path = match_[1]
        found = [d.reported() for i, d in enumerate(DEFECTS) if d.file == path and i not in misses]
        return Reply(content=review(*found, *(extra or {}).get(path, [])), usage=USAGE)

    return answer


def judge(request: RecordedRequest) -> Reply:
    """Best-of picks the answer with the most findings; merge and debate take the union."""
    chosen = best_of_judge if '"winner"' in request.prompt_text else merging_judge
    return Reply(content=chosen(request).content, usage=USAGE)


async def evaluate(
    fake: FakeOpenAI,
    dataset: Path,
    misses: Sequence[Collection[int]],
    extra: Mapping[str, Extra] | None = None,
    progress: Callable[[EvalProgress], None] = lambda _: None,
) -> EvalReport:
    for model, missed in zip(("alpha", "beta", "gamma"), misses, strict=True):
        fake.script(model, reviewer(missed, (extra or {}).get(model)))
    fake.script("judge", judge)
    settings = settings_for(fake.base_url, quorum=3, straggler_grace_s=0.2, timeout_s=10)
    return await run_eval(load_dataset(dataset), settings, on_progress=progress)


def counts(report: EvalReport) -> dict[str, tuple[int, int, int, float, float, float]]:
    return {
        s.name: (s.metrics.tp, s.metrics.fp, s.metrics.fn, s.metrics.precision,
                 s.metrics.recall, s.metrics.f1)
        for s in report.setups
    }  # fmt: skip


def outcome(tp: int = 0, fp: int = 0, fn: int = 0, elapsed: float = 1.0,
            cost: float | None = None) -> CaseOutcome:  # fmt: skip
    return CaseOutcome(
        file="x.py", lines=LineRange(start=1, end=9), labels=[], findings=[], tp=tp, fp=fp, fn=fn,
        missed=[],
        false_positives=[], failed=False, error=None, degraded=None, elapsed_s=elapsed,
        usage=Usage(prompt_tokens=10, completion_tokens=1, cost_usd=cost),
    )  # fmt: skip


def spans(*pairs: tuple[int, int]) -> list[LineRange]:
    return [LineRange(start=a, end=b) for a, b in pairs]


# --- matching and metrics -----------------------------------------------------------------------


def test_matching_is_greedy_by_overlap_and_uses_each_side_once() -> None:
    # The 4-line overlap is taken first, which leaves the one-line finding for the other label.
    assert match(spans((5, 9), (5, 5)), spans((5, 5), (6, 9))) == [(0, 1), (1, 0)]
    # Two findings of one defect: one true positive; the other is left over (a false positive).
    assert match(spans((1, 3), (2, 2)), spans((2, 2))) == [(0, 0)]
    # One finding over two labels matches one of them, the earlier on a tie.
    assert match(spans((3, 3)), spans((3, 3), (3, 4))) == [(0, 0)]
    assert match(spans((10, 12)), spans((1, 2))) == []


def test_ratios_are_zero_when_undefined_and_p95_is_nearest_rank() -> None:
    empty = summarise([outcome()])
    assert (empty.precision, empty.recall, empty.f1) == (0.0, 0.0, 0.0)
    mixed = summarise([outcome(tp=3, fp=1, fn=2), outcome(fp=1)])
    assert (mixed.tp, mixed.fp, mixed.fn) == (3, 2, 2)
    assert (mixed.precision, mixed.recall, mixed.f1) == (3 / 5, 3 / 5, 6 / 10)
    assert summarise([outcome(elapsed=n) for n in range(1, 21)]).latency_p95_s == 19
    assert summarise([outcome(elapsed=n) for n in range(1, 22)]).latency_p95_s == 20
    assert summarise([outcome(elapsed=1), outcome(elapsed=2)]).latency_mean_s == 1.5


def test_cost_is_none_unless_a_provider_reported_one() -> None:
    assert summarise([outcome(), outcome()]).cost_usd is None
    assert summarise([outcome(cost=0.5), outcome(), outcome(cost=0.25)]).cost_usd == 0.75
    assert summarise([outcome(), outcome()]).prompt_tokens == 20


def test_agreement_levels_and_min_agreement_rematch_what_is_kept() -> None:
    # One label on 5-6. Finding X (one model) overlaps it on two lines, Y (three models) on one:
    # X takes the label and Y is a false positive; drop X, and Y matches the label instead.
    x = ScoredFinding(lines=LineRange(start=5, end=6), models=1, matched=True)
    y = ScoredFinding(lines=LineRange(start=6, end=6), models=3, matched=False)
    case = outcome(tp=1, fp=1).model_copy(update={"labels": spans((5, 6)), "findings": [x, y]})
    clean = outcome(fp=1).model_copy(
        update={"findings": [ScoredFinding(lines=LineRange(start=1, end=1), models=2,
                                           matched=False)]}
    )  # fmt: skip

    levels = by_agreement([case, clean], 3)
    kept = by_min_agreement([case, clean], 3)

    assert [(a.models, a.findings, a.matched, a.precision) for a in levels] == [
        (1, 1, 1, 1.0), (2, 1, 0, 0.0), (3, 1, 0, 0.0),
    ]  # fmt: skip
    assert [(m.min_agreement, m.tp, m.fp, m.fn, m.precision, m.recall, m.f1) for m in kept] == [
        (1, 1, 2, 0, 1 / 3, 1.0, 0.5), (2, 1, 1, 0, 0.5, 1.0, 2 / 3), (3, 1, 0, 0, 1.0, 1.0, 1.0),
    ]  # fmt: skip
    assert by_agreement([case], 0) == by_min_agreement([case], 0) == []


def test_setups_are_each_model_alone_then_each_mode() -> None:
    settings = settings_for("http://127.0.0.1:9/v1")
    setups = setups_for(settings)
    assert [s.name for s in setups] == SETUPS
    pools = [[ref.name for ref in s.settings.fusion.pool] for s in setups]
    assert pools[:3] == [["alpha"], ["beta"], ["gamma"]]
    assert pools[3:] == [["alpha", "beta", "gamma"]] * 3
    assert [s.mode for s in setups] == [None, None, None, "best-of", "merge", "debate"]
    alone = settings_for("http://127.0.0.1:9/v1", pool=["alpha"])
    assert [s.name for s in setups_for(alone)] == ["alpha"]


# --- every setup against scripted reviewers -----------------------------------------------------


async def test_independent_errors_make_fusion_beat_every_single_model(
    fake_openai: FakeOpenAI, dataset: Path
) -> None:
    # Each reviewer misses a different third of the six defects and raises no false alarm.
    report = await evaluate(fake_openai, dataset, [{0, 3}, {1, 4}, {2, 5}])

    single = (4, 0, 2, 1.0, 2 / 3, 0.8)
    fused = (6, 0, 0, 1.0, 1.0, 1.0)
    assert counts(report) == {
        "alpha": single, "beta": single, "gamma": single,
        "best-of": fused, "merge": fused, "debate": fused,
    }  # fmt: skip
    assert (report.cases, report.clean, report.labels) == (6, 2, 6)
    assert not report.measured_nothing


async def test_correlated_errors_give_fusion_nothing(
    fake_openai: FakeOpenAI, dataset: Path
) -> None:
    # All three miss the same two defects: agreeing on a blind spot does not remove it.
    report = await evaluate(fake_openai, dataset, [{0, 3}, {0, 3}, {0, 3}])

    same = (4, 0, 2, 1.0, 2 / 3, 0.8)
    assert counts(report) == dict.fromkeys(SETUPS, same)
    missed = {case.file: case.missed for case in report.setups[4].cases if case.missed}
    assert missed == {"a.py": spans((3, 3)), "b.py": spans((9, 9))}


async def test_false_alarms_count_on_clean_and_labelled_snippets(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    two_cases = DATASET_TOML.split("[[cases]]")
    toml = "[[cases]]".join([two_cases[0], two_cases[1], two_cases[5]])  # a.py and clean1.py
    dataset = write_dataset(tmp_path / "two", toml)
    clean_alarm = finding(2, "return a + b", "Integer overflow", category="bug")
    unlabelled = finding(1, "def average(values):", "Missing docstring", category="style")

    report = await evaluate(
        fake_openai, dataset, [set(), set(), {1}],
        extra={"alpha": {"clean1.py": [clean_alarm]}, "beta": {"a.py": [unlabelled]}},
    )  # fmt: skip

    fused = (2, 2, 0, 0.5, 1.0, 2 / 3)  # the union keeps both false alarms
    assert counts(report) == {
        "alpha": (2, 1, 0, 2 / 3, 1.0, 0.8),
        "beta": (2, 1, 0, 2 / 3, 1.0, 0.8),
        "gamma": (1, 0, 1, 1.0, 0.5, 2 / 3),
        "best-of": fused, "merge": fused, "debate": fused,
    }  # fmt: skip
    merge = {case.file: case for case in report.setups[4].cases}
    assert merge["clean1.py"].false_positives == spans((2, 2))
    assert merge["a.py"].false_positives == spans((1, 1))
    assert report.setups[2].cases[0].missed == spans((7, 7))


async def test_latency_tokens_and_cost_add_up_and_progress_is_reported(
    fake_openai: FakeOpenAI, dataset: Path
) -> None:
    steps: list[str] = []
    report = await evaluate(
        fake_openai, dataset, [{0, 3}, {1, 4}, {2, 5}], progress=lambda p: steps.append(str(p))
    )

    by_name = {s.name: s.metrics for s in report.setups}
    # 100 in / 10 out / COST per call. Alone: one call per case. Merge: three calls per case,
    # plus the judge on the four labelled cases (on the clean ones every model agreed: no judge).
    assert (by_name["alpha"].prompt_tokens, by_name["alpha"].completion_tokens) == (600, 60)
    assert by_name["alpha"].cost_usd == 6 * COST
    assert (by_name["merge"].prompt_tokens, by_name["merge"].completion_tokens) == (2200, 220)
    assert by_name["merge"].cost_usd == 22 * COST
    for setup in report.setups:
        cases, metrics = setup.cases, setup.metrics
        assert metrics.prompt_tokens == sum(c.usage.prompt_tokens for c in cases)
        assert metrics.cost_usd == sum(c.usage.cost_usd or 0 for c in cases)
        latencies = [c.elapsed_s for c in cases]
        assert metrics.latency_p95_s == max(latencies)  # nearest rank of 6 is the 6th
        assert metrics.latency_mean_s == round(sum(latencies) / 6, 3)
        assert 0 < metrics.latency_mean_s <= metrics.latency_p95_s < 5

    assert steps[0] == "setup 1/6 alpha: 0/6 cases"
    assert steps[-1] == "setup 6/6 debate: 6/6 cases"
    for number, name in enumerate(SETUPS, start=1):
        done = [s for s in steps if s.startswith(f"setup {number}/6 {name}:")]
        assert done == [f"setup {number}/6 {name}: {n}/6 cases" for n in range(7)]


async def test_a_failing_model_fails_its_cases_and_fusion_goes_on(
    fake_openai: FakeOpenAI, dataset: Path
) -> None:
    fake_openai.script("alpha", Reply(status=500, error="upstream down"))
    fake_openai.script("beta", reviewer())
    fake_openai.script("gamma", reviewer({0, 1, 2}))
    fake_openai.script("judge", judge)
    settings = settings_for(fake_openai.base_url, quorum=3, straggler_grace_s=0.2, timeout_s=10)

    report = await run_eval(load_dataset(dataset), settings)

    alpha, merge = report.setups[0], report.setups[4]
    assert (alpha.metrics.failed, alpha.metrics.tp, alpha.metrics.fp, alpha.metrics.fn) == (
        6, 0, 0, 6
    )  # fmt: skip
    assert alpha.cases[0].error is not None and "upstream down" in alpha.cases[0].error
    assert (merge.metrics.failed, merge.metrics.tp, merge.metrics.fn) == (0, 6, 0)
    assert not report.measured_nothing


# --- the dataset --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('file = "d.go"', 'file = "missing.go"', "cases[3].file: no such file: "),
        ('file = "d.go"', 'file = "../d.go"', "cases[3].file: '../d.go' is outside the dataset"),
        ('lines = "7"', 'lines = "7-3"', "cases[0].labels[1].lines: line range 7-3 ends before"),
        ('lines = "7"', 'lines = "seven"', "cases[0].labels[1].lines: 'seven' is not a line range"),
        ('lines = "7"', 'lines = "0"', "cases[0].labels[1].lines.start: must be greater than"),
        ('lines = "7"', 'lines = "40"', "cases[0].labels[1].lines: lines 40-40 are outside the "
         "reviewed lines 1-7 of a.py, so no finding could ever match them"),
        ('"bug", why = "int32', '"perf", why = "int32', "cases[3].labels[0].category: must be one "
         "of bug, security, performance, correctness, maintainability, style (got 'perf')"),
        ('why = "XSS"', 'why = " "', "cases[2].labels[0].why: must not be empty"),
        ('file = "c.js"', 'file = "c.js"\nlines = "2-9"', "cases[2].lines: 2-9 goes past the "
         "end of c.js, which has 3 lines"),
        ('file = "clean2.py"\nlabels = []', 'file = "clean2.py"', "cases[5].labels: required "
         "(write labels = [] for a clean snippet)"),
        ('file = "clean2.py"\nlabels = []', 'file = "clean2.py"\nlabel = []', "cases[5].label: "
         "unknown key"),
        ('file = "clean2.py"', 'file = "clean1.py"', "cases[5].file: clean1.py is listed "
         "twice"),
        ("[[cases]]\nfile = \"a.py\"", "[[cases]\nfile = \"a.py\"", "invalid"),
    ],
)  # fmt: skip
def test_dataset_errors_say_where_and_what(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in DATASET_TOML
    root = write_dataset(tmp_path / "bad", DATASET_TOML.replace(old, new, 1))

    with pytest.raises(DatasetError) as raised:
        load_dataset(root)

    assert expected in str(raised.value)
    assert all(str(issue.path) == str(root / "dataset.toml") for issue in raised.value.issues)


EMPTY_WHY = 'why = ""'


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    """Fixing a dataset takes one pass per layer (TOML, schema, files), not one per mistake."""
    schema = DATASET_TOML.replace('"bug", why = "int32', '"perf", why = "int32').replace(
        'why = "XSS"', EMPTY_WHY
    )
    files = DATASET_TOML.replace('file = "c.js"', 'file = "nope.js"').replace(
        'lines = "7"', 'lines = "40"'
    )

    def issues(toml: str, name: str) -> list[str]:
        root = write_dataset(tmp_path / name, toml)
        with pytest.raises(DatasetError) as raised:
            load_dataset(root)
        return [
            str(issue).removeprefix(f"{root / 'dataset.toml'}:") for issue in raised.value.issues
        ]

    def line_of(toml: str, text: str) -> int:
        return next(i for i, line in enumerate(toml.split("\n"), 1) if text in line)

    assert issues(schema, "schema") == [
        f"{line_of(schema, EMPTY_WHY)}: cases[2].labels[0].why: must not be empty",
        f"{line_of(schema, 'perf')}: cases[3].labels[0].category: must be one of bug, security, "
        "performance, correctness, maintainability, style (got 'perf')",
    ]
    assert issues(files, "files") == [
        "4: cases[0].labels[1].lines: lines 40-40 are outside the reviewed lines 1-7 of a.py, "
        "so no finding could ever match them",
        f"{line_of(files, 'nope.js')}: cases[2].file: no such file: "
        f"{(tmp_path / 'files' / 'nope.js').resolve()}",
    ]


def test_a_missing_dataset_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file; a dataset is a directory with a"):
        load_dataset(tmp_path)


def test_the_shipped_dataset_is_valid_and_balanced() -> None:
    data = load_dataset(SHIPPED)  # checks files, ranges, categories and explanations

    assert len(data.cases) >= 40 and data.clean >= 10
    suffixes = Counter(case.path.suffix for case in data.cases)
    assert suffixes[".py"] > len(data.cases) / 2
    assert suffixes[".js"] + suffixes[".ts"] >= 3 and suffixes[".go"] >= 3
    categories = Counter(label.category for case in data.cases for label in case.spec.labels)
    assert min(categories["bug"], categories["security"], categories["performance"]) >= 5
    snippets = {p for p in SHIPPED.rglob("*") if p.is_file() and p.name != "dataset.toml"}
    assert snippets == {case.path for case in data.cases}, "every snippet is a case, once"
    for case in data.cases:
        lines = split_lines(case.text)
        assert not redact(lines).redactions, f"{case.spec.file} would be sent redacted"
        for label in case.spec.labels:
            assert lines[label.lines.start - 1].strip(), f"{case.spec.file}: label on a blank line"
        assert case.spec.labels or case.spec.note, f"{case.spec.file}: say why it is clean"


# --- the command line ---------------------------------------------------------------------------


def small_dataset(workspace: Workspace) -> Path:
    cases = DATASET_TOML.split("[[cases]]")
    return write_dataset(workspace.root / "ds", "[[cases]]".join([cases[0], cases[1], cases[5]]))


def script_pool(fake: FakeOpenAI) -> None:
    for model, missed in (("alpha", {0}), ("beta", {1}), ("gamma", set())):
        fake.script(model, reviewer(missed))
    fake.script("judge", judge)


def test_cli_prints_the_comparison_and_progress(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    small_dataset(workspace)
    script_pool(fake_openai)

    result = workspace.run("eval", "ds")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].endswith("ds: 2 cases (1 clean), 2 labelled defects, 6 setups")
    header = "setup TP FP FN precision recall F1 mean s p95 s tokens in tokens out cost failed"
    assert " ".join(lines[2].split()) == header
    rows = {line.split()[0]: line.split()[1:7] for line in lines[3:9]}
    assert rows["alpha"] == ["1", "0", "1", "1.000", "0.500", "0.667"]
    assert rows["gamma"] == ["2", "0", "0", "1.000", "1.000", "1.000"]
    assert rows["merge"] == ["2", "0", "0", "1.000", "1.000", "1.000"]
    assert lines[10].startswith("best fusion: best-of, F1 1.000 vs 1.000 for the best single "
                                "model gamma (+0.000), at ")  # fmt: skip
    # Each defect was found by two of the three models; min_agreement = 3 would keep nothing.
    merge = lines.index(
        "merge by agreement: found by exactly k of 3 models and how many were "
        "defects | the scores keeping those found by at least k (min_agreement = k)"
    )
    assert [" ".join(line.split()) for line in lines[merge + 1 : merge + 5]] == [
        "k found defects precision | TP FP FN precision recall F1",
        "1 0 0 - | 2 0 0 1.000 1.000 1.000",
        "2 2 2 1.000 | 2 0 0 1.000 1.000 1.000",
        "3 0 0 - | 0 0 2 0.000 0.000 0.000",
    ]  # fmt: skip
    assert "setup 1/6 alpha: 0/2 cases" in result.err
    assert "setup 6/6 debate: 2/2 cases" in result.err


def test_cli_json_is_the_eval_report(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    small_dataset(workspace)
    script_pool(fake_openai)

    result = workspace.run("eval", "ds", "--format", "json", "--quiet")

    assert result.code == 0, result.err
    assert result.err == ""
    data = json.loads(result.out)
    assert set(data) == {"dataset", "cases", "clean", "labels", "setups"}
    setup = data["setups"][3]
    assert set(setup) == {
        "name", "mode", "models", "judge", "metrics", "agreement", "min_agreement", "cases"
    }  # fmt: skip
    assert (setup["name"], setup["mode"], setup["judge"]) == ("best-of", "best-of", "judge")
    assert setup["models"] == ["alpha", "beta", "gamma"]
    assert set(setup["metrics"]) == {
        "cases", "failed", "tp", "fp", "fn", "precision", "recall", "f1", "latency_mean_s",
        "latency_p95_s", "prompt_tokens", "completion_tokens", "cost_usd",
    }  # fmt: skip
    assert set(setup["cases"][0]) == {
        "file", "lines", "labels", "findings", "tp", "fp", "fn", "missed", "false_positives",
        "failed", "error", "degraded", "elapsed_s", "usage",
    }  # fmt: skip
    assert data["setups"][0]["mode"] is None and data["setups"][0]["judge"] is None
    assert EvalReport.model_validate(data).setups[0].cases[0].lines == LineRange(start=1, end=7)


def test_cli_bad_dataset_exits_2_before_any_request(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    root = small_dataset(workspace)
    toml = root / "dataset.toml"
    toml.write_text(toml.read_text().replace('category = "bug"', 'category = "oops"', 1))

    result = workspace.run("eval", "ds")

    assert result.code == 2
    assert "ds/dataset.toml:4: cases[0].labels[0].category: must be one of" in result.err
    assert fake_openai.requests == []


def test_cli_exits_3_when_no_model_answered(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    small_dataset(workspace)
    for model in ("alpha", "beta", "gamma", "judge"):
        fake_openai.script(model, Reply(status=401, error="invalid key"))

    result = workspace.run("eval", "ds", "--quiet")

    assert result.code == 3
    assert "alpha: 2/2 cases failed (no model answered), e.g. a.py: alpha:" in result.out
    assert "no model answered on any case" in result.err


def test_cli_stops_at_the_spending_limit(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    small_dataset(workspace)
    script_pool(fake_openai)
    config = workspace.root / "xdg" / "fusion-ls" / "config.toml"
    config.write_text(config.read_text() + f"\n[limits]\nmax_cost_usd = {4 * COST}\n")

    result = workspace.run("eval", "ds", "--quiet")

    assert result.code == 2
    assert "has reached limits.max_cost_usd" in result.err
    assert len(fake_openai.requests) <= 6  # it stopped in the third setup, not at the end
