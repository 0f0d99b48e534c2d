"""What leaves the machine: secrets replaced by placeholders, invisible characters made visible.

Both keep every line where it was (a PEM block becomes as many placeholder lines as it had), so
line numbers in prompts, findings and the editor still agree; within a line only the secret is
replaced (quotes, commas, indentation and the rest of the code stay), so it reads the same.

A secret is found in one of three ways:

- its own shape: a credential format with a prefix, length and alphabet of its own (the table
  in secret_rules.py), replaced wherever it stands;
- its place: the password of `scheme://user:password@host`, the credentials after
  `Authorization: Bearer`/`Basic`/`token`, a private key block;
- its name: a value given to a name that says it is secret (`password`, `api_key`,
  `client_secret`, `AccountKey`, `STRIPE_SECRET_KEY`…) in an assignment, dict or JSON key,
  keyword argument, YAML key, `.env`/INI line, connection string or query parameter, or in the
  `value` next to such a `name`. These values must also look generated: long enough, letters
  with digits or symbols, no spaces, enough entropy, and not a reference to something else
  (an environment variable's name, a path, a URL, a template field, code).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from fusion_ls.engine.secret_rules import TOKEN_RULES
from fusion_ls.engine.secret_values import (
    basic_credentials,
    entropy,
    looks_secret,
    name_strength,
    says_password,
    url_password,
)

__all__ = ["PLACEHOLDER_PREFIX", "Redacted", "Redaction", "make_visible", "redact"]

PLACEHOLDER_PREFIX = "[REDACTED:"

_TOKENS = tuple((re.compile(rule.pattern, re.ASCII), rule) for rule in TOKEN_RULES)


def _keyword_index() -> dict[str, list[tuple[str, int]]]:
    """The rules' keywords by their first two letters: (keyword, index of its rule)."""
    index: dict[str, list[tuple[str, int]]] = {}
    for order, rule in enumerate(TOKEN_RULES):
        for keyword in rule.keywords:
            index.setdefault(keyword[:2], []).append((keyword, order))
    return index


_KEYWORDS = _keyword_index()
_SHORT_KEYWORDS = [hit for prefix, hits in _KEYWORDS.items() if len(prefix) == 1 for hit in hits]
_TOKEN_MIN_ENTROPY = 3.0  # below it, a documentation placeholder: sk_live_xxxxxxxxxxxxxxxx
_RUN = re.compile(r"django-insecure-\S+|[A-Za-z0-9_+/=.~:%@-]{20,}")
"""Where a token can be: every format is at least 20 of these characters, so the rules only
look at such runs (a tenth of ordinary code), and only rules whose keyword is in the run."""
_PERCENT_TAIL = re.compile(r"(?:%[0-9A-Fa-f]{2}[A-Za-z0-9._~+/=-]*)+")
"""The rest of a token that was percent-encoded: sk_live_abc%2Fdef."""

_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_PEM_BODY = re.compile(r"[A-Za-z0-9+/=]{16,}|(?:Proc-Type|DEK-Info|Version|Comment):")
_BODY_LEAD = re.compile(r"[ \t(]*(?:\+(?=[ \t\"'`])[ \t]*)?[\"'`]?")  # `    + "` before a line

# -- by place -------------------------------------------------------------------------------

_URL_CREDENTIALS = re.compile(
    r"\b[A-Za-z][A-Za-z0-9+.-]{1,30}://"
    r"(?P<user>[^\s:/?#@\"'`<>]{0,200})(?::(?P<password>[^\s/?#@\"'`<>]{1,300}))?@(?=[\w\[{.-])",
    re.ASCII,
)
_AUTH_SCHEME = re.compile(
    r"(?<![\w-])(?P<scheme>Bearer|Basic|Token|token|Bot|Digest|ApiKey|SSWS|OAuth|JWT)"
    r"\s+(?P<value>[^\s\"'`<>;,(){}\[\]]{8,2000})",
    re.ASCII,
)
_COMMAND_PASSWORDS = (  # `curl -u user:password` (gitleaks curl-auth-user), `mysql -pPASSWORD`
    re.compile(r"(?<!\S)(?:-u|--user)[\s=]+[\"']?[^\s:\"'`]{1,100}:(?P<password>[^\s\"'`]{1,300})"),
    re.compile(r"\bmysql\w{0,10}\s(?:[^\n]{0,200}?\s)?-p(?P<password>[^\s\"'`]{1,300})"),
)
_LOOSE_SCHEMES = {"Token", "token", "Bot", "Digest", "ApiKey", "SSWS", "OAuth", "JWT"}
"""Words that are also English: their value counts only on a line that says Authorization."""

