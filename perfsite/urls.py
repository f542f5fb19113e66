from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from perfsite import api, upstream, views
from perfsite_profiling import api as profiling_api

urlpatterns = [
    path("", views.home, name="home"),
    path("posts/<int:pk>/", views.post_detail, name="post-detail"),
    path("api/health", api.health, name="api-health"),
    path("api/upstream", upstream.upstream, name="api-upstream"),
    path("api/stats", api.stats, name="api-stats"),
    path("api/posts/popular", api.popular, name="api-popular"),
    path("api/performance", profiling_api.performance, name="api-performance"),
    path(
        "api/performance/metrics",
        profiling_api.prometheus,
        name="api-performance-metrics",
    ),
    path("profiling/", include("perfsite_profiling.urls")),
    path("admin/", admin.site.urls),
]
