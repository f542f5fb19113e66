"""``SQLiteCache``: a cache every process on the machine shares, in one file.

The embedded default when there is no Redis. Unlike LocMem (one cache per
process), gunicorn workers, ``manage.py shell`` and commands all read and
write the same entries, so a group bump made anywhere is seen everywhere at
the next read, and every worker computes the same ETags.

One table, ``key -> (value, expires)``, in WAL mode: readers never wait for a
writer, and writers queue on SQLite's lock (``busy_timeout``). ``add`` is one
atomic statement, so the stampede lock of ``cache_result`` holds across
processes; ``incr`` runs in an immediate transaction. Values are pickled
(integers are stored as SQLite integers); a row that does not unpickle is a
miss and is deleted. Expiry uses wall-clock time, shared by every process.
A file that cannot be opened or written (full disk, a lock held too long)
makes reads misses and writes no-ops, with one log line per change of state,
never an exception in a request; ``caching.E023`` checks the file at start-up.
"""

from __future__ import annotations

import functools
import logging
import os
import pickle
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
STORE_ERRORS = (sqlite3.Error, OSError)
DECODE_ERRORS = (pickle.UnpicklingError, AttributeError, ImportError, EOFError)
BUSY_TIMEOUT = 5000  # milliseconds a writer waits for another process's write
CULL_EVERY = 200  # writes of this process between two looks at the table size
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache_entries ("
    " key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL) WITHOUT ROWID"
)
_LIVE = "(expires IS NULL OR expires > ?)"


def _encode(value: Any) -> Any:
    if type(value) is int and -(2**63) <= value < 2**63:
        return value
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _decode(raw: Any) -> Any:
    if type(raw) is int:
        return raw
    return pickle.loads(raw)


