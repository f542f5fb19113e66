"""Write-behind counters: ``views = Counter(Post, "views")``.

``views.add(pk)`` only adds to a dict in this process. A daemon thread
flushes every ``CACHING_COUNTER_FLUSH_INTERVAL`` seconds: one transaction,
one ``UPDATE ... SET views = views + n WHERE id = pk`` per row counted (an
``F`` expression, so concurrent writers and other processes add up), and the
process flushes at exit. Why a per-process buffer and not a Redis hash: the
count never depends on Redis (an outage or a blip loses nothing and costs
nothing), and there is no window in which a count has left Redis but not yet
reached the database (a worker killed between the two would lose it). What
a buffer costs: a process killed without its exit handlers (``SIGKILL``)
loses at most one interval of its counts, and a count is seen by other
processes only once flushed (``value`` adds this process's own). A count
for a pk that has no row (the ``UPDATE`` matched none) is dropped at the
flush, with its drift: no state is kept for rows that do not exist.

A flush sends no signal and bumps neither the model's nor the rows' groups:
only the counter field's groups (``caching.deps.field_groups``), and for a
row only once the counts flushed since its last bump exceed ``tolerance``
or, with ``max_age``, once the first of them is that many seconds old
(counted per process). So a page that does not declare the field
(``row(Post, "pk", fields=[...])`` without it) is never invalidated by a
count, and one that declares it shows a count at most one interval (plus
the flusher's step, a second at most) old with ``tolerance=0``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, transaction
from django.db.models import F

from caching.conf import conf
from caching.deps import field_groups, field_names
from caching.invalidation import invalidate_groups, watch
from caching.versions import ModelRef, resolve_model
from perfsite_conf.background import Flusher

__all__ = ["Counter", "flush", "flusher", "reset", "unflushed"]

logger = logging.getLogger(__name__)
clock: Callable[[], float] = time.monotonic  # injected by tests
_counters: list[Counter] = []
_lock = threading.Lock()
_flush_lock = threading.Lock()  # one flush at a time: the thread, or exit
_next_flush = 0.0
_failing = False  # the last flush could not reach the database


class Counter:
    """A write-behind counter on an integer field of a model."""

    def __init__(
        self,
        model: ModelRef,
        field: str,
        *,
        tolerance: int = 0,
        max_age: float | None = None,
        using: str = DEFAULT_DB_ALIAS,
    ) -> None:
        if tolerance < 0 or (max_age is not None and max_age < 0):
            raise ValueError("Counter needs tolerance >= 0 and max_age >= 0.")
        if apps.models_ready:  # else checked at the first flush
            field_names(model, [field])  # ValueError naming the valid fields
        self.model_ref, self.field = model, field
        self.tolerance, self.max_age, self.using = tolerance, max_age, using
        self._pending: dict[Any, int] = {}
        # Per row: counts flushed since its last bump, and when the first was.
        self._drift: dict[Any, tuple[int, float]] = {}
        _counters.append(self)
        watch([model])  # the model's other writes invalidate as usual

    def __repr__(self) -> str:
        return f"<Counter {self.model._meta.label}.{self.field}>"

    @property
    def model(self) -> type[models.Model]:
        return resolve_model(self.model_ref)

    def _key(self, pk: Any) -> Any:
        try:
            return self.model._meta.pk.to_python(pk)
        except ValidationError:
            raise ValueError(f"{pk!r} is not a pk of {self.model_ref}.") from None

    def add(self, pk: Any, amount: int = 1) -> None:
        """Count ``amount`` for the row ``pk``: a dict update, no I/O."""
        global _next_flush
        key = self._key(pk)
        with _lock:
            self._pending[key] = self._pending.get(key, 0) + amount
        if not flusher.started:  # the first count waits one interval too
            _next_flush = clock() + conf.COUNTER_FLUSH_INTERVAL
            flusher.start()

    def pending(self, pk: Any) -> int:
        """What this process counted for ``pk`` and has not flushed yet."""
        with _lock:
            return self._pending.get(self._key(pk), 0)

    def value(self, pk: Any) -> int | None:
        """The stored count plus this process's pending one (None: no such row)."""
        stored = (
            models.QuerySet(self.model)
            .using(self.using)
            .filter(pk=pk)
            .values_list(self.field, flat=True)
            .first()
        )
        return None if stored is None else int(stored) + self.pending(pk)

    def _take(self) -> dict[Any, int]:
        with _lock:
            batch, self._pending = self._pending, {}
        return batch

    def _give_back(self, batch: dict[Any, int]) -> None:
        with _lock:
            for key, amount in batch.items():
                self._pending[key] = self._pending.get(key, 0) + amount

    def _flush(self) -> int:
        field = field_names(self.model_ref, [self.field])  # before taking the counts
        batch = self._take()
        if not batch and not self._aging():
            return 0
        rows: models.QuerySet[Any] = models.QuerySet(self.model).using(self.using)
        written: dict[Any, int] = {}
        try:
            with transaction.atomic(using=self.using):
                for key, amount in sorted(batch.items()):
                    if rows.filter(pk=key).update(
                        **{self.field: F(self.field) + amount}
                    ):
                        written[key] = amount
                    else:  # no such row: keep nothing for it, bump nothing
                        self._drift.pop(key, None)
                drifted = self._drifted(written)
                if drifted:
                    invalidate_groups(
                        field_groups(self.model_ref, field, drifted), using=self.using
                    )
        except DatabaseError:
            self._give_back(batch)  # nothing lost: the next flush tries again
            raise
        return len(written)

    def _aging(self) -> bool:
        """Rows with counts flushed but not bumped, that ``max_age`` will bump."""
        return self.max_age is not None and bool(self._drift)

    def _drifted(self, batch: dict[Any, int]) -> list[Any]:
        """The rows to bump: their counts flushed since their last bump exceed
        ``tolerance``, or the first of them is ``max_age`` seconds old."""
        now = clock()
        for key, amount in batch.items():
            drift, since = self._drift.get(key, (0, now))
            self._drift[key] = (drift + abs(amount), since)
        drifted = [
            key
            for key, (drift, since) in self._drift.items()
            if drift > self.tolerance
            or (self.max_age is not None and now - since >= self.max_age)
        ]
        for key in drifted:
            del self._drift[key]
        return drifted


