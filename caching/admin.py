"""The "Cache statistics" admin page: figures, and invalidation by POST only."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from caching import report
from caching.decorators import registry
from caching.invalidation import invalidate_group
from caching.models import CacheStatistics


def _is_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff)


@admin.register(CacheStatistics)
class CacheStatisticsAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_POST(self.invalidate_view))
        return [
            path("invalidate/", view, name="caching_invalidate"),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not _is_staff(request):
            return HttpResponse(status=403)
        order = request.GET.get("o", "-hits")
        context = {
            **self.admin_site.each_context(request),
            "title": "Cache statistics",
            "opts": self.model._meta,
            "rows": report.function_rows(order),
            "order": order,
            "columns": list(report.SORT_KEYS),
            "groups": report.group_names(),
            "backends": report.backends(),
            "purges": report.purges(),
        }
        return TemplateResponse(request, "caching/statistics.html", context)

    def invalidate_view(self, request: HttpRequest) -> HttpResponse:
        if not _is_staff(request):
            return HttpResponse(status=403)
        kind, name = request.POST.get("kind", ""), request.POST.get("name", "")
        action: Callable[[], None]
        if kind == "group" and name in report.group_names():
            action = partial(invalidate_group, name)
        elif kind == "function" and name in registry:
            action = registry[name].invalidate_all
        else:
            return HttpResponseBadRequest(
                "kind must be 'group' or 'function' and name one listed on the page."
            )
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Confirm invalidation",
                "opts": self.model._meta,
                "kind": kind,
                "name": name,
            }
            return TemplateResponse(request, "caching/confirm.html", context)
        action()
        messages.success(request, f"Invalidated {kind} {name}.")
        return redirect(reverse("admin:caching_cachestatistics_changelist"))
