from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig
from django.core import checks
from django.core.signals import setting_changed
from django.db.models.signals import class_prepared


class CachingConfig(AppConfig):
    name = "caching"
    verbose_name = "Caching"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caching import release  # noqa: F401  (connects its setting_changed reset)
        from caching.checks import (
            check_cluster,
            check_embedded,
            check_middleware,
            check_redis,
            check_settings,
            check_shared_caches,
        )
        from caching.identity import check_identity
        from caching.invalidation import connect_pending, model_defined
        from caching.near_redis import reset_on_setting_change

        checks.register(check_settings)
        checks.register(check_middleware)
        checks.register(check_shared_caches)
        checks.register(check_cluster)
        checks.register(check_identity)
        setting_changed.connect(
            reset_on_setting_change, dispatch_uid="caching.near_redis.reset"
        )
        checks.register(check_redis, checks.Tags.caches)
        checks.register(check_embedded, checks.Tags.caches)
        # Functions decorated before the models were loaded.
        connect_pending()
        class_prepared.connect(model_defined, dispatch_uid="caching.model_defined")
        _import_urlconf()


def _import_urlconf() -> None:
    """Import the URLconf, so every process connects the same model signals.

    Invalidation receivers are connected when a ``cache_result`` or
    ``cache_response`` decorator runs, at import of its module. A process that
    writes models without importing the views (``manage.py shell``, a command,
    a task worker) would otherwise save a post without invalidating anything.
    """
    from django.conf import settings

    urlconf = getattr(settings, "ROOT_URLCONF", None)
    if urlconf:
        import_module(urlconf)
