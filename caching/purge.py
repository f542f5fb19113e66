"""Purging bumped groups' tags at every shared cache, off the request path.

``caching.versions.bump`` calls ``enqueue`` once the new versions are written
(on commit): each configured target (``caching.purgers``) gets the groups'
surrogate keys in a bounded queue of its own, and a daemon thread sends them
in batches. A target that fails is retried with a doubling delay (a log line
when it starts failing and one when it recovers), without holding back the
others. Nothing is dropped silently: a full queue drops new tags with a log
line and a count; a tag waiting longer than ``CACHING_SHARED_MAX_AGE`` is
dropped and counted as expired, since every page it tagged has expired from
the shared cache by then. ``health()`` feeds the admin page; an exiting
process keeps sending for up to ``CACHING_EXIT_WAIT`` seconds.

The queues are per process: each worker purges what its own commits bumped.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from caching.conf import conf
from caching.health import PurgeHealth
from caching.keys import surrogate_tag
from caching.purgers import PurgeError, Purger, configured
from perfsite_conf.background import Flusher

log = logging.getLogger(__name__)
RETRY_FIRST = 0.2  # seconds before the first retry of a failed batch
RETRY_MAX = 30.0  # seconds; the cap of the doubling delay
clock: Callable[[], float] = time.monotonic


@dataclass
class Target:
    purger: Purger
    pending: dict[str, float] = field(default_factory=dict)  # tag -> enqueued at
    delivered: int = 0
    dropped: int = 0
    expired: int = 0
    failures: int = 0  # consecutive failed requests
    retry_at: float = 0.0
    last_error: str = ""
    full: bool = False


_lock = threading.Lock()  # guards the targets' state
_sending = threading.Lock()  # one flush at a time (thread, exit, tests)
_targets: dict[str, Target] = {}


def _current() -> list[Target]:
    try:
        purgers = configured(conf.PURGERS)
    except ValueError:  # reported by the system check caching.E027
        return []
    targets = []
    with _lock:
        for purger in purgers:
            target = _targets.get(purger.name)
            if target is None:
                target = _targets[purger.name] = Target(purger)
            target.purger = purger  # settings may have changed its options
            targets.append(target)
    return targets


def enqueue(groups: Iterable[str]) -> None:
    """Purge these groups' tags at every target, soon, from another thread."""
    targets = _current() if conf.PURGERS else []
    if not targets:
        return
    tags = [surrogate_tag(g) for g in groups]
    limit, now = conf.PURGE_QUEUE, clock()
    with _lock:
        for target in targets:
            for tag in tags:
                if tag in target.pending or len(target.pending) < limit:
                    target.pending[tag] = now
                    continue
                target.dropped += 1
                if not target.full:
                    target.full = True
                    log.error(
                        "Purge queue of %s is full (%d tags): dropping purges; "
                        "pages stay cached up to CACHING_SHARED_MAX_AGE.",
                        target.purger.name,
                        limit,
                    )
    _flusher.wake()


def _expire(target: Target, now: float) -> None:
    horizon = conf.SHARED_MAX_AGE
    if not horizon:
        return
    old = [tag for tag, at in target.pending.items() if now - at > horizon]
    for tag in old:
        del target.pending[tag]
    target.expired += len(old)


def _send(target: Target) -> None:
    """Deliver the target's pending tags, batch by batch, until one fails."""
    while True:
        now = clock()
        with _lock:
            _expire(target, now)
            if not target.pending or now < target.retry_at:
                return
            sent = dict(list(target.pending.items())[: target.purger.batch_size])
        try:
            target.purger.purge(list(sent))
        except PurgeError as exc:
            with _lock:
                target.failures += 1
                delay = min(RETRY_FIRST * 2 ** (target.failures - 1), RETRY_MAX)
                target.retry_at = clock() + delay
                target.last_error = str(exc)
            if target.failures == 1:
                log.warning("Purge at %s failed, retrying: %s", target.purger.name, exc)
            return
        with _lock:
            for tag, at in sent.items():
                # A tag bumped again while in flight is sent once more.
                if target.pending.get(tag) == at:
                    del target.pending[tag]
            target.delivered += len(sent)
            recovered, target.failures, target.retry_at = target.failures, 0, 0.0
            if len(target.pending) < conf.PURGE_QUEUE:
                target.full = False
        if recovered:
            log.warning(
                "Purges at %s delivered again after %d failed attempts.",
                target.purger.name,
                recovered,
            )


def flush() -> None:
    """Send what is due to every target now (on the calling thread)."""
    with _sending:
        for target in list(_targets.values()):
            _send(target)


def pending() -> int:
    with _lock:
        return sum(len(t.pending) for t in _targets.values())


def _due() -> bool:
    now = clock()
    with _lock:
        return any(t.pending and now >= t.retry_at for t in _targets.values())


def drain(wait: float | None = None) -> bool:
    """Keep sending for up to ``wait`` seconds (``CACHING_EXIT_WAIT``); all sent?"""
    if not pending():
        return True  # also: no settings read by a process that never purged
    deadline = clock() + (conf.EXIT_WAIT if wait is None else wait)
    while True:
        flush()
        left = pending()
        if not left:
            return True
        if clock() >= deadline:
            log.error("%d purges not delivered before the process ended.", left)
            return False
        time.sleep(0.02)  # seconds, between retries of a failing target


def health() -> list[PurgeHealth]:
    """This process's queue per target, for the admin page."""
    limit = conf.PURGE_QUEUE
    with _lock:
        return [
            PurgeHealth(
                target=name,
                pending=len(t.pending),
                limit=limit,
                delivered=t.delivered,
                failures=t.failures,
                dropped=t.dropped,
                expired=t.expired,
                last_error=t.last_error,
            )
            for name, t in _targets.items()
        ]


def reset() -> None:
    """Forget every queue and count (tests)."""
    with _lock:
        _targets.clear()


def _forked() -> None:
    global _lock, _sending
    _lock, _sending = threading.Lock(), threading.Lock()
    _targets.clear()  # the parent's purges are the parent's to send


_flusher = Flusher(
    "caching-purge",
    flush,
    due=_due,
    interval=lambda: RETRY_FIRST,
    at_exit=drain,
)
os.register_at_fork(after_in_child=_forked)
