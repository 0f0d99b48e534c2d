"""Redaction measured: recall over fake credentials in many code shapes, and how often it
changes a line of ordinary code.

The samples (tests/fixtures/secrets/samples.json, written by generate.py there) follow the
documented formats of public secret scanners' rules; each is placed in the shapes below, with
names some generic (`password`, `token`, `key`), some the provider's (`STRIPE_SECRET_KEY`) and
some saying nothing (`DEFAULT`). A sample is caught when no trace of the secret as written (raw,
percent-encoded or base64 inside a Basic header) is left anywhere in the redacted snippet, and
every other character of the snippet is kept.

Targets (issue 13): recall ≥ 95% overall and ≥ 90% in every shape; at most one changed line per
20,000 lines of ordinary code (this project, the standard library, site-packages).
"""

from __future__ import annotations

import base64
import json
import random
import re
import sys
import sysconfig
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from fusion_ls.engine.redact import redact

FIXTURES = Path(__file__).parent / "fixtures" / "secrets"
RECALL_OVERALL = 0.95
RECALL_PER_SHAPE = 0.90
LINES_PER_CHANGE = 20_000

# -- the samples ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    kind: str
    name: str  # what a programmer would call it: "stripe_secret_key"
    value: str
    index: int

    @property
    def multiline(self) -> bool:
        return "\n" in self.value

    @property
    def is_url(self) -> bool:
        return self.value.startswith("https://")


def load_samples() -> list[Sample]:
    kinds = json.loads((FIXTURES / "samples.json").read_text(encoding="utf-8"))
    return [
        Sample(kind, entry["name"], "".join(parts), index)
        for kind, entry in kinds.items()
        for index, parts in enumerate(entry["samples"])
    ]


SAMPLES = load_samples()

# -- names ----------------------------------------------------------------------------------

HINT = "<hint>"  # the sample's own name, e.g. "stripe_secret_key"
NEUTRAL = "<neutral>"
NAMES = [HINT, "password", "secret", HINT, "token", "key", "credentials", HINT, "api_key",
         "auth_token", HINT, "client_secret", "access_key", HINT, NEUTRAL]  # fmt: skip
NEUTRAL_NAMES = ["value", "default", "expected", "sample", "fallback", "data", "config_value"]


def words(name: str) -> list[str]:
    return [w for w in re.split(r"[_\W]+", name) if w]


def name_forms(name: str) -> dict[str, str]:
    w = words(name)
    return {
        "name": "_".join(w),
        "NAME": "_".join(w).upper(),
        "camel": w[0] + "".join(x.title() for x in w[1:]),
        "kebab": "-".join(w),
        "Header": "-".join(x.title() for x in w),
        "dotted": "app." + ".".join(w),
    }


# -- how a value is written in each place ---------------------------------------------------


def json_escaped(value: str) -> str:
    return json.dumps(value)[1:-1]


def percent_encoded(value: str) -> str:
    return quote(value, safe="")


def basic(value: str) -> str:
    return base64.b64encode(f"svc-deploy:{value}".encode()).decode()


def yaml_scalar(value: str) -> str:
    plain = re.fullmatch(r"[A-Za-z0-9_./+=~$%^()-][^\s#:\"']*", value) and ": " not in value
    return value if plain else json.dumps(value)


def shell_word(value: str) -> str:
    return value if re.fullmatch(r"[\w.+/=:@%,-]+", value) else f"'{value}'"


ENCODINGS: dict[str, Callable[[str], str]] = {
    "v": lambda v: v,
    "vq": json_escaped,  # inside "…" in Python, JSON, JavaScript
    "vu": percent_encoded,  # inside a URL
    "vb": basic,  # base64 of user:secret
    "vy": yaml_scalar,
    "ve": shell_word,
}

# -- the shapes -----------------------------------------------------------------------------
# A template is one or more lines; {name}/{NAME}/{camel}/{kebab}/{Header}/{dotted} are the name,
# {v} the value as is and {vq}/{vu}/{vb}/{vy}/{ve} the value written for that place (see above).
# Private keys have their own templates (their text spans lines); URLs that are themselves the
# secret (webhooks) have theirs for the URL shape.

