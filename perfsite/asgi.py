"""ASGI entry point: ``uvicorn perfsite.asgi:application`` (or granian).

Django's handler, wrapped to answer the lifespan protocol: at the server's
shutdown every buffer of the apps is flushed (``perfsite_conf.lifespan``).
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from perfsite_conf.lifespan import with_lifespan

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfsite.settings")
application = with_lifespan(get_asgi_application())
