"""Two worker processes write; the staff view and the API show the true totals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=f"sqlite:///{db}")
    return env


@pytest.mark.slow
def test_totals_across_two_processes_equal_ground_truth(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    env = _env(db)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    counts = [5, 7]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.profiling.worker", "requests", str(n)],
            cwd=ROOT,
            env=env,
        )
        for n in counts
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    report = subprocess.run(
        [sys.executable, "-m", "tests.profiling.worker", "report"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    shown = json.loads(report.stdout)
    n = sum(counts)
    assert shown["page"] == {
        "GET /t/cached/": str(n),
        "GET /t/queries/&lt;int:n&gt;/": str(n),
        "GET /t/body/&lt;int:size&gt;/": str(n),
    }
    api = shown["api"]
    assert api["processes"] == 2
    assert api["requests"] == 3 * n
    assert (api["cache"]["hits"], api["cache"]["misses"]) == (n, n)
    assert api["db"]["queries"] == 3 * n
    assert api["compression"]["bytes_original"] == 3000 * n + 2 * 2 * n
