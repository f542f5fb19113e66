"""A circuit breaker shared by every thread of a process.

Closed: calls go to Redis and consecutive failures are counted (writes
refused by a Redis that still answers reads are counted apart, so reads in
between do not hide them). Open: calls go
straight to the fallback. After a cooldown one caller (and only one) is handed
the probe; success closes the breaker, failure reopens it with a doubled
cooldown.

Every probe handed out completes: its holder reports ``success()``,
``failure()`` or ``give_back()``. A probe that is never reported (its holder
died on an unexpected error) expires after one cooldown, and the next caller
is handed a new one, so the breaker can never stay half-open.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class Decision(enum.Enum):
    """What ``allow()`` tells a caller to do."""

    PRIMARY = "primary"
    PROBE = "probe"  # probe Redis, then report success(), failure() or give_back()
    FALLBACK = "fallback"


@dataclass(frozen=True)
class Transition:
    at: float  # wall-clock seconds, for display
    state: State
    reason: str


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        threshold: int,
        cooldown: float,
        cooldown_max: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.base_cooldown = cooldown
        self.cooldown_max = cooldown_max
        self.clock = clock
        self.state = State.CLOSED
        self.failures = 0
        # Writes refused by a Redis that still serves reads (OOM under
        # noeviction, READONLY on a demoted primary): reset by a write only.
        self.refusals = 0
        self.cooldown = cooldown
        self.opened_at = 0.0
        self.probe_since = 0.0  # clock() when the current probe was handed out
        self.history: deque[Transition] = deque(maxlen=50)
        self._lock = threading.Lock()

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    def allow(self) -> Decision:
        if self.state is State.CLOSED:  # the hot path takes no lock
            return Decision.PRIMARY
        with self._lock:
            return self._decide(self.clock())

    def _decide(self, now: float) -> Decision:
        # Under the lock; the breaker may have closed since allow() looked.
        if self.state is State.OPEN and now - self.opened_at >= self.cooldown:
            self.probe_since = now
            self._move(State.HALF_OPEN, "cooldown over, probing")
            return Decision.PROBE
        if self.state is State.HALF_OPEN and now - self.probe_since >= self.cooldown:
            self.probe_since = now
            logger.warning(
                "cache %s: a probe was never reported, probing again", self.name
            )
            return Decision.PROBE
        return Decision.PRIMARY if self.state is State.CLOSED else Decision.FALLBACK

    def success(self, wrote: bool = True) -> None:
        """Report a call that Redis served; ``wrote``: one that allocates memory."""
        if self.state is State.CLOSED and not self.failures and not self.refusals:
            return
        with self._lock:
            self.failures = 0
            if wrote:
                self.refusals = 0
            if self.state is not State.CLOSED:
                self.cooldown = self.base_cooldown
                self._move(State.CLOSED, "probe succeeded")

    def failure(self, error: BaseException, refused: bool = False) -> None:
        """Report a Redis error; ``refused``: a write refused while reads work."""
        with self._lock:
            if self.state is State.HALF_OPEN:
                self.cooldown = min(self.cooldown * 2, self.cooldown_max)
                self._open(f"probe failed: {error!r}")
            elif self.state is State.CLOSED:
                if refused:
                    self.refusals += 1
                else:
                    self.failures += 1
                count = max(self.failures, self.refusals)
                if count >= self.threshold:
                    self._open(f"{count} consecutive errors, last {error!r}")

    def give_back(self) -> None:
        """Return an unused probe: the next caller probes at once."""
        with self._lock:
            if self.state is State.HALF_OPEN:
                self.opened_at = self.clock() - self.cooldown
                self.state = State.OPEN  # not a transition worth a log line

    def _open(self, reason: str) -> None:
        self.opened_at = self.clock()
        self._move(State.OPEN, reason)

    def _move(self, state: State, reason: str) -> None:
        self.state = state
        self.history.append(Transition(time.time(), state, reason))
        log = logger.info if state is not State.OPEN else logger.warning
        log("cache %s: circuit breaker %s (%s)", self.name, state, reason)
