"""What every local analyzer shares: running the tool, and answering in the model contract.

An analyzer is a reviewer whose report comes from a program instead of a model. Its findings
are written as a review answer of the model contract and read back by the prompt's own parser,
so they cluster with the models', count in agreement and reach the judge as evidence. A new
analyzer is one small module in this package: where the program is, the command line, and how
to read its report (each rule mapped to a severity, a category and a shared `rule` name).

Ruff, bandit and mypy are dependencies of fusion-ls, so they are always there; the others
(shellcheck, oxlint, go vet) join when their program is found on PATH, and say how to install
it when it is not.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import ClassVar, Literal, TypeVar

from fusion_ls.errors import ProviderError
from fusion_ls.findings import CATEGORIES, Category, Fix, ProposedFinding, Severity, Usage
from fusion_ls.reviewers.base import Capability, Code, Prompt, Reply
from fusion_ls.reviewers.tools.rules import rule_id

__all__ = ["Analyzer", "run_tool", "written_copy"]

T = TypeVar("T")


@contextmanager
def written_copy(lines: Sequence[str], path: str, tool: str) -> Iterator[Path]:
    """The reviewed text (as the editor has it, saved or not) in a file of the same name, in a
    folder of its own that is removed afterwards: what a tool that reads files is given."""
    with tempfile.TemporaryDirectory(prefix=f"fusion-ls-{tool}-") as folder:
        copy = Path(folder) / PurePath(path).name
        copy.write_text("\n".join(lines) + "\n", encoding="utf-8")
        yield copy


async def run_tool(
    name: str,
    command: Sequence[str],
    stdin: bytes,
    cwd: Path | None,
    timeout_s: float,
    ok_codes: frozenset[int] = frozenset({0}),
    *,
    report_on: Literal["stdout", "stderr"] = "stdout",
) -> bytes:
    """The tool's report: its stdout, or its stderr for a tool that reports there (go vet).
    The process is killed on timeout or cancellation, never left behind."""
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as error:
        raise ProviderError(f"cannot run {name}: {error}") from None
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), timeout_s)
    except asyncio.TimeoutError:
        await _kill(process)
        raise ProviderError(
            f"{name} gave no report within {timeout_s:g} s", status="timeout"
        ) from None
    except asyncio.CancelledError:
        await _kill(process)
        raise
    if process.returncode not in ok_codes:
        said = err.decode(errors="replace").strip().splitlines() or ["no output"]
        raise ProviderError(f"{name} failed: {said[-1][:200]}")
    return err if report_on == "stderr" else out


async def _kill(process: asyncio.subprocess.Process) -> None:
    process.kill()
    await process.wait()


class Analyzer(ABC):
    """A local tool as a pool member: reviews only, offline, free; it does not debate."""

    tool: ClassVar[str]
    """The name after `tool:` in a pool."""
    suffixes: ClassVar[frozenset[str]]
    """The file suffixes it reviews."""
    checks: ClassVar[frozenset[Category]] = frozenset(CATEGORIES)
    """The categories of issue it looks for: it counts toward the agreement of those only."""
    executable: ClassVar[str | None] = None
    """The program looked for on PATH, when it is not named `tool`."""
    install: ClassVar[str] = ""
    """How to install its program, for one not found on PATH."""
    capabilities: frozenset[Capability] = frozenset({"review"})

    def __init__(self, timeout_s: float = 60.0) -> None:
        self._timeout_s = timeout_s

    @property
    def name(self) -> str:
        return f"tool:{self.tool}"

    def declines(self, path: str) -> str | None:
        if PurePath(path).suffix.lower() in self.suffixes:
            return None
        return f"{self.name} reviews {', '.join(sorted(self.suffixes))} files only"

    def program(self) -> list[str] | None:
        """The command that runs the tool, or None when it is not installed: by default its
        name found on PATH."""
        found = shutil.which(self.executable or self.tool)
        return [found] if found else None

    def _missing(self) -> str:
        return f"{self.executable or self.tool} is not on PATH (install: {self.install})"

    async def unavailable(self) -> str | None:
        return None if self.program() is not None else self._missing()

    def located(self) -> str:
        """Where its program is, or how to install it (`fusion-ls config check` says)."""
        program = self.program()
        return " ".join(program) if program else self._missing()

    def launcher(self) -> list[str]:
        """`program()`, or the error a pool member that cannot run reports."""
        program = self.program()
        if program is None:
            raise ProviderError(self._missing(), status="skipped")
        return program

    def at(
        self,
        lines: Sequence[str],
        row: int,
        end_row: int,
        code: str,
        text: str,
        mapped: tuple[Severity, Category],
        *,
        rationale: str = "",
        fix: Fix | None = None,
    ) -> ProposedFinding:
        """A finding of rule `code` on the sent lines; rows past the end land on the last line
        (a parser reports a missing bracket after it)."""
        row = min(max(row, 1), max(len(lines), 1))
        severity, category = mapped
        return ProposedFinding(
            line_start=row,
            line_end=max(row, min(end_row, len(lines))),
            quote=lines[row - 1].strip() if lines else "",
            severity=severity,
            category=category,
            message=f"{code}: {text}",
            rationale=rationale,
            fix=fix,
            rule=rule_id(self.tool, code),
        )

    async def max_cost_usd(self, prompt_tokens: int) -> float | None:
        return 0.0  # it runs here

    async def ask(self, prompt: Prompt[T], code: Code) -> Reply[T]:
        """The tool's findings on the reviewed lines, as a review answer `prompt` can parse."""
        found = [
            f
            for f in await self.review(code.lines, code.path, code.cwd, self._timeout_s)
            if code.in_review(f.line_start)
        ]
        count = f"{len(found)} finding{'' if len(found) == 1 else 's'}"
        answer = {
            "findings": [f.model_dump(mode="json") for f in found],
            "summary": f"{count} from {self.name}.",
        }
        return Reply(prompt.parse(json.dumps(answer), False), Usage())

    @abstractmethod
    async def review(
        self, lines: Sequence[str], path: str, cwd: Path | None, timeout_s: float
    ) -> list[ProposedFinding]:
        """The tool's findings on `lines` (the whole text as sent), 1-based."""
