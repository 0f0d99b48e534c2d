"""`eval --record DIR` and `eval --replay DIR`: every reviewer's answers on disk, and an eval
run from them with no model call.

A recording is a folder (format: `eval/README.md`):

    DIR/run.json                              what was recorded: format, version, dataset, setups
    DIR/<setup>/<case file>@<A-B>.json        one setup on one case: its review's elapsed_s and
                                              every call (`reviewers/recorded.py`'s RecordedCall)

Every file is JSON with sorted keys and two-space indents, so it reads and diffs well and is
byte-for-byte the same on every Python. The identity of a case file is inside it (`setup`,
`case`); its path is only for a person, so odd characters in a model's name are replaced there.

Replaying a setup answers each call from that setup's own recording of the case, else from
another setup's recording of the same case that holds the same prompt (the first in the
recorded order: a pool model's first-round prompt is the same in every setup), else fails it as
"not recorded". A replayed case reports its recorded `elapsed_s`, so the same settings give
the same report, latency included.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from fusion_ls.cli.evaluation.dataset import Dataset, LoadedCase
from fusion_ls.errors import UsageError
from fusion_ls.findings import FusedReview
from fusion_ls.reviewers.base import Reviewer
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.recorded import CallLog, RecordedCall, Tape
from fusion_ls.reviewers.runtime import Runtime
from fusion_ls.version import __version__

__all__ = [
    "FORMAT",
    "RUN_FILE",
    "CaseRecording",
    "Recorder",
    "Replayer",
    "RunRecording",
    "Taping",
    "case_id",
    "offline_runtime",
]

FORMAT = 1
RUN_FILE = "run.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int


F = TypeVar("F", bound=_File)


class RunRecording(_File):
    """`run.json`: which run the case files come from."""

    fusion_ls: str
    dataset: str
    setups: list[str]


class CaseRecording(_File):
    """One setup on one case: how long its review took, and every call it made."""

    setup: str
    case: str
    """`case_id`: the file and the lines reviewed."""
    elapsed_s: float
    calls: list[RecordedCall]


def case_id(case: LoadedCase) -> str:
    """`python/pagination.py:1-40`: a case's file and reviewed lines (unique in a dataset)."""
    return f"{case.spec.file}:{case.reviewed}"


def _dump(model: BaseModel) -> str:
    data = model.model_dump(mode="json")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _segment(name: str) -> str:
    safe = _UNSAFE.sub("_", name) or "_"
    return "_" * len(safe) if set(safe) == {"."} else safe


def _relative(setup: str, case: LoadedCase) -> Path:
    """`merge/python/pagination.py@1-40.json`; every part made safe for a file name."""
    parts = [_segment(p) for p in setup.split("/")]
    *folders, name = [_segment(p) for p in case.spec.file.split("/")]
    return Path(*parts, *folders, f"{name}@{case.reviewed}.json")


class Taping(Protocol):
    """What the runner asks of a recorder or a replayer, case by case."""

    @property
    def env(self) -> Mapping[str, str] | None:
        """Where the reviewers' keys are read (None: the process's environment)."""
        ...

    def runtime(self) -> Runtime:
        """The runtime an eval runs on when the caller gives none."""
        ...

    def start(self, dataset: Dataset, setups: list[str]) -> None:
        """Before the first case: the dataset and the setups, in the order they run."""
        ...

    def wrapper(
        self, setup: str, case: LoadedCase, timeout_s: float
    ) -> Callable[[Reviewer], Reviewer]:
        """The engine's `wrap` for this setup's review of `case` (`timeout_s`: the setup's)."""
        ...

    async def finished(self, setup: str, case: LoadedCase, review: FusedReview) -> FusedReview:
        """The review as the report counts it, once its calls are done."""
        ...


