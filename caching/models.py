from __future__ import annotations

from django.db import models


class CacheStatistics(models.Model):
    """No table: gives the admin a "Cache statistics" entry on its index page."""

    class Meta:
        managed = False
        verbose_name = "cache statistics"
        verbose_name_plural = "cache statistics"
        default_permissions = ()

    def __str__(self) -> str:
        return "cache statistics"
