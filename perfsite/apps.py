from __future__ import annotations

from django.apps import AppConfig


class PerfsiteConfig(AppConfig):
    name = "perfsite"
    verbose_name = "Demo blog"
