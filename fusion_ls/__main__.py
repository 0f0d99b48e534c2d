"""`python -m fusion_ls` is the `fusion-ls` command."""

import sys

from .cli import main

sys.exit(main())
