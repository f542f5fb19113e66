"""The settings skeleton the three apps share.

Each app declares its settings once, in its ``conf.py``: a ``SETTINGS`` dict
mapping each full setting name (so a grep finds it) to a ``Setting`` (its
default, its kind from ``perfsite_conf.kinds`` and the id of the system check
that reports a bad value), and a subclass of ``AppSettings`` with one typed
property per setting. Values are looked up in ``django.conf.settings`` on
first use and memoised: hot paths (middleware, cache calls) read several
settings per request, and a setting that is not defined costs an
``AttributeError`` on every plain ``getattr``. Django's ``setting_changed``
signal (``override_settings``, pytest-django's ``settings`` fixture) forgets
every memoised value, since a default may derive from another setting
(``ASSETS_DEBUG`` from ``DEBUG``, say).

Nothing is coerced. ``AppSettings.check()`` (which each app's system checks
call) reports every value that does not fit its kind, under its check id,
reading the very values the properties return; and the typed getters
(``_bool``, ``_int``, ``_number``, ``_str``) read a value of the wrong type
as the default, so ``PROFILING_ENABLED = "false"`` is refused at start-up
and, where checks do not run (a plain WSGI server), leaves profiling off
rather than turning it on.

Not a Django app: it holds no models and registers no checks, and each app
stays usable on its own with only itself in ``INSTALLED_APPS``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.signals import setting_changed

from perfsite_conf.kinds import Kind, is_integer, is_number

_MISSING = object()


@dataclass(frozen=True)
class Setting:
    """One setting: its default, the kind of value it takes, the check id
    that reports any other value, and a hint for that check."""

    default: Any
    kind: Kind
    id: str
    hint: str = ""


class AppSettings:
    """One app's settings: ``specs`` maps each full setting name to its ``Setting``."""

    def __init__(self, specs: Mapping[str, Setting]) -> None:
        self.specs = specs
        self.defaults = {name: spec.default for name, spec in specs.items()}
        self._values: dict[str, Any] = {}
        setting_changed.connect(self._forget, weak=False)

    def value(self, name: str) -> Any:
        """The value of ``name`` as written (or its default), not judged."""
        value = self._values.get(name, _MISSING)
        if value is _MISSING:
            value = self._values[name] = getattr(settings, name, self.defaults[name])
        return value

    _get = value

    def problems(self) -> Iterator[tuple[str, Setting, str]]:
        """``(name, spec, problem)`` for each value that does not fit its kind."""
        for name, spec in self.specs.items():
            problem = spec.kind.problem(self.value(name))
            if problem is not None:
                yield name, spec, problem

    def check(self) -> list[CheckMessage]:
        """One ``Error`` per setting whose value does not fit, with its check id."""
        return [
            Error(
                f"{name} {problem}.",
                hint=f"Got {self.value(name)!r}; the default is {spec.default!r}."
                + (f" {spec.hint}" if spec.hint else ""),
                id=spec.id,
            )
            for name, spec, problem in self.problems()
        ]

    def fits(self, *names: str) -> bool:
        """Every one of ``names`` fits its kind (so a later check may use it)."""
        return all(self.specs[n].kind.problem(self.value(n)) is None for n in names)

    def _bool(self, name: str) -> bool:
        value = self.value(name)
        return value if isinstance(value, bool) else bool(self.defaults[name])

    def _int(self, name: str) -> int:
        value = self.value(name)
        return value if is_integer(value) else int(self.defaults[name])

    def _number(self, name: str) -> float:
        value = self.value(name)
        return float(value if is_number(value) else self.defaults[name])

    def _str(self, name: str) -> str:
        value = self.value(name)
        return value if isinstance(value, str) else str(self.defaults[name])

    def _forget(self, **kwargs: Any) -> None:
        self._values.clear()
