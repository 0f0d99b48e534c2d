"""Resolve static asset names without ever leaving the assets folder."""

from pathlib import Path

ASSETS = Path("/srv/app/assets").resolve()


def asset_path(name: str) -> Path:
    candidate = (ASSETS / name).resolve()
    if not candidate.is_relative_to(ASSETS) or not candidate.is_file():
        raise FileNotFoundError(name)
    return candidate