SHAPES: dict[str, list[str]] = {
    "assignment": [
        '{NAME} = "{vq}"',
        "self.{name} = '{v}'",
        '{name}: str = "{vq}"',
        'const {camel} = "{vq}";',
        '{camel} := "{vq}"',
        'settings["{name}"] = "{vq}"',
        'private static final String {NAME} = "{vq}";',
        "${camel} = '{v}';",
        'os.environ["{NAME}"] = "{vq}"',
        "export const {NAME} = `{v}`;",
        'os.environ.setdefault("{NAME}", "{vq}")',
    ],
    "dict": [
        'config = {{"host": "db.internal", "{name}": "{vq}", "port": 5432}}',
        "CREDENTIALS = {{'username': 'svc-deploy', '{name}': '{v}'}}",
        'ENV = {{\n    "DEBUG": "0",\n    "{NAME}": "{vq}",\n}}',
        'const options = {{ region: "eu-west-1", {camel}: "{vq}" }};',
        'client = Client.new({{ "{name}" => "{vq}", "timeout" => 30 }})',
        "    '{name}' => '{v}',",
        'params = dict(user="svc", **{{"{name}": "{vq}"}})',
    ],
    "kwarg": [
        'client = Client(region="eu-west-1", {name}="{vq}")',
        'conn = psycopg.connect(host="db.internal", user="svc", {name}="{vq}")',
        "session = boto3.Session(aws_access_key_id=key_id, {name}='{v}')",
        'api = Api(\n    base_url=BASE_URL,\n    {name}="{vq}",\n    timeout=10,\n)',
        'login(username="admin", {name}="{vq}", remember=True)',
        'cache = Redis(host="cache", port=6379, {name}="{vq}", db=0)',
        'settings = Settings({name}=SecretStr("{vq}"))',
    ],
    "url": [
        'DB_URL = "postgresql://app_user:{vu}@db.internal:5432/app"',
        'REDIS_URL = "redis://:{vu}@cache.internal:6379/0"',
        'broker_url = "amqp://svc:{vu}@rabbitmq:5672//"',
        'MONGO_URI = "mongodb+srv://admin:{vu}@cluster0.ab1cd.mongodb.net/prod?retryWrites=true"',
        "git clone https://oauth2:{vu}@gitlab.example.com/team/repo.git",
        'remote = "https://{vu}@github.com/acme/app.git"',
        'proxies = {{"https": "http://proxyuser:{vu}@proxy.corp:3128"}}',
        'SQLALCHEMY_DATABASE_URI = "mysql+pymysql://root:{vu}@localhost/app"',
        "index-url = https://__token__:{vu}@pypi.example.org/simple/",
        'resp = requests.get("https://api.example.com/v1/items?{name}={vu}&page=2")',
    ],
    "env": [
        "{NAME}={ve}",
        "export {NAME}={ve}",
        '{NAME}="{vq}"',
        "{name} = {v}",
        "ENV {NAME}={ve}",
        "{dotted}={v}",
        "  - {NAME}={v}",
        '$env:{NAME} = "{vq}"',
        "set {NAME}={v}",
    ],
    "header": [
        'headers = {{"Authorization": "Bearer {vq}"}}',
        "Authorization: Bearer {v}",
        'curl -H "Authorization: token {vq}" https://api.example.com/user',
        'req.add_header("Authorization", "Basic {vb}")',
        "session.headers['Authorization'] = 'Bearer {v}'",
        'headers = {{"X-{Header}": "{vq}", "Accept": "application/json"}}',
        "fetch(url, {{ headers: {{ Authorization: `Bearer {v}` }} }});",
        'proxy_set_header Authorization "Bearer {vq}";',
        'r = httpx.get(url, headers={{"PRIVATE-TOKEN": "{vq}"}})',
        "Authorization: Basic {vb}",
        'headers = {{"Authorization": "Bot {vq}"}}',
    ],
    "connection": [
        'conn_str = "DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey={v};'
        'EndpointSuffix=core.windows.net"',
        'CONNECTION = "Server=tcp:sql.example.net,1433;Database=app;User ID=svc;Password={v};'
        'Encrypt=True;"',
        'dsn = "host=db.internal port=5432 dbname=app user=svc password={v} sslmode=require"',
        'odbc = "Driver={{ODBC Driver 18 for SQL Server}};Server=db;UID=svc;PWD={v};"',
        'sb = "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;'
        'SharedAccessKey={v}"',
        'jdbc = "jdbc:mysql://db:3306/app?user=svc&password={vu}&useSSL=true"',
        '"Default": "Data Source=db;Initial Catalog=app;User Id=svc;Password={v}"',
        'conn = "Host=db;Username=svc;Password={v};Database=app"',
        'cosmos = "AccountEndpoint=https://acme.documents.azure.com:443/;AccountKey={v};"',
    ],
    "yaml": [
        "{name}: {vy}",
        'auth:\n  {name}: "{vq}"',
        "spec:\n  auth:\n    {name}: {vy}",
        'env:\n  - name: {NAME}\n    value: "{vq}"',
        "stringData:\n  {kebab}: {vy}",
        "    {NAME}: {vy}",
        "{kebab}: '{v}'",
    ],
    "json": [
        '{{"{name}": "{vq}", "region": "us-east-1"}}',
        '{{\n  "type": "service_account",\n  "{name}": "{vq}",\n  "project_id": "acme"\n}}',
        '{{"auths": {{"registry.example.com": {{"auth": "{vb}"}}}}}}',
        '  "{camel}": "{vq}",',
        '{{"credentials": {{"{name}": "{vq}"}}}}',
        '[{{"key": "{NAME}", "value": "{vq}"}}]',
    ],
    "fstring": [
        'url = f"https://api.example.com/v2/items?{name}={vu}&page={{page}}"',
        'dsn = f"postgresql://{{user}}:{vu}@{{host}}:5432/app"',
        'headers = {{"Authorization": f"Bearer {vq}"}}',
        'cmd = f"deploy --{kebab} {ve} --env {{env}}"',
        'log.debug(f"connecting to {{host}} with {name}={vq}")',
        'conn = f"Server={{host}};Database=app;User Id=svc;Password={v};"',
        'env_file.write(f"{NAME}={vq}\\n")',
    ],
}
PEM_SHAPES: dict[str, list[str]] = {
    "assignment": ['{NAME} = """{v}"""', "{NAME} = (\n{v_python_lines}\n)"],
    "dict": ['config = {{"{name}": "{vq}", "kid": "k1"}}'],
    "kwarg": ['signer = Signer(algorithm="RS256", {name}="{vq}")'],
    "env": ['{NAME}="{vq}"'],
    "yaml": ["{name}: |\n{v_indented}"],
    "json": ['{{\n  "type": "service_account",\n  "{name}": "{vq}",\n  "client_id": "1"\n}}'],
    "fstring": ['pem = f"""{v}\n"""  # for {{client}}'],
}
URL_SECRET_SHAPES = {
    "url": ['requests.post("{v}", json=message)', "curl -X POST -d @msg.json {v}"],
}


