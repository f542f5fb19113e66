"""The settings skeleton every app's conf.py is built on."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from assets.conf import conf as assets_conf
from caching.conf import conf as caching_conf
from perfsite_conf import AppSettings, Setting
from perfsite_conf.kinds import Int
from perfsite_profiling.conf import conf as profiling_conf

CONFS = [caching_conf, assets_conf, profiling_conf]


class Example(AppSettings):
    @property
    def LIMIT(self) -> int:
        return self._int("EXAMPLE_LIMIT")


@pytest.mark.parametrize("conf", CONFS, ids=lambda c: type(c).__module__)
def test_every_setting_has_its_default_in_one_place(conf: AppSettings) -> None:
    names = [n for n, v in vars(type(conf)).items() if isinstance(v, property)]
    assert names
    for name in names:
        getattr(conf, name)  # a setting read without a DEFAULTS entry raises KeyError
    prefix = {caching_conf: "CACHING_", assets_conf: "ASSETS_"}.get(conf, "PROFILING_")
    assert all(name.startswith(prefix) for name in conf.defaults)


def test_a_value_is_read_once_then_forgotten_when_a_setting_changes(
    settings: Any,
) -> None:
    example = Example({"EXAMPLE_LIMIT": Setting(3, Int(), "example.E001")})
    assert example.LIMIT == 3
    settings.EXAMPLE_LIMIT = 7  # sends setting_changed
    assert example.LIMIT == 7
    with override_settings(EXAMPLE_LIMIT=9):
        assert example.LIMIT == 9
    assert example.LIMIT == 7


def test_a_memoised_value_is_not_looked_up_again(settings: Any) -> None:
    settings.EXAMPLE_LIMIT = 5
    example = Example({"EXAMPLE_LIMIT": Setting(3, Int(), "example.E001")})
    assert example.LIMIT == 5
    # Behind the signal's back (as no Django API does): the memo answers.
    from django.conf import settings as django_settings

    django_settings._wrapped.EXAMPLE_LIMIT = 6  # type: ignore[union-attr]
    assert example.LIMIT == 5


def test_a_derived_default_follows_the_setting_it_derives_from(settings: Any) -> None:
    if hasattr(settings, "ASSETS_DEBUG"):
        del settings.ASSETS_DEBUG
    settings.DEBUG = True
    assert assets_conf.DEBUG is True
    settings.DEBUG = False
    assert assets_conf.DEBUG is False
    settings.ASSETS_DEBUG = True
    assert assets_conf.DEBUG is True
