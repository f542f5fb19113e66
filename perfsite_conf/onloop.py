"""Middleware that run on the event loop under ASGI.

``Dual``: the flags and the mode of a sync-and-async middleware, as Django's
"asynchronous support" section of the middleware docs describes it.

``OnLoopMixin``: a ``MiddlewareMixin`` middleware whose hooks run on the loop.

Django's ``MiddlewareMixin`` is async-capable, but under ASGI it calls
``process_request`` and ``process_response`` through ``sync_to_async``: two
trips to a worker thread per request, for hooks that may touch the database.
A middleware whose hooks do no blocking I/O (headers, CPU work on the body)
lists this mixin first, and its hooks are called on the event loop as is.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase


class Dual:
    """Call ``_set_mode(get_response)`` in ``__init__``; ``__call__`` then
    returns ``self.__acall__(request)`` when ``self.async_mode``."""

    sync_capable = True
    async_capable = True
    async_mode = False

    def _set_mode(self, get_response: Any) -> None:
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)  # type: ignore[type-var]  # its __call__ is the subclass's


class OnLoopMixin:
    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        middleware: Any = self
        response = None
        if hasattr(middleware, "process_request"):
            response = middleware.process_request(request)
        response = response or await middleware.get_response(request)
        if hasattr(middleware, "process_response"):
            response = middleware.process_response(request, response)
        return response  # type: ignore[no-any-return]
