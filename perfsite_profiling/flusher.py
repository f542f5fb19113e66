"""Nothing measured stays behind in a process: idle flushes and a flush at exit.

Metrics (``store.aggregator``) and sampled profiles (``profiles``) wait in
memory until a request finds a flush due. A daemon thread
(``perfsite_conf.background.Flusher``) flushes what an idle process holds once
``PROFILING_FLUSH_INTERVAL`` has passed, and the process flushes at exit (a
gunicorn worker's graceful stop runs the interpreter's exit handlers).
"""

from __future__ import annotations

import logging

from django.db import connections

from perfsite_conf.background import Flusher
from perfsite_profiling import profiles
from perfsite_profiling.conf import conf
from perfsite_profiling.store import aggregator

logger = logging.getLogger(__name__)


def flush_all() -> None:
    aggregator.flush()
    profiles.flush()


def ensure_started() -> None:
    """Start this process's idle flusher, once (cheap to call per request)."""
    if not flusher.started:
        flusher.start()


def _flush_in_thread() -> None:
    try:
        flush_all()
    finally:
        connections.close_all()  # this thread's own connections


def _flush_at_exit() -> None:
    try:
        flush_all()
    except Exception:  # the database may be gone by now; never fail an exit
        logger.warning("profiling: metrics could not be flushed at exit", exc_info=True)


flusher = Flusher(
    "profiling-flush",
    _flush_in_thread,
    due=aggregator.due,
    interval=lambda: conf.FLUSH_INTERVAL,
    at_exit=_flush_at_exit,
)
