"""Delete expired profiling rows in batches (also done a batch at a time online)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from perfsite_profiling.conf import conf
from perfsite_profiling.models import MetricBatch, Profile
from perfsite_profiling.store import delete_expired


class Command(BaseCommand):
    help = "Delete profiling rows past PROFILING_RETENTION or over the row caps."

    def handle(self, *args: Any, **options: Any) -> None:
        metrics = delete_expired(MetricBatch, conf.MAX_METRIC_ROWS)
        profiles = delete_expired(Profile, conf.MAX_PROFILES)
        self.stdout.write(f"Deleted {metrics} metric rows and {profiles} profiles.")
