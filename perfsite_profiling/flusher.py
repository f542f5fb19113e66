"""Nothing measured stays behind in a process: idle flushes and a flush at exit.

Metrics (``store.aggregator``) and sampled profiles (``profiles``) wait in
memory until a request finds a flush due. A daemon thread flushes what an idle
process holds once ``PROFILING_FLUSH_INTERVAL`` has passed, and the process
flushes at exit (a gunicorn worker's graceful stop runs the interpreter's exit
handlers).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from django.db import connections

from perfsite_profiling import profiles
from perfsite_profiling.conf import conf
from perfsite_profiling.store import aggregator

logger = logging.getLogger(__name__)
_started = False  # in this process (reset in a forked child)
_lock = threading.Lock()


def flush_all() -> None:
    aggregator.flush()
    profiles.flush()


def ensure_started() -> None:
    """Start this process's idle flusher, once (cheap to call per request)."""
    global _started
    if _started:
        return
    with _lock:
        first, _started = not _started, True
    if first:  # (another thread may have started it meanwhile)
        threading.Thread(target=_run, name="profiling-flush", daemon=True).start()


def _run() -> None:
    while True:
        # seconds; short steps, so a shorter interval set later takes effect soon
        time.sleep(min(max(conf.FLUSH_INTERVAL, 0.05), 1.0))
        if aggregator.due():
            try:
                flush_all()
            finally:
                connections.close_all()  # this thread's own connections


def _forked() -> None:
    global _started, _lock
    _started, _lock = False, threading.Lock()


@atexit.register
def _flush_at_exit() -> None:
    try:
        flush_all()
    except Exception:  # the database may be gone by now; never fail an exit
        logger.warning("profiling: metrics could not be flushed at exit", exc_info=True)


os.register_at_fork(after_in_child=_forked)
