from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from perfsite.env import (
    SQLITE_OPTIONS,
    database_config,
    env_bool,
    env_float,
    env_list,
    redis_cache_config,
    redis_locations,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("no", False),
        ("", False),
    ],
)
def test_env_bool_parses(raw: str, expected: bool) -> None:
    assert env_bool("X", not expected, {"X": raw}) is expected


def test_env_bool_default_when_unset() -> None:
    assert env_bool("X", True, {}) is True


def test_env_bool_rejects_junk_naming_the_variable() -> None:
    with pytest.raises(
        ImproperlyConfigured, match="DJANGO_DEBUG='maybe' is not a boolean"
    ):
        env_bool("DJANGO_DEBUG", False, {"DJANGO_DEBUG": "maybe"})


def test_env_list_strips_and_drops_empties() -> None:
    assert env_list("H", "", {"H": " a.com, ,b.com "}) == ["a.com", "b.com"]
    assert env_list("H", "localhost,127.0.0.1", {}) == ["localhost", "127.0.0.1"]


def test_env_float() -> None:
    assert env_float("F", 0.5, {}) == 0.5
    assert env_float("F", 0.5, {"F": "0.25"}) == 0.25
    with pytest.raises(ImproperlyConfigured, match="F='x' is not a number"):
        env_float("F", 0.5, {"F": "x"})


def test_database_default_is_sqlite_file() -> None:
    assert database_config(None, "/tmp/db.sqlite3") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/tmp/db.sqlite3",
        "OPTIONS": SQLITE_OPTIONS,
    }
    # A sqlite:// URL gets the same options.
    assert database_config("sqlite:////tmp/x.db", "unused")["OPTIONS"] == SQLITE_OPTIONS


def test_database_postgres_url_gets_persistent_connections() -> None:
    config = database_config("postgres://u:p@db.example:5433/blog", "unused")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.example",
        5433,
        "blog",
        "u",
    )
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize(
    "url", ["not a url", "mongodb://localhost/x", "postgres://host:notaport/db"]
)
def test_database_bad_url_names_the_variable(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_config(url, "unused")


def test_redis_locations_primary_then_replicas() -> None:
    assert redis_locations("redis://a:6379/0, redis://b:6379/0") == [
        "redis://a:6379/0",
        "redis://b:6379/0",
    ]


@pytest.mark.parametrize("url", ["localhost:6379", "http://x", " , "])
def test_redis_locations_rejects_bad_values(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        redis_locations(url)


def test_redis_cache_config_single_and_replicas() -> None:
    assert redis_cache_config("redis://a:6379/1") == {
        "LOCATION": "redis://a:6379/1",
        "OPTIONS": {},
    }
    assert redis_cache_config("redis://a/0,redis://b/0") == {
        "LOCATION": ["redis://a/0", "redis://b/0"],
        "OPTIONS": {},
    }


def test_redis_cache_config_sentinel() -> None:
    config = redis_cache_config("sentinel://s1:26379, s2:26380/mymaster/2")
    assert config == {
        "LOCATION": "redis://mymaster/2",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "SENTINELS": [("s1", 26379), ("s2", 26380)],
        },
    }
    assert (
        redis_cache_config("sentinel://s1:26379/mymaster")["LOCATION"]
        == "redis://mymaster/0"
    )


@pytest.mark.parametrize(
    "url",
    [
        "sentinel://s1/mymaster/0",
        "sentinel:///mymaster/0",
        "sentinel://s1:26379/",
        "sentinel://s1:1/m/x",
    ],
)
def test_redis_cache_config_rejects_bad_sentinel_urls(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        redis_cache_config(url)


def test_redis_cache_config_cluster() -> None:
    assert redis_cache_config("redis-cluster://n1:7000, n2:7001/") == {
        "LOCATION": ["redis://n1:7000", "redis://n2:7001"],
        "OPTIONS": {"CLUSTER": True},
    }


@pytest.mark.parametrize(
    "url", ["redis-cluster://", "redis-cluster://n1", "redis-cluster://n1:x"]
)
def test_redis_cache_config_rejects_bad_cluster_urls(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        redis_cache_config(url)
