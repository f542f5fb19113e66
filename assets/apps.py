from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class AssetsConfig(AppConfig):
    name = "assets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assets.checks import check_settings

        checks.register(check_settings)
