"""One review or explanation's lifecycle in the server, from snapshot to published diagnostics.

A job takes a snapshot of the document, runs the engine on it as a task (one per document
range: a new request for the same range replaces the running one), mirrors the engine's
events as work-done progress and provisional diagnostics, and lands the result on whatever
the document has become since. Cancelling the request (`$/cancelRequest`), the progress, or
the document's closing cancels the task, which closes every model call it made.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lsprotocol import types
from pygls.uris import to_fs_path

from fusion_ls.engine.anchoring import split_lines
from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import Event, Notice, Progress, Provisional, drain
from fusion_ls.errors import FusionError, UsageError
from fusion_ls.findings import FusedExplanation, FusedReview, LineRange, ModelRun
from fusion_ls.lsp.results import CommandResult, Explained, NotDone, Reviewed, ReviewKind
from fusion_ls.lsp.session import RangeKey, Snapshot

if TYPE_CHECKING:
    from fusion_ls.lsp.server import FusionServer

__all__ = ["JobKey", "Jobs", "Kind", "WorkDone", "display_path", "refuse_outside_workspace"]

log = logging.getLogger(__name__)

Kind = Literal["review", "explain"]
JobKey = tuple[str, RangeKey | str]
"""A document and the lines a job covers (or a name: "save"); a command's name for a job of no
one document."""


class Jobs:
    """The reviews and explanations running in one server, by document and range."""

    def __init__(self, server: FusionServer) -> None:
        self._server = server
        self._running: dict[JobKey, asyncio.Task[CommandResult]] = {}
        self._requests: dict[int | str, asyncio.Task[CommandResult]] = {}

    async def run(self, kind: Kind, uri: str, lines: LineRange | None) -> CommandResult:
        """Run a job as a task: cancellable from the client's request or from here."""
        span: RangeKey = (lines.start, lines.end) if lines else None
        return await self.supervise((uri, span), kind, _Job(self._server, kind, uri, span).run())

    async def supervise(
        self, key: JobKey, kind: ReviewKind, work: Coroutine[Any, Any, CommandResult]
    ) -> CommandResult:
        """Run `work` as a task in place of the one running under `key`, reachable from the
        current request's `$/cancelRequest`; a cancelled task answers "cancelled"."""
        previous = self._running.get(key)
        if previous is not None:
            previous.cancel()
        task = asyncio.ensure_future(work)
        self._running[key] = task
        msg_id = self._server.protocol.msg_id
        if msg_id is not None:
            self._requests[msg_id] = task
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            if self._running.get(key) is task:
                del self._running[key]
            if msg_id is not None:
                self._requests.pop(msg_id, None)
        if task.cancelled():
            return NotDone(kind=kind, status="cancelled")
        return task.result()

    def abort_request(self, msg_id: int | str) -> None:
        """The client cancelled request `msg_id`: stop its job if it is running."""
        task = self._requests.pop(msg_id, None)
        if task is not None:
            task.cancel()

    def cancel(self, uri: str) -> None:
        for (job_uri, _), task in list(self._running.items()):
            if job_uri == uri:
                task.cancel()

    async def close(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


class _Job:
    """One run of the engine on one document range."""

    def __init__(self, server: FusionServer, kind: Kind, uri: str, key: RangeKey) -> None:
        self._server = server
        self._kind: Kind = kind
        self._uri = uri
        self._key = key

    async def run(self) -> CommandResult:
        server = self._server
        path = to_fs_path(self._uri)
        file = Path(path) if path else None
        try:
            refuse_outside_workspace(server, file)
            snapshot, text = self._snapshot()
        except FusionError as error:
            server.show(f"fusion-ls: {error}", types.MessageType.Error)
            return NotDone(kind=self._kind, status="error", message=str(error))
        settings = server.settings_for(file)
        engine = Engine(settings, server.runtime)
        ranges = (LineRange(start=self._key[0], end=self._key[1]),) if self._key else ()
        request = CodeRequest(
            path=display_path(file, server.root_path(), self._uri),
            text=text,
            ranges=ranges,
            file=file,
            workspace=server.root_path(),
        )
        events = engine.explain(request) if self._kind == "explain" else engine.review(request)
        progress = WorkDone(server, f"Fusion: {self._kind}")
        text_so_far = Progress()

        def on_event(event: Event) -> None:
            progress.report(text_so_far.update(event))
            if isinstance(event, Notice) and event.text not in server.noticed:
                server.noticed.add(event.text)  # once per session, not once per review
                server.show(f"fusion-ls: {event.text}", types.MessageType.Warning)
            if isinstance(event, Provisional) and settings.fusion.provisional:
                self._show_provisional(snapshot, event)

        try:
            result = await drain(events, on_event)
        except FusionError as error:
            await progress.end(str(error))
            self._hide_provisional()
            server.show(f"fusion-ls: {error}", types.MessageType.Warning)
            return NotDone(kind=self._kind, status="error", message=str(error))
        except asyncio.CancelledError:
            await progress.end("cancelled")
            self._hide_provisional()
            raise
        await progress.end(text_so_far.parts[0] if text_so_far.parts else "done", _summary(result))
        if isinstance(result, FusedReview):
            return self._land_review(snapshot, result)
        return self._land_explanation(snapshot, result)

    def _snapshot(self) -> tuple[Snapshot, str]:
        """The document as it is now, and its text."""
        server = self._server
        try:
            text = server.workspace.get_text_document(self._uri).source
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise FusionError(f"cannot read {self._uri}: {error}") from None
        state = server.documents.get(self._uri)
        if state is None:
            raise FusionError(f"{self._uri} is not open in the editor; open it and try again")
        return Snapshot(self._uri, state.log.version, tuple(split_lines(text))), text

    def _show_provisional(self, snapshot: Snapshot, event: Provisional) -> None:
        state = self._server.documents.get(self._uri)
        if state is not None:
            lines = self._server.lines_of(self._uri)
            state.show_provisional(self._key, snapshot, event.findings, lines)
            self._server.publish(self._uri, lines)

    def _hide_provisional(self) -> None:
        state = self._server.documents.get(self._uri)
        if state is not None and self._key in state.provisional:
            state.hide_provisional(self._key)
            self._server.publish(self._uri)

    def _land_review(self, snapshot: Snapshot, review: FusedReview) -> CommandResult:
        """Replace the provisional findings by the fused set, in one publish."""
        self._report_failures(review.models, review.degraded_reason)
        state = self._server.documents.get(snapshot.uri)
        if state is None:  # closed while the review ran
            return NotDone(kind="review", status="cancelled")
        state.hide_provisional(self._key)
        lines = self._server.lines_of(snapshot.uri)
        stale = state.place_review(snapshot, review, lines)
        self._server.publish(snapshot.uri, lines)
        if stale is None:
            return NotDone(kind="review", status="stale")
        return Reviewed.of(review, stale)

    def _land_explanation(self, snapshot: Snapshot, result: FusedExplanation) -> CommandResult:
        reported = self._report_failures(result.models, result.degraded_reason)
        if not result.explanation.strip():
            # Nothing to show: an error the person is told of, never an empty "explained".
            reason = result.degraded_reason or "no model explained these lines"
            if not reported:
                self._server.show(f"fusion-ls: {reason}", types.MessageType.Error)
            return NotDone(kind="explain", status="error", message=reason)
        state = self._server.documents.get(snapshot.uri)
        lines = self._server.lines_of(snapshot.uri)
        if state is None or not state.place_explanation(snapshot, result, lines):
            return NotDone(kind="explain", status="stale")
        return Explained(explanation=result.explanation)

    def _report_failures(self, models: list[ModelRun], degraded: str | None) -> bool:
        """One message per job when models failed: what to fix, not a stack trace. Whether
        anything was shown."""
        failed = [m for m in models if m.status not in ("ok", "late")]
        if not failed and not degraded:
            return False
        reasons = list(dict.fromkeys(m.error for m in failed if m.error))
        if not any(m.status == "ok" for m in models):
            text = "no model answered: " + "; ".join(reasons[:3])
            self._server.show(f"fusion-ls: {text}", types.MessageType.Error)
            return True
        if degraded or reasons:
            detail = degraded or "; ".join(f"{m.model}: {m.error}" for m in failed)
            self._server.show(f"fusion-ls: {detail}", types.MessageType.Warning)
            return True
        return False


class WorkDone:
    """A cancellable work-done progress, or a closing message for clients without one.

    The editor is asked for the progress token alongside the work, not before it: the request is
    a round trip to the editor (a few milliseconds locally, far more over SSH or WSL) that the
    models need not wait for. Until the editor agrees, reports are kept as the message to begin
    with; `end` waits for the begin, since clients say how the work ended from the end, and
    before the command's answer.
    """

    def __init__(self, server: FusionServer, title: str) -> None:
        self._server = server
        self._token: str | None = None
        self._message = "starting"
        self._refused = not _shows_progress(server)
        self._task = asyncio.current_task()
        self._created: asyncio.Future[None] | None = None
        if not self._refused:
            self._created = asyncio.ensure_future(self._create(title))

    async def _create(self, title: str) -> None:
        token = f"fusion-{uuid.uuid4()}"
        try:
            await self._server.work_done_progress.create_async(token)
        except Exception:  # the client refused; fall back to messages
            log.debug("work done progress refused", exc_info=True)
            self._refused = True
            return
        self._server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, cancellable=True, message=self._message)
        )
        self._token = token
        future = self._server.work_done_progress.tokens.get(token)
        task = self._task
        if future is not None and task is not None:
            future.add_done_callback(lambda f: task.cancel() if f.cancelled() else None)

    def report(self, message: str) -> None:
        self._message = message
        if self._token is not None:
            self._server.work_done_progress.report(
                self._token, types.WorkDoneProgressReport(message=message)
            )

    async def end(self, message: str, summary: str | None = None) -> None:
        if self._created is not None:
            await asyncio.shield(self._created)
        if self._token is not None:
            self._server.work_done_progress.end(
                self._token, types.WorkDoneProgressEnd(message=message)
            )
            self._server.work_done_progress.tokens.pop(self._token, None)
        elif summary is not None:
            self._server.show(f"fusion-ls: {summary}")


