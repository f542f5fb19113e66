"""The settings skeleton the three apps share.

Each app declares its settings once, in its ``conf.py``: a ``DEFAULTS`` dict
(full setting names, so a grep finds them) and a subclass of ``AppSettings``
with one typed property per setting, reading ``self._get(name)``. Values are
looked up in ``django.conf.settings`` on first use and memoised: hot paths
(middleware, cache calls) read several settings per request, and a setting
that is not defined costs an ``AttributeError`` on every plain ``getattr``.
Django's ``setting_changed`` signal (``override_settings``, pytest-django's
``settings`` fixture) forgets every memoised value, since a default may derive
from another setting (``ASSETS_DEBUG`` from ``DEBUG``, say).

Not a Django app: it holds no models or checks, and each app stays usable on
its own with only itself in ``INSTALLED_APPS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

_MISSING = object()


class AppSettings:
    """One app's settings: ``defaults`` maps each full setting name to its default."""

    def __init__(self, defaults: Mapping[str, Any]) -> None:
        self.defaults = defaults
        self._values: dict[str, Any] = {}
        setting_changed.connect(self._forget, weak=False)

    def _get(self, name: str) -> Any:
        value = self._values.get(name, _MISSING)
        if value is _MISSING:
            value = self._values[name] = getattr(settings, name, self.defaults[name])
        return value

    def _forget(self, **kwargs: Any) -> None:
        self._values.clear()
