"""The house rules of DESIGN.md's "Layers", checked on the source: imports and module size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "fusion_ls"
MAX_LINES = 450


def modules(*parts: str) -> list[Path]:
    return sorted(PACKAGE.joinpath(*parts).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; the package uses absolute imports only)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; the package imports absolutely"
            names.add(node.module or "")
    return names


BELOW_THE_ADAPTERS = [
    *modules("engine"),
    *modules("reviewers"),
    *modules("config"),
    PACKAGE / "findings.py",
    PACKAGE / "errors.py",
    PACKAGE / "version.py",
]


@pytest.mark.parametrize("path", BELOW_THE_ADAPTERS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_engine_and_below_never_import_the_lsp_libraries(path: Path) -> None:
    foreign = {n for n in imported(path) if n.split(".")[0] in {"pygls", "lsprotocol"}}
    assert not foreign, f"{path} imports {foreign}"


@pytest.mark.parametrize("path", BELOW_THE_ADAPTERS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_nothing_below_the_adapters_imports_an_adapter(path: Path) -> None:
    upward = {n for n in imported(path) if n.startswith(("fusion_ls.cli", "fusion_ls.lsp"))}
    assert not upward, f"{path} imports {upward}"


@pytest.mark.parametrize(
    "path", [*modules("reviewers"), *modules("config")], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_reviewers_and_config_never_import_the_engine(path: Path) -> None:
    upward = {n for n in imported(path) if n.startswith("fusion_ls.engine")}
    assert not upward, f"{path} imports {upward}"


@pytest.mark.parametrize("path", modules("config"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_config_never_imports_the_reviewers(path: Path) -> None:
    upward = {n for n in imported(path) if n.startswith("fusion_ls.reviewers")}
    assert not upward, f"{path} imports {upward}"


@pytest.mark.parametrize(
    "path", [*modules("cli"), *modules("lsp")], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_adapters_use_only_the_mode_registry_of_engine_fusion(path: Path) -> None:
    fusion = {n for n in imported(path) if n.startswith("fusion_ls.engine.fusion")}
    assert fusion <= {"fusion_ls.engine.fusion.modes"}, f"{path} imports {fusion}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_long_without_saying_why(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert lines <= MAX_LINES or "longer than" in docstring, (
        f"{path} has {lines} lines; split it, or say in its docstring why it is longer than "
        f"{MAX_LINES}"
    )


def test_the_flat_modules_are_gone() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "errors.py", "findings.py", "version.py"]
