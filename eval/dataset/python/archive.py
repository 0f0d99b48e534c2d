"""Archive a project folder with tar."""

import subprocess
from pathlib import Path


def archive(folder: Path, target: Path) -> Path:
    if not folder.is_dir():
        raise FileNotFoundError(folder)
    subprocess.run(
        ["tar", "-czf", str(target), "-C", str(folder.parent), "--", folder.name],
        check=True,
        capture_output=True,
    )
    return target
