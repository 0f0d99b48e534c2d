"""The package's public surface: every name in `__all__` exists, and the version is one number."""

from __future__ import annotations

import importlib.metadata

import fusion_ls


def test_every_public_name_exists() -> None:
    missing = [name for name in fusion_ls.__all__ if not hasattr(fusion_ls, name)]
    assert missing == []


def test_all_is_sorted_and_unique() -> None:
    assert len(set(fusion_ls.__all__)) == len(fusion_ls.__all__)


def test_installed_version_matches_the_package() -> None:
    assert importlib.metadata.version("fusion-ls") == fusion_ls.__version__
