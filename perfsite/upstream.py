"""The demo's async view: a page that waits on a slow upstream service.

``/api/upstream?city=<name>`` awaits a forecast from an upstream that answers
after ``UPSTREAM_DELAY`` (``asyncio.sleep`` stands in for the network call),
cached with ``cache_result`` on an ``async def``. Under ASGI a worker serves
other requests while one waits; a sync worker is held for the whole wait.
"""

from __future__ import annotations

import asyncio
import re

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from caching.decorators import cache_result

UPSTREAM_DELAY = 0.05  # seconds the upstream takes to answer
_CITY = re.compile(r"[a-z]{1,32}")


async def ask_upstream(city: str) -> dict[str, object]:
    """What the upstream answers (here: made up, after its delay)."""
    await asyncio.sleep(UPSTREAM_DELAY)
    return {"city": city, "forecast": "sunny" if len(city) % 2 else "rain"}


@cache_result(60, groups=["upstream:forecast"])
async def forecast(city: str) -> dict[str, object]:
    return await ask_upstream(city)


@require_safe
async def upstream(request: HttpRequest) -> JsonResponse:
    city = request.GET.get("city", "paris")
    if not _CITY.fullmatch(city):
        return JsonResponse({"error": "city must be 1 to 32 letters a-z"}, status=400)
    return JsonResponse(await forecast(city))
