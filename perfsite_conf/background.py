"""A lazily started daemon thread that flushes a process's buffer, and at exit.

What the apps buffer in memory and write in batches (``caching.stats``'
counts, ``caching.purge``'s tags, ``caching.counters``' counts,
``perfsite_profiling``'s metrics and profiles) each own a ``Flusher``: its
thread starts on first use (and again in a forked child, since threads do not
survive a fork), wakes every ``interval()`` seconds or when woken, and calls
``flush`` when ``due()``; the interpreter's exit handlers (a gunicorn worker's
graceful stop runs them) call ``at_exit``.

``rounds`` counts the flushes the thread has finished, and ``wait_for_round``
blocks until one more has: whoever must know that a flush happened (a test, a
command) waits on that instead of polling the store the thread writes to.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


_at_shutdown: list[Callable[[], object]] = []


def at_shutdown(function: Callable[[], object]) -> Callable[[], object]:
    """Run ``function`` at exit (``atexit``) and at ``shutdown()``."""
    _at_shutdown.append(function)
    atexit.register(function)
    return function


def shutdown() -> None:
    """Flush and deliver everything now, last registered first, as ``atexit``
    would: an ASGI server's lifespan shutdown (``perfsite_conf.lifespan``),
    for servers whose workers may exit without running exit handlers."""
    for function in reversed(_at_shutdown):
        try:
            function()
        except Exception:  # one flush failing must not keep the others back
            logger.warning("shutdown: %r failed", function, exc_info=True)


def on_event_loop() -> bool:
    """Whether the caller runs on an event loop's thread (an ASGI request).

    Code that would flush inline then wakes its ``Flusher`` instead: a
    network write must never block the loop.
    """
    return asyncio._get_running_loop() is not None


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
        self.rounds = 0  # flushes this process's thread has finished
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._done = threading.Condition()
        os.register_at_fork(after_in_child=self._forked)
        at_shutdown(at_exit or flush)

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

    def wait_for_round(self, after: int, timeout: float) -> bool:
        """Block until more than ``after`` rounds are done; False on timeout."""
        with self._done:
            return self._done.wait_for(lambda: self.rounds > after, timeout)

    def _run(self) -> None:
        while True:
            # seconds; short steps, so a shorter interval set later takes effect soon
            self._wake.wait(min(max(self.interval(), 0.05), 1.0))
            self._wake.clear()
            if self.due():
                try:
                    self.flush()
                except Exception:  # the thread must live on: the next round tries again
                    logger.warning("%s: flush failed", self.name, exc_info=True)
                finally:
                    with self._done:
                        self.rounds += 1
                        self._done.notify_all()

    def _forked(self) -> None:
        self._lock = threading.Lock()  # another thread may have held it at the fork
        self._wake = threading.Event()
        self._done = threading.Condition()
        self.started, self.rounds = False, 0
