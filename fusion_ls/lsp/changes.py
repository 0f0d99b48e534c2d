"""Reviewing what changed, in the editor: `fusion.reviewChanges`, its code action, `review.on_save`.

The hunks come from `engine/changes.py`: git's diff for files on disk and, for a file open in
the editor, its buffer compared with HEAD (what the person sees, saved or not). Each file goes
through the same `Engine` as any review and lands on a snapshot (`DocumentState.place_review`);
a changed file that is not open gets its diagnostics too, kept until the next review of changes
or, where its text still holds, once it is opened. A new file (untracked, or outside any git
work tree for `on_save`) is reviewed whole. git runs in a worker thread, never on the loop.

In an untrusted workspace git is not run at all: a repository's own config can make git run
commands (`core.fsmonitor`, filter drivers), which is why VS Code's Restricted Mode turns its
git off as well.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from fusion_ls.config.locations import PROJECT_FILE
from fusion_ls.engine.anchoring import split_lines
from fusion_ls.engine.changes import Change, Committed, changed, committed, widened
from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import drain
from fusion_ls.engine.exclude import is_baseline, project_root
from fusion_ls.errors import FusionError, UsageError
from fusion_ls.findings import FusedReview
from fusion_ls.lsp import mapping as lsp_mapping
from fusion_ls.lsp.jobs import WorkDone, display_path, refuse_outside_workspace
from fusion_ls.lsp.results import (
    ChangesReviewed,
    CommandResult,
    NotDone,
    NotReviewed,
    UsageSummary,
)
from fusion_ls.lsp.session import DocumentState, Snapshot

if TYPE_CHECKING:
    from fusion_ls.lsp.server import FusionServer

__all__ = ["REVIEW_CHANGES", "Changes"]

_LEARN_AFTER_OPEN_S = 0.2
log = logging.getLogger(__name__)

REVIEW_CHANGES = "fusion.reviewChanges"
_UNTRUSTED = (
    "reviewing changes runs git, which a repository's own config can make run commands; "
    "trust this workspace to review its changes"
)


@dataclass(frozen=True)
class _Outcome:
    """One changed file: its review and how many findings went stale, or why there is none."""

    path: str
    review: FusedReview | None = None
    stale: int = 0
    reason: str | None = None


class Changes:
    """What HEAD holds of each open document (for the code action), and the reviews of changes."""

    def __init__(self, server: FusionServer) -> None:
        self._server = server
        self._committed: dict[str, Committed] = {}
        self._background: set[asyncio.Task[object]] = set()

    # -- documents ------------------------------------------------------------------------

    def opened(self, uri: str) -> None:
        """Learn what HEAD holds of a document just opened, in the background and a moment
        later: a file is often reviewed as soon as it opens, and git's processes would compete
        with that review's start (measured: 4 to 7 ms later to the models on two cores). What
        HEAD holds is wanted only by the "review changes" action and on save."""
        file = self._file(uri)
        if file is not None and self._server.workspace_trusted:
            self._keep(self._learn(uri, file, after_s=_LEARN_AFTER_OPEN_S))

    def saved(self, uri: str) -> None:
        """After a save: learn HEAD's text again (a commit may have moved it), and with
        `review.on_save` review the saved file's changes once the saves stop for a while."""
        file = self._file(uri)
        state = self._server.documents.get(uri)
        if file is None or state is None or not state.opened or file.name == PROJECT_FILE:
            return
        review = self._server.settings_for(file).review
        if not self._server.workspace_trusted:
            notice = f"review.on_save is off here: {_UNTRUSTED}"
            if review.on_save and notice not in self._server.noticed:
                self._server.noticed.add(notice)  # once per session, not at every save
                self._server.show(f"fusion-ls: {notice}")
            return
        if not review.on_save:
            self._keep(self._learn(uri, file))
            return
        delay = review.on_save_debounce_ms / 1000
        self._keep(self._server.jobs.supervise((uri, "save"), "review", self._on_save(uri, delay)))

    def closed(self, uri: str) -> None:
        self._committed.pop(uri, None)

    def action(self, uri: str) -> types.CodeAction | None:
        """The action "Fusion: review changes", anywhere in a file that differs from HEAD."""
        known = self._committed.get(uri)
        if known is None or not known.in_git or known.ignored:
            return None
        if known.text is not None and known.text == self._text(uri):
            return None
        return lsp_mapping.command_action("Fusion: review changes", REVIEW_CHANGES, [])

    # -- reviews --------------------------------------------------------------------------

    async def review(self) -> CommandResult:
        """`fusion.reviewChanges`: the uncommitted hunks of every changed file of the workspace
        folders; a new request replaces a running one."""
        key = (REVIEW_CHANGES, None)
        return await self._server.jobs.supervise(key, "reviewChanges", self._review_all())

    async def _review_all(self) -> CommandResult:
        server = self._server
        buffers = {
            file: (Snapshot(uri, state.log.version, tuple(split_lines(text))), text)
            for uri, state in server.documents.items()
            if state.opened and (file := self._file(uri)) is not None
            and (text := self._text(uri)) is not None
        }  # fmt: skip
        try:
            if not server.workspace_trusted:
                raise UsageError(_UNTRUSTED)
            folders = self._folders()
            texts = {file: text for file, (_, text) in buffers.items()}
            found = await asyncio.to_thread(changed, folders, texts)
        except FusionError as error:
            server.show(f"fusion-ls: {error}", types.MessageType.Error)
            return NotDone(kind="reviewChanges", status="error", message=str(error))
        found = [self._unless_baseline(change) for change in found]
        self._forget_unchanged({change.file.as_uri() for change in found})
        wanted = [change for change in found if change.skipped is None]
        skipped = [
            NotReviewed(path=self._display(change.file), reason=change.skipped)
            for change in found
            if change.skipped is not None
        ]
        if not wanted:
            server.show("fusion-ls: no uncommitted changes to review")
            return _result([], skipped, 0.0)
        started = time.monotonic()
        progress = WorkDone(server, "Fusion: review changes")
        gate = asyncio.Semaphore(server.settings_for(folders[0]).review.max_concurrency)
        outcomes: list[_Outcome] = []

        async def gated(change: Change) -> None:
            async with gate:
                outcomes.append(await self._review_one(change, buffers.get(change.file)))
            shown = sum(len(o.review.findings) - o.stale for o in outcomes if o.review)
            progress.report(f"{len(outcomes)}/{len(wanted)} files · {_count(shown, 'finding')}")

        try:
            await asyncio.gather(*(gated(change) for change in wanted))
        except asyncio.CancelledError:
            await progress.end("cancelled")
            raise
        result = _result(outcomes, skipped, time.monotonic() - started)
        failed = [o for o in outcomes if o.reason is not None]
        if failed:
            reasons = "; ".join(f"{o.path}: {o.reason}" for o in failed[:3])
            server.show(f"fusion-ls: not reviewed: {reasons}", types.MessageType.Warning)
        in_files = f"{_count(result.findings, 'finding')} in {_count(result.files, 'file')}"
        await progress.end(in_files, f"reviewed changes: {in_files}")
        return result

    async def _on_save(self, uri: str, delay: float) -> CommandResult:
        await asyncio.sleep(delay)  # a later save cancels this one while it waits or runs
        file = self._file(uri)
        text = self._text(uri)
        state = self._server.documents.get(uri)
        if file is None or text is None or state is None:
            return NotDone(kind="review", status="cancelled")
        snapshot = Snapshot(uri, state.log.version, tuple(split_lines(text)))
        known = await asyncio.to_thread(committed, file)
        self._committed[uri] = known
        change = known.change(file, text)
        if change is None:
            return _result([], [], 0.0)
        progress = WorkDone(self._server, "Fusion: review on save")
        try:
            outcome = await self._review_one(change, (snapshot, text))
        except asyncio.CancelledError:
            await progress.end("cancelled")
            raise
        result = _result([outcome], [], outcome.review.elapsed_s if outcome.review else 0.0)
        await progress.end(outcome.reason or f"{_count(result.findings, 'finding')} on save")
        return result

    async def _review_one(self, change: Change, buffer: tuple[Snapshot, str] | None) -> _Outcome:
        """Review one file's changed lines and publish on them."""
        server = self._server
        path = self._display(change.file)
        try:
            refuse_outside_workspace(server, change.file)
            snapshot, text = buffer or self._on_disk(change.file)
            settings = server.settings_for(change.file)
            near = settings.review.near_changes
            request = CodeRequest(
                path=path,
                text=text,
                ranges=() if change.new else widened(change.ranges, near),
                file=change.file,
                workspace=server.root_path(),
                hunks=not change.new,
            )
            review = await drain(Engine(settings, server.runtime).review(request), _ignore)
        except FusionError as error:
            return _Outcome(path, reason=str(error))
        assert isinstance(review, FusedReview)
        if not any(run.status == "ok" for run in review.models):
            reasons = {run.error for run in review.models if run.error}
            return _Outcome(path, reason="no model answered: " + "; ".join(sorted(reasons)[:2]))
        state = server.documents.get(snapshot.uri)
        if state is None:
            state = server.documents[snapshot.uri] = DocumentState.on_disk(len(snapshot.lines))
        lines = server.lines_of(snapshot.uri) if state.opened else list(snapshot.lines)
        stale = state.place_review(snapshot, review, lines)
        server.publish(snapshot.uri, lines)
        return _Outcome(path, review, len(review.findings) if stale is None else stale)

    # -- helpers --------------------------------------------------------------------------

    def _unless_baseline(self, change: Change) -> Change:
        """The project's baseline (a dismissal writes it; it stays uncommitted until someone
        commits it) is fusion-ls's record of dismissed findings, not code to review."""
        if change.skipped is None:
            root = project_root(change.file, self._server.root_path())
            baseline = self._server.settings_for(change.file).review.baseline
            if is_baseline(change.file, root, baseline):
                return replace(change, skipped="the baseline of dismissed findings")
        return change

    def _forget_unchanged(self, changed_uris: set[str]) -> None:
        """Clear what an earlier review of changes showed on files that are neither open nor
        changed any more (committed, reverted)."""
        server = self._server
        for uri, state in list(server.documents.items()):
            if not state.opened and uri not in changed_uris:
                del server.documents[uri]
                server.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
                )

    def _folders(self) -> list[Path]:
        workspace = self._server.workspace
        uris = [folder.uri for folder in workspace.folders.values()]
        paths = [Path(p) for p in map(to_fs_path, uris) if p]
        if not paths and workspace.root_path:
            paths = [Path(workspace.root_path)]
        if not paths:
            raise UsageError("open a folder: changes are reviewed in the workspace's folders")
        return paths

    def _on_disk(self, file: Path) -> tuple[Snapshot, str]:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read it as UTF-8 text: {error}") from None
        return Snapshot(file.as_uri(), 0, tuple(split_lines(text))), text

    def _text(self, uri: str) -> str | None:
        try:
            return self._server.workspace.get_text_document(uri).source
        except (OSError, UnicodeDecodeError, ValueError):
            return None

    def _file(self, uri: str) -> Path | None:
        path = to_fs_path(uri) if uri.startswith("file:") else None
        return Path(path) if path else None

    def _display(self, file: Path) -> str:
        return display_path(file, self._server.root_path(), file.as_uri())

    async def _learn(self, uri: str, file: Path, after_s: float = 0.0) -> None:
        await asyncio.sleep(after_s)
        self._committed[uri] = await asyncio.to_thread(committed, file)

    def _keep(self, work: Coroutine[Any, Any, object]) -> None:
        """Run `work` in the background, holding the task until it is done."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)


def _ignore(_: object) -> None:
    """Per-file progress is not shown: the review of changes counts files."""


def _log_failure(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a background task failed", exc_info=task.exception())


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _result(
    outcomes: list[_Outcome], skipped: list[NotReviewed], elapsed_s: float
) -> ChangesReviewed:
    reviews = [o.review for o in outcomes if o.review is not None]
    costs = [r.usage.cost_usd for r in reviews]
    return ChangesReviewed(
        files=len(reviews),
        findings=sum(len(o.review.findings) - o.stale for o in outcomes if o.review),
        stale=sum(o.stale for o in outcomes),
        skipped=[
            *skipped,
            *(NotReviewed(path=o.path, reason=o.reason) for o in outcomes if o.reason),
        ],
        elapsed_s=elapsed_s,
        usage=UsageSummary(
            total_tokens=sum(r.usage.total_tokens for r in reviews),
            cost_usd=None if None in costs else sum(c for c in costs if c is not None),
        ),
    )
