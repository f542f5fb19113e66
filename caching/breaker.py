"""A circuit breaker shared by every thread of a process.

Closed: calls go to Redis and consecutive failures are counted. Open: calls go
straight to the fallback. After a cooldown one caller (and only one) gets to
probe; success closes the breaker, failure reopens it with a doubled cooldown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half-open"

# What allow() tells a caller to do.
USE_PRIMARY = "primary"
PROBE = "probe"
USE_FALLBACK = "fallback"


@dataclass(frozen=True)
class Transition:
    at: float  # wall-clock seconds, for display
    state: str
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
        self.state = CLOSED
        self.failures = 0
        self.cooldown = cooldown
        self.opened_at = 0.0
        self.history: deque[Transition] = deque(maxlen=50)
        self._lock = threading.Lock()

    def allow(self) -> str:
        if self.state == CLOSED:  # the hot path takes no lock
            return USE_PRIMARY
        with self._lock:
            if self.state == OPEN and self.clock() - self.opened_at >= self.cooldown:
                self._move(HALF_OPEN, "cooldown over, probing")
                return PROBE
            return USE_PRIMARY if self.state == CLOSED else USE_FALLBACK

    def success(self) -> None:
        if self.state == CLOSED and not self.failures:
            return
        with self._lock:
            self.failures = 0
            if self.state != CLOSED:
                self.cooldown = self.base_cooldown
                self._move(CLOSED, "probe succeeded")

    def failure(self, error: BaseException) -> None:
        with self._lock:
            if self.state == HALF_OPEN:
                self.cooldown = min(self.cooldown * 2, self.cooldown_max)
                self._open(f"probe failed: {error!r}")
            elif self.state == CLOSED:
                self.failures += 1
                if self.failures >= self.threshold:
                    self._open(f"{self.failures} consecutive errors, last {error!r}")

    def _open(self, reason: str) -> None:
        self.opened_at = self.clock()
        self._move(OPEN, reason)

    def _move(self, state: str, reason: str) -> None:
        self.state = state
        self.history.append(Transition(time.time(), state, reason))
        log = logger.info if state != OPEN else logger.warning
        log("cache %s: circuit breaker %s (%s)", self.name, state, reason)
