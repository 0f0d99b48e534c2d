"""One review or explanation, start to finish: scope → redact → prompt → reviewers → fuse →
anchor → postprocess.

This is the only entry point the adapters use. `Engine.review` and `Engine.explain` are async
generators of progress events whose last event carries the result (`events.drain` runs one to
its end); cancelling the consumer cancels every model call in flight. The engine asks a chat
model and an analyzer alike, through `Reviewer`, and fuses through the mode registry; only the
counting tells them apart, by name (`tool:…`): which categories a member checks, whether a
review's agreement counts `models` or `analyzers`, and that analyzers alone are all waited for
and have no judge.

It is longer than 450 lines because review and explain share every private step (prepare,
rounds, judge, shuffle); the steps that stand alone live beside it (rounds, postprocess,
fusion/).
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from functools import partial
from pathlib import PurePath
from typing import TypeVar

from fusion_ls.config.settings import ModelRef, Settings
from fusion_ls.engine.anchoring import SentText, anchor_all, split_lines
from fusion_ls.engine.answers import parse_explanation, parse_review
from fusion_ls.engine.budget import code_tokens, refuse_over_budget
from fusion_ls.engine.enclosing import context_windows
from fusion_ls.engine.events import (
    Event,
    ExplanationFinished,
    JudgeStarted,
    ModelFinished,
    Notice,
    Provisional,
    ReviewFinished,
    RoundStarted,
    offline_notice,
)
from fusion_ls.engine.exclude import excluded_by, project_root
from fusion_ls.engine.fusion.consensus import Cluster, all_agree, cluster, consensus
from fusion_ls.engine.fusion.debate import others_for, unchanged
from fusion_ls.engine.fusion.labels import anonymise
from fusion_ls.engine.fusion.modes import FusionMode, fusion_mode
from fusion_ls.engine.fusion.panel import Answer, Fused, Panel
from fusion_ls.engine.pool import Answered, Call, ask_one, fan_out
from fusion_ls.engine.postprocess import Dial, postprocess
from fusion_ls.engine.project_rules import ProjectRules
from fusion_ls.engine.prompts import (
    EXPLAIN_SCHEMA,
    REVIEW_SCHEMA,
    CodeExcerpt,
    asking,
    debate_messages,
    explain_messages,
    judge_explain_messages,
    review_messages,
)
from fusion_ls.engine.redact import make_visible, redact
from fusion_ls.engine.request import CodeRequest, language_for
from fusion_ls.engine.rounds import Runs, consensus_summary, quorum_shortfall, total_usage
from fusion_ls.errors import NoReviewer, ProviderError, TooLarge, UsageError
from fusion_ls.findings import (
    FusedExplanation,
    FusedReview,
    ModelRun,
    counted_as,
)
from fusion_ls.reviewers.base import Code, Prompt, Reply, Reviewer
from fusion_ls.reviewers.chat import ChatMessage
from fusion_ls.reviewers.registry import Reviewers, checked_categories
from fusion_ls.reviewers.runtime import Runtime

__all__ = ["CodeRequest", "Engine", "language_for"]

T = TypeVar("T")
_LABEL_REF = re.compile(r"\[([A-Z])\]")


@dataclass(frozen=True)
class _Prepared:
    """What the reviewers are sent, and how much was redacted from it."""

    excerpt: CodeExcerpt
    doc: SentText
    code: Code
    redacted: int
    rules: ProjectRules


@dataclass(frozen=True)
class _Outcome:
    """Fusion's outcome before it becomes a FusedReview."""

    fused: Fused
    judge: ModelRun | None
    degraded_reason: str | None = None


