"""Speculative loads: the rules that ask for them and the requests they make.

``{% speculation_rules %}`` (``rules_json``) emits document rules: prefetch
same-origin links when the pointer rests on them (``eagerness: moderate``),
except URLs matching ``ASSETS_SPECULATION_EXCLUDE`` (admin, login, logout
and the profiling pages by default) and links marked ``rel=nofollow`` or
``data-no-prefetch``.

A prefetch is a request the visitor may never look at. ``is_prefetch`` tells
one apart (Chromium sends ``Sec-Purpose: prefetch``; older versions and
Firefox ``Purpose: prefetch``) so that other code can skip counting or
profiling it, and ``PrefetchSessionMiddleware`` keeps it from creating a
session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from assets.conf import conf
from perfsite_conf.onloop import Dual


def is_prefetch(request: HttpRequest) -> bool:
    """Whether ``request`` is a speculative prefetch (or prerender) of a page."""
    purpose = request.headers.get("Sec-Purpose") or request.headers.get("Purpose", "")
    return "prefetch" in purpose.lower()


def rules() -> dict[str, Any]:
    excluded: list[dict[str, Any]] = [
        {"not": {"href_matches": pattern}} for pattern in conf.SPECULATION_EXCLUDE
    ]
    return {
        "prefetch": [
            {
                "source": "document",
                "where": {
                    "and": [
                        {"href_matches": "/*"},
                        *excluded,
                        {
                            "not": {
                                "selector_matches": "[rel~=nofollow], [data-no-prefetch]"
                            }
                        },
                    ]
                },
                "eagerness": conf.SPECULATION_EAGERNESS,
            }
        ]
    }


def rules_json() -> str:
    """The rules as JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(rules(), separators=(",", ":"), sort_keys=True)
    # As Django's json_script: no "</script>", "<!--" or "&" can appear raw.
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


class PrefetchSessionMiddleware(Dual):
    """Prefetches never create a session.

    Goes right below ``SessionMiddleware``. A prefetch that arrives without a
    session cookie gets a fresh, untouched session store back before
    ``SessionMiddleware`` sees the response, so nothing is saved and no cookie
    is set, whatever the view did.
    """

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self._set_mode(get_response)  # on the loop under ASGI: it does no I/O

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        response: HttpResponseBase = self.get_response(request)
        forget_prefetch_session(request)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await self.get_response(request)
        forget_prefetch_session(request)
        return response


def forget_prefetch_session(request: HttpRequest) -> None:
    """Swap a prefetch's new session for an untouched one (nothing is saved)."""
    session = getattr(request, "session", None)
    if session is not None and is_prefetch(request) and session.session_key is None:
        request.session = type(session)()
