from __future__ import annotations

from django.contrib import admin
from django.urls import path

from perfsite import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("posts/<int:pk>/", views.post_detail, name="post-detail"),
    path("api/health", api.health, name="api-health"),
    path("api/stats", api.stats, name="api-stats"),
    path("api/posts/popular", api.popular, name="api-popular"),
    path("admin/", admin.site.urls),
]
