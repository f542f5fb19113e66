from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class AssetsConfig(AppConfig):
    name = "assets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from assets import manifest
        from assets.checks import check_middleware, check_settings

        checks.register(check_settings)
        checks.register(check_middleware)
        # A build or a settings change (in tests) makes the loaded manifest stale.
        setting_changed.connect(manifest.clear, dispatch_uid="assets.manifest.clear")
