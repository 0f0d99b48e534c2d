"""Each local analyzer's adapter on a fixture whose report is known (tests/fixtures/analyzers/).

ruff, bandit and mypy are dependencies of fusion-ls and always run here. shellcheck, oxlint and
go are found on PATH; where one is missing its test is skipped saying what to install (`make
test` installs shellcheck and oxlint where it can).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fusion_ls.errors import ProviderError
from fusion_ls.findings import ProposedFinding
from fusion_ls.reviewers.tools.bandit import Bandit
from fusion_ls.reviewers.tools.base import Analyzer
from fusion_ls.reviewers.tools.govet import GoVet
from fusion_ls.reviewers.tools.mypy import Mypy
from fusion_ls.reviewers.tools.oxlint import Oxlint
from fusion_ls.reviewers.tools.ruff import Ruff
from fusion_ls.reviewers.tools.shellcheck import ShellCheck

FIXTURES = Path(__file__).parent / "fixtures" / "analyzers"


def needs(program: str, install: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        shutil.which(program) is None, reason=f"{program} is not on PATH ({install})"
    )


async def report(analyzer: Analyzer, name: str) -> list[ProposedFinding]:
    lines = (FIXTURES / name).read_text().splitlines()
    return await analyzer.review(lines, name, FIXTURES, 60)


def by_code(found: list[ProposedFinding]) -> dict[tuple[int, str], ProposedFinding]:
    return {(f.line_start, f.message.split(":")[0]): f for f in found}


async def test_bandit_reports_security_checks_under_their_shared_names() -> None:
    found = by_code(await report(Bandit(), "defects.py"))

    assert set(found) == {(2, "B404"), (6, "B602"), (10, "B608"), (21, "B105")}
    assert {f.category for f in found.values()} == {"security"}
    assert found[6, "B602"].severity == "error"  # high severity, high confidence
    assert found[10, "B608"].severity == "warning"
    assert found[21, "B105"].severity == "info"  # low severity
    assert found[10, "B608"].rule == "bandit:B608"
    assert "b608_hardcoded_sql_expressions" in found[10, "B608"].rationale
    assert found[10, "B608"].quote.startswith("return db.execute(")


async def test_ruff_names_its_bandit_ports_as_bandit_does() -> None:
    found = by_code(await report(Ruff(), "defects.py"))

    assert {(6, "S602"), (10, "S608"), (14, "F821"), (21, "S105")} <= set(found)
    assert [found[k].rule for k in [(6, "S602"), (10, "S608"), (21, "S105")]] == [
        "bandit:B602",
        "bandit:B608",
        "bandit:B105",
    ]
    assert found[14, "F821"].rule == "undefined-name"


async def test_mypy_reports_type_errors_and_keeps_its_cache_out_of_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    found = by_code(await report(Mypy(), "defects.py"))

    undefined = found[14, "name-defined"]
    assert (undefined.severity, undefined.category, undefined.rule) == (
        "error",
        "bug",
        "undefined-name",
    )
    returned = found[18, "return-value"]
    assert (returned.severity, returned.category) == ("warning", "bug")
    assert "error_code_list" in returned.rationale
    assert (tmp_path / "fusion-ls" / "mypy").is_dir()
    assert not (FIXTURES / ".mypy_cache").exists()


@pytest.mark.parametrize("analyzer", [Ruff(), Mypy()], ids=lambda a: a.name)
async def test_a_syntax_error_is_one_error(analyzer: Analyzer) -> None:
    found = await report(analyzer, "broken.py")

    assert [(f.line_start, f.severity, f.category, f.rule) for f in found] == [
        (1, "error", "bug", "syntax-error")
    ]


async def test_bandit_says_it_cannot_read_a_file_with_a_syntax_error() -> None:
    with pytest.raises(ProviderError, match="bandit could not read the file: syntax error") as e:
        await report(Bandit(), "broken.py")
    assert e.value.status == "skipped"


@needs("shellcheck", "apt-get install shellcheck")
async def test_shellcheck_reports_its_codes_at_its_levels() -> None:
    found = by_code(await report(ShellCheck(), "script.sh"))

    assert set(found) == {(3, "SC2115"), (3, "SC2086"), (4, "SC2164")}
    assert (found[3, "SC2115"].severity, found[3, "SC2115"].category) == ("warning", "bug")
    assert found[3, "SC2086"].severity == "info"
    assert "shellcheck.net/wiki/SC2164" in found[4, "SC2164"].rationale


@needs("oxlint", "npm install -g oxlint")
async def test_oxlint_reports_rules_and_parse_errors(tmp_path: Path) -> None:
    found = by_code(await report(Oxlint(), "app.js"))

    assert {(2, "no-debugger"), (3, "use-isnan"), (4, "no-eval")} <= set(found)
    assert found[4, "no-eval"].category == "security"
    assert (found[3, "use-isnan"].severity, found[3, "use-isnan"].category) == ("warning", "bug")
    broken = await Oxlint().review(["function f( {"], "broken.js", tmp_path, 60)
    assert [(f.line_start, f.severity, f.rule) for f in broken] == [
        (1, "error", "oxlint:parse-error")
    ]


@needs("go", "install Go, e.g. apt-get install golang-go")
async def test_go_vet_reports_its_analyzers_and_compile_errors() -> None:
    found = by_code(await report(GoVet(), "main.go"))

    assert set(found) == {(15, "copylocks"), (16, "printf"), (17, "copylocks")}
    assert found[16, "printf"].rule == "govet:printf"
    broken = await GoVet().review(["package main", "func f( {"], "bad.go", None, 60)
    assert [(f.line_start, f.severity) for f in broken] == [(2, "error")]
    elsewhere = ["package main", 'import "example.com/nowhere"', "func main() { nowhere.X() }"]
    with pytest.raises(ProviderError, match="cannot vet the file alone") as e:
        await GoVet().review(elsewhere, "x.go", None, 60)
    assert e.value.status == "skipped"


@pytest.mark.parametrize(
    ("analyzer", "install"),
    [(ShellCheck(), "apt-get install shellcheck"), (Oxlint(), "npm install -g oxlint"),
     (GoVet(), "golang-go")],
    ids=lambda a: getattr(a, "name", ""),
)  # fmt: skip
async def test_a_program_not_on_path_says_how_to_install_it(
    analyzer: Analyzer, install: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    why = await analyzer.unavailable()

    assert why is not None and "is not on PATH (install: " in why and install in why
    assert install in analyzer.located()
    with pytest.raises(ProviderError, match="not on PATH") as e:
        await analyzer.review(["x"], "x" + min(analyzer.suffixes), tmp_path, 5)
    assert e.value.status == "skipped"
