"""README's set-up for Helix, which no test can run here, and the editors README leaves out.

No Helix can be installed on the machines the tests run on (Debian has no package, and building
it needs crates that cannot be fetched), so README's `languages.toml` snippet is checked against
the keys Helix documents (docs.helix-editor.com/languages.html, "Language configuration" and
"Configuring Language Servers"; helix-core's `LanguageConfiguration`, which rejects unknown
keys, and `LanguageServerConfiguration`), and its `config` against what the server accepts as
initializationOptions. Zed is not supported (no extension is shipped): README must not offer it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fusion_ls.config.settings import FusionSettings
from fusion_ls.config.toml_lines import tomllib

README = (Path(__file__).parents[1] / "README.md").read_text()
PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())

# [language-server.NAME]: `command` is required.
HELIX_SERVER_KEYS = {
    "command", "args", "environment", "config", "timeout", "required-root-patterns"
}  # fmt: skip
# [[language]]: `name` is required; an entry for a built-in language is merged into Helix's own.
HELIX_LANGUAGE_KEYS = {
    "name", "language-id", "scope", "injection-regex", "file-types", "shebangs", "roots",
    "comment-token", "comment-tokens", "block-comment-tokens", "auto-format",
    "diagnostic-severity", "indent", "language-servers", "grammar", "formatter", "soft-wrap",
    "text-width", "rulers", "workspace-lsp-roots", "persistent-diagnostic-sources",
    "auto-pairs", "debugger", "path-completion", "word-completion",
}  # fmt: skip
# An entry of `language-servers`: a server's name, or a table naming it and its features.
HELIX_FEATURE_KEYS = {"name", "only-features", "except-features"}


def _helix() -> dict[str, Any]:
    """The TOML block of README's Helix paragraph."""
    section = README[README.index("**Helix**") :]
    block = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert block is not None, "README's Helix paragraph has no languages.toml block"
    return tomllib.loads(block[1])


def test_helix_server_entry_uses_documented_keys_and_the_installed_command() -> None:
    servers = _helix()["language-server"]
    server = servers["fusion-ls"]

    assert set(server) <= HELIX_SERVER_KEYS, set(server) - HELIX_SERVER_KEYS
    assert server["command"] in PYPROJECT["project"]["scripts"]  # what `pip install` puts on PATH
    assert all(isinstance(arg, str) for arg in server.get("args", []))


def test_helix_config_is_initialization_options_the_server_accepts() -> None:
    config = _helix()["language-server"]["fusion-ls"]["config"]

    FusionSettings.model_validate(config)  # mode, pool, judge: as the server reads them


def test_helix_language_entries_use_documented_keys_and_name_fusion_ls() -> None:
    languages = _helix()["language"]
    named: list[str] = []
    for language in languages:
        assert isinstance(language["name"], str)
        assert set(language) <= HELIX_LANGUAGE_KEYS, set(language) - HELIX_LANGUAGE_KEYS
        for entry in language["language-servers"]:
            if isinstance(entry, dict):
                assert set(entry) <= HELIX_FEATURE_KEYS and "name" in entry, entry
                entry = entry["name"]
            named.append(entry)
    assert "fusion-ls" in named


def test_readme_offers_no_zed_set_up() -> None:
    blocks = re.findall(r"```(\w*)\n(.*?)```", README, re.DOTALL)
    assert not [text for _, text in blocks if "language_servers" in text or "zed" in text.lower()]
    assert "Zed is not supported" in README
