"""Real components for the tests: a private redis-server, PostgreSQL, Chromium.

A missing component skips its tests with the reason, unless
``PERFSITE_REQUIRE_SERVICES=1`` (set by CI), where it fails them instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn, Protocol, TypeVar

import pytest

REQUIRE_SERVICES = os.environ.get("PERFSITE_REQUIRE_SERVICES", "") == "1"


def missing(reason: str) -> NoReturn:
    """Skip (or, when services are required, fail) for a missing component."""
    if REQUIRE_SERVICES:
        pytest.fail(
            f"{reason} (PERFSITE_REQUIRE_SERVICES=1 forbids skipping)", pytrace=False
        )
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"nothing listening on {host}:{port} after {timeout}s"
                ) from None
            time.sleep(0.02)


class RedisServer:
    """A private redis-server on a fixed free port that tests can stop and restart."""

    def __init__(
        self,
        binary: str,
        port: int | None = None,
        *extra_args: str,
        config_file: str | None = None,
    ) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.extra_args = extra_args
        self.config_file = config_file  # redis-server wants it as its first argument
        self.dir = Path(tempfile.mkdtemp(prefix="perfsite-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.process = subprocess.Popen(
            [
                self.binary,
                *([self.config_file] if self.config_file else []),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                *self.extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: connections are accepted and never answered, data is kept."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def flushall(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            client.flushall()
        finally:
            client.close()


class Service(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class Store(Service, Protocol):
    def flushall(self) -> None: ...


S = TypeVar("S", bound=Service)
T = TypeVar("T", bound=Store)


def running(service: S) -> Iterator[S]:
    """A session fixture's body: ``service`` started, stopped at the end."""
    try:
        service.start()
        yield service
    finally:
        service.stop()


def fresh(service: T) -> Iterator[T]:
    """A test fixture's body: ``service`` running and empty; a test that
    stopped it (or part of it) leaves it running for the next."""
    service.start()
    service.flushall()
    yield service
    service.start()


def redis_binary() -> str:
    """The redis-server binary; a missing one skips (or fails) the test."""
    return shutil.which("redis-server") or missing("redis-server is not installed")


def postgres_url() -> str:
    return os.environ.get(
        "PERFSITE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Flags that keep Chromium quiet on a closed network and usable as root in a container.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def command_calls(url: str, *commands: str) -> int:
    """How many times the server at ``url`` ran these commands (INFO commandstats)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        figures = client.info("commandstats")
    finally:
        client.close()
    return sum(int(figures.get(f"cmdstat_{c}", {}).get("calls", 0)) for c in commands)


@contextlib.contextmanager
def replica_of(primary: RedisServer, timeout: float = 30.0) -> Iterator[RedisServer]:
    """A private read-only replica of ``primary``, in sync when yielded."""
    import redis

    replica = RedisServer(
        primary.binary, None, "--replicaof", "127.0.0.1", str(primary.port)
    )
    replica.start()
    try:
        client = redis.Redis.from_url(replica.url)
        deadline = time.monotonic() + timeout
        while client.info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise TimeoutError("the replica did not sync with its primary")
            time.sleep(0.05)
        client.close()
        yield replica
    finally:
        replica.stop()
