"""fusion-ls: review and explain code with several LLMs at once, and fuse their answers."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
