"""A tiny local HTTP server that records the requests it gets (a purge target).

It answers each request with the next status of ``statuses`` (200 once they
run out) and a JSON body, so tests can see what a purger sent and make it fail.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Recorder:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    reply: bytes | None = None  # instead of {"success": <status is 200>}

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        """The first ``count`` requests, once they have arrived."""
        with _arrived:
            _arrived.wait_for(lambda: len(self.requests) >= count, timeout)
        return self.requests[:count]


_arrived = threading.Condition()


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with _arrived:  # recorded before the answer: the client then sees it
                status = recorder.statuses.pop(0) if recorder.statuses else 200
                recorder.requests.append(
                    Recorded(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                _arrived.notify_all()
            reply = recorder.reply or json.dumps({"success": status == 200}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_PURGE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

    return Handler


@contextmanager
def recorder() -> Iterator[Recorder]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    found = Recorder(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(found)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
