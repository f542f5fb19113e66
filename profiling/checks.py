"""System checks for the profiling app's settings (ids profiling.E0xx / W0xx)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage


def check_settings(**kwargs: Any) -> list[CheckMessage]:
    return []
