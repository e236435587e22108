"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 in a thread.

It records every request (headers and raw body) and answers from a script: a list of
answers used in order, then ``default``. An answer is a status code, or ``HANG`` to hold the
request open until the test releases it (a receiver that times out), or a
``(status, headers)`` pair (a redirect), or a callable taking the request and returning
one of those. Nothing here is a mock of our HTTP stack: the code
under test opens real connections to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG = "hang"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["Webhook-Id"]


@dataclass
class Receiver:
    script: list = field(default_factory=list)
    default: int = 200
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    hang_limit: float = 60.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = receiver._record(
                    Received(self.path, {k: v for k, v in self.headers.items()}, body)
                )
                if callable(answer):
                    answer = answer(receiver.requests[-1])
                if answer == HANG:
                    receiver.release.wait(receiver.hang_limit)
                    answer = 200
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                with contextlib.suppress(OSError):  # the caller may have gone (timeout, kill)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _record(self, received: Received):
        with self._lock:
            index = len(self.requests)
            self.requests.append(received)
        self.arrived.set()
        return self.script[index] if index < len(self.script) else self.default

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def wait_for(self, count: int, *, limit: float = 30.0) -> None:
        deadline = time.monotonic() + limit
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.requests)} requests, expected {count}")
            time.sleep(0.02)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def verify(secret: str, received: Received) -> bool:
    """What the README tells receivers to do: recompute the signature from the secret."""
    timestamp = received.headers["Webhook-Timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(received.headers["Webhook-Signature"], f"v1={expected}")
