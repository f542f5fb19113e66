"""What Redis missed, and how a process catches it up: replay and the epoch.

Per cache and process (shared by its threads), ``SharedState`` holds the
breaker, the keys whose writes could not reach Redis, and the namespace
epoch. ``Recovery`` runs when Redis answers again, *before* any other call of
this process reads it: after an outage that opened the breaker it bumps the
namespace epoch (other processes, some exited since, may have lost
invalidations too); after a shorter blip it deletes the missed keys (past
``CACHING_REPLAY_LIMIT``, or after a ``clear()``, it bumps instead); then it
empties the fallback. Other processes learn an epoch bump within
``EPOCH_REFRESH`` seconds. At exit, a process keeps trying to deliver what is
left for ``CACHING_EXIT_WAIT`` seconds.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from caching.breaker import CircuitBreaker
from caching.conf import conf
from caching.errors import REDIS_ERRORS, refused
from perfsite_conf.background import at_shutdown

logger = logging.getLogger(__name__)

EPOCH_REFRESH = 1.0  # seconds between two reads of the namespace epoch


@dataclass
class SharedState:
    """What every thread's instance of one cache shares in this process."""

    breaker: CircuitBreaker
    lock: threading.Lock = field(default_factory=threading.Lock)
    missed: set[tuple[str, int | None]] = field(default_factory=set)
    overflow: bool = False
    epoch: int = 0
    epoch_read_at: float = float("-inf")
    fallback_serves: int = 0
    # The latest instance's, which delivers what was missed when the process exits.
    recovery: Recovery | None = None

    def remember(self, keys: Iterable[str], version: int | None) -> None:
        with self.lock:
            for key in keys:
                if len(self.missed) >= conf.REPLAY_LIMIT:
                    self.overflow = True
                    break
                self.missed.add((key, version))

    def take(self) -> tuple[list[tuple[str, int | None]], bool]:
        with self.lock:
            missed, overflow = list(self.missed), self.overflow
            self.missed.clear()
            self.overflow = False
        return missed, overflow

    @property
    def behind(self) -> bool:
        """Whether Redis has something to learn before it is read again."""
        return bool(self.missed or self.overflow)


_states: dict[str, SharedState] = {}
_states_lock = threading.Lock()


def shared_state(name: str) -> SharedState:
    with _states_lock:
        if name not in _states:
            _states[name] = SharedState(
                CircuitBreaker(
                    name,
                    conf.BREAKER_THRESHOLD,
                    conf.BREAKER_COOLDOWN,
                    conf.BREAKER_COOLDOWN_MAX,
                )
            )
        return _states[name]


def forget() -> None:
    """Drop every cache's state in this process (tests)."""
    with _states_lock:
        _states.clear()


class Recovery:
    """Brings Redis up to date with what one cache of this process missed."""

    def __init__(
        self,
        name: str,
        primary: Any,
        fallback: Any,
        shared: SharedState,
        epoch_key: str,
    ) -> None:
        self.name = name
        self.primary = primary  # the django-redis cache
        self.fallback = fallback
        self.shared = shared
        self.epoch_key = epoch_key
        self.base_prefix = primary.key_prefix

    def sync_epoch(self) -> None:
        """Point the primary at the current namespace (read every second)."""
        shared = self.shared
        now = time.monotonic()
        if now - shared.epoch_read_at >= EPOCH_REFRESH:
            client = self.primary.client.get_client(write=True)
            shared.epoch, shared.epoch_read_at = self._read_epoch(client), now
        prefix = (
            f"{self.base_prefix}:e{shared.epoch}" if shared.epoch else self.base_prefix
        )
        if self.primary.key_prefix != prefix:
            self.primary.key_prefix = prefix

    def _read_epoch(self, client: Any) -> int:
        raw = client.get(self.epoch_key)
        try:
            return int(raw or 0)
        except ValueError:
            # Junk: start a namespace no entry belongs to (every process reads
            # the same new value), rather than fail every call.
            epoch = random.randrange(1 << 32, 1 << 62)
            client.set(self.epoch_key, epoch, ex=conf.GROUP_TIMEOUT)
            logger.warning("cache %s: junk namespace epoch %r replaced", self.name, raw)
            return epoch

    def recover(self, probing: bool) -> bool:
        """Ping Redis; if it answers, replay what it missed, and close a probe."""
        shared, breaker = self.shared, self.shared.breaker
        missed, overflow = shared.take()
        # After an outage (the breaker opened), other processes may have lost
        # invalidations too, and some of them may have exited since: only a
        # namespace bump guarantees that nothing cached before is served.
        bump = overflow or probing
        try:
            client = self.primary.client.get_client(write=True)
            client.ping()
            if bump:
                with client.pipeline() as pipe:
                    pipe.incr(self.epoch_key)
                    pipe.expire(self.epoch_key, conf.GROUP_TIMEOUT)
                    pipe.execute()
                shared.epoch_read_at = float("-inf")
            self.sync_epoch()
            by_version: dict[int | None, list[str]] = {}
            for key, version in missed:
                by_version.setdefault(version, []).append(key)
            for version, keys in by_version.items():
                self.primary.delete_many(keys, version=version)
        except BaseException as exc:
            with shared.lock:  # put back what could not be replayed
                shared.missed.update(missed)
                shared.overflow = shared.overflow or overflow
            if isinstance(exc, REDIS_ERRORS):
                breaker.failure(exc, refused=refused(exc))
                return False
            if probing:  # not Redis's fault: let the next caller probe
                breaker.give_back()
            raise
        self.fallback.clear()
        logger.info(
            "cache %s: recovered; %s",
            self.name,
            "namespace bumped" if bump else f"{len(missed)} keys replayed",
        )
        if probing:
            # Only a probe closes the breaker: a replayed DEL is allowed
            # where writes are not (OOM), so it proves nothing more.
            breaker.success()
        return True


def deliver_missed(wait: float) -> bool:
    """Send what every cache of this process missed, retrying for ``wait`` seconds.

    Runs at exit: a process that made an invalidation while Redis was
    unreachable (a ``manage.py shell`` during a failover, say) would otherwise
    take it with it. Returns whether nothing is left undelivered.
    """
    deadline = time.monotonic() + wait
    pending = [s for s in list(_states.values()) if s.recovery and s.behind]
    while pending:
        pending = [
            s
            for s in pending
            if s.recovery and not s.recovery.recover(probing=not s.breaker.closed)
        ]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    for shared in pending:
        logger.error(
            "cache %s: %d missed writes could not reach Redis before exit%s",
            shared.breaker.name,
            len(shared.missed),
            " (and a namespace bump)" if shared.overflow else "",
        )
    return not pending


@at_shutdown
def _deliver_at_exit() -> None:
    if _states:
        deliver_missed(conf.EXIT_WAIT)
