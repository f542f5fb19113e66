"""IdleFlusher: the idle thread retries after a failed flush; exits never fail."""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from caching.flushing import IdleFlusher


@pytest.fixture
def make() -> Iterator[Callable[..., IdleFlusher]]:
    """IdleFlushers that the interpreter's exit forgets again."""
    made: list[IdleFlusher] = []

    def build(*args: Any) -> IdleFlusher:
        made.append(IdleFlusher(*args))
        return made[-1]

    yield build
    for flusher in made:
        atexit.unregister(flusher.flush_at_exit)


def test_the_thread_flushes_when_due_and_survives_a_failure(
    make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    done = threading.Event()
    attempts: list[int] = []

    def flush() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("the first flush fails")
        done.set()

    flusher = make("t-flush", flush, lambda: not done.is_set(), lambda: 0)
    flusher.ensure_started()
    flusher.ensure_started()  # once
    assert done.wait(timeout=30)
    assert len(attempts) >= 2
    assert "t-flush: flush failed" in caplog.text


def test_an_exit_flush_that_fails_is_logged_not_raised(
    make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def fail() -> None:
        raise RuntimeError("gone")

    flusher = make("t-exit", fail, lambda: False, lambda: 1.0)
    with caplog.at_level(logging.ERROR):
        flusher.flush_at_exit()
    assert "t-exit: could not flush at exit" in caplog.text


def test_a_forked_child_starts_its_own_thread(make: Any) -> None:
    flusher = make("t-fork", lambda: None, lambda: False, lambda: 1.0)
    flusher.ensure_started()
    flusher._forked()  # what the at-fork hook does in the child
    assert not flusher.started