@dataclass(frozen=True)
class Snippet:
    sample: Sample
    shape: str
    lines: list[str]
    needles: list[str]  # each must be gone from the output


def pem_parts(value: str) -> list[str]:
    return [line for line in value.split("\n") if line]


def place(sample: Sample, shape: str, template: str, name: str) -> Snippet:
    fields = dict(name_forms(name))
    needles: list[str] = []
    for key, encode in ENCODINGS.items():
        fields[key] = encode(sample.value)
        if "{" + key + "}" in template:
            needles.append(fields[key].strip("'\"") if key in ("vy", "ve") else fields[key])
    if sample.multiline:
        rows = sample.value.split("\n")
        fields["v_indented"] = "\n".join("  " + row for row in rows)
        fields["v_python_lines"] = "\n".join(f'    "{row}\\n"' for row in rows)
        if "{v}" in template or "v_indented" in template or "v_python_lines" in template:
            needles = pem_parts(sample.value)
    text = template.format(**fields)
    return Snippet(sample, shape, text.split("\n"), needles)


def snippets() -> Iterator[Snippet]:
    for sample in SAMPLES:
        for shape, templates in SHAPES.items():
            if sample.multiline:
                templates = PEM_SHAPES.get(shape, [])
            elif sample.is_url:
                templates = URL_SECRET_SHAPES.get(shape, templates)
            if not templates:
                continue
            rng = random.Random(f"{sample.kind}/{sample.index}/{shape}")
            template = rng.choice(templates)
            name = rng.choice(NAMES)
            name = sample.name if name == HINT else name
            name = rng.choice(NEUTRAL_NAMES) if name == NEUTRAL else name
            yield place(sample, shape, template, name)


SNIPPETS = list(snippets())

# -- recall ---------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z0-9-]+\]")


def caught(snippet: Snippet, out: tuple[str, ...]) -> bool:
    text = "\n".join(out)
    return not any(needle in text for needle in snippet.needles)


