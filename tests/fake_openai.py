"""A fake OpenAI-compatible chat server over real sockets, scripted per model.

Why a real server instead of mocking httpx: the provider client's behaviour that matters most
(timeouts, retries, streaming, cancellation closing the connection) lives in the transport, and
only a real socket shows whether a cancelled call really hangs up. Each request is handled in its
own daemon thread, so a slow reply for one model never delays another, and every delay waits on
an Event so `stop()` returns promptly even while replies are sleeping.

Usage::

    with FakeOpenAI() as fake:
        fake.answer("m1", {"findings": []})
        fake.script("m2", Reply(status=429, headers={"Retry-After": "0"}), Reply(content="ok"))
        ... point the client at fake.base_url ...
        assert len(fake.requests_for("m2")) == 2

A provider profile (tests/provider_profiles.py) makes the fake behave like one documented provider:
`FakeOpenAI(profile=OpenRouterProfile())` serves that provider's model list and answers the
requests it documents as errors, before any script is consulted.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import json
import select
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provider_profiles import Profile

__all__ = ["FakeOpenAI", "RecordedRequest", "Reply", "Script"]

# How often a sleeping reply checks for a hung-up client or a stopping server.
_POLL_S = 0.02


@dataclass
class Reply:
    """One scripted answer. The defaults give a normal 200 completion with `content`."""

    content: str | None = None
    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    # Raw response body: overrides everything else (used for malformed bodies).
    body: str | bytes | None = None
    # Sends {"error": {"message": error, "code": status}}; meant for status >= 400, but also
    # works with 200, which is how OpenRouter reports some upstream failures.
    error: str | None = None
    usage: dict[str, Any] | None = None
    finish_reason: str | None = "stop"
    # None: stream iff the request asked for "stream": true.
    stream: bool | None = None
    # Raw SSE events sent verbatim, each followed by a blank line ("\n\n"); implies streaming.
    sse: list[str] | None = None


@dataclass
class RecordedRequest:
    """What the server received, kept so tests can assert on bodies and headers."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes
    model: str | None
    received_at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of the request body ([] when there are none)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return [m for m in self.body["messages"] if isinstance(m, dict)]
        return []

    @property
    def prompt_text(self) -> str:
        """All message contents joined by newlines, for `"some phrase" in req.prompt_text`."""
        parts: list[str] = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
                parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return "\n".join(parts)


