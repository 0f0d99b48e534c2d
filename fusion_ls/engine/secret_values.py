"""Whether a name says its value is secret, and whether a value looks generated.

redact.py finds values by their names (`password = …`, `"api_key": …`, `AccountKey=…;`) and
places (a URL's password, an Authorization header); these decide which of them are secrets. The
rules were tuned on tests/test_redaction_corpus.py: fake credentials in ten code shapes (recall),
and this project, the standard library and site-packages (what must be left alone).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from functools import lru_cache

__all__ = [
    "basic_credentials",
    "entropy",
    "looks_secret",
    "name_strength",
    "says_password",
    "url_password",
]

_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_STRONG_WORDS = frozenset((
    "password", "passwd", "passphrase", "passcode", "pass", "pwd", "pw", "pswd", "secret",
    "secrets", "token", "credential", "credentials", "creds", "cred", "auth", "bearer", "pat",
    "apikey",
))  # fmt: skip
_STRONG_ENDINGS = ("password", "passwd", "secret", "token", "pwd", "apikey", "credentials")
_KEY_COMPOUNDS = (
    "apikey", "accesskey", "privatekey", "secretkey", "accountkey", "authkey", "signingkey",
    "masterkey", "clientkey", "encryptionkey", "appkey", "servicekey", "licensekey", "adminkey",
)  # fmt: skip
_NOT_THE_SECRET = frozenset((  # words in a name that say it is about a secret, not one
    "url", "uri", "urls", "endpoint", "path", "paths", "file", "filename", "files", "dir",
    "directory", "type", "types", "method", "name", "names", "id", "ids", "field", "fields",
    "label", "prompt", "len", "length", "size", "count", "env", "var", "header", "format", "fmt",
    "regex", "re", "regexp", "pattern", "policy", "class", "cls", "mode", "style", "algorithm",
    "algo", "alg", "kind", "public", "pub", "placeholder", "help", "message", "msg", "hint",
    "example", "description", "desc", "title", "text", "template", "column", "col", "attr",
    "prefix", "suffix", "index", "idx", "provider", "version", "scheme", "parser", "cache",
    "validator", "hash", "hashed", "digest", "expiry", "expires", "expiration", "ttl", "timeout",
    "lifetime", "location", "store", "manager", "source", "src", "cmd", "command", "fn", "func",
    "callback", "handler", "enabled", "required", "reset", "rotation", "strength", "min", "max",
    "sep", "separator", "char", "chars", "generator", "factory", "getter", "setter", "helper",
    "utils", "util", "module", "error", "errors", "exception", "test", "tests", "mock", "fake",
    "dummy", "host", "hostname", "domain", "server", "addr", "address",
))  # fmt: skip
_PLACEHOLDER_VALUE = re.compile(
    r"\{[^{}]*\}|\$\{|\{\{|%\(|%[sd]|<[^>]*>|\$\(|\*{3}|[xX]{4}|\.\.\.|\u2026|REDACTED"
    r"|(?i:your|example|changeme|placeholder|redacted|dummy)"
)
_ENV_VAR_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)+|[A-Z]+[0-9]*")
_CODE = re.compile(
    r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"  # attribute access: settings.SECRET_KEY
    r"|[A-Za-z_][\w.]*[(\[].*"  # a call or subscript: get_token(…), tokens[i]
    r"|(?:~|\.{1,2})?/[\w.-]*(?:/[\w.-]*)*"  # a path
    r"|[\w./-]+\.(?i:pem|key|crt|cer|p12|pfx|json|ya?ml|toml|ini|cfg|conf|env|txt|py|js|ts"
    r"|html?|log|gpg|asc|pub|der|jks|keystore|db|sqlite3?)",  # a file name
    re.ASCII,
)
_HOST = re.compile(
    r"(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|app|cloud|local|internal|[a-z]{2})(?::\d+)?"
    r"|[A-Za-z0-9.-]+:\d{1,5}",  # a host and port
    re.ASCII,
)
_IDENTIFIER = re.compile(r"[A-Za-z0-9]{1,10}(?:_[A-Za-z0-9]{1,10})+")  # gss_krb5_rfc1964_keydata
_EXAMPLE_PASSWORD = re.compile(r"(?i)(?:my)?(?:pass(?:word|wd)?|secret)\w{0,3}")
_SAYS_ITSELF = re.compile(r"(?i)passw(?:or)?d|secret|token")  # "password1", "my-secret-key"
_PASSWORD_WORDS = ("pass", "pwd", "pw", "pswd", "secret")
_WORDY_RUN = re.compile(r"[A-Z]?[a-z]{3,}")
_REGEX_LIKE = re.compile(r"\(\?|\|.*\||\[\^?\\?\w-|\\[dswbDSWB]")
_MIN_ENTROPY = 3.0  # bits per character; "changeme123" has about 3.3, a random key over 4
_MIN_ENTROPY_WEAK = 3.3  # for a value named only "key": more often a lookup key than a secret


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


@lru_cache(maxsize=4096)
def says_password(name: str) -> bool:
    """A password may be words ("maple-orbit-7-quartz"); a token or key is not."""
    return any(w.lower().startswith(_PASSWORD_WORDS) for w in _NAME_WORDS.findall(name))


def _wordy(value: str) -> bool:
    """Mostly lowercase words (a MIME type, a slug, a phrase) rather than random characters."""
    letters = sum(c.isalpha() for c in value)
    in_words = 0
    for run in _WORDY_RUN.findall(value):
        vowels = sum(c in "aeiouy" for c in run.lower())
        in_words += len(run) if vowels / len(run) >= 0.25 else 0
    return letters > 0 and in_words / letters >= 0.8


@lru_cache(maxsize=4096)
def name_strength(name: str) -> int:
    """2 when a name says its value is secret (`db_password`, `AccountKey`), 1 when it says
    only `key`, 0 otherwise (also for names of things about a secret: `token_url`, `key_id`)."""
    words = [w.lower() for w in _NAME_WORDS.findall(name)]
    if not words or any(w in _NOT_THE_SECRET for w in words):
        return 0
    if any(w in _STRONG_WORDS or w.endswith(_STRONG_ENDINGS) for w in words) or words == ["sig"]:
        return 2  # "sig" alone: the signature of an Azure SAS URL, ?sig=…
    joined = "".join(words)
    if any(compound in joined for compound in _KEY_COMPOUNDS):
        return 2
    return 1 if "key" in words or "keys" in words else 0


def looks_secret(value: str, strength: int, words: bool = False) -> bool:
    """Whether a value given a secret-sounding name looks generated rather than written;
    `words`: the name says password, and a password may be a passphrase."""
    if strength == 0 or not 8 <= len(value) <= 2000 or (strength == 1 and len(value) < 16):
        return False
    if not any(c.isalpha() for c in value):
        return False
    if strength == 1 and not any(c.isdigit() for c in value):
        return False
    inner = value.strip(":.,;")
    if not any(c.isdigit() or not (c.isalnum() or c in "_.-") for c in inner):
        return False  # words and identifiers: a generated value has digits or symbols
    if _REGEX_LIKE.search(value) or (not words and _wordy(value)):
        return False
    if any(c.isspace() for c in value) or "://" in value or _PLACEHOLDER_VALUE.search(value):
        return False
    if _ENV_VAR_NAME.fullmatch(value) or _CODE.fullmatch(value):
        return False
    if _HOST.fullmatch(value) or _IDENTIFIER.fullmatch(value) or _SAYS_ITSELF.search(value):
        return False
    floor = _MIN_ENTROPY if strength == 2 else _MIN_ENTROPY_WEAK
    return entropy(value) >= min(floor, 0.8 * math.log2(len(value)))


def url_password(password: str) -> bool:
    """The password of a URL: its place says what it is, so only examples are left alone."""
    if len(password) < 8 or "," in password or any(c.isspace() for c in password):
        return False  # ",": a list of hosts (https://a:1,b:2@c), not a password
    if _PLACEHOLDER_VALUE.search(password) or _ENV_VAR_NAME.fullmatch(password):
        return False
    return entropy(password) >= 2.5 and not _EXAMPLE_PASSWORD.fullmatch(password)


def basic_credentials(value: str) -> bool:
    """Whether a Basic value is user:password (or is not base64 at all, so may be anything)."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return True
    return ":" in decoded
