"""Plain data for the admin page: function rows, groups, backend health, purges."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches

from caching import purge, stats
from caching.decorators import registry
from caching.health import reporting
from caching.invalidation import watched_models

SORT_KEYS = (
    "name",
    "hits",
    "misses",
    "stale",
    "fallback",
    "errors",
    "lock_waits",
    "hit_rate",
    "compute_ms",
    "avg_ms",
)


def function_rows(order: str = "-hits") -> list[dict[str, Any]]:
    figures = stats.snapshot()
    rows = []
    for name in sorted(set(figures) | set(registry)):
        row: dict[str, Any] = {"name": name, **dict.fromkeys(stats.FIELDS, 0.0)}
        row.update(figures.get(name, {}))
        lookups = row["hits"] + row["misses"] + row["stale"]
        row["hit_rate"] = (row["hits"] + row["stale"]) / lookups if lookups else 0.0
        row["avg_ms"] = row["compute_ms"] / row["misses"] if row["misses"] else 0.0
        row["percent"] = round(row["hit_rate"] * 100, 1)
        row["registered"] = name in registry
        rows.append(row)
    field = order.lstrip("-")
    if field not in SORT_KEYS:
        field, order = "hits", "-hits"
    rows.sort(key=lambda r: (r[field], r["name"]), reverse=order.startswith("-"))
    return rows


def group_names() -> list[str]:
    names: set[str] = {f"model:{label}" for label in watched_models()}
    for function in registry.values():
        names.update(function.groups)
    return sorted(names)


def backends() -> list[dict[str, Any]]:
    result = []
    for alias in settings.CACHES:
        backend = caches[alias]
        reporter = reporting(backend)
        figures: dict[str, Any] | None = (
            dict(reporter.health()) if reporter is not None else None
        )
        if figures:
            figures["history"] = [
                {
                    "at": datetime.fromtimestamp(t.at, tz=UTC),
                    "state": t.state,
                    "reason": t.reason,
                }
                for t in figures["history"]
            ]
        result.append(
            {
                "alias": alias,
                "backend": f"{type(backend).__module__}.{type(backend).__qualname__}",
                "health": figures,
                "redis": reporter.redis_info() if reporter is not None else None,
            }
        )
    return result


def purges() -> list[dict[str, Any]]:
    """This process's purge queue per shared-cache target."""
    return [dict(line) for line in purge.health()]
