"""Every setting of every app is checked with its kind: one row per setting,
built from the apps' ``SETTINGS``, so a setting added without a kind and a
check id fails here."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from assets.conf import conf as assets_conf
from caching import surrogate
from caching.conf import SURROGATE_PRESETS
from caching.conf import conf as caching_conf
from perfsite_conf import AppSettings
from perfsite_conf.kinds import (
    Bool,
    DictOf,
    Int,
    Kind,
    ListOf,
    Number,
    Optional,
    Text,
    Where,
)
from perfsite_profiling.conf import conf as profiling_conf

CONFS: dict[str, AppSettings] = {
    "caching": caching_conf,
    "assets": assets_conf,
    "profiling": profiling_conf,
}


def bad_value(kind: Kind) -> Any:
    """A value of the wrong type for ``kind``: what a typo in settings.py gives."""
    match kind:
        case Bool():
            return "false"  # a string, not coerced to True
        case Int():
            return "5"
        case Number():
            return "1.5"
        case Text():
            return 5
        case Optional() | Where():
            return bad_value(kind.kind)
        case ListOf():
            return "x"
        case DictOf():
            return ["x"]
    raise AssertionError(f"no bad value for {kind!r}: give the setting a kind")


ROWS = [
    pytest.param(name, bad_value(spec.kind), spec.id, id=name)
    for conf in CONFS.values()
    for name, spec in conf.specs.items()
]


def test_every_app_declares_its_settings_with_kinds() -> None:
    for app, conf in CONFS.items():
        assert conf.specs, app
        assert all(spec.id.startswith(f"{app}.E") for spec in conf.specs.values())
    assert len(ROWS) == sum(len(c.specs) for c in CONFS.values())


@pytest.mark.parametrize(("name", "value", "check_id"), ROWS)
def test_a_bad_value_of_every_setting_is_refused(
    name: str, value: Any, check_id: str
) -> None:
    with override_settings(**{name: value}):
        messages = [m for m in run_checks() if m.id == check_id]
    assert any(name in m.msg for m in messages), (name, value, check_id)


@pytest.mark.parametrize(
    "name",
    [n for c in CONFS.values() for n, s in c.specs.items() if isinstance(s.kind, Bool)],
)
def test_false_as_a_string_reads_as_the_default_not_as_true(name: str) -> None:
    conf = next(c for c in CONFS.values() if name in c.specs)
    prop = name.split("_", 1)[1]
    with override_settings(**{name: "false"}):
        assert getattr(conf, prop) is conf.defaults[name]
    with override_settings(**{name: not conf.defaults[name]}):
        assert getattr(conf, prop) is (not conf.defaults[name])


def test_profiling_enabled_false_as_a_string_leaves_profiling_off() -> None:
    with override_settings(PROFILING_ENABLED="false"):
        assert profiling_conf.ENABLED is False
        assert "profiling.E008" in [m.id for m in run_checks()]


def test_the_defaults_pass_their_own_kinds() -> None:
    for conf in CONFS.values():
        for name, spec in conf.specs.items():
            assert spec.kind.problem(spec.default) is None, name


def test_the_surrogate_presets_conf_lists_are_the_presets() -> None:
    # caching.conf imports no module of its app; the list is kept in step here.
    assert set(SURROGATE_PRESETS) == {"", *surrogate.PRESETS}
