from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class CachingConfig(AppConfig):
    name = "caching"
    verbose_name = "Caching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caching.checks import check_redis, check_settings
        from caching.invalidation import connect_pending

        checks.register(check_settings)
        checks.register(check_redis, checks.Tags.caches)
        # Functions decorated before the models were loaded.
        connect_pending()
