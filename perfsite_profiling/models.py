"""Shared storage: rows that every worker process writes and the views read.

Metrics are appended as one row per endpoint per flush (insert-only, so workers
never contend on a row); profiles are one row each. Neither stores request
bodies, headers, cookies or SQL parameters: only route patterns and SQL with
its literals stripped.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models


class JSONText(models.TextField):  # type: ignore[type-arg]
    """JSON in a text column.

    Unlike ``JSONField`` it has no database feature to check, so
    ``manage.py check`` (which on Django 6.1 runs field checks against every
    database) never has to connect; nothing here queries inside the JSON.
    """

    # What django-stubs reads to type the model attributes.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else json.dumps(value, separators=(",", ":"))


class MetricBatch(models.Model):
    endpoint = models.CharField(max_length=255)
    process = models.CharField(max_length=100)
    created_at = models.DateTimeField(db_index=True)
    requests = models.PositiveIntegerField(default=0)
    total_us = models.BigIntegerField(default=0)
    db_us = models.BigIntegerField(default=0)
    cache_us = models.BigIntegerField(default=0)
    queries = models.PositiveIntegerField(default=0)
    cache_hits = models.PositiveIntegerField(default=0)
    cache_misses = models.PositiveIntegerField(default=0)
    # Responses whose uncompressed and sent sizes are both known.
    sized_responses = models.PositiveIntegerField(default=0)
    bytes_original = models.BigIntegerField(default=0)
    bytes_sent = models.BigIntegerField(default=0)
    slow_queries = models.PositiveIntegerField(default=0)
    n_plus_one = models.PositiveIntegerField(default=0)
    profiles = models.PositiveIntegerField(default=0)
    profiles_skipped = models.PositiveIntegerField(default=0)
    # Response times in microseconds (exact percentiles across processes).
    durations = JSONText(default=list)
    # [{"sql": fingerprint, "count": n, "ms": total, "slow": n, "n_plus_one": n}]
    sql = JSONText(default=list)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "created_at"])]

    def __str__(self) -> str:
        return f"{self.endpoint} from {self.process}"


class Profile(models.Model):
    endpoint = models.CharField(max_length=255)
    created_at = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=20)  # "sample" or "staff"
    engine = models.CharField(max_length=20, default="cprofile")
    duration_ms = models.FloatField()
    python = models.CharField(max_length=20)
    threads = models.PositiveIntegerField()
    functions = JSONText(default=list)
    sql = JSONText(default=list)
    # Sampled stacks (perfsite_profiling.stacks); None for cProfile profiles.
    # A sampled profile's functions and .prof are derived from them on read.
    stacks = JSONText(null=True, default=None)
    prof = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["endpoint", "created_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.endpoint} at {self.created_at:%Y-%m-%d %H:%M:%S}"
