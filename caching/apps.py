from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class CachingConfig(AppConfig):
    name = "caching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caching.checks import check_settings

        checks.register(check_settings)
