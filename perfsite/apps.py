from __future__ import annotations

from django.apps import AppConfig


class PerfsiteConfig(AppConfig):
    name = "perfsite"
    verbose_name = "Demo blog"

    def ready(self) -> None:
        from perfsite import checks  # noqa: F401 - registers the check
