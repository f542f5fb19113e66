"""A URLconf with the profiling views but no admin."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("profiling/", include("perfsite_profiling.urls"))]
