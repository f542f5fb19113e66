"""Staff-only pages under /profiling/: endpoints, profiles, SQL, downloads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from perfsite_profiling import stacks as stacks_module
from perfsite_profiling.access import staff_member_required
from perfsite_profiling.charts import flame_graph, latency_chart
from perfsite_profiling.conf import conf
from perfsite_profiling.history import history
from perfsite_profiling.models import MetricBatch, Profile
from perfsite_profiling.store import EndpointStats, delete_all, window_stats

ENDPOINT_SORTS = {
    "p50": lambda s: s.p50,
    "p95": lambda s: s.p95,
    "db": lambda s: s.db_ms,
    "requests": lambda s: s.counters["requests"],
}
FUNCTION_SORTS = ("self_ms", "cumulative_ms", "calls")


def _bad_choice(name: str, choices: Iterable[str]) -> HttpResponse:
    return HttpResponse(
        f"{name} must be one of: {', '.join(choices)}.",
        status=400,
        content_type="text/plain",
    )


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Render in the admin's frame (its header, theme and user links) when the
    admin is mounted, else in a plain page of the same blocks."""
    frame: dict[str, Any] = {"base_template": "profiling/plain.html"}
    if apps.is_installed("django.contrib.admin"):
        try:
            reverse("admin:index")
        except NoReverseMatch:
            pass
        else:
            from django.contrib import admin

            frame = {**admin.site.each_context(request)}
            frame["base_template"] = "admin/base_site.html"
    return render(request, template, {**frame, **context})


def _rows(stats: dict[str, EndpointStats], sort: str) -> list[dict[str, Any]]:
    ordered = sorted(stats.values(), key=ENDPOINT_SORTS[sort], reverse=True)
    rows = []
    for s in ordered:
        c = s.counters
        lookups = c["cache_hits"] + c["cache_misses"]
        rows.append(
            {
                "endpoint": s.endpoint,
                "requests": c["requests"],
                "p50": s.p50,
                "p95": s.p95,
                "db_ms": s.db_ms,
                "queries": s.per_request("queries"),
                "hit_rate": 100 * c["cache_hits"] / lookups if lookups else None,
                "n_plus_one": c["n_plus_one"],
                "slow": c["slow_queries"],
                "processes": len(s.processes),
            }
        )
    return rows


@staff_member_required
@never_cache
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "p95")
    if sort not in ENDPOINT_SORTS:
        return _bad_choice("sort", ENDPOINT_SORTS)
    stats = window_stats()
    profiles = Profile.objects.defer("prof", "functions", "sql", "stacks")[:50]
    rows = _rows(stats, sort)
    past = history([r["endpoint"] for r in rows])
    for row in rows:
        row["chart"] = latency_chart(past.buckets[row["endpoint"]], past.span)
    context = {
        "rows": rows,
        "span": past.span,
        "sort": sort,
        "sorts": list(ENDPOINT_SORTS),
        "window": conf.WINDOW,
        "profiles": profiles,
        "enabled": conf.ENABLED,
        "sample_rate": conf.SAMPLE_RATE,
    }
    return _page(request, "profiling/index.html", context)


@staff_member_required
@never_cache
@require_GET
def profile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(Profile.objects.defer("prof"), pk=pk)
    sort = request.GET.get("sort", "self_ms")
    if sort not in FUNCTION_SORTS:
        return _bad_choice("sort", FUNCTION_SORTS)
    listed = (
        stacks_module.top_functions(profile.stacks, conf.TOP_FUNCTIONS)
        if profile.stacks
        else profile.functions
    )
    functions = sorted(listed, key=lambda f: f[sort], reverse=True)
    peak = max((f[sort] for f in functions), default=0) or 1
    bars = [{**f, "width": round(100 * f[sort] / peak, 1)} for f in functions]
    context = {
        "profile": profile,
        "functions": bars,
        "sort": sort,
        "sorts": FUNCTION_SORTS,
        # Only cProfile records other threads (3.12+); the sampler reads the
        # request's own thread (and the event loop's in async mode).
        "threaded": profile.threads > 1 and not profile.stacks,
        "flame": flame_graph(profile.stacks) if profile.stacks else "",
    }
    return _page(request, "profiling/profile.html", context)


@staff_member_required
@require_GET
def profile_download(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(Profile.objects.only("prof", "stacks"), pk=pk)
    prof = (
        stacks_module.to_prof(profile.stacks) if profile.stacks else bytes(profile.prof)
    )
    response = HttpResponse(prof, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="profile-{pk}.prof"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_member_required
@require_GET
def profile_speedscope(request: HttpRequest, pk: int) -> HttpResponse:
    """The sampled stacks in speedscope's format (https://www.speedscope.app)."""
    profile = get_object_or_404(Profile.objects.only("endpoint", "stacks"), pk=pk)
    if not profile.stacks:
        raise Http404("A cProfile profile has no sampled stacks; use the .prof.")
    data = stacks_module.to_speedscope(profile.stacks, f"{profile.endpoint} #{pk}")
    response = JsonResponse(data)
    response["Content-Disposition"] = (
        f'attachment; filename="profile-{pk}.speedscope.json"'
    )
    return response


@staff_member_required
@never_cache
@require_GET
def sql_summary(request: HttpRequest) -> HttpResponse:
    entries = []
    for stats in window_stats().values():
        for sql, figures in stats.sql.items():
            entries.append({"endpoint": stats.endpoint, "sql": sql, **figures})
    entries.sort(key=lambda e: (e["n_plus_one"], e["slow"], e["ms"]), reverse=True)
    context = {"entries": entries, "window": conf.WINDOW, "slow_ms": conf.SLOW_QUERY_MS}
    return _page(request, "profiling/sql.html", context)


@staff_member_required
@require_POST
def clear(request: HttpRequest) -> HttpResponse:
    """Delete profiles, metrics or both (POST with CSRF, like every action)."""
    what = request.POST.get("what", "")
    models: dict[str, list[type[Profile] | type[MetricBatch]]] = {
        "profiles": [Profile],
        "metrics": [MetricBatch],
        "all": [Profile, MetricBatch],
    }
    if what not in models:
        return _bad_choice("what", models)
    deleted = sum(delete_all(model) for model in models[what])
    messages.success(request, f"Deleted {deleted} rows ({what}).")
    return HttpResponseRedirect(reverse("profiling:index"))
