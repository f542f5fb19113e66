"""The near cache's invalidation connection: Redis CLIENT TRACKING in BCAST mode.

One connection per process and cache, owned by a daemon thread:
``CLIENT TRACKING ON REDIRECT <its own id> BCAST PREFIX <the cache's prefix>``,
then ``SUBSCRIBE __redis__:invalidate``. Redis then sends it the name of every
key under the prefix that anyone changes (a write, a delete, an expiry, an
eviction; ``None`` for a flush), and the thread drops those copies.

Why BCAST rather than the default tracking mode: the server keeps one prefix
per connection instead of a table of every key every process has read (which
is capped by ``tracking-table-max-keys`` and sends invalidations of its own
when full), and reads may use any connection of the pool, since no read has to
be registered. The price is that each process hears of every write under the
prefix, batched by Redis, whether it holds a copy or not; cache writes are far
rarer than reads.

The connection speaks RESP2 whatever the pool uses, so the messages are plain
pub/sub arrays on every redis-py version. A heartbeat ``PING`` every
``HEARTBEAT`` seconds finds a connection that died silently. Whenever the
connection is not known to be good (connecting, reconnecting, after an error)
the store is not live: nothing is served from it. A fork (gunicorn's workers)
resets every tracker in the child, which starts its own on first use.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any

from redis.exceptions import RedisError, ResponseError

from caching.near import NearStore

logger = logging.getLogger(__name__)

CHANNEL = "__redis__:invalidate"
HEARTBEAT = 1.0  # seconds without a message before a PING
RETRY_MIN, RETRY_MAX = 0.05, 1.0  # seconds between reconnection attempts
CONNECTION_ERRORS = (RedisError, OSError)


class Unsupported(Exception):
    """The server refused CLIENT TRACKING (Redis before 6, or a proxy)."""


class Tracker:
    def __init__(self, store: NearStore, pool: Any, prefix: str, name: str) -> None:
        self.store = store
        self.pool = pool
        self.prefix = prefix
        self.name = name
        self.supported = True
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._conn: Any = None
        self._pongs = threading.Condition()
        self._sent = self._seen = 0
        store.on_fork = self.after_fork

    # -- control -------------------------------------------------------------

    def ensure_running(self) -> None:
        thread = self._thread
        if (thread is None or not thread.is_alive()) and self.supported:
            with self._pongs:
                if self._thread is thread and not self._stopping.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name=f"near-cache {self.name}", daemon=True
                    )
                    self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.store.set_live(False)
        with self._pongs:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.disconnect()  # wakes the thread up
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def after_fork(self) -> None:
        # In a forked child. The parent's thread does not exist here and its
        # socket is the parent's: forget both, without a shutdown that would
        # cut the parent's connection.
        self._thread = None
        self._conn = None
        self._pongs = threading.Condition()
        self._sent = self._seen = 0
        self.store.after_fork()

    def sync(self, timeout: float = 5.0) -> bool:
        """Wait until every invalidation Redis sent before now has been applied.

        A ``PING`` on the tracking connection: its answer comes after whatever
        Redis queued there before it. False if the connection is not live or
        died meanwhile (then the store was flushed: nothing stale is served).
        """
        with self._pongs:
            conn = self._conn
            if conn is None or not self.store.live:
                return False
            try:
                target = self._ping(conn)
            except CONNECTION_ERRORS:
                # Dead: stop serving now; the thread reconnects properly.
                self.store.set_live(False)
                return False
            reached = self._pongs.wait_for(
                lambda: self._conn is not conn or self._seen >= target, timeout
            )
            return reached and self._conn is conn and self.store.live

    # -- the thread ----------------------------------------------------------

    def _run(self) -> None:
        delay = RETRY_MIN
        failing = False
        while not self._stopping.is_set():
            try:
                conn = self._connect()
                delay, failing = RETRY_MIN, False
                self._listen(conn)
            except Unsupported as exc:
                self.supported = False
                logger.warning("cache %s: no near cache, %s", self.name, exc)
                return
            except Exception as exc:  # whatever broke, the copies are not served
                if not failing and not self._stopping.is_set():
                    logger.warning(
                        "cache %s: near cache off until its tracking connection "
                        "is back (%r)",
                        self.name,
                        exc,
                    )
                failing = True
            finally:
                self._drop_connection()
            self._stopping.wait(delay)
            delay = min(delay * 2, RETRY_MAX)

    def _connect(self) -> Any:
        # RESP2 (maintenance notifications need RESP3, so they are left out).
        kwargs = {
            name: value
            for name, value in self.pool.connection_kwargs.items()
            if not name.startswith("maint_notifications")
        }
        kwargs["protocol"] = 2
        conn = self.pool.connection_class(**kwargs)
        with self._pongs:
            self._conn = conn
        conn.connect()
        try:
            conn.send_command("CLIENT", "ID")
            client_id = conn.read_response()
            conn.send_command(
                "CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST",
                "PREFIX", self.prefix,
            )  # fmt: skip
            conn.read_response()
        except ResponseError as exc:
            if type(exc) is not ResponseError:  # READONLY, OOM...: try again
                raise
            raise Unsupported(f"Redis refused CLIENT TRACKING: {exc}") from exc
        conn.send_command("SUBSCRIBE", CHANNEL)
        conn.read_response()
        # From here on every change under the prefix reaches this connection.
        self.store.set_live(True)
        logger.info("cache %s: near cache live", self.name)
        return conn

    def _listen(self, conn: Any) -> None:
        waiting_since_ping = False
        sock = conn._sock
        while not self._stopping.is_set():
            # redis-py reconnects a closed connection on its next use, without
            # tracking or subscription: never listen on such a one.
            if conn._sock is not sock:
                raise ConnectionError("the tracking connection was reset")
            if not conn.can_read(timeout=HEARTBEAT):
                if waiting_since_ping:
                    raise TimeoutError("no answer to the heartbeat PING")
                with self._pongs:
                    self._ping(conn)
                waiting_since_ping = True
                continue
            waiting_since_ping = False
            self._handle(conn.read_response())

    def _ping(self, conn: Any) -> int:
        # Called with ``_pongs`` held, so never on a connection being dropped;
        # and never on a closed one, which redis-py would quietly reconnect.
        if conn._sock is None:
            raise ConnectionError("the tracking connection is closed")
        conn.send_command("PING", check_health=False)
        self._sent += 1
        return self._sent

    def _handle(self, message: Any) -> None:
        kind = _text(message[0])
        if kind == "message":
            keys = message[2]
            if keys is None:  # FLUSHDB / FLUSHALL
                self.store.flush()
            else:
                self.store.invalidate(_text(key) for key in keys)
        elif kind == "pong":
            with self._pongs:
                self._seen += 1
                self._pongs.notify_all()

    def _drop_connection(self) -> None:
        self.store.set_live(False)
        with self._pongs:
            conn, self._conn = self._conn, None
            self._pongs.notify_all()
        if conn is not None:
            with contextlib.suppress(*CONNECTION_ERRORS):
                conn.disconnect()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def register_fork_handler(trackers: Any) -> None:
    """Reset every tracker of ``trackers()`` in a forked child."""

    def reset() -> None:  # pragma: no cover - runs in forked children only
        for tracker in trackers():
            tracker.after_fork()

    os.register_at_fork(after_in_child=reset)
