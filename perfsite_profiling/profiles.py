"""Profiles waiting to be written, so that a sampled profile costs no query.

A sampled profile is queued in memory and written with the process's next
metrics flush (one ``bulk_create`` and one trim per flush); a staff profile
(``?profile=1``) is written at once, since its author is waiting to read it.
At most ``MAX_PENDING`` wait; beyond that a profile is dropped and counted as
skipped.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import DatabaseError, transaction

from perfsite_profiling import store
from perfsite_profiling.conf import conf
from perfsite_profiling.models import Profile

MAX_PENDING = 50
_pending: list[Profile] = []
_lock = threading.Lock()


def queue(endpoint: str, payload: dict[str, Any]) -> bool:
    """Keep one profile for the next write; False when the queue is full."""
    with _lock:
        if len(_pending) >= MAX_PENDING:
            return False
        _pending.append(Profile(endpoint=endpoint, created_at=store.now(), **payload))
        return True


def pending() -> int:
    with _lock:
        return len(_pending)


def waiting() -> list[Profile]:
    """A copy of the queue: the unsaved profiles the next flush writes, oldest first."""
    with _lock:
        return list(_pending)


def reset() -> None:
    with _lock:
        _pending.clear()


def flush() -> int:
    """Write what is queued and trim to the caps; returns the rows written."""
    with _lock:
        rows, _pending[:] = list(_pending), []
    if not rows:
        return 0
    try:
        # One transaction: one commit (one fsync on SQLite) for the batch.
        with transaction.atomic():
            Profile.objects.bulk_create(rows)
            for endpoint in {row.endpoint for row in rows}:
                store.delete_expired(
                    Profile,
                    conf.MAX_PROFILES_PER_ENDPOINT,
                    batches=1,
                    endpoint=endpoint,
                )
            store.delete_expired(Profile, conf.MAX_PROFILES, batches=1)
    except DatabaseError:
        # Profiles must never break the site (e.g. before migrate).
        store.logger.exception("profiling: could not write %d profiles", len(rows))
        return 0
    return len(rows)
