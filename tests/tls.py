"""A self-signed certificate for 127.0.0.1, made with the `openssl` command-line tool.

The fake OpenAI server serves HTTPS with `self_signed(folder).context` (`FakeOpenAI(tls=...)`);
a client trusts it through `SSL_CERT_FILE`, which httpx reads when `trust_env` is on (its
default), or with `ssl.create_default_context(cafile=...)`. The certificate names
`IP:127.0.0.1` and `DNS:localhost`, so both URLs verify.

The server context can also hold every handshake back by `handshake_delay_s`, which stands in
for the network round trips of a TCP and TLS set-up to a distant provider (loopback has none),
and it records when each handshake began, so a benchmark can count the connections a review
had to open. The `cryptography` package is not used on purpose: it is not a dependency.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import certifi

__all__ = ["OpensslMissing", "SelfSigned", "self_signed", "trust_bundle"]

_CONFIG = """\
[req]
distinguished_name = name
x509_extensions = leaf
prompt = no

[name]
CN = 127.0.0.1

[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


class OpensslMissing(RuntimeError):
    """There is no `openssl` command to make the certificate with."""


@dataclass
class SelfSigned:
    """The certificate and key files, and a server-side context that serves them."""

    cert: Path
    key: Path
    context: ssl.SSLContext
    handshakes: list[float] = field(default_factory=list)
    """`time.perf_counter()` when each handshake reached the server (its ClientHello)."""

    def handshakes_since(self, started: float) -> int:
        return sum(1 for at in list(self.handshakes) if at >= started)


def self_signed(folder: Path, *, handshake_delay_s: float = 0.0) -> SelfSigned:
    """Make `cert.pem` and `key.pem` (EC P-256, valid two days) in `folder`, which must exist.

    The context speaks TLS 1.2 or 1.3 and offers only HTTP/1.1 by ALPN, which is all the fake
    server speaks: a client that offers HTTP/2 as well (fusion-ls does) falls back to it.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        raise OpensslMissing(
            "tests/tls.py makes its certificate with the `openssl` command-line tool, and there "
            "is none on PATH; install it (Debian and Ubuntu: apt-get install openssl)"
        )
    config, cert, key = folder / "openssl.cnf", folder / "cert.pem", folder / "key.pem"
    config.write_text(_CONFIG)
    command = [
        openssl,
        "req",
        "-x509",
        "-config",
        str(config),
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        str(key),
        "-out",
        str(cert),
    ]
    made = subprocess.run(command, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise RuntimeError(f"openssl could not make a certificate: {made.stderr.strip()}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    made_cert = SelfSigned(cert, key, context)
    lock = threading.Lock()

    def client_hello(*_: object) -> None:
        """Called by OpenSSL for every ClientHello, with or without a server name in it."""
        with lock:
            made_cert.handshakes.append(time.perf_counter())
        if handshake_delay_s > 0:
            time.sleep(handshake_delay_s)

    context.sni_callback = client_hello
    return made_cert


def trust_bundle(cert: Path, bundle: Path) -> Path:
    """Write `bundle`: certifi's public roots followed by `cert`, and return it.

    Pointing `SSL_CERT_FILE` at it gives a client a trust store of the usual size (loading one
    costs what loading certifi's does) that also trusts the fake server.
    """
    bundle.write_text(Path(certifi.where()).read_text() + "\n" + cert.read_text())
    return bundle
