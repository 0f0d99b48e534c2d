"""One review or explanation, start to finish: prompt → pool → fuse → anchor.

This is the only entry point the adapters use. `Engine.review` and `Engine.explain` are async
generators of progress events whose last event carries the result; cancelling the consumer
cancels every model call in flight.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePath
from typing import TypeVar

import httpx

from fusion_ls.config.settings import TOOL_PROVIDER, Mode, ModelRef, Settings
from fusion_ls.engine.anchoring import SentText, anchor_all, split_lines
from fusion_ls.engine.answers import (
    InvalidAnswer,
    parse_explanation,
    parse_judged_review,
    parse_review,
    parse_verdict,
)
from fusion_ls.engine.events import (
    Event,
    ExplanationFinished,
    JudgeStarted,
    ModelFinished,
    Notice,
    ReviewFinished,
    RoundStarted,
)
from fusion_ls.engine.exclude import excluded_by, project_root
from fusion_ls.engine.fusion.best_of import check_verdict, winner_findings
from fusion_ls.engine.fusion.consensus import Cluster, all_agree, cluster, consensus
from fusion_ls.engine.fusion.debate import others_for, unchanged
from fusion_ls.engine.fusion.labels import anonymise
from fusion_ls.engine.fusion.merge import merged_findings
from fusion_ls.engine.pool import Answered, Call, Reply, ask_one, fan_out
from fusion_ls.engine.prompts import (
    EXPLAIN_SCHEMA,
    JUDGED_REVIEW_SCHEMA,
    REVIEW_SCHEMA,
    CodeExcerpt,
    best_of_schema,
    debate_messages,
    explain_messages,
    judge_best_of_messages,
    judge_explain_messages,
    judge_merge_messages,
    repair_messages,
    review_messages,
)
from fusion_ls.engine.redact import make_visible, redact
from fusion_ls.errors import ProviderError, UsageError
from fusion_ls.findings import (
    Finding,
    FusedExplanation,
    FusedReview,
    LineRange,
    ModelRun,
    ProposedFinding,
    Usage,
)
from fusion_ls.reviewers.cache import ResponseCache
from fusion_ls.reviewers.chat import ChatMessage, ChatRequest, ChatResult, ResponseSchema
from fusion_ls.reviewers.openai_compat import Provider
from fusion_ls.reviewers.spend import SpendLedger
from fusion_ls.reviewers.tools.ruff import ANALYZERS

__all__ = ["CodeRequest", "Engine", "language_for"]

T = TypeVar("T")
Parse = Callable[[str, bool], T]
"""Parse a model's text; the flag asks to salvage what is valid (used after the repair retry)."""

_LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".jsx": "javascript",
    ".mjs": "javascript", ".ts": "typescript", ".tsx": "typescript", ".go": "go",
    ".rs": "rust", ".java": "java", ".kt": "kotlin", ".c": "c", ".h": "c", ".cc": "cpp",
    ".cpp": "cpp", ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
    ".swift": "swift", ".scala": "scala", ".sh": "shell", ".bash": "shell", ".sql": "sql",
    ".lua": "lua", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".json": "json",
}  # fmt: skip
_CHARS_PER_TOKEN = 4
_LABEL_REF = re.compile(r"\[([A-Z])\]")


def language_for(path: str) -> str:
    return _LANGUAGES.get(PurePath(path).suffix.lower(), "text")


@dataclass(frozen=True)
class CodeRequest:
    """What to review or explain: a document's text as editor or disk has it, and which lines.

    `path` is how results name the file; `file` (on disk, when there is one) and `workspace`
    decide which exclude rules apply.
    """

    path: str
    text: str
    lines: LineRange | None = None
    mode: Mode | None = None
    file: Path | None = None
    workspace: Path | None = None


@dataclass(frozen=True)
class _Prepared:
    """What the models are sent, and how much was redacted from it."""

    excerpt: CodeExcerpt
    doc: SentText
    redacted: int


@dataclass(frozen=True)
class _Answer:
    """A pool model's review after anchoring: kept findings, and how many it lost."""

    findings: list[ProposedFinding]
    summary: str
    dropped: int


