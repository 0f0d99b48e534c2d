"""The pygls adapter: the handlers, in one registration table, and the server's state.

Handlers are thin: state lives in `session.py`, conversions in `mapping.py`, a review's
lifecycle in `jobs.py`, and every review goes through the same `Engine` the CLI uses.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.uris import to_fs_path

from fusion_ls.config.loading import load_settings
from fusion_ls.config.locations import PROJECT_FILE, find_project_file
from fusion_ls.config.settings import Settings
from fusion_ls.engine.anchoring import split_lines
from fusion_ls.errors import ConfigError, ConfigIssue
from fusion_ls.lsp import mapping as lsp_mapping
from fusion_ls.lsp.actions import DISMISS, EXPLAIN, REVIEW, REVIEW_FILE, code_actions, dismiss
from fusion_ls.lsp.changes import REVIEW_CHANGES, Changes
from fusion_ls.lsp.jobs import Jobs
from fusion_ls.lsp.results import CacheCleared, Cleared, CommandResult, as_json
from fusion_ls.lsp.session import DocumentState
from fusion_ls.lsp.startup import rehearse_first_review, warn_of_unknown_models
from fusion_ls.reviewers.model_check import stored_suggestion
from fusion_ls.reviewers.runtime import Runtime
from fusion_ls.version import __version__

__all__ = ["FusionProtocol", "FusionServer", "create_server"]

log = logging.getLogger(__name__)

CLEAR_CACHE, CLEAR = "fusion.clearCache", "fusion.clear"
_OVERRIDABLE = ("mode", "pool", "judge")


class FusionProtocol(LanguageServerProtocol):
    """Delivers `$/cancelRequest` to a running command, and answers in UTF-16 positions.

    pygls runs `workspace/executeCommand` as a generator handler that starts the command's
    coroutine as a task of its own: `$/cancelRequest` cancels only the request's outer future
    (the client gets its "cancelled" answer) while the review goes on paying for tokens. pygls
    offers no public hook for this, so the private `_handle_cancel_notification` is extended;
    `tests/test_server.py::test_pygls_still_needs_the_cancel_override` fails when pygls
    changes either side of that, so this is revisited then.
    """

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        """Positions in UTF-16 whatever the client prefers.

        Every character offset fusion-ls sends is counted in UTF-16 code units (`lsp/mapping.py`),
        the encoding every client must accept. pygls would pick the client's first preference
        (UTF-8 for Neovim, UTF-32 for eglot 1.13 and later), and a finding's columns, and a fix
        of a last line, would then be off on every line with non-ASCII text.
        """
        general = params.capabilities.general
        if general is not None:
            general.position_encodings = None
        return (yield from super().lsp_initialize(params))

    def rehearse(self) -> None:
        """Build the converter's code for every message a review sends (`lsp/startup.py`)."""
        rehearse_first_review(self._converter.unstructure, self._converter.structure)

    def _handle_cancel_notification(self, msg_id: int | str) -> None:
        super()._handle_cancel_notification(msg_id)
        server = self._server
        if isinstance(server, FusionServer):
            server.jobs.abort_request(msg_id)


class FusionServer(LanguageServer):
    """Server state: open documents, running jobs, session overrides, the process's runtime."""

    def __init__(self) -> None:
        super().__init__("fusion-ls", __version__, protocol_cls=FusionProtocol)
        self.documents: dict[str, DocumentState] = {}
        self.jobs = Jobs(self)
        self.changes = Changes(self)
        self.overrides: dict[str, Any] = {}
        self.workspace_trusted = True
        self.allow_outside_workspace = False
        self.last_good: dict[Path | None, Settings] = {}
        self.warned: set[str] = set()
        self.config_shown: dict[str, list[types.Diagnostic]] = {}  # what each config file shows
        self.noticed: set[str] = set()
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        """One runtime (HTTP client, cache, spend ledger) per process, made on first use
        inside the event loop."""
        if self._runtime is None:
            self._runtime = Runtime.default()
        return self._runtime

    async def close(self) -> None:
        await self.jobs.close()
        if self._runtime is not None:
            await self._runtime.aclose()
            self._runtime = None

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
                suggest=stored_suggestion,  # only asked about a malformed id: no I/O otherwise
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
            lines = self.lines_of(uri) if found else []
            diagnostics = [lsp_mapping.config_diagnostic(issue, lines) for issue in found]
            if self.config_shown.get(uri) != diagnostics:  # every review loads the settings
                self.config_shown[uri] = diagnostics
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
        """`mode`, `pool`, `judge` and `min_agreement` from the editor, checked before they
        take effect."""
        if not isinstance(options, dict):
            return
        fusion = options.get("fusion", options)
        if not isinstance(fusion, dict):
            return
        wanted = {k: fusion[k] for k in _OVERRIDABLE if fusion.get(k) not in (None, "", [])}
        overrides: dict[str, Any] = {"fusion": wanted} if wanted else {}
        if options.get("min_agreement") not in (None, ""):
            overrides["review"] = {"min_agreement": options["min_agreement"]}
        try:
            load_settings(overrides=overrides)
        except ConfigError as error:
            problems = "; ".join(str(i) for i in error.issues if i.severity == "error")
            self.show(f"fusion-ls: editor settings ignored: {problems}", types.MessageType.Error)
            return
        self.overrides = overrides

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
        diagnostics += [
            lsp_mapping.unused_suppression(u.note, u.anchor.start, lines) for u in state.unused
        ]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                diagnostics=diagnostics,
                version=state.log.version if state.opened else None,
            )
        )

    def show(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))


