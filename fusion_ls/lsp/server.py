"""The pygls adapter: LSP requests → engine calls → diagnostics, hovers, code actions, progress.

Handlers are thin and listed in `register`; state lives in `session.py`, conversions in
`lsp_mapping.py`, and every review goes through the same `Engine` the CLI uses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any

import httpx
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from fusion_ls.config.loading import load_settings
from fusion_ls.config.locations import PROJECT_FILE, find_project_file
from fusion_ls.config.settings import Settings
from fusion_ls.engine.anchoring import split_lines
from fusion_ls.engine.engine import CodeRequest, Engine
from fusion_ls.engine.events import (
    Event,
    ExplanationFinished,
    ModelFinished,
    Notice,
    Progress,
    ReviewFinished,
)
from fusion_ls.engine.fusion.consensus import cluster, consensus
from fusion_ls.errors import ConfigError, ConfigIssue, FusionError
from fusion_ls.findings import FusedExplanation, FusedReview, LineRange, ProposedFinding
from fusion_ls.lsp import mapping as lsp_mapping
from fusion_ls.lsp.session import DocumentState, RangeKey, ReviewRecord, Snapshot
from fusion_ls.lsp.tracking import EditLog
from fusion_ls.reviewers.cache import ResponseCache
from fusion_ls.reviewers.http import make_http_client
from fusion_ls.reviewers.spend import SpendLedger
from fusion_ls.version import __version__

__all__ = ["FusionServer", "create_server"]

log = logging.getLogger(__name__)

CLEAR_CACHE = "fusion.clearCache"
REVIEW, EXPLAIN, REVIEW_FILE, CLEAR = (
    "fusion.review",
    "fusion.explain",
    "fusion.reviewFile",
    "fusion.clear",
)
_OVERRIDABLE = ("mode", "pool", "judge")


class FusionProtocol(LanguageServerProtocol):
    """pygls cancels only requests that have not started; a running review needs telling."""

    def _handle_cancel_notification(self, msg_id: int | str) -> None:
        super()._handle_cancel_notification(msg_id)
        server = self._server
        if isinstance(server, FusionServer):
            server.abort_request(msg_id)


class FusionServer(LanguageServer):
    """Server state: open documents, running reviews, session overrides, the shared HTTP client."""

    def __init__(self) -> None:
        super().__init__("fusion-ls", __version__, protocol_cls=FusionProtocol)
        self.documents: dict[str, DocumentState] = {}
        self.running: dict[tuple[str, int | None, int | None], asyncio.Task[Any]] = {}
        self.requests: dict[int | str, asyncio.Task[Any]] = {}
        self.overrides: dict[str, Any] = {}
        self.workspace_trusted = True
        self.last_good: dict[Path | None, Settings] = {}
        self.warned: set[str] = set()
        self.noticed: set[str] = set()
        self.cache = ResponseCache.default()
        self._client: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """One HTTP client per process, made on first use inside the event loop."""
        if self._client is None:
            self._client = make_http_client()
        return self._client

    async def close(self) -> None:
        for task in [*self.running.values()]:
            task.cancel()
        if self.running:
            await asyncio.gather(*self.running.values(), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def abort_request(self, msg_id: int | str) -> None:
        task = self.requests.pop(msg_id, None)
        if task is not None:
            task.cancel()

    # -- settings ------------------------------------------------------------------------

    def root_path(self) -> Path | None:
        root = self.workspace.root_path
        return Path(root) if root else None

    def settings_for(self, path: Path | None) -> Settings:
        """Fresh settings for a document; on a config error, the last good ones, and diagnostics."""
        project = find_project_file(path, self.root_path()) if path else None
        try:
            loaded = load_settings(
                start=path,
                root=self.root_path(),
                overrides=self.overrides,
                workspace_trusted=self.workspace_trusted,
            )
        except ConfigError as error:
            self.publish_config_issues(error.issues)
            return self.last_good.get(project) or self._user_settings()
        self.publish_config_issues(list(loaded.warnings), sources=loaded.sources)
        self.last_good[project] = loaded.settings
        return loaded.settings

    def _user_settings(self) -> Settings:
        try:
            return load_settings(overrides=self.overrides).settings
        except ConfigError:
            return Settings()

    def publish_config_issues(
        self, issues: list[ConfigIssue], sources: tuple[Path, ...] = ()
    ) -> None:
        """Config problems as diagnostics on their files; `sources` without issues are cleared."""
        by_uri: dict[str, list[ConfigIssue]] = {path.as_uri(): [] for path in sources}
        for issue in issues:
            if issue.path is not None:
                by_uri.setdefault(issue.path.as_uri(), []).append(issue)
            elif issue.severity == "error":
                self.show(f"fusion-ls settings: {issue}", types.MessageType.Error)
        for uri, found in by_uri.items():
            lines = self.lines_of(uri)
            diagnostics = [lsp_mapping.config_diagnostic(issue, lines) for issue in found]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
            )
            self._warn_once(uri, found)

    def _warn_once(self, uri: str, issues: list[ConfigIssue]) -> None:
        for issue in issues:
            if issue.key == "providers" and issue.severity == "warning" and uri not in self.warned:
                self.warned.add(uri)
                self.show(f"fusion-ls: {issue.message}", types.MessageType.Warning)

    def apply_overrides(self, options: Any) -> None:
        """`mode`, `pool` and `judge` from the editor, checked before they take effect."""
        if not isinstance(options, dict):
            return
        fusion = options.get("fusion", options)
        if not isinstance(fusion, dict):
            return
        wanted = {k: fusion[k] for k in _OVERRIDABLE if fusion.get(k) not in (None, "", [])}
        try:
            load_settings(overrides={"fusion": wanted})
        except ConfigError as error:
            problems = "; ".join(str(i) for i in error.issues if i.severity == "error")
            self.show(f"fusion-ls: editor settings ignored: {problems}", types.MessageType.Error)
            return
        self.overrides = {"fusion": wanted} if wanted else {}

    # -- documents -----------------------------------------------------------------------

    def lines_of(self, uri: str) -> list[str]:
        try:
            return split_lines(self.workspace.get_text_document(uri).source)
        except (OSError, UnicodeDecodeError, ValueError):
            return []

    def publish(self, uri: str, lines: list[str] | None = None) -> None:
        """Send what is shown on `uri`; pass `lines` when the caller already split the text."""
        state = self.documents.get(uri)
        if state is None:
            return
        lines = self.lines_of(uri) if lines is None else lines
        diagnostics = [
            lsp_mapping.diagnostic(finding, lines, provisional=provisional)
            for finding, provisional in state.visible()
        ]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=state.log.version
            )
        )

    def cancel_reviews(self, uri: str) -> None:
        for key, task in list(self.running.items()):
            if key[0] == uri:
                task.cancel()

    def show(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    # -- reviews -------------------------------------------------------------------------

    def snapshot(self, uri: str) -> tuple[Snapshot, str]:
        """The document as it is now, and its text; opens unknown documents from disk."""
        try:
            document = self.workspace.get_text_document(uri)
            text = document.source
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise FusionError(f"cannot read {uri}: {error}") from None
        if uri not in self.documents:
            raise FusionError(f"{uri} is not open in the editor; open it and try again")
        version = self.documents[uri].log.version
        return Snapshot(uri, version, tuple(split_lines(text))), text

    async def run(self, kind: str, uri: str, lines: LineRange | None) -> dict[str, Any]:
        """A review or explanation as a task: one per range, cancellable from either side."""
        key = (uri, lines.start if lines else None, lines.end if lines else None)
        previous = self.running.get(key)
        if previous is not None:
            previous.cancel()
        task = asyncio.ensure_future(self._run(kind, uri, lines))
        self.running[key] = task
        msg_id = self.protocol.msg_id
        if msg_id is not None:
            self.requests[msg_id] = task
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            if self.running.get(key) is task:
                del self.running[key]
            if msg_id is not None:
                self.requests.pop(msg_id, None)
        if task.cancelled():
            return {"status": "cancelled"}
        return task.result()

    async def _run(self, kind: str, uri: str, lines: LineRange | None) -> dict[str, Any]:
        try:
            snapshot, text = self.snapshot(uri)
        except FusionError as error:
            self.show(f"fusion-ls: {error}", types.MessageType.Error)
            return {"status": "error", "message": str(error)}
        path = to_fs_path(uri)
        file = Path(path) if path else None
        settings = self.settings_for(file)
        engine = Engine(settings, self.http, ledger=SpendLedger.default(), cache=self.cache)
        request = CodeRequest(
            path=_display(file, self.root_path(), uri),
            text=text,
            lines=lines,
            file=file,
            workspace=self.root_path(),
        )
        title = "Fusion: review" if kind != EXPLAIN else "Fusion: explain"
        events = engine.explain(request) if kind == EXPLAIN else engine.review(request)
        key: RangeKey = (lines.start, lines.end) if lines else None
        pool = len(settings.fusion.pool)

        def provisional(statements: dict[str, list[ProposedFinding]]) -> None:
            if kind == EXPLAIN or not settings.fusion.provisional:
                return
            state = self.documents.get(uri)
            if state is not None:
                found = consensus(request.path, cluster(statements), pool)
                state.show_provisional(key, snapshot, found, self.lines_of(uri))
                self.publish(uri)

        try:
            result, statements = await self._follow(title, events, provisional)
        except FusionError as error:
            self._hide_provisional(uri, key)
            self.show(f"fusion-ls: {error}", types.MessageType.Warning)
            return {"status": "error", "message": str(error)}
        except asyncio.CancelledError:
            self._hide_provisional(uri, key)
            raise
        if isinstance(result, FusedReview):
            return self._land_review(snapshot, key, ReviewRecord(result, statements))
        return self._land_explanation(snapshot, result)

    async def _follow(
        self,
        title: str,
        events: AsyncGenerator[Event, None],
        on_answer: Callable[[dict[str, list[ProposedFinding]]], None],
    ) -> tuple[FusedReview | FusedExplanation, dict[str, list[ProposedFinding]]]:
        """Drive the engine, mirroring its events as work-done progress and provisional results."""
        progress = await _WorkDone.start(self, title)
        statements: dict[str, list[ProposedFinding]] = {}
        text = Progress()
        outcome: FusedReview | FusedExplanation | None = None
        try:
            async for event in events:
                progress.report(text.update(event))
                if isinstance(event, Notice) and event.text not in self.noticed:
                    self.noticed.add(event.text)  # once per session, not once per review
                    self.show(f"fusion-ls: {event.text}", types.MessageType.Warning)
                if isinstance(event, ModelFinished) and event.run.status == "ok":
                    statements[event.run.model] = list(event.findings)
                    on_answer(statements)
                if isinstance(event, ReviewFinished):
                    outcome = event.review
                elif isinstance(event, ExplanationFinished):
                    outcome = event.explanation
        except asyncio.CancelledError:
            progress.end("cancelled")
            raise
        except FusionError as error:
            progress.end(str(error))
            raise
        finally:
            await events.aclose()
        if outcome is None:
            raise FusionError("the engine stopped without a result")
        progress.end(text.parts[0] if text.parts else "done", summary=_summary(outcome))
        return outcome, statements

    def _hide_provisional(self, uri: str, key: RangeKey) -> None:
        state = self.documents.get(uri)
        if state is not None and key in state.provisional:
            state.hide_provisional(key)
            self.publish(uri)

    def _land_review(
        self, snapshot: Snapshot, key: RangeKey, record: ReviewRecord
    ) -> dict[str, Any]:
        """Replace the provisional findings by the fused set, in one publish."""
        review = record.review
        self._report_failures(review.models, review.degraded_reason)
        state = self.documents.get(snapshot.uri)
        if state is None:  # closed while the review ran
            return {"status": "cancelled"}
        state.hide_provisional(key)
        stale = state.place_review(snapshot, record, self.lines_of(snapshot.uri))
        self.publish(snapshot.uri)
        if stale is None:
            return {"status": "stale"}
        return {
            "status": "ok",
            "findings": len(review.findings) - stale,
            "stale": stale,
            "degraded": review.degraded,
            "mode": review.mode,
            "models": [
                run.model_dump(include={"model", "status", "cached"}) for run in review.models
            ],
            "elapsed_s": review.elapsed_s,
            "usage": {"total_tokens": review.usage.total_tokens, "cost_usd": review.usage.cost_usd},
        }

    def _land_explanation(self, snapshot: Snapshot, result: FusedExplanation) -> dict[str, Any]:
        self._report_failures(result.models, result.degraded_reason)
        state = self.documents.get(snapshot.uri)
        if state is None or not state.place_explanation(
            snapshot, result, self.lines_of(snapshot.uri)
        ):
            return {"status": "stale"}
        return {"status": "ok", "explanation": result.explanation}

    def _report_failures(self, models: list[Any], degraded: str | None) -> None:
        """One message per review when models failed: what to fix, not a stack trace."""
        failed = [m for m in models if m.status not in ("ok", "late")]
        if not failed and not degraded:
            return
        reasons = list(dict.fromkeys(m.error for m in failed if m.error))
        if not any(m.status == "ok" for m in models):
            text = "no model answered: " + "; ".join(reasons[:3])
            self.show(f"fusion-ls: {text}", types.MessageType.Error)
        elif degraded or reasons:
            detail = degraded or "; ".join(f"{m.model}: {m.error}" for m in failed)
            self.show(f"fusion-ls: {detail}", types.MessageType.Warning)


class _WorkDone:
    """A cancellable work-done progress, or a closing message for clients without one."""

    def __init__(self, server: FusionServer, token: str | None) -> None:
        self._server = server
        self._token = token

    @classmethod
    async def start(cls, server: FusionServer, title: str) -> _WorkDone:
        window = server.client_capabilities.window
        if not (window and window.work_done_progress):
            return cls(server, None)
        token = f"fusion-{uuid.uuid4()}"
        try:
            await server.work_done_progress.create_async(token)
        except Exception:  # the client refused; fall back to messages
            log.debug("work done progress refused", exc_info=True)
            return cls(server, None)
        server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, cancellable=True, message="starting")
        )
        task = asyncio.current_task()
        future = server.work_done_progress.tokens.get(token)
        if future is not None and task is not None:
            future.add_done_callback(lambda f: task.cancel() if f.cancelled() else None)
        return cls(server, token)

    def report(self, message: str) -> None:
        if self._token is not None:
            self._server.work_done_progress.report(
                self._token, types.WorkDoneProgressReport(message=message)
            )

    def end(self, message: str, summary: str | None = None) -> None:
        if self._token is not None:
            self._server.work_done_progress.end(
                self._token, types.WorkDoneProgressEnd(message=message)
            )
            self._server.work_done_progress.tokens.pop(self._token, None)
        elif summary is not None:
            self._server.show(f"fusion-ls: {summary}")


def _summary(result: FusedReview | FusedExplanation) -> str:
    cost = f", ${result.usage.cost_usd:.4f}" if result.usage.cost_usd is not None else ""
    took = f"{result.elapsed_s:.1f} s, {result.usage.total_tokens} tokens{cost}"
    if isinstance(result, FusedReview):
        count = len(result.findings)
        return f"{count} finding{'' if count == 1 else 's'} ({result.mode}, {took})"
    return f"explained lines {result.lines} ({took})"


def _display(file: Path | None, root: Path | None, uri: str) -> str:
    if file is None:
        return uri
    if root is not None:
        try:
            return str(file.relative_to(root))
        except ValueError:
            pass
    return str(file)


# -- handlers: one per LSP method ----------------------------------------------------------


def _initialize(ls: FusionServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and options.get("trusted") is False:
        ls.workspace_trusted = False  # the editor's Restricted Mode
    ls.apply_overrides(options)


async def _initialized(ls: FusionServer, params: types.InitializedParams) -> None:
    await _watch_config_files(ls)
    root = ls.root_path()
    if root is not None and (root / PROJECT_FILE).is_file():
        ls.settings_for(root / PROJECT_FILE)


async def _watch_config_files(ls: FusionServer) -> None:
    """Ask the client to watch every `.fusion.toml`; without it, saves still reload them."""
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if not (watched and watched.dynamic_registration):
        return
    watcher = types.FileSystemWatcher(glob_pattern=f"**/{PROJECT_FILE}")
    registration = types.Registration(
        id="fusion-toml-watcher",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=[watcher]),
    )
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
    except Exception:  # a client may refuse; that costs live reloads, nothing else
        log.info("the client did not accept a file watcher for %s", PROJECT_FILE, exc_info=True)


async def _shutdown(ls: FusionServer, params: None) -> None:
    await ls.close()


def _did_open(ls: FusionServer, params: types.DidOpenTextDocumentParams) -> None:
    document = params.text_document
    lines = split_lines(document.text)
    ls.documents[document.uri] = DocumentState(EditLog(document.version, len(lines)))
    _check_if_config(ls, document.uri)


def _did_change(ls: FusionServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    state = ls.documents.get(uri)
    if state is None:
        return
    edits = lsp_mapping.line_edits(params.content_changes, state.log.line_count)
    lines = ls.lines_of(uri)
    shown = bool(state.visible())
    state.edited(params.text_document.version, edits, lines)
    if shown or state.visible():  # nothing shown before or after: nothing to tell the editor
        ls.publish(uri, lines)


def _did_save(ls: FusionServer, params: types.DidSaveTextDocumentParams) -> None:
    _check_if_config(ls, params.text_document.uri)


def _did_close(ls: FusionServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.cancel_reviews(uri)
    if ls.documents.pop(uri, None) is not None:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )


def _check_if_config(ls: FusionServer, uri: str) -> None:
    path = to_fs_path(uri)
    if path and Path(path).name == PROJECT_FILE:
        ls.settings_for(Path(path))


def _did_change_watched_files(ls: FusionServer, params: types.DidChangeWatchedFilesParams) -> None:
    for change in params.changes:
        _check_if_config(ls, change.uri)


def _did_change_configuration(ls: FusionServer, params: types.DidChangeConfigurationParams) -> None:
    ls.apply_overrides(params.settings)


def _hover(ls: FusionServer, params: types.HoverParams) -> types.Hover | None:
    state = ls.documents.get(params.text_document.uri)
    if state is None:
        return None
    line = params.position.line + 1
    found = state.findings_at(line)
    lines = ls.lines_of(params.text_document.uri) if found else []  # split only when needed
    parts = [
        lsp_mapping.finding_hover(p.finding, p.record.review, p.record.statements, lines)
        for p in found
    ]
    explained = state.explanation_at(line)
    if explained is not None:
        parts.append(lsp_mapping.explanation_hover(explained.explanation))
    if not parts:
        return None
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)
        )
    )


def _code_action(ls: FusionServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    actions: list[types.CodeAction] = []
    state = ls.documents.get(uri)
    if state is not None:
        lines: list[str] | None = None  # the text is split only for a diagnostic with a fix
        for diagnostic in params.context.diagnostics:
            data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
            published = state.by_id(str(data.get("id", "")))
            if published is None or published.finding.fix is None:
                continue
            lines = ls.lines_of(uri) if lines is None else lines
            edit = lsp_mapping.fix_edit(uri, state.log.version, lines, published.finding.fix)
            actions.append(lsp_mapping.apply_fix_action(published.finding, diagnostic, edit))
    selection = params.range
    if selection.start != selection.end:
        span = {"start": _position(selection.start), "end": _position(selection.end)}
        actions.append(lsp_mapping.command_action("Fusion: review selection", REVIEW, [uri, span]))
        actions.append(
            lsp_mapping.command_action("Fusion: explain selection", EXPLAIN, [uri, span])
        )
    actions.append(lsp_mapping.command_action("Fusion: review file", REVIEW_FILE, [uri]))
    return actions


def _position(position: types.Position) -> dict[str, int]:
    return {"line": position.line, "character": position.character}


async def _review(ls: FusionServer, uri: str, range: types.Range) -> dict[str, Any]:
    return await ls.run(REVIEW, uri, lsp_mapping.selected_lines(range))


async def _explain(ls: FusionServer, uri: str, range: types.Range) -> dict[str, Any]:
    return await ls.run(EXPLAIN, uri, lsp_mapping.selected_lines(range))


async def _review_file(ls: FusionServer, uri: str) -> dict[str, Any]:
    return await ls.run(REVIEW, uri, None)


async def _clear_cache(ls: FusionServer) -> dict[str, Any]:
    cleared = await ls.cache.clear()
    ls.show(f"fusion-ls: cleared {cleared} cached answers")
    return {"status": "ok", "cleared": cleared}


def _clear(ls: FusionServer, uri: str) -> dict[str, Any]:
    ls.cancel_reviews(uri)
    state = ls.documents.get(uri)
    if state is not None:
        state.published.clear()
        state.explained.clear()
        ls.publish(uri)
    return {"status": "ok"}


def register(ls: FusionServer) -> None:
    """Every handler, in one visible table."""
    features: list[tuple[str, Callable[..., Any], Any]] = [
        (types.INITIALIZE, _initialize, None),
        (types.INITIALIZED, _initialized, None),
        (types.SHUTDOWN, _shutdown, None),
        (types.TEXT_DOCUMENT_DID_OPEN, _did_open, None),
        (types.TEXT_DOCUMENT_DID_CHANGE, _did_change, None),
        (types.TEXT_DOCUMENT_DID_SAVE, _did_save, None),
        (types.TEXT_DOCUMENT_DID_CLOSE, _did_close, None),
        (types.WORKSPACE_DID_CHANGE_WATCHED_FILES, _did_change_watched_files, None),
        (types.WORKSPACE_DID_CHANGE_CONFIGURATION, _did_change_configuration, None),
        (types.TEXT_DOCUMENT_HOVER, _hover, None),
        (
            types.TEXT_DOCUMENT_CODE_ACTION,
            _code_action,
            types.CodeActionOptions(
                code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Empty]
            ),
        ),
    ]
    for method, handler, options in features:
        ls.feature(method, options)(handler)
    commands: list[tuple[str, Callable[..., Any]]] = [
        (REVIEW, _review),
        (EXPLAIN, _explain),
        (REVIEW_FILE, _review_file),
        (CLEAR, _clear),
        (CLEAR_CACHE, _clear_cache),
    ]
    for name, command in commands:
        ls.command(name)(command)


def create_server() -> FusionServer:
    server = FusionServer()
    register(server)
    return server


def serve(*, tcp_port: int | None = None, host: str = "127.0.0.1") -> None:
    """Serve LSP over stdio (what editors run) or TCP (for debugging)."""
    server = create_server()
    if tcp_port is not None:
        server.start_tcp(host, tcp_port)
    else:
        server.start_io()


def log_level(explicit: str | None) -> int:
    """--log-level, else $FUSION_LS_LOG, else WARNING; unknown names mean WARNING."""
    level = logging.getLevelName((explicit or os.environ.get("FUSION_LS_LOG") or "WARNING").upper())
    return level if isinstance(level, int) else logging.WARNING
