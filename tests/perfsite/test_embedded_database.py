"""The embedded default (file-backed SQLite) under a held write lock: a
refused flush keeps its counts, and a request still gets its page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.workers import ROOT


def test_a_locked_database_refuses_a_flush_keeps_its_counts_and_serves_pages(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "perfsite.settings",
        "DJANGO_DEBUG": "1",  # as runserver sets it
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_CACHE_PATH": str(tmp_path / "cache.sqlite3"),
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.embedded_locking"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "journal_mode": "wal",
        "refused_flush_wrote": 0,  # the lock outlasted its timeout
        "pending_after_refusal": 5,  # kept for the next flush
        "page_status": 200,  # a reader does not wait for a writer
        "page_shows_the_post": True,
        "next_flush_wrote": 1,
        "stored": 5 + 1,  # and the page view; the other writer rolled back
    }
