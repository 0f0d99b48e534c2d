"""Make thumbnails for uploaded images with ImageMagick."""

import subprocess
from pathlib import Path

THUMB_DIR = Path("/var/lib/gallery/thumbs")


def make_thumbnail(upload_name: str, size: int = 256) -> Path:
    target = THUMB_DIR / f"{Path(upload_name).stem}.png"
    subprocess.run(
        f"convert uploads/{upload_name} -resize {size}x{size} {target}",
        shell=True,
        check=True,
    )
    return target