def _degrading(fallback: Any) -> Callable[[F], F]:
    """A failure of the file gives ``fallback`` (a miss, a no-op) instead."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: SQLiteCache, *args: Any, **kwargs: Any) -> Any:
            try:
                result = method(self, *args, **kwargs)
            except STORE_ERRORS as exc:
                self._failed(exc)
                return fallback
            if self.failing:
                self._recovered()
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


class SQLiteCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.path = Path(location)
        self._local = threading.local()
        self._writes = 0
        self.failing = False

    def _failed(self, exc: BaseException) -> None:
        if not self.failing:
            self.failing = True
            logger.warning("cache %s unusable, bypassed: %r", self.path, exc)

    def _recovered(self) -> None:
        self.failing = False
        logger.info("cache %s usable again", self.path)

    # -- connection ----------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():  # never across a fork
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT / 1000, isolation_level=None
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT}")
            conn.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL never corrupts; a power cut may lose the last
            # writes, which for a cache is a miss.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(_SCHEMA)
            local.conn, local.pid = conn, os.getpid()
        return conn

    def probe(self) -> None:
        """Open the file and write to it; raises ``STORE_ERRORS`` if it cannot."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM cache_entries WHERE key = ''")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _key(self, key: Any, version: Any) -> str:
        made = self.make_and_validate_key(key, version=version)
        return str(made)

    def _expiry(self, timeout: Any) -> float | None:
        expiry: float | None = self.get_backend_timeout(timeout)
        return expiry

    # -- reads -------------------------------------------------------------

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        name = self._key(key, version)
        try:
            row = (
                self._db()
                .execute(
                    f"SELECT value FROM cache_entries WHERE key = ? AND {_LIVE}",
                    (name, time.time()),
                )
                .fetchone()
            )
        except STORE_ERRORS as exc:
            self._failed(exc)
            return default
        if self.failing:
            self._recovered()
        if row is None:
            return default
        try:
            return _decode(row[0])
        except DECODE_ERRORS:
            self._drop_junk([name])
            return default

    @_degrading({})
    def get_many(self, keys: Iterable[Any], version: Any = None) -> dict[Any, Any]:
        names = {self._key(key, version): key for key in keys}
        if not names:
            return {}
        marks = ",".join("?" * len(names))
        rows = (
            self._db()
            .execute(
                f"SELECT key, value FROM cache_entries WHERE key IN ({marks}) "
                f"AND {_LIVE}",
                (*names, time.time()),
            )
            .fetchall()
        )
        found: dict[Any, Any] = {}
        junk = []
        for name, raw in rows:
            try:
                found[names[name]] = _decode(raw)
            except DECODE_ERRORS:
                junk.append(name)
        if junk:
            self._drop_junk(junk)
        return {key: found[key] for key in names.values() if key in found}

    @_degrading(False)
    def has_key(self, key: Any, version: Any = None) -> bool:
        row = (
            self._db()
            .execute(
                f"SELECT 1 FROM cache_entries WHERE key = ? AND {_LIVE}",
                (self._key(key, version), time.time()),
            )
            .fetchone()
        )
        return row is not None

    # -- writes ------------------------------------------------------------

    @_degrading(None)
    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._db().execute(
            "INSERT OR REPLACE INTO cache_entries VALUES (?, ?, ?)",
            (self._key(key, version), _encode(value), self._expiry(timeout)),
        )
        self._wrote(1)

    @_degrading([])
    def set_many(
        self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> list[Any]:
        expires = self._expiry(timeout)
        rows = [(self._key(k, version), _encode(v), expires) for k, v in data.items()]
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO cache_entries VALUES (?, ?, ?)", rows
            )
        self._wrote(len(rows))
        return []

    @_degrading(False)
    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        # One statement: atomic across processes, and an expired row counts
        # as absent.
        cursor = self._db().execute(
            "INSERT INTO cache_entries VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE"
            " SET value = excluded.value, expires = excluded.expires"
            " WHERE cache_entries.expires IS NOT NULL"
            " AND cache_entries.expires <= ?",
            (
                self._key(key, version),
                _encode(value),
                self._expiry(timeout),
                time.time(),
            ),
        )
        self._wrote(1)
        return cursor.rowcount == 1

    @_degrading(False)
    def touch(
        self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        cursor = self._db().execute(
            f"UPDATE cache_entries SET expires = ? WHERE key = ? AND {_LIVE}",
            (self._expiry(timeout), self._key(key, version), time.time()),
        )
        return cursor.rowcount == 1

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        name = self._key(key, version)
        with self._transaction() as conn:
            row = conn.execute(
                f"SELECT value FROM cache_entries WHERE key = ? AND {_LIVE}",
                (name, time.time()),
            ).fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value: int = _decode(row[0]) + delta
            conn.execute(
                "UPDATE cache_entries SET value = ? WHERE key = ?",
                (_encode(value), name),
            )
        return value

    @_degrading(False)
    def delete(self, key: Any, version: Any = None) -> bool:
        return self._delete_names([self._key(key, version)]) > 0

    @_degrading(None)
    def delete_many(self, keys: Iterable[Any], version: Any = None) -> None:
        names = [self._key(key, version) for key in keys]
        if names:
            self._delete_names(names)

    def _delete_names(self, names: list[str]) -> int:
        marks = ",".join("?" * len(names))
        cursor = self._db().execute(
            f"DELETE FROM cache_entries WHERE key IN ({marks})", names
        )
        return cursor.rowcount

    def _drop_junk(self, names: list[str]) -> None:
        try:
            self._delete_names(names)
        except STORE_ERRORS as exc:  # still a miss; deleted another time
            self._failed(exc)

    @_degrading(None)
    def clear(self) -> None:
        self._db().execute("DELETE FROM cache_entries")

    def close(self, **kwargs: Any) -> None:
        # Connections stay open for the thread's next request (they are cheap
        # to keep and costly to reopen); a fork gets new ones.
        pass

    # -- size --------------------------------------------------------------

    def _wrote(self, count: int) -> None:
        self._writes += count
        if self._writes >= CULL_EVERY:
            self._writes = 0
            self._cull()

    def _cull(self) -> None:
        """Drop expired rows; past ``MAX_ENTRIES``, a ``CULL_FREQUENCY`` share of
        the rows that expire first (as Django's database cache does)."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM cache_entries WHERE expires <= ?", (time.time(),))
            (count,) = conn.execute("SELECT COUNT(*) FROM cache_entries").fetchone()
            if count > self._max_entries:
                drop = count // self._cull_frequency if self._cull_frequency else count
                conn.execute(
                    "DELETE FROM cache_entries WHERE key IN (SELECT key FROM"
                    " cache_entries ORDER BY expires IS NULL, expires LIMIT ?)",
                    (drop,),
                )