# -- handlers: one per LSP method ----------------------------------------------------------


def _initialize(ls: FusionServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict) and options.get("trusted") is False:
        ls.workspace_trusted = False  # the editor's Restricted Mode
    if isinstance(options, dict) and options.get("allow_outside_workspace") is True:
        ls.allow_outside_workspace = True
    ls.apply_overrides(options)


async def _initialized(ls: FusionServer, params: types.InitializedParams) -> None:
    await _watch_config_files(ls)
    root = ls.root_path()
    project = root / PROJECT_FILE if root is not None else None
    settings = ls.settings_for(project if project and project.is_file() else None)
    # The first review should be as fast as later ones: open the connections (TLS handshakes
    # included) and load the model lists now, in the background, not on the review's path.
    ls.runtime.warm(settings.providers_used())
    if isinstance(ls.protocol, FusionProtocol):
        ls.protocol.rehearse()
    if all(p.can_be_asked(os.environ) for p in settings.providers_used()):
        await warn_of_unknown_models(settings, ls.runtime.catalogs, ls.show)


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
    document, lines = params.text_document, split_lines(params.text_document.text)
    before = ls.documents.get(document.uri)
    state = ls.documents[document.uri] = DocumentState.opening(before, document.version, lines)
    if state.published:  # kept from a review of changes made while it was closed
        ls.publish(document.uri, lines)
    _check_if_config(ls, document.uri)
    ls.changes.opened(document.uri)


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
    ls.changes.saved(params.text_document.uri)


def _did_close(ls: FusionServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.jobs.cancel(uri)
    ls.changes.closed(uri)
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
    parts = [lsp_mapping.finding_hover(p.finding, p.review, lines) for p in found]
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


def _count(ls: FusionServer, uri: str) -> int | None:
    """Lines of an open document (None when it is not open: the job then says so)."""
    return len(ls.lines_of(uri)) if uri in ls.documents else None


async def _review(ls: FusionServer, uri: str, range: types.Range) -> CommandResult:
    return await ls.jobs.run("review", uri, lsp_mapping.selected_lines(range, _count(ls, uri)))


async def _explain(ls: FusionServer, uri: str, range: types.Range) -> CommandResult:
    return await ls.jobs.run("explain", uri, lsp_mapping.selected_lines(range, _count(ls, uri)))


async def _review_file(ls: FusionServer, uri: str) -> CommandResult:
    return await ls.jobs.run("review", uri, None)


async def _review_changes(ls: FusionServer) -> CommandResult:
    return await ls.changes.review()


async def _clear_cache(ls: FusionServer) -> CommandResult:
    cache = ls.runtime.cache
    cleared = await cache.clear() if cache is not None else 0
    ls.show(f"fusion-ls: cleared {cleared} cached answers")
    return CacheCleared(cleared=cleared)


async def _dismiss(ls: FusionServer, uri: str, ids: list[str], how: str) -> CommandResult:
    """pygls reads a command's argument types from the function it registers, so each
    command is registered here, where `FusionServer` is defined."""
    return await dismiss(ls, uri, ids, how)


async def _clear(ls: FusionServer, uri: str) -> CommandResult:
    ls.jobs.cancel(uri)
    state = ls.documents.get(uri)
    if state is not None:
        state.published.clear()
        state.explained.clear()
        state.unused.clear()
        ls.publish(uri)
    return Cleared()


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
            code_actions,
            types.CodeActionOptions(
                code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Empty]
            ),
        ),
    ]
    for method, handler, options in features:
        ls.feature(method, options)(handler)
    commands: list[tuple[str, Callable[..., Awaitable[CommandResult]]]] = [
        (REVIEW, _review),
        (EXPLAIN, _explain),
        (REVIEW_FILE, _review_file),
        (CLEAR, _clear),
        (CLEAR_CACHE, _clear_cache),
        (DISMISS, _dismiss),
        (REVIEW_CHANGES, _review_changes),
    ]
    for name, command in commands:
        ls.command(name)(as_json(command))


def create_server() -> FusionServer:
    server = FusionServer()
    register(server)
    return server


def serve(*, tcp_port: int | None = None, host: str = "127.0.0.1") -> None:
    """Serve LSP over stdio (what editors run) or TCP (for debugging)."""
    server = create_server()
    where = f"TCP on {host}:{tcp_port}" if tcp_port is not None else "stdio"
    # The first line a user reads in the editor's server output after raising the log level:
    # which server the editor started, and where it reads its messages.
    log.info(
        "fusion-ls %s (Python %s) serving LSP over %s", __version__, sys.version.split()[0], where
    )
    if tcp_port is not None:
        server.start_tcp(host, tcp_port)
    else:
        server.start_io()