# -- by name --------------------------------------------------------------------------------

_SECRET_WORDS = ("pass", "pw", "secret", "token", "key", "auth", "cred", "sig", "pat", "bearer")
_SECRET_WORD = "(?i:" + "|".join(_SECRET_WORDS) + ")"
_SAYS_SECRET = re.compile("|".join(_SECRET_WORDS))  # searched in the lowercased line
_NAMED = re.compile(
    r"""
    (?<![\w.$@-])
    (?P<name>-{0,2}[$@]?(?=[\w.-]{0,60}?"""
    + _SECRET_WORD
    + r""")[A-Za-z_][\w.-]{0,60})
    (?P<close>["'`]?\]?["'`]?)
    (?:\s*:\s*[A-Za-z_][\w.\[\]|, ]{0,40}?(?=\s*=[^=]))?  # a type annotation: `password: str = …`
    (?P<sep>\s*(?:=>|:=|==|!=|=|:|,)\s*|\s+)
    (?:@(?=["'])|[rRbBuU]{1,2}(?=["'`])|!!?[\w/]+\s+)?  # @"…" (C#), b"…", r"…", !!binary …
    (?:\w*Secret\w*\(\s*)?  # SecretStr("…")
    (?:
        (?P<q>["'`])(?P<quoted>[^"'`\\\n]{1,1000})(?P=q)
      | (?P<bare>[^\s"'`,;&<>(){}\[\]\\]{1,500})  # to a space, quote or , ; & ) ] }
    )
    """,
    re.VERBOSE | re.ASCII,
)
_BARE_END = frozenset(" \t\"'`,;&<>)}]\\") | {""}
_ENV_LINE = re.compile(  # `.env`, INI, properties, YAML: the rest of the line is the value
    r"^(?P<lead>\s*(?:-\s+)?(?:export\s+|set\s+|ENV\s+)?)(?P<name>[A-Za-z_][\w.-]{0,80})"
    r"(?P<sep>\s*[=:]\s*)(?P<value>[^\s\"'`#][^\s\"'`]{0,2000}(?<![,;:()\[\]{}]))\s*$",
    re.ASCII,
)
_NAME_LINE = re.compile(  # `- name: STRIPE_KEY` (Kubernetes env), `"key": "API_TOKEN",`
    r"^\s*(?:-\s*)?[\"']?(?:name|key)[\"']?\s*[:=]\s*[\"']?(?P<name>[\w.-]{1,80})[\"']?\s*,?\s*$",
    re.ASCII,
)
_VALUE_LINE = re.compile(
    r"^\s*[\"']?value[\"']?\s*[:=]\s*(?P<q>[\"']?)(?P<value>[^\s\"'`]{1,2000})(?P=q)\s*,?\s*$",
    re.ASCII,
)
_NAME_VALUE_PAIR = re.compile(  # {"name": "API_TOKEN", "value": "…"} on one line
    r"[\"']?(?:name|key)[\"']?\s*[:=]\s*[\"'](?P<name>[\w.-]{1,80})[\"']\s*,\s*"
    r"[\"']?value[\"']?\s*[:=]\s*[\"'](?P<value>[^\s\"'`\\]{1,2000})[\"']",
    re.ASCII,
)
_CONNECTION_PAIR = re.compile(  # Server=…;Password=…; (ADO.NET, ODBC, Azure): ends at ";"
    r"(?:^|(?<=[;\"'`]))\s*(?P<name>[A-Za-z][A-Za-z0-9 _.-]{0,40})="
    r"(?P<value>[^;\"'`\s][^;\"'`\n]{0,2000})(?=;|[\"'`]|$)",
    re.ASCII,
)
# Bidirectional controls and zero-width characters: they can make code read differently to a
# person than to a model ("Trojan Source"), so models see them spelled out.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class Redaction:
    kind: str
    line: int


@dataclass(frozen=True)
class Redacted:
    lines: tuple[str, ...]
    redactions: tuple[Redaction, ...]


def _placeholder(kind: str) -> str:
    return f"{PLACEHOLDER_PREFIX}{kind}]"


class _Line:
    """One line being redacted: the secrets found in it are replaced as they are found."""

    def __init__(self, text: str, number: int, found: list[Redaction]) -> None:
        self.text, self.number, self.found = text, number, found

    def replace(self, start: int, end: int, kind: str) -> int:
        """Replace text[start:end]; returns how much the line grew (to shift later offsets)."""
        placeholder = _placeholder(kind)
        self.text = self.text[:start] + placeholder + self.text[end:]
        self.found.append(Redaction(kind, self.number))
        return len(placeholder) - (end - start)


