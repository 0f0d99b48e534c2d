"""Benchmarks of the language server as an editor drives it: `python -m benchmarks.bench`.

They reuse the test suite's rig (the fake OpenAI-compatible server and the pytest-lsp client
helpers in `tests/`), so importing this package puts `tests/` on the import path.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if _TESTS not in sys.path:
    sys.path.append(_TESTS)
