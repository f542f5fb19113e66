"""Django's ``SecurityMiddleware``, its hooks run on the event loop under ASGI.

It only reads the request and sets headers, yet Django's ``MiddlewareMixin``
sends both hooks through ``sync_to_async``: as the first middleware it would
put every request under ASGI, a stored page included, in a worker thread
twice. Under WSGI it is Django's own, unchanged.
"""

from __future__ import annotations

from django.middleware import security

from perfsite_conf.onloop import OnLoopMixin


class SecurityMiddleware(OnLoopMixin, security.SecurityMiddleware):
    pass
