"""A statistical profiler: one thread that reads other threads' stacks.

Every ``interval`` seconds the sampler thread reads the profiled threads'
current frames (``sys._current_frames``) and counts each stack, weighted by
the time since the previous sample. Nothing is hooked into the profiled code
(no ``sys.setprofile``, no ``sys.monitoring``): the cost is per sample, not
per call, which is why it can stay on in production where cProfile and
pyinstrument (a C hook run on every call and return) cost 2-3x per request.
It also coexists with debuggers, coverage and cProfile itself.

The thread starts on first use, sleeps on a condition while nothing is
profiled, and is restarted in a forked child (gunicorn ``--preload``). A
thread waiting for the GIL gets it only after the switch interval (5 ms by
default), so while a profile runs the switch interval is lowered to the
sampling interval and restored after.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from types import CodeType, FrameType

Stack = tuple[CodeType, ...]  # outermost first


@dataclass
class Session:
    threads: frozenset[int]
    interval: float  # seconds
    last: float = field(default_factory=time.perf_counter)
    # Keyed by the ids of the code objects (hashing a code object hashes its
    # contents, every time); ``stacks`` keeps the objects themselves alive.
    stacks: dict[tuple[int, ...], Stack] = field(default_factory=dict)
    weights: defaultdict[tuple[int, ...], float] = field(  # seconds per stack
        default_factory=lambda: defaultdict(float)
    )
    counts: Counter[tuple[int, ...]] = field(default_factory=Counter)
    samples: int = 0

    def take(self, frames: dict[int, FrameType]) -> None:
        now = time.perf_counter()
        elapsed, self.last = now - self.last, now
        for ident in self.threads:
            frame: FrameType | None = frames.get(ident)
            codes: list[CodeType] = []
            while frame is not None:
                codes.append(frame.f_code)
                frame = frame.f_back
            if codes:
                key = tuple(map(id, codes))
                if key not in self.stacks:
                    self.stacks[key] = tuple(reversed(codes))
                self.weights[key] += elapsed
                self.counts[key] += 1
                self.samples += 1

    def weighted(self) -> list[tuple[Stack, float, int]]:
        """(stack outermost first, seconds, samples) per distinct stack."""
        return [(self.stacks[k], w, self.counts[k]) for k, w in self.weights.items()]


class Sampler:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._session: Session | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._switch = sys.getswitchinterval()

    def begin(self, threads: frozenset[int], interval: float) -> None:
        with self._cond:
            thread = self._thread
            if thread is None or self._pid != os.getpid() or not thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="perfsite-profiling-sampler", daemon=True
                )
                self._thread.start()
            self._session = Session(threads, interval)
            self._switch = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch, interval))
            self._cond.notify()

    def end(self) -> Session:
        """The finished session; no sample is added to it after this returns."""
        with self._cond:
            # No notify: waking the thread would cost a GIL hand-off; at its
            # next tick it finds no session and goes back to sleep.
            session, self._session = self._session, None
            sys.setswitchinterval(self._switch)
        assert session is not None, "end() without begin()"
        return session

    def _run(self) -> None:
        me = threading.get_ident()
        with self._cond:
            while True:
                session = self._session
                if session is None:
                    self._cond.wait()
                    continue
                self._cond.wait(session.interval)
                if self._session is session:
                    frames = sys._current_frames()
                    frames.pop(me, None)
                    session.take(frames)


sampler = Sampler()
