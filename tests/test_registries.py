"""The registries that everything else reads: fusion modes, reviewers, command results."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

import pytest
from fake_openai import FakeOpenAI, Reply
from pydantic import BaseModel
from pygls.protocol import LanguageServerProtocol
from reviewers import SAMPLE, finding, merging_judge, review, run_review, settings_for

from fusion_ls.cli.parser import build_parser
from fusion_ls.config import settings as settings_module
from fusion_ls.engine.fusion.modes import MODES
from fusion_ls.findings import Mode, ModelStatus, ProposedFinding
from fusion_ls.lsp import results
from fusion_ls.lsp.server import FusionProtocol
from fusion_ls.reviewers import registry
from fusion_ls.reviewers.chat_model import ChatModel
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.runtime import Runtime
from fusion_ls.reviewers.tools.base import Analyzer

ROOT = Path(__file__).parent.parent
VSCODE = ROOT / "editors" / "vscode"

# -- fusion modes ----------------------------------------------------------------------------


def test_the_mode_type_is_the_registry() -> None:
    assert set(get_args(Mode)) == set(MODES)
    assert all(name == mode.name for name, mode in MODES.items())
    assert [m.name for m in MODES.values() if m.debates] == ["debate"]


def test_the_cli_offers_exactly_the_registered_modes() -> None:
    review = build_parser()._subparsers._group_actions[0].choices["review"]  # type: ignore[union-attr]
    (mode,) = [a for a in review._actions if a.dest == "mode"]
    assert list(mode.choices) == list(MODES)


def test_the_vscode_mode_setting_offers_exactly_the_registered_modes() -> None:
    package = json.loads((VSCODE / "package.json").read_text())
    setting = package["contributes"]["configuration"]["properties"]["fusion.mode"]
    assert sorted(setting["enum"]) == sorted(["default", *MODES])
    assert len(setting["enumDescriptions"]) == len(setting["enum"])


def _quoted(text: str) -> set[str]:
    return set(re.findall(r"'([a-z-]+)'", text))


def test_the_vscode_client_knows_exactly_the_registered_modes() -> None:
    source = (VSCODE / "src" / "serverOptions.ts").read_text()
    (listed,) = re.findall(r"const MODES: readonly string\[\] = \[(.*?)\];", source)
    assert _quoted(listed) == set(MODES)
    (declared,) = re.findall(
        r"export type Mode = (.*?);", (VSCODE / "src" / "results.ts").read_text()
    )
    assert _quoted(declared) == set(MODES)


def test_the_vscode_client_knows_exactly_the_model_statuses() -> None:
    """A status the server sends (e.g. "truncated") and the client does not know would make
    `parseResult` reject the whole command result."""
    source = (VSCODE / "src" / "results.ts").read_text()
    (declared,) = re.findall(r"export type ModelStatus =(.*?);", source, re.DOTALL)
    assert _quoted(declared) == set(get_args(ModelStatus))


def test_the_neovim_client_documents_exactly_the_registered_modes() -> None:
    source = (ROOT / "editors" / "neovim" / "lua" / "fusion_ls" / "init.lua").read_text()
    (field,) = re.findall(r"---@field mode\? (\S+)", source)
    assert _quoted(field) == set(MODES)


# -- reviewers -------------------------------------------------------------------------------


class Scripted(Analyzer):
    """A test analyzer: reports one division finding on line 5 of the sample, like ruff would."""

    tool = "scripted"
    suffixes = frozenset({".py"})

    async def review(
        self, lines: Sequence[str], path: str, cwd: Path | None, timeout_s: float
    ) -> list[ProposedFinding]:
        found = finding(5, "return total / len(values)", "Division by zero (scripted)")
        return [ProposedFinding.model_validate(found)]


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    """`tool:scripted` registered the way every analyzer registers, for one test."""
    monkeypatch.setattr(registry, "ANALYZERS", dict(registry.analyzers()))
    monkeypatch.setattr(settings_module, "KNOWN_TOOLS", settings_module.KNOWN_TOOLS | {"scripted"})
    registry.register_analyzer(Scripted)


def test_every_analyzer_under_tools_registers_itself() -> None:
    modules = {p.stem for p in (ROOT / "fusion_ls" / "reviewers" / "tools").glob("*.py")}
    assert set(registry.analyzers()) == modules - {"__init__", "base", "rules"}  # shared parts
    assert set(registry.analyzers()) == settings_module.KNOWN_TOOLS


async def test_a_registered_fake_analyzer_joins_the_pool_and_counts_in_agreement(
    fake_openai: FakeOpenAI, scripted: None
) -> None:
    division = finding(5, "return total / len(values)", "Division by zero when values is empty")
    fake_openai.script("alpha", Reply(content=review(division)))
    fake_openai.script("judge", merging_judge)
    settings = settings_for(fake_openai.base_url, pool=["alpha", "tool:scripted"])

    result = await run_review(settings)

    assert [(f.line_start, f.models, f.agreement) for f in result.findings] == [
        (5, ["alpha", "tool:scripted"], "2/2")
    ]
    assert [r.model for r in result.models] == ["alpha", "tool:scripted"]


async def test_the_registry_builds_chat_models_that_can_do_everything(
    fake_openai: FakeOpenAI,
) -> None:
    settings = settings_for(fake_openai.base_url)
    async with Runtime(make_http_client()) as runtime:
        reviewers = registry.Reviewers(settings, runtime)
        model = reviewers.get(settings.fusion.pool[0])
        tool = reviewers.get(settings_module.ModelRef.model_validate("tool:ruff"))
    assert isinstance(model, ChatModel)
    assert model.capabilities == {"review", "revise", "explain", "judge"}
    assert tool.capabilities == {"review"}
    assert tool.declines("notes.md") == "tool:ruff reviews .py, .pyi files only"
    assert tool.declines(str(SAMPLE)) is None


# -- command results -------------------------------------------------------------------------


def _ts_interfaces(source: str) -> dict[str, set[str]]:
    blocks = re.findall(r"export interface (\w+) \{\n(.*?)\n\}", source, re.DOTALL)
    return {name: set(re.findall(r"^  (\w+): ", body, re.MULTILINE)) for name, body in blocks}


@pytest.mark.parametrize(
    "model",
    [
        results.Reviewed,
        results.ChangesReviewed,
        results.NotReviewed,
        results.Explained,
        results.NotDone,
        results.Cleared,
        results.CacheCleared,
        results.Dismissed,
        results.ModelState,
        results.UsageSummary,
    ],
    ids=lambda m: m.__name__,
)
def test_the_vscode_client_declares_each_command_result_as_the_server_sends_it(
    model: type[BaseModel],
) -> None:
    declared = _ts_interfaces((VSCODE / "src" / "results.ts").read_text())
    assert declared[model.__name__] == set(model.model_fields)


def test_every_command_result_says_which_command_answered() -> None:
    for model in get_args(results.CommandResult):
        assert "kind" in model.model_fields and "status" in model.model_fields


# -- the pygls work-around ---------------------------------------------------------------------


def test_pygls_still_needs_the_cancel_override() -> None:
    """`FusionProtocol` extends pygls's private cancel handler because pygls runs
    executeCommand as a generator whose command coroutine is a task of its own, which
    `$/cancelRequest` does not reach. When this fails, pygls changed: check whether
    cancellation now reaches commands (then drop the override) or the hook moved."""
    execute = LanguageServerProtocol.lsp_workspace__execute_command
    assert inspect.isgeneratorfunction(execute)
    hook = LanguageServerProtocol._handle_cancel_notification
    assert list(inspect.signature(hook).parameters) == ["self", "msg_id"]
    assert "_handle_cancel_notification" in vars(FusionProtocol)
