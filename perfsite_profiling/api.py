"""``/api/performance``: measured figures over a rolling window, all processes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from perfsite_profiling.access import exempt, has_token, is_staff
from perfsite_profiling.conf import conf
from perfsite_profiling.store import combined, window_stats


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def performance_data() -> dict[str, Any]:
    total = combined(window_stats())
    c = total.counters
    lookups = c["cache_hits"] + c["cache_misses"]
    return {
        "window_seconds": conf.WINDOW,
        "processes": len(total.processes),
        "requests": c["requests"],
        "response_time_ms": {
            "p50": total.p50,
            "p95": total.p95,
            "p99": total.p99,
        },
        "cache": {
            "hits": c["cache_hits"],
            "misses": c["cache_misses"],
            "hit_rate": _ratio(c["cache_hits"], lookups),
        },
        "compression": {
            "responses": c["sized_responses"],
            "bytes_original": c["bytes_original"],
            "bytes_sent": c["bytes_sent"],
            "ratio": _ratio(c["bytes_original"], c["bytes_sent"]),
        },
        "db": {
            "queries": c["queries"],
            "time_ms": c["db_us"] / 1000,
            "time_share": _ratio(c["db_us"], c["total_us"]),
            "slow_queries": c["slow_queries"],
            "n_plus_one": c["n_plus_one"],
        },
        "profiles": {"taken": c["profiles"], "skipped_busy": c["profiles_skipped"]},
    }


def _denied(request: HttpRequest) -> JsonResponse | None:
    if is_staff(request) or has_token(request):
        return None
    return JsonResponse(
        {
            "error": "Staff login or an 'Authorization: Bearer <token>' header is required."
        },
        status=403,
    )


@exempt
@never_cache
@require_GET
def performance(request: HttpRequest) -> HttpResponse:
    denied = _denied(request)
    if denied is not None:
        return denied
    return JsonResponse(performance_data())


_PROMETHEUS = [
    ("requests", "requests_total", "Requests measured"),
    ("total_us", "request_seconds_sum", "Sum of response times"),
    ("db_us", "db_seconds_sum", "Sum of database time"),
    ("queries", "db_queries_total", "SQL queries"),
    ("cache_hits", "cache_hits_total", "Cache hits"),
    ("cache_misses", "cache_misses_total", "Cache misses"),
    ("bytes_original", "response_bytes_original_total", "Bytes before compression"),
    ("bytes_sent", "response_bytes_sent_total", "Bytes sent"),
    ("slow_queries", "slow_queries_total", "Slow SQL queries"),
]


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text() -> str:
    """Window sums per endpoint in the Prometheus text format."""
    stats = window_stats()
    lines: list[str] = []
    for field, name, help_text in _PROMETHEUS:
        metric = f"profiling_{name}"
        # Sums over a moving window can go down: gauges, not counters.
        lines += [
            f"# HELP {metric} {help_text} in the window.",
            f"# TYPE {metric} gauge",
        ]
        for endpoint in sorted(stats):
            value: float = stats[endpoint].counters[field]
            if field.endswith("_us"):
                value = value / 1e6
            lines.append(f'{metric}{{endpoint="{_label(endpoint)}"}} {value}')
    return "\n".join(lines) + "\n"


@exempt
@never_cache
@require_GET
def prometheus(request: HttpRequest) -> HttpResponse:
    if not conf.PROMETHEUS:
        return JsonResponse({"error": "PROFILING_PROMETHEUS is off."}, status=404)
    denied = _denied(request)
    if denied is not None:
        return denied
    return HttpResponse(prometheus_text(), content_type="text/plain; version=0.0.4")