Script = Reply | Callable[[RecordedRequest], Reply]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Clients retry and reconnect fast in tests; do not let TIME_WAIT sockets get in the way.
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops connections when a test opens a dozen at once
    # (several reviews in parallel), and a dropped SYN costs a one-second retransmit.
    request_queue_size = 128

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping idle keep-alive connections is normal here, not worth a traceback."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Disconnected(Exception):
    """The client hung up before the reply was written."""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections must not pin a thread forever.
    timeout = 30
    server: _Server

    # --- plumbing -------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle + delayed ACK add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log; pytest output stays readable."""

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _record(self, raw: bytes) -> RecordedRequest:
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        model = body.get("model") if isinstance(body, dict) else None
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw=raw,
            model=model if isinstance(model, str) else None,
            received_at=time.monotonic(),
        )
        self.server.fake._append(request)
        return request

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _Disconnected from exc

    def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json", extra)

    def _send_bytes(
        self, status: int, data: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _Disconnected from exc
        self._write(data)

    def _error(self, status: int, message: str) -> None:
        self._send_json(status, {"error": {"message": message, "code": status}})

    def _client_gone(self) -> bool:
        """True when the client closed its side: readable socket with nothing to read."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            if isinstance(self.connection, ssl.SSLSocket):  # TLS has no MSG_PEEK: look below it
                peeked: bytes = socket.socket.recv(self.connection, 1, socket.MSG_PEEK)
            else:
                peeked = self.connection.recv(1, socket.MSG_PEEK)
        except OSError:  # ConnectionResetError included: the client is gone either way
            return True
        return peeked == b""

    def _sleep(self, seconds: float) -> None:
        """Wait `seconds`, but give up early when the client hangs up or the server stops."""
        deadline = time.monotonic() + seconds
        stopping = self.server.fake._stopping
        while True:
            if self._client_gone():
                raise _Disconnected
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stopping.is_set():
                return
            stopping.wait(min(_POLL_S, remaining))

    # --- routes ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._guard(self._get)

    def do_POST(self) -> None:
        self._guard(self._post)

    def do_HEAD(self) -> None:
        self._guard(self._head)

    def _guard(self, handler: Callable[[], None]) -> None:
        try:
            handler()
        except _Disconnected:
            self.server.fake._count_disconnect()
            self.close_connection = True

    def _head(self) -> None:
        """Any path: 200, no body. Clients warm their connections with HEAD requests."""
        self._record(b"")
        try:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _Disconnected from exc

    def _get(self) -> None:
        self._record(b"")
        if self.path.rstrip("/") != "/v1/models":
            self._error(404, f"no route {self.path}")
            return
        profile = self.server.fake.profile
        if profile is not None:
            listing = profile.models()
            if listing is None:
                self._error(404, f"no route {self.path}")
            else:
                self._send_json(200, listing)
            return
        data = [
            {"id": model, "object": "model", "owned_by": "fake-openai"}
            for model in self.server.fake.scripted_models()
        ]
        self._send_json(200, {"object": "list", "data": data})

    def _post(self) -> None:
        request = self._record(self._read_body())
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"no route {self.path}")
            return
        if not isinstance(request.body, dict):
            self._error(400, "request body is not a JSON object")
            return
        if request.model is None:
            self._error(400, "the request has no model")
            return
        profile = self.server.fake.profile
        refusal = profile.refuse(request) if profile is not None else None
        if refusal is not None:  # a documented rejection: the scripts are not consulted
            self._respond(request, refusal)
            return
        reply = self.server.fake._next_reply(request)
        if reply is None:
            self._error(404, f"model '{request.model}' not found")
            return
        if profile is not None:
            reply = profile.finish(request, reply)
        if reply.delay_s > 0:
            self._sleep(reply.delay_s)
            if self.server.fake._stopping.is_set():
                self.close_connection = True
                return
        self._respond(request, reply)

    # --- replies --------------------------------------------------------------------------

    def _respond(self, request: RecordedRequest, reply: Reply) -> None:
        if reply.body is not None:
            data = reply.body.encode() if isinstance(reply.body, str) else reply.body
            headers = {"Content-Type": "application/json", **reply.headers}
            content_type = headers.pop("Content-Type")
            self._send_bytes(reply.status, data, content_type, headers)
            return
        if reply.error is not None or reply.status >= 400:
            message = reply.error
            if message is None:
                message = _phrase(reply.status)
            payload = {"error": {"message": message, "code": reply.status}}
            self._send_json(reply.status, payload, reply.headers)
            return
        wants_stream = bool(request.body.get("stream")) if isinstance(request.body, dict) else False
        streaming = reply.stream if reply.stream is not None else wants_stream
        if reply.sse is not None or streaming:
            self._respond_stream(request, reply)
        else:
            self._send_json(reply.status, _completion(request, reply), reply.headers)

    def _respond_stream(self, request: RecordedRequest, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _Disconnected from exc
        events = reply.sse if reply.sse is not None else _sse_events(request, reply)
        for event in events:
            data = (event + "\n\n").encode()
            self._write(b"%x\r\n%s\r\n" % (len(data), data))
        self._write(b"0\r\n\r\n")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


_ids = itertools.count(1)


def _usage(request: RecordedRequest, reply: Reply) -> dict[str, Any]:
    if reply.usage is not None:
        return dict(reply.usage)
    prompt = len(request.prompt_text) // 4
    completion = len(reply.content or "") // 4
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(request: RecordedRequest, reply: Reply) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": _usage(request, reply),
    }


def _pieces(text: str, count: int = 3) -> list[str]:
    """Split into a few non-empty pieces, so clients must really concatenate deltas."""
    if not text:
        return []
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _sse_events(request: RecordedRequest, reply: Reply) -> Iterator[str]:
    chunk_id = f"chatcmpl-fake-{next(_ids)}"
    created = int(time.time())

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
        payload = {
            "id": chunk_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": request.model,
            "choices": choices,
            **extra,
        }
        return "data: " + json.dumps(payload)

    yield chunk(
        [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
    )
    for piece in _pieces(reply.content or ""):
        yield chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
    if reply.finish_reason is not None:
        yield chunk([{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}])
    options = request.body.get("stream_options") if isinstance(request.body, dict) else None
    if isinstance(options, dict) and options.get("include_usage"):
        yield chunk([], usage=_usage(request, reply))
    yield "data: [DONE]"


class FakeOpenAI:
    """A scripted OpenAI-compatible server on 127.0.0.1 with an ephemeral port.

    With `tls` (a server-side context, such as `tests/tls.py` makes) it serves HTTPS and
    `base_url` is `https://127.0.0.1:PORT/v1`. Each connection's handshake then happens in its
    own handler thread, on its first read, so a slow handshake never holds up the others.
    """

    def __init__(self, profile: Profile | None = None, tls: ssl.SSLContext | None = None) -> None:
        # None: a generic OpenAI-compatible server (GET /v1/models lists the scripted models).
        self.profile = profile
        self.tls = tls
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Script]] = {}
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[RecordedRequest] = []
        self.lookups: list[RecordedRequest] = []
        self.disconnects = 0
        self.base_url = ""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        """Bind and serve in a background thread; returns self for chaining."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        host, port = self._server.server_address[:2]
        scheme = "http" if self.tls is None else "https"
        self.base_url = f"{scheme}://{host!s}:{port}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop promptly: wake sleeping replies, close open connections, join the loop."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- scripting ------------------------------------------------------------------------

    def script(self, model: str, *replies: Script) -> None:
        """Queue replies for `model` (replacing any earlier script); the last one repeats."""
        if not replies:
            raise ValueError("script() needs at least one Reply")
        with self._lock:
            self._scripts[model] = list(replies)

    def answer(self, model: str, payload: dict[str, Any] | str, **reply_kwargs: Any) -> None:
        """Shortcut: always answer `model` with `payload` (a dict is sent as JSON text)."""
        content = payload if isinstance(payload, str) else json.dumps(payload)
        self.script(model, Reply(content=content, **reply_kwargs))

    def reset(self) -> None:
        """Forget scripts, recorded requests and disconnects (for a server shared by tests)."""
        with self._lock:
            self._scripts.clear()
            self.requests.clear()
            self.lookups.clear()
            self.disconnects = 0

    def scripted_models(self) -> list[str]:
        with self._lock:
            return sorted(self._scripts)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.model == model]

    # --- called from handler threads ------------------------------------------------------

    def _next_reply(self, request: RecordedRequest) -> Reply | None:
        assert request.model is not None
        with self._lock:
            queue = self._scripts.get(request.model)
            if not queue:
                return None
            item = queue.pop(0) if len(queue) > 1 else queue[0]
        # Called outside the lock: a callable may be slow or inspect `requests`.
        return item(request) if callable(item) else item

    def _append(self, request: RecordedRequest) -> None:
        """POSTs are model calls (`requests`); HEAD and GET (warm-ups, model lists) go to
        `lookups`, so tests counting model calls are not thrown by a client's warm-up."""
        with self._lock:
            (self.requests if request.method == "POST" else self.lookups).append(request)

    def _count_disconnect(self) -> None:
        with self._lock:
            self.disconnects += 1

    def _track(self, conn: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)