def _token_spans(text: str) -> list[tuple[int, int, str]]:
    """Where in `text` (a run) the formats of secret_rules.py match: the earliest first, and at
    one place the first rule in the table, as one alternation of all of them would."""
    lowered = text.lower()
    pairs = {lowered[i : i + 2] for i in range(len(lowered) - 1)}
    orders = {i for k, i in _SHORT_KEYWORDS if k in lowered}
    for pair in pairs.intersection(_KEYWORDS):
        orders.update(i for keyword, i in _KEYWORDS[pair] if keyword in lowered)
    candidates = []
    for order in orders:
        pattern, rule = _TOKENS[order]
        candidates += [(m.start(), order, m.end(), rule.kind) for m in pattern.finditer(text)]
    spans: list[tuple[int, int, str]] = []
    for start, _, end, kind in sorted(candidates):
        if spans and start < spans[-1][1]:
            continue
        if entropy(text[start:end]) < _TOKEN_MIN_ENTROPY:
            continue
        if tail := _PERCENT_TAIL.match(text, end):
            end = tail.end()
        spans.append((start, end, kind))
    return spans


def _tokens(line: _Line) -> None:
    def run(match: re.Match[str]) -> str:
        text = match[0]
        pieces, position = [], 0
        for start, end, kind in _token_spans(text):
            line.found.append(Redaction(kind, line.number))
            pieces += [text[position:start], _placeholder(kind)]
            position = end
        return "".join(pieces) + text[position:]

    line.text = _RUN.sub(run, line.text)


def _url_credentials(line: _Line) -> None:
    shift = 0
    for match in list(_URL_CREDENTIALS.finditer(line.text)):
        password, user = match["password"], match["user"]
        if "REDACTED" in match[0]:
            continue
        if password is not None and url_password(unquote(password)):
            start, end = match.span("password")
        elif password is None and len(user) >= 20 and looks_secret(user, 2):
            start, end = match.span("user")  # a token as the user: https://<token>@host
        else:
            continue
        shift += line.replace(start + shift, end + shift, "url-credentials")


def _command_passwords(line: _Line) -> None:
    for pattern in _COMMAND_PASSWORDS:
        shift = 0
        for match in list(pattern.finditer(line.text)):
            password = match["password"]
            if PLACEHOLDER_PREFIX not in password and url_password(password):
                start, end = match.span("password")
                shift += line.replace(start + shift, end + shift, "command-password")


def _auth_headers(line: _Line) -> None:
    says_authorization = "authorization" in line.text.lower()
    shift = 0
    for match in list(_AUTH_SCHEME.finditer(line.text)):
        if match["scheme"] in _LOOSE_SCHEMES and not says_authorization:
            continue
        value = match["value"].rstrip(".:,")
        if match["scheme"] == "Basic" and not basic_credentials(value):
            continue
        if len(value) < (8 if match["scheme"] == "Basic" else 16) or not looks_secret(value, 2):
            continue
        start = match.start("value")
        shift += line.replace(start + shift, start + len(value) + shift, "authorization")


def _named_value(line: _Line, name: str, start: int, end: int) -> bool:
    value = line.text[start:end]
    name = name.lstrip("-$@")
    if PLACEHOLDER_PREFIX in value:
        return False
    if not looks_secret(value, name_strength(name), words=says_password(name)):
        return False
    line.replace(start, end, "assigned-secret")
    return True


def _named_values(line: _Line) -> None:
    env = _ENV_LINE.match(line.text)
    if env and _named_value(line, env["name"], *env.span("value")):
        return
    pair = _NAME_VALUE_PAIR.search(line.text)
    if pair:
        _named_value(line, pair["name"], *pair.span("value"))
    if ";" in line.text:
        position = 0
        while pair := _CONNECTION_PAIR.search(line.text, position):
            position = pair.end("value")
            if _named_value(line, pair["name"], *pair.span("value")):
                position = pair.start("value") + len(_placeholder("assigned-secret"))
    position = 0
    while match := _NAMED.search(line.text, position):
        group = "quoted" if match["q"] else "bare"
        separator = match["sep"].strip()
        name = match["name"]
        allowed = (
            (separator != "," or (match["close"] and match["q"]))  # ("API_KEY", "…"), not f(a, b)
            and (separator not in ("==", "!=") or match["q"])  # token == "…", not token == Kind
            and (separator != "" or name.startswith("-"))  # --token …, not "token value"
        )
        start, end = match.span(group)
        if group == "bare":  # it ended at a terminator, not at "(" or "[": not code, not cut
            allowed = (
                allowed and line.text[end : end + 1] in _BARE_END and line.text[end - 1] not in ":."
            )
        if allowed and _named_value(line, name, start, end):
            position = start + len(_placeholder("assigned-secret"))
        elif group == "quoted":
            position = start  # look for a name inside the value: "Server=…;Password=…"
        else:
            position = end


