"""SQLiteCache, the embedded default: Django's cache API over one shared file."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from caching import embedded
from caching.embedded import SQLiteCache

ROOT = Path(__file__).resolve().parents[2]


def make(path: Path, **options: Any) -> SQLiteCache:
    return SQLiteCache(str(path), {"TIMEOUT": 300, "OPTIONS": options})


@pytest.fixture
def cache(tmp_path: Path) -> SQLiteCache:
    return make(tmp_path / "cache" / "shared.sqlite3")


def test_the_cache_api(cache: SQLiteCache) -> None:
    entry = ((1, 2), 1000.5, {"posts": [1, 2, 3]})
    cache.set("entry", entry)
    cache.set_many({"g:a": 2**62 - 1, "g:b": 7})
    assert cache.get("entry") == entry
    assert cache.get("missing", "default") == "default"
    assert cache.get_many(["g:a", "missing", "g:b", "entry"]) == {
        "g:a": 2**62 - 1,
        "g:b": 7,
        "entry": entry,
    }
    assert cache.get_many([]) == {}
    assert cache.has_key("g:a") and not cache.has_key("missing")
    assert cache.incr("g:b", 3) == 10 == cache.get("g:b")
    with pytest.raises(ValueError):
        cache.incr("missing")
    assert cache.delete("g:b") and not cache.delete("g:b")
    cache.delete_many(["g:a", "entry"])
    cache.delete_many([])
    assert cache.get_many(["g:a", "entry"]) == {}
    cache.set("big", 2**70)  # beyond SQLite's integers: pickled
    assert cache.get("big") == 2**70
    cache.clear()
    assert cache.get("big") is None


def test_add_is_atomic_and_an_expired_row_counts_as_absent(cache: SQLiteCache) -> None:
    assert cache.add("lock", "a", 60)
    assert not cache.add("lock", "b", 60)
    assert cache.get("lock") == "a"
    cache.set("old", "x", 0.01)
    time.sleep(0.02)
    assert cache.get("old") is None and not cache.has_key("old")
    assert not cache.touch("old", 60)
    assert cache.add("old", "y", 60)
    assert cache.get("old") == "y"
    assert cache.touch("old", None)
    assert cache.get("old") == "y"


def test_junk_is_a_miss_and_is_deleted(cache: SQLiteCache) -> None:
    cache.set_many({"a": "fine", "b": "fine"})
    for key in ("a", "b"):
        cache._db().execute(
            "UPDATE cache_entries SET value = ? WHERE key = ?",
            (b"\x80\x05junk", cache._key(key, None)),
        )
    assert cache.get("a", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    (count,) = cache._db().execute("SELECT COUNT(*) FROM cache_entries").fetchone()
    assert count == 0


def test_two_processes_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    mine = make(path)
    mine.set("group", 41)
    code = (
        "import sys; from caching.embedded import SQLiteCache; "
        "c = SQLiteCache(sys.argv[1], {}); "
        "print(c.get('group'), c.add('lock', 'theirs', 60)); c.set('group', 42)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)},
    )
    assert result.stdout.split() == ["41", "True"]
    assert mine.get("group") == 42
    assert not mine.add("lock", "mine", 60)


def test_culling_keeps_the_table_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "CULL_EVERY", 10)
    cache = make(tmp_path / "c.sqlite3", MAX_ENTRIES=20, CULL_FREQUENCY=2)
    cache.set("forever", 1, None)
    cache.set("expired", 1, 0.001)
    time.sleep(0.01)
    for n in range(60):
        cache.set(f"k{n}", n, 60 + n)
    (count,) = cache._db().execute("SELECT COUNT(*) FROM cache_entries").fetchone()
    assert count <= 40
    assert cache.get("forever") == 1  # rows without expiry go last
    assert cache.get("k59") == 59  # and the latest to expire before them
    row = cache._db().execute(
        "SELECT 1 FROM cache_entries WHERE key = ?", (cache._key("expired", None),)
    )
    assert row.fetchone() is None


def test_a_failed_transaction_rolls_back(cache: SQLiteCache) -> None:
    cache.set("n", "not a number")
    with pytest.raises(TypeError):
        cache.incr("n")
    assert cache.get("n") == "not a number"
    cache.set("n", 1)  # the write lock was released
    assert cache.get("n") == 1


def test_an_unusable_file_is_a_miss_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cache = make(blocker / "cache.sqlite3")
    cache.set("k", 1)
    cache.set_many({"k": 1})
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["k"]) == {}
    assert not cache.add("k", 1) and not cache.has_key("k")
    assert not cache.delete("k") and not cache.touch("k")
    assert caplog.text.count("bypassed") == 1  # one line per change of state
    with pytest.raises(OSError):
        cache.probe()


def test_a_write_lock_held_too_long_drops_the_write(
    cache: SQLiteCache,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "caching.embedded")
    cache.set("k", 1)
    other = sqlite3.connect(cache.path, timeout=0, isolation_level=None)
    monkeypatch.setattr(embedded, "BUSY_TIMEOUT", 10)  # milliseconds
    cache._local.conn = None  # a new connection, with the short timeout
    other.execute("BEGIN IMMEDIATE")  # another process writing, for too long
    try:
        cache.set("k", 2)  # dropped, not raised
        assert cache.failing
        assert cache.get("k") == 1  # readers are never blocked (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    cache.set("k", 3)
    assert cache.get("k") == 3 and not cache.failing
    assert "usable again" in caplog.text


def test_the_check_reports_an_unusable_file(tmp_path: Path) -> None:
    from django.core.cache import caches
    from django.test import override_settings

    from caching.checks import check_embedded

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    good = {"BACKEND": "caching.embedded.SQLiteCache", "LOCATION": str(tmp_path / "c")}
    bad = {**good, "LOCATION": str(blocker / "c")}
    with override_settings(CACHES={"default": good, "other": bad}):
        assert [e.id for e in check_embedded()] == ["caching.E023"]
        caches["default"].clear()
