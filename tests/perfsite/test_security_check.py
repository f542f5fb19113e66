"""The site's on-loop SecurityMiddleware keeps Django's security deploy checks."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from perfsite.checks import DJANGO, OURS, check_security_middleware


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


def test_the_subclass_is_checked_as_django_s_own(settings: Any) -> None:
    with override_settings(SECURE_HSTS_SECONDS=0, SECURE_CONTENT_TYPE_NOSNIFF=False):
        found = ids(check_security_middleware())
    assert "security.W004" in found and "security.W006" in found


def test_django_s_own_is_left_to_django(settings: Any) -> None:
    middleware = [DJANGO if m == OURS else m for m in settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=middleware, SECURE_HSTS_SECONDS=0):
        assert check_security_middleware() == []


def test_without_either_the_check_warns(settings: Any) -> None:
    middleware = [m for m in settings.MIDDLEWARE if m != OURS]
    with override_settings(MIDDLEWARE=middleware):
        assert ids(check_security_middleware()) == ["perfsite.W001"]
