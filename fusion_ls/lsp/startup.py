"""What the server does after `initialize`, so that the first review is as fast as later ones
and a mistyped model id is said once rather than failing every review.

A fresh server pays once for what is built lazily: the engine's first run (see
`engine/rehearsal.py`) and the (un)structuring code lsprotocol's converter generates for each
message type on first use (2 to 3 ms for a `publishDiagnostics`, measured). The rehearsal does
both while nobody waits; nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lsprotocol import types

from fusion_ls.config.settings import Settings
from fusion_ls.engine.rehearsal import rehearse
from fusion_ls.lsp import mapping as lsp_mapping
from fusion_ls.reviewers.catalog import Catalogs
from fusion_ls.reviewers.model_check import check_models

__all__ = ["rehearse_first_review", "warn_of_unknown_models"]

_URI = "file:///rehearsal.py"
_LINES = ["def mean(values):", "    total = sum(values)", "    return total / len(values)"]


def _messages() -> list[Any]:
    """One of each message a review sends or receives."""
    diagnostics = [lsp_mapping.diagnostic(finding, _LINES) for finding in rehearse()]
    published = types.PublishDiagnosticsParams(uri=_URI, diagnostics=diagnostics, version=1)
    begin = types.WorkDoneProgressBegin(title="Fusion: review", cancellable=True, message="…")
    return [
        types.PublishDiagnosticsNotification(params=published),
        types.WorkDoneProgressCreateRequest(
            id=0, params=types.WorkDoneProgressCreateParams(token="rehearsal")
        ),
        *(
            types.ProgressNotification(params=types.ProgressParams(token="rehearsal", value=v))
            for v in (
                begin,
                types.WorkDoneProgressReport(message="…"),
                types.WorkDoneProgressEnd(message="done"),
            )
        ),
        types.ExecuteCommandRequest(
            id=0, params=types.ExecuteCommandParams(command="fusion.review", arguments=[_URI])
        ),
    ]


def rehearse_first_review(unstructure: Any, structure: Any) -> None:
    """Run the engine's rehearsal and convert one of each message both ways."""
    for message in _messages():
        structure(unstructure(message), type(message))


async def warn_of_unknown_models(
    settings: Settings, catalogs: Catalogs, show: Callable[[str, types.MessageType], None]
) -> None:
    """Each configured model id its provider's list does not hold, with a suggestion (the list
    is the one the warm-up is loading, so this waits for nothing else)."""
    for check in await check_models(settings, catalogs):
        if check.unknown:
            show(f"fusion-ls: {check.describe()}", types.MessageType.Warning)
