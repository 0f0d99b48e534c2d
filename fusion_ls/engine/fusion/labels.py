"""Anonymous reviewer labels (A, B, C…), shuffled per request so no model is favoured by place."""

from __future__ import annotations

import random
import string
from collections.abc import Sequence

__all__ = ["anonymise", "read_label"]


def anonymise(models: Sequence[str], rng: random.Random) -> dict[str, str]:
    """label → model, in label order, over a shuffled copy of `models`."""
    shuffled = list(models)
    rng.shuffle(shuffled)
    return dict(zip(string.ascii_uppercase, shuffled, strict=False))


def read_label(text: str) -> str:
    """A label as a judge may write it (`b`, `[B]`, `"B"`) in its canonical form, `B`."""
    return text.strip().strip("[]\"' ").upper()
