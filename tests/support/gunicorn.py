"""Run the site under gunicorn, uvicorn or granian with several workers, for
tests and benchmarks (``serve``; ``SERVERS`` names them)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def production_env(**extra: str) -> dict[str, str]:
    """Production settings on plain HTTP; callers add DATABASE_URL, REDIS_URL, ..."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "DATABASE_URL", "REDIS_URL", "CDN_URL", "PROFILING_")
        )
    }
    env.update(
        DJANGO_SETTINGS_MODULE="perfsite.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECURE="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(env: Mapping[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=dict(env), check=True
    )


SERVERS = ("gunicorn", "uvicorn", "granian")


def command(server: str, port: int, workers: int, app: str | None) -> list[str]:
    """The command line of ``server`` on ``port``: WSGI ``perfsite.wsgi`` for
    gunicorn, ASGI ``perfsite.asgi:application`` for the others, as
    ``scripts/dev prod`` runs them."""
    if server == "gunicorn":
        return [sys.executable, "-m", "gunicorn", app or "perfsite.wsgi",
                "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]  # fmt: skip
    asgi = app or "perfsite.asgi:application"
    if server == "uvicorn":
        return [sys.executable, "-m", "uvicorn", asgi, "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(workers), "--lifespan", "on",
                "--loop", "uvloop", "--http", "httptools", "--no-access-log"]  # fmt: skip
    if server == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", asgi,
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]  # fmt: skip
    raise ValueError(f"server must be one of {', '.join(SERVERS)}, not {server!r}")


@contextmanager
def serve(
    server: str,
    env: Mapping[str, str],
    workers: int = 2,
    app: str | None = None,
    log: Path | None = None,
    ready_path: str = "/api/health",
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Yield the base URL of the site served by ``server`` with ``workers`` workers.

    Stopped with SIGTERM, as a process manager does: each worker shuts down
    gracefully (gunicorn: exit handlers; uvicorn, granian: the ASGI lifespan).
    """
    port = free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    server_process = subprocess.Popen(
        [*command(server, port, workers, app), *extra_args],
        cwd=ROOT,
        env=dict(env),
        stdout=out,
        stderr=out,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + ready_path)
        yield base
    finally:
        server_process.terminate()
        server_process.wait(timeout=30)
        if log:
            out.close()  # type: ignore[union-attr]


def gunicorn(
    env: Mapping[str, str],
    workers: int = 2,
    app: str = "perfsite.wsgi",
    log: Path | None = None,
    ready_path: str = "/api/health",
    extra_args: Sequence[str] = (),
) -> Any:
    """Yield the base URL of ``app`` served by gunicorn with ``workers`` workers."""
    return serve("gunicorn", env, workers, app, log, ready_path, extra_args)
