"""A URLconf without the profiling views."""

from __future__ import annotations

urlpatterns: list[object] = []
