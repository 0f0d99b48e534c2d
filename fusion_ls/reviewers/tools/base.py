"""What every local analyzer shares: running the tool, and answering in the model contract.

An analyzer is a reviewer whose report comes from a program instead of a model. Its findings
are written as a review answer of the model contract and read back by the prompt's own parser,
so they cluster with the models', count in agreement and reach the judge as evidence. A new
analyzer is one small module in this package: the command line and how to read its report.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import ClassVar, TypeVar

from fusion_ls.errors import ProviderError
from fusion_ls.findings import ProposedFinding, Usage
from fusion_ls.reviewers.base import Capability, Code, Prompt, Reply

__all__ = ["Analyzer", "run_tool"]

T = TypeVar("T")


async def run_tool(
    name: str,
    command: Sequence[str],
    stdin: bytes,
    cwd: Path | None,
    timeout_s: float,
    ok_codes: frozenset[int] = frozenset({0}),
) -> bytes:
    """The tool's stdout. The process is killed on timeout or cancellation, never left behind."""
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
    return out


async def _kill(process: asyncio.subprocess.Process) -> None:
    process.kill()
    await process.wait()


class Analyzer(ABC):
    """A local tool as a pool member: reviews only, offline, free; it does not debate."""

    tool: ClassVar[str]
    """The name after `tool:` in a pool."""
    suffixes: ClassVar[frozenset[str]]
    """The file suffixes it reviews."""
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

    async def unavailable(self) -> str | None:
        return None  # it ships with fusion-ls

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
