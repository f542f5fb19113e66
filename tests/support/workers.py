"""Drive a ``tests.support.cache_worker`` process: one command line in, one
JSON line out (used by the multi-process tests and bench/cache.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def migrated_env(redis_url: str, db: Path) -> dict[str, str]:
    """The environment of worker processes on one migrated SQLite database."""
    env = {
        **os.environ,
        "PERFSITE_TEST_REDIS_URL": redis_url,
        "PERFSITE_TEST_DB": str(db),
        "DJANGO_SETTINGS_MODULE": "tests.support.worker_settings",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return env


class Worker:
    def __init__(self, env: dict[str, str], stderr: int | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.cache_worker"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        assert self.read() == {"ready": True}

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def read(self) -> Any:
        assert self.process.stdout is not None
        return json.loads(self.process.stdout.readline())

    def ask(self, line: str) -> Any:
        self.send(line)
        return self.read()

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
