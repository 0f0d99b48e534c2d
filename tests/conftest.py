"""Shared fixtures. Keep this file small: one fixture per concern, helpers live in modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli_workspace import workspace  # noqa: F401 - a fixture for the CLI tests
from fake_openai import FakeOpenAI


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A started fake OpenAI-compatible server (real sockets), stopped after the test."""
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    """One fake for a module's tests, which share a language server set up against it."""
    with FakeOpenAI() as server:
        yield server
