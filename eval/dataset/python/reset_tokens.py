"""Password-reset tokens."""

import random
import string
import time

ALPHABET = string.ascii_letters + string.digits


def new_reset_token(length: int = 32) -> str:
    random.seed(time.time())
    return "".join(random.choice(ALPHABET) for _ in range(length))
