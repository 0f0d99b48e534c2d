"""The terminal adapter: `fusion-ls review|explain|eval|config|trust`, and serving LSP."""

from fusion_ls.cli.main import main

__all__ = ["main"]