def intact(snippet: Snippet, out: tuple[str, ...]) -> bool:
    """Only the secret changed: every line is where it was, and with the secret (before) and
    placeholders (after) both cut out, each line reads the same."""
    if len(out) != len(snippet.lines):
        return False
    for before, after in zip(snippet.lines, out, strict=True):
        for needle in sorted(snippet.needles, key=len, reverse=True):
            before = before.replace(needle, "\0")
        if _PLACEHOLDER.sub("\0", after) != before:
            return False
    return True


def test_the_corpus_is_what_the_issue_asks_for() -> None:
    kinds = {s.kind for s in SAMPLES}
    assert len(SAMPLES) >= 400 and len(kinds) >= 60
    shapes_of: dict[tuple[str, int], set[str]] = defaultdict(set)
    for snippet in SNIPPETS:
        shapes_of[snippet.sample.kind, snippet.sample.index].add(snippet.shape)
        for needle in snippet.needles:  # the secret really is in the snippet
            assert needle in "\n".join(snippet.lines), (snippet.shape, needle)
    assert len(SHAPES) == 10
    for sample in SAMPLES:
        placed = shapes_of[sample.kind, sample.index]
        # a private key has no place in a URL, an HTTP header or a connection string
        assert len(placed) >= (7 if sample.multiline else 10), (sample.kind, placed)
    for sample in SAMPLES:  # nothing a template would have to escape
        assert sample.multiline or not re.search(r"[\"'\\{}\s]", sample.value), sample.kind


def test_the_samples_are_the_generators() -> None:
    sys.path.insert(0, str(FIXTURES))
    try:
        import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(FIXTURES))
    assert json.loads(generate.dump(generate.samples())) == json.loads(
        (FIXTURES / "samples.json").read_text(encoding="utf-8")
    )


def test_recall_in_every_shape(capsys: pytest.CaptureFixture[str]) -> None:
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: dict[str, list[str]] = defaultdict(list)
    damaged: list[str] = []
    started = time.perf_counter()
    for snippet in SNIPPETS:
        out = redact(snippet.lines).lines
        total[snippet.shape] += 1
        if not caught(snippet, out):
            missed[snippet.sample.kind].append(f"{snippet.shape}: {' | '.join(snippet.lines)}")
            continue
        found[snippet.shape] += 1
        if not intact(snippet, out):
            damaged.append(" | ".join(out))
    elapsed = time.perf_counter() - started

    overall = sum(found.values()) / sum(total.values())
    report = [
        f"redaction recall: {overall:.1%} of {sum(total.values())} snippets "
        f"({len(SAMPLES)} samples, {len({s.kind for s in SAMPLES})} kinds, {elapsed:.2f}s)",
        "  " + ", ".join(f"{shape} {found[shape] / total[shape]:.1%}" for shape in SHAPES),
    ]
    for kind, misses in sorted(missed.items(), key=lambda kv: -len(kv[1])):
        report.append(f"  missed {kind} x{len(misses)}: {misses[0][:150]}")
    for line in damaged[:10]:
        report.append(f"  damaged: {line[:150]}")
    with capsys.disabled():
        print("\n" + "\n".join(report))

    assert overall >= RECALL_OVERALL
    for shape in SHAPES:
        assert found[shape] / total[shape] >= RECALL_PER_SHAPE, shape
    assert not damaged, "redaction changed more than the secret"


# -- false positives ------------------------------------------------------------------------

ROOT = Path(__file__).parent.parent
STDLIB_LINES = 200_000
SITE_LINES = 100_000


def python_files(root: Path, *, skip: tuple[str, ...] = ()) -> list[Path]:
    files = sorted(p for p in root.rglob("*.py") if p.is_file())
    return [p for p in files if not any(part in skip for part in p.relative_to(root).parts)]


def sampled(files: list[Path], root: Path, budget: int) -> Iterator[tuple[Path, list[str]]]:
    """A deterministic subset of about `budget` lines: files taken in an order fixed by a
    hash of their relative path."""
    order = sorted(files, key=lambda p: zlib.crc32(str(p.relative_to(root)).encode()))
    seen = 0
    for path in order:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        yield path, lines
        seen += len(lines)
        if seen >= budget:
            return


def ordinary_code() -> Iterator[tuple[str, Path, list[str]]]:
    for sub in ("fusion_ls", "tests"):
        for path in python_files(ROOT / sub, skip=("secrets",)):
            yield "project", path, path.read_text(encoding="utf-8").splitlines()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = python_files(stdlib, skip=("site-packages", "dist-packages"))
    for path, lines in sampled(files, stdlib, STDLIB_LINES):
        yield "stdlib", path, lines
    site = Path(sysconfig.get_paths()["purelib"])
    for path, lines in sampled(python_files(site), site, SITE_LINES):
        yield "site-packages", path, lines


