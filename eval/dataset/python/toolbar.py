"""Toolbar wiring for the desktop editor."""

from collections.abc import Callable

Handler = Callable[[dict], None]


def make_handlers(buttons: list[str], dispatch: Callable[[str, dict], None]) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for name in buttons:
        handlers[name] = lambda event: dispatch(name, event)
    return handlers


def bind(toolbar, dispatch: Callable[[str, dict], None]) -> None:
    for name, handler in make_handlers(toolbar.button_names(), dispatch).items():
        toolbar.on_click(name, handler)
