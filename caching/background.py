"""A lazily started daemon thread that flushes a process's buffer, and at exit.

``caching.stats`` (counts) and ``caching.purge`` (tags to purge) buffer in
memory and send in batches. Each owns a ``Flusher``: its thread starts on
first use (and again in a forked child, since threads do not survive a
fork), wakes every ``interval()`` seconds or when woken, and calls ``flush``
when ``due()``; the interpreter's exit handlers (a gunicorn worker's
graceful stop runs them) call ``at_exit``.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable


class Flusher:
    def __init__(
        self,
        name: str,
        flush: Callable[[], object],
        due: Callable[[], bool],
        interval: Callable[[], float],
        at_exit: Callable[[], object] | None = None,
    ) -> None:
        self.name, self.flush, self.due, self.interval = name, flush, due, interval
        self.started = False  # in this process
        self._lock = threading.Lock()
        self._wake = threading.Event()
        os.register_at_fork(after_in_child=self._forked)
        atexit.register(at_exit or flush)

    def start(self) -> None:
        with self._lock:
            if self.started:
                return
            self.started = True
        threading.Thread(target=self._run, name=self.name, daemon=True).start()

    def wake(self) -> None:
        """Flush soon, off the caller's thread."""
        if not self.started:
            self.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            # seconds; short steps, so a shorter interval set later takes effect soon
            self._wake.wait(min(max(self.interval(), 0.05), 1.0))
            self._wake.clear()
            if self.due():
                self.flush()

    def _forked(self) -> None:
        self._lock = threading.Lock()  # another thread may have held it at the fork
        self._wake = threading.Event()
        self.started = False
