"""Buffers that are never left behind: an idle flusher thread and a flush at exit.

Statistics (``caching.stats``) and write-behind counters (``caching.counters``)
keep what they count in memory until a call finds a flush due. An
``IdleFlusher`` adds the two other occasions: a daemon thread flushes what an
idle process holds once it is due, and the process flushes at exit (a gunicorn
worker's graceful stop runs the interpreter's exit handlers). A forked child
starts its own thread on first use.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from django.db import connections

logger = logging.getLogger(__name__)


class IdleFlusher:
    def __init__(
        self,
        name: str,
        flush: Callable[[], object],
        due: Callable[[], bool],
        interval: Callable[[], float],
        *,
        uses_database: bool = False,
        at_exit: Callable[[], object] | None = None,
    ) -> None:
        self.name, self.flush, self.due, self.interval = name, flush, due, interval
        self.at_exit = at_exit or flush
        self.uses_database = uses_database
        self.started = False  # in this process (reset in a forked child)
        self._lock = threading.Lock()
        atexit.register(self.flush_at_exit)
        os.register_at_fork(after_in_child=self._forked)

    def ensure_started(self) -> None:
        """Start this process's thread, once (cheap to call per count)."""
        if self.started:
            return
        with self._lock:
            first, self.started = not self.started, True
        if first:  # (another thread may have started it meanwhile)
            threading.Thread(target=self._run, name=self.name, daemon=True).start()

    def _run(self) -> None:
        while True:
            # seconds; short steps, so a shorter interval set later takes effect soon
            time.sleep(min(max(self.interval(), 0.05), 1.0))
            if self.due():
                try:
                    self.flush()
                except Exception:  # the next round tries again
                    logger.warning("%s: flush failed", self.name, exc_info=True)
                finally:
                    if self.uses_database:
                        connections.close_all()  # this thread's own connections

    def flush_at_exit(self) -> None:
        try:
            self.at_exit()
        except Exception:  # the database may be gone by now; never fail an exit
            logger.error("%s: could not flush at exit", self.name, exc_info=True)

    def _forked(self) -> None:
        self.started, self._lock = False, threading.Lock()
