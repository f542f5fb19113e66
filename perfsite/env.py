"""Read the site's configuration from environment variables.

Every parser raises ``ImproperlyConfigured`` naming the variable, so a typo in
a deployment stops the process at start-up with a message that says what to
fix instead of failing later on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_list(
    name: str, default: str, environ: Mapping[str, str] = os.environ
) -> list[str]:
    raw = environ.get(name, default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_float(
    name: str, default: float, environ: Mapping[str, str] = os.environ
) -> float:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None


# SQLite shared by a threaded runserver and the write-behind flushers: in WAL
# mode a reader never waits for a writer (a flush's commit included), a write
# transaction takes the write lock when it begins (a deferred one that reads
# first and then writes gets "database is locked" at once, whatever the
# timeout, if another writer went first), and a writer waits up to ``timeout``
# seconds for another before it is refused.
SQLITE_OPTIONS: dict[str, Any] = {
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    "transaction_mode": "IMMEDIATE",
    "timeout": 5,  # seconds
}


def database_config(url: str | None, default_sqlite_path: str) -> dict[str, Any]:
    """Turn ``DATABASE_URL`` into a ``DATABASES["default"]`` entry."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": default_sqlite_path,
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    try:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_health_checks=True)
        )
    except Exception as exc:  # dj-database-url raises several unrelated types
        raise ImproperlyConfigured(
            f"DATABASE_URL could not be parsed ({exc}); expected a URL such as "
            "postgres://user:password@host:5432/name or sqlite:///path/to/db.sqlite3."
        ) from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(
            f"DATABASE_URL has an unsupported scheme: {url.split(':', 1)[0]!r}."
        )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    else:
        # Persistent connections: one TCP + auth handshake per worker, not per request.
        config["CONN_MAX_AGE"] = 60
    return config


def redis_locations(url: str) -> list[str]:
    """Split ``REDIS_URL`` (primary first, then read replicas) and validate each part."""
    locations = [part.strip() for part in url.split(",") if part.strip()]
    for location in locations:
        scheme = location.split("://", 1)[0] if "://" in location else ""
        if scheme not in {"redis", "rediss", "unix"}:
            raise ImproperlyConfigured(
                f"REDIS_URL entry {location!r} must start with redis://, rediss:// or unix:// "
                "(or the whole value with sentinel:// for Redis Sentinel, redis-cluster:// "
                "for a cluster)."
            )
    if not locations:
        raise ImproperlyConfigured(
            "REDIS_URL is set but empty; unset it to use the in-process cache."
        )
    return locations


def _sentinel_config(url: str) -> dict[str, Any]:
    """``sentinel://host:26379,host2:26379/service_name/db`` for django-redis's Sentinel client."""
    rest = url.split("://", 1)[1]
    hosts, _, path = rest.partition("/")
    service, _, db = path.partition("/")
    sentinels = []
    for host in filter(None, (h.strip() for h in hosts.split(","))):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit():
            raise ImproperlyConfigured(
                f"REDIS_URL sentinel {host!r} must be host:port, as in "
                "sentinel://sentinel1:26379,sentinel2:26379/mymaster/0."
            )
        sentinels.append((name, int(port)))
    db = db.strip("/") or "0"
    if not sentinels or not service or not db.isdigit():
        raise ImproperlyConfigured(
            "REDIS_URL for Sentinel must look like sentinel://host:26379[,host:26379]/service_name/db."
        )
    return {
        # django-redis asks the sentinels for the service's current primary
        # (writes) and a replica (reads) on connect and again after a failover.
        "LOCATION": f"redis://{service}/{db}",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "SENTINELS": sentinels,
        },
    }


def _cluster_config(url: str) -> dict[str, Any]:
    """``redis-cluster://host:7000,host2:7000``: seed nodes of a Redis Cluster."""
    seeds = []
    for host in filter(None, (h.strip() for h in url.split("://", 1)[1].split(","))):
        name, _, port = host.rstrip("/").rpartition(":")
        if not name or not port.isdigit() or "/" in name:
            raise ImproperlyConfigured(
                f"REDIS_URL cluster node {host!r} must be host:port, as in "
                "redis-cluster://node1:7000,node2:7000."
            )
        seeds.append(f"redis://{name}:{port}")
    if not seeds:
        raise ImproperlyConfigured(
            "REDIS_URL for a cluster must look like redis-cluster://host:7000[,host:7000]."
        )
    # caching.cluster: redis-py's cluster client learns the slot map from them.
    return {"LOCATION": seeds, "OPTIONS": {"CLUSTER": True}}


def redis_cache_config(url: str) -> dict[str, Any]:
    """``LOCATION`` and ``OPTIONS`` of a django-redis cache from ``REDIS_URL``.

    Four forms: one URL; comma-separated URLs (a primary, then read replicas);
    ``sentinel://...`` for Redis Sentinel; ``redis-cluster://...`` for a cluster.
    """
    if url.strip().startswith("sentinel://"):
        return _sentinel_config(url.strip())
    if url.strip().startswith("redis-cluster://"):
        return _cluster_config(url.strip())
    locations = redis_locations(url)
    return {
        "LOCATION": locations if len(locations) > 1 else locations[0],
        "OPTIONS": {},
    }
