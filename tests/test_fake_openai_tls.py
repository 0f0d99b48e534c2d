"""The fake server over TLS, with the self-signed certificate of `tests/tls.py`."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fake_openai import FakeOpenAI, Reply
from tls import OpensslMissing, SelfSigned, self_signed, trust_bundle

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi there"}]}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def fake_tls(certificate: SelfSigned) -> Iterator[FakeOpenAI]:
    with FakeOpenAI(tls=certificate.context) as fake:
        fake.script("m", Reply(content="over tls"))
        yield fake


def _trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def _content(response: httpx.Response) -> str:
    content = response.json()["choices"][0]["message"]["content"]
    assert isinstance(content, str)
    return content


def test_base_url_is_https_on_loopback(fake_tls: FakeOpenAI) -> None:
    assert fake_tls.base_url.startswith("https://127.0.0.1:")
    assert fake_tls.base_url.endswith("/v1")
    with FakeOpenAI() as plain:
        assert plain.base_url.startswith("http://127.0.0.1:")


async def test_a_client_trusting_the_certificate_completes_a_chat_call(
    fake_tls: FakeOpenAI, certificate: SelfSigned
) -> None:
    """An async client like fusion-ls's (HTTP/1.1) completes a call over TLS."""
    async with httpx.AsyncClient(verify=_trusting(certificate.cert)) as client:
        response = await client.post(f"{fake_tls.base_url}/chat/completions", json=BODY)
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    assert _content(response) == "over tls"
    assert [r.path for r in fake_tls.requests] == ["/v1/chat/completions"]


def test_ssl_cert_file_is_how_a_client_trusts_it(
    fake_tls: FakeOpenAI, certificate: SelfSigned, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the benchmark gives the server: `SSL_CERT_FILE` naming the public roots and this
    certificate; httpx reads it when `trust_env` is on, its default. localhost verifies too."""
    monkeypatch.setenv("SSL_CERT_FILE", str(trust_bundle(certificate.cert, tmp_path / "ca.pem")))
    localhost = fake_tls.base_url.replace("127.0.0.1", "localhost")
    with httpx.Client(timeout=5) as client:
        for base_url in (fake_tls.base_url, localhost):
            assert _content(client.post(f"{base_url}/chat/completions", json=BODY)) == "over tls"


def test_a_client_not_trusting_the_certificate_fails_verification(
    fake_tls: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with (
        httpx.Client(timeout=5) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.post(f"{fake_tls.base_url}/chat/completions", json=BODY)
    assert fake_tls.requests == []
    # The fake's handler thread reports the client's refusal (an alert) on stderr; wait for it
    # here, where it is captured, rather than let it print after the test.
    seen, deadline = "", time.monotonic() + 5
    while "ALERT_UNKNOWN_CA" not in seen and time.monotonic() < deadline:
        time.sleep(0.02)
        seen += capsys.readouterr().err
    assert "ALERT_UNKNOWN_CA" in seen


def test_a_client_hanging_up_during_a_slow_reply_is_noticed(
    fake_tls: FakeOpenAI, certificate: SelfSigned
) -> None:
    """The fake's hang-up check peeks below TLS; a cancelled call must still close at once."""
    fake_tls.script("m", Reply(content="late", delay_s=10))
    with (
        httpx.Client(verify=_trusting(certificate.cert), timeout=0.3) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post(f"{fake_tls.base_url}/chat/completions", json=BODY)
    deadline = time.monotonic() + 5
    while fake_tls.disconnects == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake_tls.disconnects == 1


def test_handshake_delay_holds_back_new_connections_only(tmp_path: Path) -> None:
    slow = self_signed(tmp_path, handshake_delay_s=0.3)
    with (
        FakeOpenAI(tls=slow.context) as fake,
        httpx.Client(verify=_trusting(slow.cert), timeout=5) as client,
    ):
        fake.script("m", Reply(content="ok"))
        took = []
        for _ in range(2):
            started = time.perf_counter()
            client.post(f"{fake.base_url}/chat/completions", json=BODY)
            took.append(time.perf_counter() - started)
    assert took[0] >= 0.3 > took[1]
    assert len(slow.handshakes) == 1
    assert slow.handshakes_since(started) == 0


def test_no_openssl_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OpensslMissing, match="apt-get install openssl"):
        self_signed(tmp_path)