class _Runs:
    """Each model's status across rounds: usage and latency add up, the last good answer counts."""

    def __init__(self) -> None:
        self._runs: dict[str, ModelRun] = {}

    def record(self, run: ModelRun, round_number: int) -> None:
        before = self._runs.get(run.model)
        if before is None or before.status != "ok":
            self._runs[run.model] = run
            return
        error = before.error
        if run.status != "ok":
            error = (
                f"round {round_number}: {run.error}; its round {round_number - 1} answer was kept"
            )
        self._runs[run.model] = before.model_copy(
            update={
                "latency_s": round((before.latency_s or 0) + (run.latency_s or 0), 3),
                "usage": before.usage + run.usage,
                "error": error,
            }
        )

    def in_order(self, models: Sequence[str]) -> list[ModelRun]:
        return [self._runs[m] for m in models if m in self._runs]


def _total_usage(runs: Sequence[ModelRun], judge: ModelRun | None) -> Usage:
    total = Usage()
    for run in [*runs, *([judge] if judge else [])]:
        total = total + run.usage
    return total


class Engine:
    """Reviews and explanations under one `Settings`, over one shared HTTP client."""

    def __init__(
        self,
        settings: Settings,
        client: httpx.AsyncClient,
        *,
        env: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
        ledger: SpendLedger | None = None,
        cache: ResponseCache | None = None,
        offline_fallback: bool = True,
    ) -> None:
        self.settings = settings
        self._offline_fallback = offline_fallback
        self._ledger = ledger
        self._cache = cache
        self._providers = {
            name: Provider(name, conf, client, env) for name, conf in settings.providers.items()
        }
        self._rng = rng
        self._refs = {ref.name: ref for ref in settings.fusion.pool}

    # -- shared steps --------------------------------------------------------------------

    def _prepare(self, request: CodeRequest) -> _Prepared:
        """Check the request may be sent at all, then build what the models will see."""
        self._refuse_excluded(request)
        self._refuse_over_budget()
        lines = split_lines(request.text)
        if not any(line.strip() for line in lines):
            raise UsageError(f"nothing to do: {request.path} is empty")
        wanted = request.lines or LineRange(start=1, end=len(lines))
        if wanted.start > len(lines):
            raise UsageError(
                f"lines {wanted} are past the end of {request.path}, which has {len(lines)} lines"
            )
        reviewed = LineRange(start=wanted.start, end=min(wanted.end, len(lines)))
        context = self.settings.review.context_lines
        window = LineRange(
            start=max(1, reviewed.start - context), end=min(len(lines), reviewed.end + context)
        )
        self._check_size(lines[window.start - 1 : window.end])
        redacted = redact(lines, window.start, window.end)
        sent = list(redacted.lines)
        sent[window.start - 1 : window.end] = map(make_visible, sent[window.start - 1 : window.end])
        excerpt = CodeExcerpt(
            path=request.path,
            language=language_for(request.path),
            lines=sent,
            reviewed=reviewed,
            context_lines=context,
        )
        return _Prepared(excerpt, SentText(lines=sent, reviewed=reviewed), len(redacted.redactions))

    def _refuse_excluded(self, request: CodeRequest) -> None:
        if request.file is None:
            return
        root = project_root(request.file, request.workspace)
        reason = excluded_by(request.file, root, self.settings.review.exclude)
        if reason is not None:
            raise UsageError(f"{request.path} is never sent to a model: {reason}")

    def _refuse_over_budget(self) -> None:
        if self._ledger is None:
            return
        limit = self.settings.limits.max_cost_usd
        spent = self._ledger.spent_today()
        if spent >= limit:
            raise UsageError(
                f"today's spend ${spent:.2f} has reached limits.max_cost_usd = ${limit:.2f} "
                "(summed from the providers' reported cost); raise max_cost_usd in your user "
                "config to go on"
            )

    def _check_size(self, window: Sequence[str]) -> None:
        """Refuse before any work when the code alone would exceed the input-token limit."""
        per_model = sum(len(line) + 8 for line in window) // _CHARS_PER_TOKEN
        estimate = per_model * len(self._refs)
        limit = self.settings.limits.max_input_tokens
        if estimate > limit:
            raise UsageError(
                f"this review would send about {estimate} tokens ({per_model} to each of "
                f"{len(self._refs)} models), over limits.max_input_tokens = {limit}; review "
                "fewer lines (--lines A-B) or raise max_input_tokens in your user config"
            )

    def _record_spend(self, usage: Usage) -> None:
        if self._ledger is not None and usage.cost_usd:
            self._ledger.add(usage.cost_usd)

    async def _ask(
        self,
        ref: ModelRef,
        messages: tuple[ChatMessage, ...],
        schema: ResponseSchema,
        parse: Parse[T],
    ) -> Reply[T]:
        """One model call with one repair retry for an answer that does not validate."""
        fusion = self.settings.fusion
        provider = self._providers[ref.provider]

        def request(msgs: tuple[ChatMessage, ...]) -> ChatRequest:
            return ChatRequest(
                model=ref.model,
                messages=msgs,
                max_tokens=fusion.max_tokens,
                temperature=fusion.temperature,
                schema=schema,
            )

        first, cached = await self._chat(provider, request(messages))
        try:
            return Reply(parse(first.text, False), first.usage, cached)
        except InvalidAnswer as problem:
            retry, cached = await self._chat(
                provider, request(repair_messages(messages, first.text, str(problem)))
            )
        try:
            return Reply(parse(retry.text, True), first.usage + retry.usage, cached)
        except InvalidAnswer as problem:
            raise ProviderError(f"invalid answer: {problem}", status="invalid") from None

    async def _chat(self, provider: Provider, request: ChatRequest) -> tuple[ChatResult, bool]:
        """One chat call, answered from the response cache when the same request was made."""
        if self._cache is None:
            return await provider.chat(request, self.settings.fusion.timeout_s), False
        conf = provider.settings
        key = self._cache.key(conf.base_url, conf.uses_structured_output, request)
        hit = await self._cache.get(key)
        if hit is not None:
            return hit, True
        result = await provider.chat(request, self.settings.fusion.timeout_s)
        self._cache.put_soon(key, result)
        return result, False

    def _shuffler(self, *material: str) -> random.Random:
        """The label shuffle: fixed by the content, so a repeated review is a cache hit too."""
        if self._rng is not None:
            return self._rng
        digest = hashlib.sha256("\0".join(material).encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    async def _round(
        self,
        round_number: int,
        calls: Mapping[str, Call[T]],
        runs: _Runs,
        results: dict[str, T],
        provisional: Callable[[T], Sequence[ProposedFinding]],
    ) -> AsyncGenerator[ModelFinished, None]:
        fusion = self.settings.fusion
        answered = 0
        outcomes = fan_out(
            calls,
            timeout_s=fusion.timeout_s,
            quorum=fusion.quorum,
            grace_s=fusion.straggler_grace_s,
        )
        async with aclosing(outcomes):
            async for outcome in outcomes:
                runs.record(outcome.run, round_number)
                found: Sequence[ProposedFinding] = ()
                if isinstance(outcome, Answered):
                    results[outcome.model] = outcome.value
                    answered += 1
                    found = provisional(outcome.value)
                yield ModelFinished(round_number, outcome.run, answered, len(calls), tuple(found))

    async def _judge(
        self, messages: tuple[ChatMessage, ...], schema: ResponseSchema, parse: Parse[T]
    ) -> tuple[T | None, ModelRun]:
        judge = self.settings.fusion.judge
        outcome = await ask_one(
            judge.name,
            partial(self._ask, judge, messages, schema, parse),
            self.settings.fusion.timeout_s,
        )
        return (outcome.value if isinstance(outcome, Answered) else None), outcome.run

    # -- review --------------------------------------------------------------------------

    async def _reviewed(
        self, ref: ModelRef, messages: tuple[ChatMessage, ...], doc: SentText
    ) -> Reply[_Answer]:
        reply = await self._ask(
            ref, messages, REVIEW_SCHEMA, lambda text, salvage: parse_review(text, salvage=salvage)
        )
        kept, lost = anchor_all(reply.value.findings, doc)
        answer = _Answer(kept, reply.value.summary, lost + reply.value.skipped)
        return Reply(answer, reply.usage, reply.cached)

    async def _analyzed(self, ref: ModelRef, doc: SentText, request: CodeRequest) -> Reply[_Answer]:
        """A local analyzer's review of the same text the models see, within the same lines."""
        analyzer = ANALYZERS[ref.model]
        if PurePath(request.path).suffix.lower() not in analyzer.suffixes:
            handled = ", ".join(sorted(analyzer.suffixes))
            raise ProviderError(f"{ref.name} reviews {handled} files only", status="skipped")
        cwd = request.file.parent if request.file else None
        found = await analyzer.review(doc.lines, request.path, cwd, self.settings.fusion.timeout_s)
        kept, _ = anchor_all([f for f in found if f.line_start in doc.reviewed], doc)
        count = f"{len(kept)} finding{'' if len(kept) == 1 else 's'}"
        return Reply(_Answer(kept, f"{count} from {ref.name}.", 0), Usage())

    async def _review_pool(self, request: CodeRequest) -> tuple[dict[str, ModelRef], str | None]:
        """The pool for this review: the configured one, or, when no model can be asked at all
        (no key, nothing listening), the local analyzers alone, with a notice saying so."""
        if not self._offline_fallback:
            return dict(self._refs), None
        models = [ref for ref in self._refs.values() if not ref.is_tool]
        problems = [await self._unusable(ref) for ref in models]
        if not models or not all(problems):
            return dict(self._refs), None
        suffix = PurePath(request.path).suffix.lower()
        tools = [ref for ref in self._refs.values() if ref.is_tool] or [
            ModelRef(model=name, provider=TOOL_PROVIDER)
            for name, analyzer in ANALYZERS.items()
            if suffix in analyzer.suffixes
        ]
        if not tools:
            return dict(self._refs), None
        reasons = "; ".join(dict.fromkeys(p for p in problems if p))
        names = ", ".join(ref.name for ref in tools)
        notice = (
            f"no model provider can be used ({reasons}); reviewing with local analyzers only: "
            f"{names}"
        )
        return {ref.name: ref for ref in tools}, notice

    async def _unusable(self, ref: ModelRef) -> str | None:
        provider = self._providers[ref.provider]
        problem = provider.key_problem()
        keyless = problem is None and provider.settings.api_key_env is None
        if keyless and not await provider.reachable():
            problem = f"nothing answers at {provider.settings.base_url}"
        return problem

    async def review(self, request: CodeRequest) -> AsyncGenerator[Event, None]:
        """Review the request's lines; the last event is `ReviewFinished`."""
        started = time.monotonic()
        prepared = self._prepare(request)
        excerpt, doc = prepared.excerpt, prepared.doc
        fusion = self.settings.fusion
        instructions = self.settings.review.instructions
        mode = request.mode or fusion.mode
        refs, notice = await self._review_pool(request)
        if notice is not None:
            yield Notice(notice)
        pool = list(refs)
        rounds = fusion.rounds if mode == "debate" else 1
        runs = _Runs()
        answers: dict[str, _Answer] = {}

        def calls(messages: Mapping[str, tuple[ChatMessage, ...]]) -> dict[str, Call[_Answer]]:
            return {
                m: partial(self._reviewed, refs[m], msgs, doc)
                if not refs[m].is_tool
                else partial(self._analyzed, refs[m], doc, request)
                for m, msgs in messages.items()
            }

        yield RoundStarted(1, rounds, len(pool))
        first = review_messages(excerpt, instructions)
        async for event in self._round(1, calls({m: first for m in pool}), runs, answers, _found):
            yield event

        for round_number in range(2, rounds + 1):
            if len(answers) < 2:
                break
            before = {m: a.findings for m, a in answers.items()}
            revise = {
                m: debate_messages(
                    excerpt,
                    instructions,
                    round_number,
                    before[m],
                    others_for(m, before, self._shuffler(excerpt.render(), m, str(round_number))),
                )
                for m in before
                if not refs[m].is_tool  # an analyzer's report does not change its mind
            }
            yield RoundStarted(round_number, rounds, len(revise))
            revised: dict[str, _Answer] = {}
            async for event in self._round(round_number, calls(revise), runs, revised, _found):
                yield event
            answers.update(revised)
            if unchanged(before, {m: a.findings for m, a in revised.items()}):
                break

        final = {m: answers[m] for m in pool if m in answers}
        fused = _Fused(findings=[], summary="No model answered; see each model's status.")
        if final:
            clusters = cluster({m: a.findings for m, a in final.items()})
            fallback = consensus(excerpt.path, clusters, len(final))
            skip = self._judge_skip_reason(len(final), clusters)
            if skip is None:
                yield JudgeStarted(fusion.judge.name)
                fused = await self._run_judge(mode, excerpt, doc, final, clusters, fallback)
            else:
                judge = ModelRun(model=fusion.judge.name, status="skipped", error=skip)
                fused = _Fused(fallback, _consensus_summary(final, fallback), judge=judge)
        model_runs = runs.in_order(pool)
        shortfall = _quorum_shortfall(len(final), len(pool), fusion.quorum)
        degraded = "; ".join(r for r in (shortfall, fused.degraded_reason) if r) or None
        usage = _total_usage(model_runs, fused.judge)
        self._record_spend(usage)
        yield ReviewFinished(
            FusedReview(
                path=request.path,
                lines=doc.reviewed,
                findings=fused.findings,
                summary=fused.summary,
                mode=mode,
                models=model_runs,
                judge=fused.judge,
                degraded=degraded is not None,
                degraded_reason=degraded,
                dropped=sum(a.dropped for a in final.values()) + fused.dropped,
                redacted=prepared.redacted,
                notice=notice,
                usage=usage,
                elapsed_s=round(time.monotonic() - started, 3),
            )
        )

    def _judge_skip_reason(self, answered: int, clusters: Sequence[Cluster]) -> str | None:
        """Why the judge is not needed, or None when it is."""
        if answered == 1:
            return "only one model answered"
        if not self.settings.fusion.judge_on_agreement and all_agree(clusters, answered):
            return "every model found the same; no judge needed (judge_on_agreement = false)"
        return None

    async def _run_judge(
        self,
        mode: Mode,
        excerpt: CodeExcerpt,
        doc: SentText,
        final: dict[str, _Answer],
        clusters: Sequence[Cluster],
        fallback: list[Finding],
    ) -> _Fused:
        """Fuse with the judge; if it fails, the consensus is the result, marked degraded."""
        instructions = self.settings.review.instructions
        labels = anonymise(list(final), self._shuffler(excerpt.render(), *final))
        findings_by_model = {m: a.findings for m, a in final.items()}
        result: _Fused | None = None
        if mode == "best-of":
            verdict, run = await self._judge(
                judge_best_of_messages(
                    excerpt,
                    instructions,
                    {label: (final[m].findings, final[m].summary) for label, m in labels.items()},
                ),
                best_of_schema(list(labels)),
                lambda text, _: check_verdict(parse_verdict(text), list(labels)),
            )
            if verdict is not None:
                winner = labels[verdict.winner]
                chosen = winner_findings(
                    excerpt.path, winner, findings_by_model, clusters, len(final)
                )
                summary = final[winner].summary
                note = f"best-of: the judge chose {winner}. {verdict.reason}".strip()
                result = _Fused(chosen, f"{summary}\n\n{note}".strip(), judge=run)
        else:
            judged, run = await self._judge(
                judge_merge_messages(
                    excerpt, instructions, {label: final[m].findings for label, m in labels.items()}
                ),
                JUDGED_REVIEW_SCHEMA,
                lambda text, salvage: parse_judged_review(text, salvage=salvage),
            )
            if judged is not None:
                kept, lost = anchor_all(judged.findings, doc)
                merged, unsupported = merged_findings(
                    excerpt.path, kept, labels, clusters, list(final)
                )
                summary = judged.summary or _consensus_summary(final, merged)
                result = _Fused(
                    merged, summary, judge=run, dropped=lost + judged.skipped + unsupported
                )
        if result is not None:
            return result
        reason = f"the judge failed ({run.status}: {run.error}); showing the models' consensus"
        return _Fused(
            fallback,
            _consensus_summary(final, fallback),
            judge=run,
            degraded_reason=reason,
        )

    # -- explain -------------------------------------------------------------------------

    async def explain(self, request: CodeRequest) -> AsyncGenerator[Event, None]:
        """Explain the request's lines; the last event is `ExplanationFinished`."""
        started = time.monotonic()
        prepared = self._prepare(request)
        excerpt = prepared.excerpt
        pool = [name for name, ref in self._refs.items() if not ref.is_tool]
        if not pool:
            raise UsageError(
                "local analyzers review but cannot explain; add a model to fusion.pool to explain"
            )
        runs = _Runs()
        texts: dict[str, str] = {}
        messages = explain_messages(excerpt, self.settings.review.instructions)
        calls: dict[str, Call[str]] = {
            m: partial(self._ask, self._refs[m], messages, EXPLAIN_SCHEMA, _explanation)
            for m in pool
        }
        yield RoundStarted(1, 1, len(pool))
        async for event in self._round(1, calls, runs, texts, lambda _: ()):
            yield event
        ordered = {m: texts[m] for m in pool if m in texts}
        judge: ModelRun | None = None
        degraded: str | None = None
        if not ordered:
            explanation, degraded = "", "no model answered"
        elif len(ordered) == 1:
            explanation = next(iter(ordered.values()))
            judge = ModelRun(
                model=self.settings.fusion.judge.name, status="skipped",
                error="only one model answered",
            )  # fmt: skip
        else:
            yield JudgeStarted(self.settings.fusion.judge.name)
            labels = anonymise(list(ordered), self._shuffler(excerpt.render(), *ordered))
            merged, judge = await self._judge(
                judge_explain_messages(excerpt, {label: ordered[m] for label, m in labels.items()}),
                EXPLAIN_SCHEMA,
                _explanation,
            )
            if merged is not None:
                explanation = _LABEL_REF.sub(
                    lambda match: f"[{labels.get(match[1], match[1])}]", merged
                )
            else:
                explanation = "\n\n".join(f"### {m}\n\n{text}" for m, text in ordered.items())
                degraded = f"the judge failed ({judge.status}: {judge.error}); showing each answer"
        model_runs = runs.in_order(pool)
        usage = _total_usage(model_runs, judge)
        self._record_spend(usage)
        yield ExplanationFinished(
            FusedExplanation(
                path=request.path,
                lines=prepared.doc.reviewed,
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


@dataclass(frozen=True)
class _Fused:
    """Fusion's outcome before it becomes a FusedReview."""

    findings: list[Finding]
    summary: str
    judge: ModelRun | None = None
    degraded_reason: str | None = None
    dropped: int = 0


def _found(answer: _Answer) -> Sequence[ProposedFinding]:
    return answer.findings


def _explanation(text: str, _salvage: bool) -> str:
    return parse_explanation(text).explanation


def _quorum_shortfall(answered: int, pool: int, quorum: int) -> str | None:
    needed = min(quorum, pool)
    if answered == 0:
        return "no model answered"
    if answered < needed:
        return f"only {answered} of {pool} models answered (quorum is {needed})"
    return None


def _consensus_summary(final: Mapping[str, _Answer], findings: Sequence[Finding]) -> str:
    if len(final) == 1:
        return next(iter(final.values())).summary
    shared = sum(1 for f in findings if len(f.models) > 1)
    count = len(findings)
    return (
        f"Consensus of {len(final)} models: {count} finding{'' if count == 1 else 's'}, "
        f"{shared} raised by more than one model."
    )