@dataclass
class Recorder:
    """Writes every call of an eval run under `root`, each case as soon as it is reviewed."""

    root: Path
    env: Mapping[str, str] | None = None
    _logs: dict[tuple[str, str], CallLog] = field(default_factory=dict)
    _paths: dict[Path, tuple[str, str]] = field(default_factory=dict)

    def start(self, dataset: Dataset, setups: list[str]) -> None:
        """Refuse a folder that holds a recording or is not a folder, then write `run.json`."""
        if (self.root / RUN_FILE).exists():
            raise UsageError(
                f"{self.root} already holds a recording; record into a new folder, or replay "
                "it with --replay"
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            run = RunRecording(
                format=FORMAT, fusion_ls=__version__, dataset=str(dataset.root), setups=setups
            )
            (self.root / RUN_FILE).write_text(_dump(run), encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot record into {self.root}: {error.strerror or error}") from None

    def runtime(self) -> Runtime:
        return Runtime(make_http_client())

    def wrapper(
        self, setup: str, case: LoadedCase, timeout_s: float
    ) -> Callable[[Reviewer], Reviewer]:
        log = self._logs[(setup, case_id(case))] = CallLog()
        return log.wrap

    async def finished(self, setup: str, case: LoadedCase, review: FusedReview) -> FusedReview:
        identity = (setup, case_id(case))
        log = self._logs.pop(identity)
        recorded = CaseRecording(
            format=FORMAT,
            setup=setup,
            case=identity[1],
            elapsed_s=review.elapsed_s,
            calls=log.calls,
        )
        await asyncio.to_thread(self._write, self._path(identity, _relative(setup, case)), recorded)
        return review

    def _path(self, identity: tuple[str, str], relative: Path) -> Path:
        """A file of its own for each setup and case, even where their safe names collide."""
        path, number = relative, 1
        while self._paths.setdefault(path, identity) != identity:
            number += 1
            path = relative.with_name(f"{relative.stem}~{number}.json")
        return self.root / path

    @staticmethod
    def _write(path: Path, recorded: CaseRecording) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_dump(recorded), encoding="utf-8")
        except OSError as error:
            raise UsageError(f"cannot record into {path}: {error.strerror or error}") from None


async def _no_network(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("a replay makes no network call", request=request)


def offline_runtime() -> Runtime:
    """A runtime with no response cache, no spend ledger and a client that refuses every
    request: nothing run on it can reach the network."""
    return Runtime(httpx.AsyncClient(transport=httpx.MockTransport(_no_network)))


@dataclass
class Replayer:
    """An eval answered from a recording: no request is sent, no key read, nothing spent."""

    root: Path
    run: RunRecording
    cases: dict[tuple[str, str], CaseRecording]
    env: Mapping[str, str] | None = field(default_factory=dict)
    """No key is read: the reviewers are built with an empty environment."""

    @classmethod
    def load(cls, root: Path) -> Replayer:
        """Every file of the recording in `root`; UsageError naming the file that is wrong."""
        run = _read(root / RUN_FILE, RunRecording, f"{root} is not an eval recording")
        cases: dict[tuple[str, str], CaseRecording] = {}
        for path in sorted(root.rglob("*.json")):
            if path != root / RUN_FILE:
                case = _read(path, CaseRecording, "cannot replay")
                cases[(case.setup, case.case)] = case
        return cls(root, run, cases)

    def start(self, dataset: Dataset, setups: list[str]) -> None:
        pass  # every setup and case is looked up as it comes; a missing one is not recorded

    def runtime(self) -> Runtime:
        return offline_runtime()

    def wrapper(
        self, setup: str, case: LoadedCase, timeout_s: float
    ) -> Callable[[Reviewer], Reviewer]:
        key = case_id(case)
        own = self.cases.get((setup, key))
        others = [
            call
            for name in self.run.setups
            if name != setup and (name, key) in self.cases
            for call in self.cases[(name, key)].calls
        ]
        tape = Tape(
            own.calls if own else (),
            others,
            timeout_s=timeout_s,
            source=str(self.root),
        )
        return tape.wrap

    async def finished(self, setup: str, case: LoadedCase, review: FusedReview) -> FusedReview:
        own = self.cases.get((setup, case_id(case)))
        if own is None:
            return review
        return review.model_copy(update={"elapsed_s": own.elapsed_s})


def _read(path: Path, kind: type[F], problem: str) -> F:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{problem}: cannot read {path}: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{problem}: {path} is not JSON: {error}") from None
    found = data.get("format") if isinstance(data, dict) else None
    if found != FORMAT:
        raise UsageError(
            f"{problem}: {path} is in recording format {found}; this fusion-ls reads format "
            f"{FORMAT}"
        )
    try:
        return kind.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise UsageError(f"{problem}: {path}: {where}: {first['msg']}") from None
