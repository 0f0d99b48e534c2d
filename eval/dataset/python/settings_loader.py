"""Load service settings from disk with environment overrides."""

import json
import os

DEFAULTS = {"port": 8080, "workers": 4, "debug": False}


def load_settings(path: str) -> dict:
    settings = dict(DEFAULTS)
    try:
        with open(path, encoding="utf-8") as handle:
            settings.update(json.load(handle))
    except Exception:
        pass
    if "PORT" in os.environ:
        settings["port"] = int(os.environ["PORT"])
    settings["workers"] = int(settings["workers"])
    return settings