def _redact_line(text: str, number: int, found: list[Redaction], previous: str) -> str:
    if not text.strip():
        return text
    line = _Line(text, number, found)
    if "://" in text:
        _url_credentials(line)
    _tokens(line)
    lowered = line.text.lower()
    if "authorization" in lowered or "bearer" in lowered or "basic" in lowered:
        _auth_headers(line)
    if _SAYS_SECRET.search(lowered):
        _named_values(line)
    if "-u" in lowered or "-p" in lowered:
        _command_passwords(line)
    if "value" in lowered and (named := _NAME_LINE.match(previous)):
        value = _VALUE_LINE.match(line.text)
        if value:
            _named_value(line, named["name"], *value.span("value"))
    return line.text


def _inline_keys(line: str) -> tuple[str, int]:
    """Keys written whole on one line, their newlines escaped (JSON, .env), replaced."""
    pieces, position = [], 0
    ends = _PEM_END.finditer(line)
    for begin in _PEM_BEGIN.finditer(line):
        if begin.start() < position:
            continue
        end = next((e for e in ends if e.start() >= begin.end()), None)
        if end is None:
            break
        pieces += [line[position : begin.start()], _placeholder("private-key")]
        position = end.end()
    return "".join(pieces) + line[position:], len(pieces) // 2


def _split_body(text: str) -> tuple[str, str, str]:
    """A line of a key block as (opening quotes, key text, closing quotes and `\\n`)."""
    lead = _BODY_LEAD.match(text)
    start = lead.end() if lead else 0
    end = len(text)
    while end > start:
        last = text[end - 1]
        if last in " \t,;)\"'`" or (last == "+" and text[end - 2] in " \t\"'`"):
            end -= 1  # a "+" ends base64 too: only one after a space or quote is a concatenation
        elif text.endswith("\\n", start, end):
            end -= 2
        else:
            break
    return text[:start], text[start:end], text[end:]


def _pem_body_follows(lines: Sequence[str], index: int) -> bool:
    """Whether the lines after a BEGIN line (0-based `index`) are a key, not code about one."""
    for line in lines[index + 1 : index + 3]:
        body = _split_body(line)[1]
        if _PEM_BODY.match(body) or _PEM_END.search(line):
            return True
        if body:
            return False
    return False


def _inside_pem(lines: Sequence[str], index: int) -> bool:
    """Whether line `index` (0-based) falls inside a private key block opened above it."""
    for back in range(index - 1, -1, -1):
        line = lines[back]
        if "PRIVATE KEY" in line:
            if _PEM_END.search(line):
                return False
            if _PEM_BEGIN.search(line):
                return _pem_body_follows(lines, back)
    return False


def redact(lines: Sequence[str], first: int = 1, last: int | None = None) -> Redacted:
    """Secrets on lines `first..last` (1-based; all by default) replaced by `[REDACTED:kind]`.

    Every line keeps its place; lines outside the span are returned as they are, since they
    are not sent. A private key block that starts above the span is still recognised.
    """
    last = len(lines) if last is None else min(last, len(lines))
    found: list[Redaction] = []
    out = list(lines)
    in_pem = _inside_pem(lines, first - 1)
    key = _placeholder("private-key")
    for number in range(first, last + 1):
        line = lines[number - 1]
        if in_pem:
            end = _PEM_END.search(line)
            if end:
                lead = _split_body(line[: end.start()])[0]
                rest = _redact_line(line[end.end() :], number, found, "")
                out[number - 1] = lead + key + rest
                in_pem = False
            else:
                lead, body, trail = _split_body(line)
                out[number - 1] = lead + key + trail if body else line
            continue
        if "PRIVATE KEY" in line:
            line, count = _inline_keys(line)
            found += [Redaction("private-key", number)] * count
            begin = _PEM_BEGIN.search(line)
            if begin and _pem_body_follows(lines, number - 1):
                found.append(Redaction("private-key", number))
                previous = lines[number - 2] if number > 1 else ""
                head = _redact_line(line[: begin.start()], number, found, previous)
                out[number - 1] = head + key + _split_body(line[begin.end() :])[2]
                in_pem = True
                continue
        previous = lines[number - 2] if number > 1 else ""
        out[number - 1] = _redact_line(line, number, found, previous)
    return Redacted(tuple(out), tuple(found))


def make_visible(text: str) -> str:
    """Invisible and bidirectional control characters written out as `<U+202E>`."""
    return _INVISIBLE.sub(lambda match: f"<U+{ord(match[0]):04X}>", text)