def _shows_progress(server: FusionServer) -> bool:
    window = server.client_capabilities.window
    return bool(window and window.work_done_progress)


def _summary(result: FusedReview | FusedExplanation) -> str:
    cost = f", ${result.usage.cost_usd:.4f}" if result.usage.cost_usd is not None else ""
    took = f"{result.elapsed_s:.1f} s, {result.usage.total_tokens} tokens{cost}"
    if isinstance(result, FusedReview):
        count = len(result.findings)
        return f"{count} finding{'' if count == 1 else 's'} ({result.mode}, {took})"
    if not result.explanation.strip():
        return f"no explanation: no model answered ({took})"
    return f"explained lines {result.lines} ({took})"


def display_path(file: Path | None, root: Path | None, uri: str) -> str:
    if file is None:
        return uri
    if root is not None:
        try:
            return str(file.relative_to(root))
        except ValueError:
            pass
    return str(file)


def refuse_outside_workspace(server: FusionServer, file: Path | None) -> None:
    """UsageError for a file outside every workspace folder (an editor opens `/etc/passwd`
    as readily as project code), unless the user's editor setting allows it."""
    if file is None or server.allow_outside_workspace:
        return
    workspace = server.workspace
    roots = [to_fs_path(folder.uri) for folder in workspace.folders.values()]
    folders = [Path(p).resolve() for p in [*roots, workspace.root_path] if p]
    if not folders:
        return  # a file opened on its own: there is no workspace to be outside of
    resolved = file.resolve()
    if any(resolved == folder or folder in resolved.parents for folder in folders):
        return
    raise UsageError(
        f"{file} is outside every workspace folder, so it is not sent to any model; to "
        "review such files set fusion.allowOutsideWorkspace (VS Code) or "
        "allow_outside_workspace (Neovim)"
    )
