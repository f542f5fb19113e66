from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class ProfilingConfig(AppConfig):
    name = "profiling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from profiling.checks import check_settings

        checks.register(check_settings)
