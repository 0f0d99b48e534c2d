"""Running an eval: every setup (each pool model alone, then each fusion mode) over every case.

Each case goes through the same `Engine` a user runs, one setup after another so latencies are
comparable; the result is the `EvalReport` that `--format json` prints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from fusion_ls.cli.evaluation.dataset import Dataset, LoadedCase
from fusion_ls.cli.evaluation.recording import Taping
from fusion_ls.cli.evaluation.scoring import (
    AgreementLevel,
    CaseOutcome,
    Metrics,
    MinAgreement,
    Result,
    by_agreement,
    by_min_agreement,
    score,
    summarise,
)
from fusion_ls.config.settings import ModelRef, Settings
from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import drain
from fusion_ls.engine.fusion.modes import MODES
from fusion_ls.errors import FusionError, UsageError
from fusion_ls.findings import FusedReview, Mode
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.runtime import Runtime

__all__ = [
    "DEFAULT_CONCURRENCY",
    "EvalProgress",
    "EvalReport",
    "Setup",
    "SetupResult",
    "run_eval",
    "setups_for",
]

DEFAULT_CONCURRENCY = 4
"""Cases reviewed at once within a setup: enough to finish, few enough for rate limits."""

T = TypeVar("T")


@dataclass(frozen=True)
class Setup:
    """What one column of the comparison runs: a model alone (`mode` None) or fusion in a mode."""

    name: str
    mode: Mode | None
    settings: Settings


def _alone(settings: Settings, ref: ModelRef) -> Settings:
    """The settings with `ref` as the whole pool; the engine skips the judge for one answer."""
    return settings.model_copy(
        update={"fusion": settings.fusion.model_copy(update={"pool": [ref]})}
    )


def setups_for(settings: Settings) -> list[Setup]:
    """Each pool model alone, then each fusion mode with the full pool (none for a pool of one,
    where fusion would be the model alone again)."""
    pool = settings.fusion.pool
    singles = [Setup(ref.name, None, _alone(settings, ref)) for ref in pool]
    if len(pool) < 2:
        return singles
    return [*singles, *(Setup(mode, mode, settings) for mode in MODES)]


@dataclass(frozen=True)
class EvalProgress:
    setup: int
    setups: int
    name: str
    done: int
    cases: int

    def __str__(self) -> str:
        return f"setup {self.setup}/{self.setups} {self.name}: {self.done}/{self.cases} cases"


class SetupResult(Result):
    """One setup over the dataset; `agreement` and `min_agreement` (k = 1..pool size) only for
    fusion, where several models can raise one finding."""

    name: str
    mode: Mode | None
    models: list[str]
    judge: str | None
    metrics: Metrics
    agreement: list[AgreementLevel]
    min_agreement: list[MinAgreement]
    cases: list[CaseOutcome]


class EvalReport(Result):
    """The output of `fusion-ls eval --format json`."""

    dataset: str
    cases: int
    clean: int
    labels: int
    setups: list[SetupResult]

    @property
    def measured_nothing(self) -> bool:
        """True when no model answered on any case: the numbers say nothing about quality."""
        return all(s.metrics.failed == s.metrics.cases for s in self.setups)


async def _all_or_none(coroutines: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Like gather, but the first failure cancels the rest instead of leaving them paying."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _review(engine: Engine, case: LoadedCase, mode: Mode | None, root: Path) -> FusedReview:
    request = CodeRequest(
        path=case.spec.file,
        text=case.text,
        ranges=(case.spec.lines,) if case.spec.lines else (),
        mode=mode,
        file=case.path,
        workspace=root,
    )
    try:
        result = await drain(engine.review(request))
    except UsageError as error:  # over a limit or excluded: no later case would fare better
        raise UsageError(f"{case.spec.file}: {error}") from None
    if not isinstance(result, FusedReview):
        raise FusionError("the engine answered a review with an explanation")
    return result
    raise FusionError("the engine stopped without a result")


async def _run_setup(
    setup: Setup,
    dataset: Dataset,
    runtime: Runtime,
    concurrency: int,
    progress: EvalProgress,
    on_progress: Callable[[EvalProgress], None],
    tape: Taping | None,
) -> SetupResult:
    gate = asyncio.Semaphore(concurrency)
    done = 0

    async def reviewed(case: LoadedCase) -> FusedReview:
        """One case on an engine of its own, so a tape knows whose calls it sees."""
        wrap = tape.wrapper(setup.name, case, setup.settings.fusion.timeout_s) if tape else None
        env = tape.env if tape else None
        # A setup measures the models it names: never the offline analyzers in their place.
        engine = Engine(setup.settings, runtime, env=env, offline_fallback=False, wrap=wrap)
        review = await _review(engine, case, setup.mode, dataset.root)
        return await tape.finished(setup.name, case, review) if tape else review

    async def one(case: LoadedCase) -> CaseOutcome:
        nonlocal done
        async with gate:
            outcome = score(case, await reviewed(case))
        done += 1
        on_progress(replace(progress, done=done))
        return outcome

    on_progress(progress)
    outcomes = await _all_or_none(one(case) for case in dataset.cases)
    fusion = setup.settings.fusion
    pool = len(fusion.pool) if setup.mode else 0
    return SetupResult(
        name=setup.name,
        mode=setup.mode,
        models=[ref.name for ref in fusion.pool],
        judge=fusion.judge.name if setup.mode else None,
        metrics=summarise(outcomes),
        agreement=by_agreement(outcomes, pool),
        min_agreement=by_min_agreement(outcomes, pool),
        cases=outcomes,
    )


async def run_eval(
    dataset: Dataset,
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Callable[[EvalProgress], None] = lambda _: None,
    tape: Taping | None = None,
) -> EvalReport:
    """Run every setup over every case, one setup after another so their latencies are
    comparable; cases run `concurrency` at a time over one runtime (its cache is not used:
    eval measures the models, not the cache). Without one, a runtime of its own, with no
    spend ledger. `tape` records every call (`Recorder`) or answers every call from a
    recording (`Replayer`, whose own runtime cannot reach the network).

    A UsageError from the engine (a spending limit reached, an excluded file) stops the run.
    """
    if runtime is None:
        async with tape.runtime() if tape else Runtime(make_http_client()) as own:
            return await run_eval(
                dataset, settings, own, concurrency=concurrency, on_progress=on_progress,
                tape=tape,
            )  # fmt: skip
    measuring = replace(runtime, cache=None)
    setups = setups_for(settings)
    if tape is not None:
        tape.start(dataset, [setup.name for setup in setups])
    results: list[SetupResult] = []
    for number, setup in enumerate(setups, start=1):
        progress = EvalProgress(number, len(setups), setup.name, 0, len(dataset.cases))
        results.append(
            await _run_setup(setup, dataset, measuring, concurrency, progress, on_progress, tape)
        )
    return EvalReport(
        dataset=str(dataset.root),
        cases=len(dataset.cases),
        clean=dataset.clean,
        labels=dataset.labels,
        setups=results,
    )