class Engine:
    """Reviews and explanations under one `Settings`, over one process's `Runtime`."""

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        *,
        env: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
        offline_fallback: bool = True,
        wrap: Callable[[Reviewer], Reviewer] | None = None,
    ) -> None:
        """`wrap` is applied to every reviewer (eval's recording and replay)."""
        self.settings = settings
        self._runtime = runtime
        self._offline_fallback = offline_fallback
        self._reviewers = Reviewers(settings, runtime, env, wrap=wrap)
        self._rng = rng
        self._pool: dict[str, ModelRef] = {ref.name: ref for ref in settings.fusion.pool}

    # -- shared steps --------------------------------------------------------------------

    async def _prepare(
        self, request: CodeRequest, reviewers: Mapping[str, Reviewer] | None = None
    ) -> _Prepared:
        """Check the request may be sent at all, then build what the reviewers will see.
        `reviewers` is the review's pool when it is not the configured one (the offline
        fallback: local analyzers, and no judge to pay for)."""
        self._refuse_excluded(request)
        lines = split_lines(request.text)
        if not any(line.strip() for line in lines):
            raise UsageError(f"nothing to do: {request.path} is empty")
        scope = request.scope(len(lines))
        rules = ProjectRules.of(self.settings, request, lines)
        language = language_for(request.path)
        context = request.context_lines(self.settings.review)
        sent_lines = context_windows(lines, language, scope, context)
        windows = sent_lines.ranges
        code_tokens = self._check_size(
            [line for w in windows for line in lines[w.start - 1 : w.end]],
            split_lines(rules.instructions),
        )
        fusion = self.settings.fusion
        rounds = fusion.rounds if self._mode(request, rules).debates else 1
        configured = reviewers is None
        if reviewers is None:
            reviewers = {name: self._reviewers.get(ref) for name, ref in self._pool.items()}
        pool = list(reviewers.values())
        judge = self._reviewers.get(fusion.judge) if configured else None
        await refuse_over_budget(self.settings, self._runtime, pool, judge, code_tokens, rounds)
        sent = list(lines)
        redacted = 0
        for window in windows:
            found = redact(sent, window.start, window.end)
            sent, redacted = list(found.lines), redacted + len(found.redactions)
            sent[window.start - 1 : window.end] = map(
                make_visible, sent[window.start - 1 : window.end]
            )
        excerpt = CodeExcerpt(
            path=request.path, language=language, lines=sent, reviewed=scope, windows=sent_lines
        )
        cwd = request.file.parent if request.file else None
        code = Code(path=request.path, lines=sent, reviewed=scope.ranges, cwd=cwd)
        return _Prepared(excerpt, SentText(lines=sent, reviewed=scope), code, redacted, rules)

    def _mode(self, request: CodeRequest, rules: ProjectRules) -> FusionMode:
        """The request's mode (a flag, an editor option), else the path rule's, else the
        project's."""
        return fusion_mode(request.mode or rules.mode or self.settings.fusion.mode)

    def _refuse_excluded(self, request: CodeRequest) -> None:
        if request.file is None:
            return
        root = project_root(request.file, request.workspace)
        review = self.settings.review
        reason = excluded_by(request.file, root, review.exclude, review.baseline)
        if reason is not None:
            raise UsageError(f"{request.path} is never sent to a model: {reason}")

    def _check_size(self, window: Sequence[str], instructions: Sequence[str]) -> int:
        """Refuse before any work when the code and the project's instructions (the team's
        rule files, up to 16,000 characters, among them) would exceed the input-token limit;
        their tokens per model otherwise."""
        per_model = code_tokens(window) + code_tokens(instructions)
        estimate = per_model * len(self._pool)
        limit = self.settings.limits.max_input_tokens
        if estimate > limit:
            raise TooLarge(
                f"this review would send about {estimate} tokens ({per_model} to each of "
                f"{len(self._pool)} models), over limits.max_input_tokens = {limit}; review "
                "fewer lines (--lines A-B), exclude the file (review.exclude) or raise "
                "max_input_tokens in your user config"
            )
        return per_model

    def _shuffler(self, *material: str) -> random.Random:
        """The label shuffle: fixed by the content, so a repeated review is a cache hit too."""
        if self._rng is not None:
            return self._rng
        digest = hashlib.sha256("\0".join(material).encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    async def _round(
        self, round_number: int, calls: Mapping[str, Call[T]], runs: Runs, results: dict[str, T]
    ) -> AsyncGenerator[tuple[ModelFinished, T | None], None]:
        """Each model's outcome as it arrives, with its answer when it gave one."""
        fusion = self.settings.fusion
        answered = 0
        # Local analyzers alone are all waited for: none is slow for long, and none costs.
        offline = counted_as(calls) == "analyzers"
        outcomes = fan_out(
            calls,
            timeout_s=fusion.timeout_s,
            quorum=len(calls) if offline else fusion.quorum,
            grace_s=fusion.straggler_grace_s,
        )
        async with aclosing(outcomes):
            async for outcome in outcomes:
                runs.record(outcome.run, round_number)
                value: T | None = None
                if isinstance(outcome, Answered):
                    results[outcome.model] = value = outcome.value
                    answered += 1
                yield ModelFinished(round_number, outcome.run, answered, len(calls)), value

    async def _judge(self, prompt: Prompt[T], code: Code) -> tuple[T | None, ModelRun]:
        judge = self._reviewers.get(self.settings.fusion.judge)
        outcome = await ask_one(
            judge.name, partial(judge.ask, prompt, code), self.settings.fusion.timeout_s
        )
        return (outcome.value if isinstance(outcome, Answered) else None), outcome.run

    # -- review --------------------------------------------------------------------------

    async def _reviewed(
        self, reviewer: Reviewer, messages: tuple[ChatMessage, ...], prepared: _Prepared
    ) -> Reply[Answer]:
        """One reviewer's review, anchored to the text that was sent."""
        declined = reviewer.declines(prepared.code.path)
        if declined is not None:
            raise ProviderError(declined, status="skipped")
        prompt = asking(
            messages, REVIEW_SCHEMA, lambda text, salvage: parse_review(text, salvage=salvage)
        )
        reply = await reviewer.ask(prompt, prepared.code)
        placed = anchor_all(reply.value.findings, prepared.doc)
        dropped = placed.unquoted + reply.value.skipped
        answer = Answer(placed.kept, reply.value.summary, dropped, placed.outside)
        return Reply(answer, reply.usage, reply.cached)

    async def _review_pool(self, path: str) -> tuple[dict[str, Reviewer], str | None]:
        """The pool for this review: the configured one, or, when no member that can reason
        can be asked at all (no key, nothing listening), the local analyzers that can review
        `path`, with a notice saying so (the one place a missing key is told). When nothing
        can review it, NoReviewer says why."""
        pool = {name: self._reviewers.get(ref) for name, ref in self._pool.items()}
        if not self._offline_fallback:
            return pool, None
        problems = {name: await reviewer.unavailable() for name, reviewer in pool.items()}
        usable = {name: r for name, r in pool.items() if problems[name] is None}
        if len(usable) == len(pool) or any("judge" in r.capabilities for r in usable.values()):
            return pool, None
        reasons = "; ".join(dict.fromkeys(p for p in problems.values() if p))
        fallback = {n: r for n, r in usable.items() if r.declines(path) is None}
        missing: list[str] = []
        for analyzer in [] if fallback else self._reviewers.analyzers_for(path):
            problem = await analyzer.unavailable()
            if problem is None:
                fallback[analyzer.name] = analyzer
            else:
                missing.append(problem)
        if not fallback:
            suffix = PurePath(path).suffix or "extension-less"
            tools = "".join(f"; {problem}" for problem in missing)
            raise NoReviewer(
                path, reasons, f"no local analyzer for {suffix} files is installed{tools}"
            )
        return fallback, offline_notice(reasons, fallback)

    def _revisions(
        self,
        round_number: int,
        prepared: _Prepared,
        answers: Mapping[str, Answer],
        reviewers: Mapping[str, Reviewer],
    ) -> dict[str, tuple[ChatMessage, ...]]:
        """A debate round's prompts: each reviser sees its own and the others' findings, listed
        in pool order before the shuffle, so a prompt never depends on who answered first."""
        now = {m: answers[m].findings for m in reviewers if m in answers}
        excerpt = prepared.excerpt
        return {
            m: debate_messages(
                excerpt,
                prepared.rules.instructions,
                round_number,
                now[m],
                others_for(m, now, self._shuffler(excerpt.render(), m, str(round_number))),
            )
            for m in now
            if "revise" in reviewers[m].capabilities  # an analyzer's report stands as it is
        }

    def _provisional(
        self, pool: Sequence[str], answers: Mapping[str, Answer], prepared: _Prepared, runs: Runs
    ) -> Provisional:
        """The consensus of the answers so far, as the final findings will be post-processed."""
        latest = {m: answers[m].findings for m in pool if m in answers}
        found = consensus(prepared.excerpt.path, cluster(latest), len(pool))
        dial = Dial.of(prepared.rules.review, len(pool), provisional=True)
        shown = postprocess(
            found,
            prepared.doc.reviewed,
            latest,
            failed=runs.failed(),
            dial=dial,
            answered_by=counted_as(pool),
            coverage={m: checked_categories(m) for m in pool},
            policy=prepared.rules.policy,
        )
        return Provisional(tuple(shown.findings), len(latest), len(pool))

    async def review(self, request: CodeRequest) -> AsyncGenerator[Event, None]:
        """Review the request's lines; the last event is `ReviewFinished`."""
        started = time.monotonic()
        self._refuse_excluded(request)  # before saying that nothing else could review it
        reviewers, notice = await self._review_pool(request.path)
        prepared = await self._prepare(request, None if notice is None else reviewers)
        excerpt = prepared.excerpt
        fusion = self.settings.fusion
        rules = prepared.rules
        instructions = rules.instructions
        mode = self._mode(request, rules)
        if notice is not None:
            yield Notice(notice)
        pool = list(reviewers)
        rounds = fusion.rounds if mode.debates else 1
        runs = Runs()
        answers: dict[str, Answer] = {}
        latest: dict[str, Answer] = {}

        def calls(messages: Mapping[str, tuple[ChatMessage, ...]]) -> dict[str, Call[Answer]]:
            return {
                m: partial(self._reviewed, reviewers[m], msgs, prepared)
                for m, msgs in messages.items()
            }

        todo = {m: review_messages(excerpt, instructions) for m in pool}
        round_number = 1
        while True:
            yield RoundStarted(round_number, rounds, len(todo))
            before = {m: a.findings for m, a in answers.items()}
            revised: dict[str, Answer] = {}
            async for event, answer in self._round(round_number, calls(todo), runs, revised):
                if answer is None:
                    yield event
                    continue
                yield replace(event, findings=tuple(answer.findings))
                latest[event.run.model] = answer
                yield self._provisional(pool, latest, prepared, runs)
            answers.update(revised)
            if round_number == rounds or len(answers) < 2:
                break
            if round_number > 1 and unchanged(before, {m: a.findings for m, a in revised.items()}):
                break
            round_number += 1
            todo = self._revisions(round_number, prepared, answers, reviewers)

        final = {m: answers[m] for m in pool if m in answers}
        outcome = _Outcome(Fused([], "No model answered; see each model's status."), None)
        if final:
            clusters = cluster({m: a.findings for m, a in final.items()})
            skip = self._judge_skip_reason(len(final), clusters, offline=notice is not None)
            if skip is None:
                yield JudgeStarted(fusion.judge.name)
            outcome = await self._fuse(mode, prepared, final, clusters, skip)
        model_runs = runs.in_order(pool)
        shortfall = quorum_shortfall(len(final), len(pool), fusion.quorum)
        degraded = "; ".join(r for r in (shortfall, outcome.degraded_reason) if r) or None
        usage = total_usage(model_runs, outcome.judge)
        await self._runtime.record_spend(usage.cost_usd)
        scope = prepared.doc.reviewed
        shown = postprocess(
            outcome.fused.findings,
            scope,
            {m: a.findings for m, a in final.items()},
            failed=runs.failed(),
            dial=Dial.of(rules.review, max(len(final), 1)),
            answered_by=counted_as(final),
            coverage={m: checked_categories(m) for m in final},
            policy=rules.policy,
            report_unused=rules.report_unused(not request.ranges, len(final), runs.failed()),
        )
        findings = shown.findings
        yield ReviewFinished(
            FusedReview(
                path=request.path,
                lines=scope.bounds,
                ranges=list(scope.ranges),
                findings=findings,
                summary=outcome.fused.summary or consensus_summary(final, findings),
                mode=mode.name,
                models=model_runs,
                judge=outcome.judge,
                degraded=degraded is not None,
                degraded_reason=degraded,
                dropped=sum(a.dropped for a in final.values()) + outcome.fused.dropped,
                outside=sum(a.outside for a in final.values()) + outcome.fused.outside,
                hidden=shown.hidden,
                suppressed=shown.suppressed,
                baselined=shown.baselined,
                unused_suppressions=shown.unused,
                rule_files=[f.path for f in rules.rule_files],
                redacted=prepared.redacted,
                notice=notice,
                usage=usage,
                elapsed_s=round(time.monotonic() - started, 3),
            )
        )

    def _judge_skip_reason(
        self, answered: int, clusters: Sequence[Cluster], *, offline: bool
    ) -> str | None:
        """Why the judge is not needed (or cannot be asked: offline, only analyzers answered),
        or None when it is."""
        if offline:  # first: with one analyzer, no model answered at all
            return "offline: no model to judge; the analyzers' consensus is the result"
        if answered == 1:
            return "only one model answered"
        if not self.settings.fusion.judge_on_agreement and all_agree(clusters, answered):
            return "every model found the same; no judge needed (judge_on_agreement = false)"
        return None

    async def _fuse(
        self,
        mode: FusionMode,
        prepared: _Prepared,
        final: dict[str, Answer],
        clusters: Sequence[Cluster],
        skip: str | None,
    ) -> _Outcome:
        """Fuse with the mode's judge; without one, or if it fails, the consensus is the
        result (marked degraded when the judge failed)."""
        excerpt = prepared.excerpt
        fallback = Fused(consensus(excerpt.path, clusters, len(final)), "")
        judge_name = self.settings.fusion.judge.name
        if skip is not None:
            return _Outcome(fallback, ModelRun(model=judge_name, status="skipped", error=skip))
        labels = anonymise(list(final), self._shuffler(excerpt.render(), *final))
        panel = Panel(excerpt, prepared.rules.instructions, prepared.doc, final, labels, clusters)
        judging = mode.judging
        answer, run = await self._judge(judging.prompt(panel), prepared.code)
        if answer is not None:
            return _Outcome(judging.fuse(panel, answer), run)
        reason = f"the judge failed ({run.status}: {run.error}); showing the models' consensus"
        return _Outcome(fallback, run, reason)

    # -- explain -------------------------------------------------------------------------

    async def explain(self, request: CodeRequest) -> AsyncGenerator[Event, None]:
        """Explain the request's lines; the last event is `ExplanationFinished`."""
        started = time.monotonic()
        prepared = await self._prepare(request)
        excerpt = prepared.excerpt
        reviewers = {
            name: reviewer
            for name, ref in self._pool.items()
            if "explain" in (reviewer := self._reviewers.get(ref)).capabilities
        }
        if not reviewers:
            raise UsageError(
                "local analyzers review but cannot explain; add a model to fusion.pool to explain"
            )
        pool = list(reviewers)
        runs = Runs()
        texts: dict[str, str] = {}
        prompt = asking(
            explain_messages(excerpt, prepared.rules.instructions),
            EXPLAIN_SCHEMA,
            _explanation,
        )
        calls: dict[str, Call[str]] = {
            m: partial(reviewers[m].ask, prompt, prepared.code) for m in pool
        }
        yield RoundStarted(1, 1, len(pool))
        async for event, _ in self._round(1, calls, runs, texts):
            yield event
        ordered = {m: texts[m] for m in pool if m in texts}
        judge_name = self.settings.fusion.judge.name
        judge: ModelRun | None = None
        degraded: str | None = None
        if not ordered:
            explanation, degraded = "", "no model answered"
        elif len(ordered) == 1:
            explanation = next(iter(ordered.values()))
            judge = ModelRun(model=judge_name, status="skipped", error="only one model answered")
        else:
            yield JudgeStarted(judge_name)
            labels = anonymise(list(ordered), self._shuffler(excerpt.render(), *ordered))
            merged, judge = await self._judge(
                asking(
                    judge_explain_messages(
                        excerpt, {label: ordered[m] for label, m in labels.items()}
                    ),
                    EXPLAIN_SCHEMA,
                    _explanation,
                ),
                prepared.code,
            )
            if merged is not None:
                explanation = _LABEL_REF.sub(
                    lambda match: f"[{labels.get(match[1], match[1])}]", merged
                )
            else:
                explanation = "\n\n".join(f"### {m}\n\n{text}" for m, text in ordered.items())
                degraded = f"the judge failed ({judge.status}: {judge.error}); showing each answer"
        model_runs = runs.in_order(pool)
        usage = total_usage(model_runs, judge)
        await self._runtime.record_spend(usage.cost_usd)
        scope = prepared.doc.reviewed
        yield ExplanationFinished(
            FusedExplanation(
                path=request.path,
                lines=scope.bounds,
                ranges=list(scope.ranges),
                explanation=explanation,
                models=model_runs,
                judge=judge,
                degraded=degraded is not None,
                degraded_reason=degraded,
                redacted=prepared.redacted,
                usage=usage,
                elapsed_s=round(time.monotonic() - started, 3),
            )
        )


def _explanation(text: str, _salvage: bool) -> str:
    return parse_explanation(text).explanation