def test_ordinary_code_is_left_alone(capsys: pytest.CaptureFixture[str]) -> None:
    lines: Counter[str] = Counter()
    changed: Counter[str] = Counter()
    examples: list[str] = []
    started = time.perf_counter()
    for origin, path, text in ordinary_code():
        out = redact(text).lines
        lines[origin] += len(text)
        for number, (before, after) in enumerate(zip(text, out, strict=True), 1):
            if before != after:
                changed[origin] += 1
                examples.append(f"{path}:{number}: {before.strip()[:120]}")
    elapsed = time.perf_counter() - started

    total, changes = sum(lines.values()), sum(changed.values())
    per_change = total / changes if changes else float("inf")
    report = [
        f"ordinary code: {changes} changed of {total} lines, one per {per_change:,.0f} lines "
        f"({elapsed:.2f}s)",
        "  " + ", ".join(f"{o} {changed[o]}/{lines[o]}" for o in lines),
        *(f"  changed: {example}" for example in examples[:25]),
    ]
    with capsys.disabled():
        print("\n" + "\n".join(report))

    assert lines["stdlib"] >= STDLIB_LINES
    assert changes <= total / LINES_PER_CHANGE


# -- the rules themselves -------------------------------------------------------------------


def test_every_token_rule_names_a_keyword_found_in_its_matches() -> None:
    """redact.py tries a rule only where one of its keywords occurs: a keyword missing from a
    match would make the rule silently blind."""
    from fusion_ls.engine.secret_rules import TOKEN_RULES

    for rule in TOKEN_RULES:
        assert rule.keywords and all(k == k.lower() for k in rule.keywords), rule.kind
        pattern = re.compile(rule.pattern, re.ASCII)
        for sample in SAMPLES:
            for match in pattern.finditer(sample.value):
                assert any(k in match[0].lower() for k in rule.keywords), (rule.kind, match[0])


PATHOLOGICAL = [
    "password=" * 3000,
    "-----BEGIN RSA PRIVATE KEY-----" * 800,
    "key: " + "x" * 25_000,
    "https://" + "a:" * 12_000 + "@h",
    "Authorization: Bearer " + "A" * 25_000,
    "sk-" * 8000,
    "x_" * 12_000,
    '"auth", ' * 3000,
    "Key=" + "a;" * 12_000,
    "api_key = '" + "aB3+" * 6000 + "'",
]


def test_long_and_hostile_lines_take_linear_time() -> None:
    started = time.perf_counter()
    for line in PATHOLOGICAL:
        redact([line, line])
    assert time.perf_counter() - started < 2.0  # about 0.2 s; quadratic would be minutes


def test_code_that_names_a_key_format_is_not_a_key() -> None:
    lines = [
        'HEADER = "-----BEGIN RSA PRIVATE KEY-----"',
        "def is_key(text):",
        "    return text.startswith(HEADER)",
        'FOOTER = "-----END RSA PRIVATE KEY-----"',
    ]
    assert redact(lines).lines == tuple(lines)


def test_a_key_in_concatenated_strings_keeps_the_code_around_it() -> None:
    body = "MIIEowIBAAKCAQEA" + "Zm9vYmFyYmF6cXV4" * 3
    lines = [
        "KEY = (",
        '    "-----BEGIN RSA PRIVATE KEY-----\\n"',
        f'    "{body}\\n"',
        '    "-----END RSA PRIVATE KEY-----\\n"',
        ")",
    ]
    result = redact(lines)
    assert result.lines == (
        "KEY = (",
        '    "[REDACTED:private-key]\\n"',
        '    "[REDACTED:private-key]\\n"',
        '    "[REDACTED:private-key]\\n"',
        ")",
    )
    assert [r.kind for r in result.redactions] == ["private-key"]


def test_passwords_on_a_command_line() -> None:
    secret = "Hunter2" + "xYz9!q"
    lines = [f"mysql -u root -p{secret} app", f"curl -u admin:{secret} https://api.example.com"]
    assert redact(lines).lines == (
        "mysql -u root -p[REDACTED:command-password] app",
        "curl -u admin:[REDACTED:command-password] https://api.example.com",
    )
    untouched = ['curl -u "$USER:$PASS" https://x', "ssh -p 2222 host", "pip install -U pip"]
    assert redact(untouched).lines == tuple(untouched)
