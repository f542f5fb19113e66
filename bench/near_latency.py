"""How soon other processes see a write through their near caches.

Three reader processes each hold a near copy of one key and read it in a loop
(sleeping 0.2 ms between reads, as a worker between requests does); this
process writes a new value with a plain redis-py ``SET`` and each reader
reports the moment it first read the new value. CLOCK_MONOTONIC is one clock
for every process on Linux, so the delays are comparable.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from tests.support.workers import ROOT, Worker

READERS = 3
ROUNDS = 200
TARGET_MS = 5.0  # p99, from the issue


def near_latency(url: str) -> None:
    import time

    import redis

    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PERFSITE_TEST_REDIS_URL": url,
        "PERFSITE_TEST_DB": str(Path(tempfile.mkdtemp()) / "unused.sqlite3"),
        "DJANGO_SETTINGS_MODULE": "tests.support.worker_settings",
    }
    readers = [Worker(env) for _ in range(READERS)]
    raw = redis.Redis.from_url(url)
    delays: list[float] = []
    try:
        for reader in readers:
            reader.send("near-live")
            assert reader.read()["live"], "a reader's near cache did not go live"
        raw.set("t:1:latency", b"0")
        for n in range(1, ROUNDS + 1):
            for reader in readers:
                reader.send("get latency")
                assert reader.read()["value"] == n - 1
                reader.send(f"watch latency {n - 1}")
            for reader in readers:
                assert reader.read() == {"watching": True}
            raw.set("t:1:latency", str(n).encode())
            written_at = time.monotonic()
            for reader in readers:
                answer = reader.read()
                assert answer["value"] == n, answer
                delays.append(max(0.0, answer["seen_at"] - written_at) * 1000)
    finally:
        raw.close()
        for reader in readers:
            reader.stop()
    p50 = statistics.median(delays)
    p99 = statistics.quantiles(delays, n=100)[98]
    print(
        f"\n#### A write seen by {READERS} other processes "
        f"({ROUNDS} writes, {len(delays)} reads)\n"
    )
    print("| after the writer's `SET` returned | ms |")
    print("|---|---|")
    print(f"| p50 | {p50:.3f} |")
    print(f"| p99 | {p99:.3f} |")
    print(f"| max | {max(delays):.3f} |")
    verdict = "met" if p99 < TARGET_MS else "MISSED"
    print(f"\nTarget: seen within {TARGET_MS:g} ms (p99): {verdict}.")
