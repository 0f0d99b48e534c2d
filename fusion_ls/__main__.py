"""`python -m fusion_ls` is the `fusion-ls` command."""

import sys

from fusion_ls.cli.main import main

sys.exit(main())
