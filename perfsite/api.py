"""The demo's JSON API."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from caching.http import cache_response
from caching.invalidation import ModelRef
from perfsite.models import Post
from perfsite.queries import popular_posts, site_stats

POPULAR_DEFAULT_LIMIT = 10
POPULAR_MAX_LIMIT = 100
_DIGITS = re.compile(r"[0-9]{1,4}")


class BadRequest(ValueError):
    """A query parameter the API rejects; the message goes to the client."""


def json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def parse_limit(request: HttpRequest) -> int:
    values = request.GET.getlist("limit")
    if not values:
        return POPULAR_DEFAULT_LIMIT
    if len(values) > 1:
        raise BadRequest("limit must be given once.")
    raw = values[0]
    # fullmatch on a bounded digit run: no signs, spaces, exponents or huge numbers.
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= POPULAR_MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {POPULAR_MAX_LIMIT}.")
    return int(raw)


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    """A liveness probe with no database or cache access (the benchmarks' floor)."""
    return JsonResponse({"status": "ok"})


# Whole responses cached until a write to their models; the ETag comes from the
# same versions, so a revalidation is a 304 with no query and no rendering.
DEMO_MODELS: list[ModelRef] = [Post, settings.AUTH_USER_MODEL]


@require_safe
# The counts of "today" and "the last 30 days" also move with time alone.
@cache_response(60, depends_on=DEMO_MODELS, refresh_every=60)
def stats(request: HttpRequest) -> JsonResponse:
    return JsonResponse(site_stats())


@require_safe
@cache_response(300, depends_on=DEMO_MODELS, query=["limit"])
def popular(request: HttpRequest) -> JsonResponse:
    try:
        limit = parse_limit(request)
    except BadRequest as exc:
        return json_error(str(exc))
    return JsonResponse({"limit": limit, "posts": popular_posts(limit)})
