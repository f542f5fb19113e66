from __future__ import annotations

from django.apps import AppConfig
from django.core import checks
from django.db import connections
from django.db.backends.signals import connection_created


class ProfilingConfig(AppConfig):
    # Imported as perfsite_profiling: Python 3.15's standard library has a
    # top-level ``profiling`` package (PEP 799) that cProfile imports. The
    # label stays "profiling", so tables, migrations and URLs are unchanged.
    name = "perfsite_profiling"
    label = "profiling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from perfsite_profiling.cache import install as install_cache_counting
        from perfsite_profiling.checks import (
            check_deploy,
            check_middleware,
            check_settings,
        )
        from perfsite_profiling.sql import install

        checks.register(check_settings)
        checks.register(check_middleware)
        checks.register(check_deploy, deploy=True)
        connection_created.connect(
            install, dispatch_uid="perfsite_profiling.sql.install"
        )
        for connection in connections.all(initialized_only=True):
            install(connection)
        install_cache_counting()
