"""A production-like site in a thread: collected bundles served by the app itself.

pytest-django's ``live_server`` answers ``/static/`` from the finders (source
files, no hashes, no whitenoise), so the browser tests run Django's
``LiveServerThread`` without that static handler, against a collected
``STATIC_ROOT``, and record every path the browser asks for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.test.testcases import LiveServerThread

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


@dataclass
class Site:
    url: str
    hits: list[str] = field(default_factory=list)

    def static_hits(self, fragment: str = "") -> list[str]:
        return [h for h in self.hits if h.startswith("/static/") and fragment in h]


@contextmanager
def serve() -> Iterator[Site]:
    site = Site("")

    def record(app: WSGIApp) -> WSGIApp:
        def wrapper(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            site.hits.append(environ["PATH_INFO"])
            return app(environ, start_response)

        return wrapper

    shared = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in shared.values():
        conn.inc_thread_sharing()
    thread = LiveServerThread("127.0.0.1", record, connections_override=shared)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    try:
        if thread.error:
            raise thread.error
        site.url = f"http://127.0.0.1:{thread.port}"
        yield site
    finally:
        thread.terminate()
        # Request threads are daemons the server does not wait for; one still
        # closing its connections must finish before sharing is revoked.
        for worker in threading.enumerate():
            if "process_request_thread" in worker.name:
                worker.join(timeout=30)
        for conn in shared.values():
            conn.dec_thread_sharing()