def flush() -> int:
    """Write every counter's pending counts now; the number of rows written.

    When the database refuses, the counts stay pending for the next flush.
    """
    global _next_flush, _failing
    with _flush_lock:
        _next_flush = clock() + conf.COUNTER_FLUSH_INTERVAL
        written, failed = 0, False
        for counter in list(_counters):
            try:
                written += counter._flush()
            except DatabaseError:
                failed = True
        if failed != _failing:  # one log line per change of state
            if failed:
                logger.warning("counters: the database refused a flush; kept")
            else:
                logger.info("counters: flushed again")
        _failing = failed
        return written


def unflushed() -> int:
    """Rows with counts this process has not written yet."""
    with _lock:
        return sum(len(c._pending) for c in _counters)


def _flush_in_thread() -> None:
    try:
        flush()
    finally:
        connections.close_all()  # the flusher thread's own connections


def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:  # the database may be gone by now; never fail an exit
        logger.warning("counters: flush at exit failed", exc_info=True)
    left = unflushed()
    if left:
        logger.error("counters: %d rows' counts could not be written at exit", left)


def reset() -> None:
    """Forget this process's pending counts (tests)."""
    with _lock:
        for counter in _counters:
            counter._pending.clear()
            counter._drift.clear()


def _due() -> bool:
    return clock() >= _next_flush and any(c._pending or c._aging() for c in _counters)


def _forked() -> None:
    global _lock, _flush_lock
    _lock, _flush_lock = threading.Lock(), threading.Lock()
    reset()  # the parent's counts are the parent's to flush


os.register_at_fork(after_in_child=_forked)
flusher = Flusher(
    "caching-counters-flush",
    _flush_in_thread,
    due=_due,
    interval=lambda: conf.COUNTER_FLUSH_INTERVAL,
    at_exit=_flush_at_exit,
)
