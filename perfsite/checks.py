"""Django's security deploy checks, for the site's on-loop ``SecurityMiddleware``.

Django's checks find its ``SecurityMiddleware`` by its dotted path in
``MIDDLEWARE``; the site lists a subclass (``perfsite.middleware``), so they
would all pass silently and ``security.W001`` would say it is missing. The
settings silence ``security.W001``, and this check runs the checks that
depend on the middleware as if Django's own were listed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.core.checks.security import base
from django.test.utils import override_settings

DJANGO = "django.middleware.security.SecurityMiddleware"
OURS = "perfsite.middleware.SecurityMiddleware"
_NEEDS_MIDDLEWARE = (
    base.check_sts,
    base.check_sts_include_subdomains,
    base.check_sts_preload,
    base.check_content_type_nosniff,
    base.check_ssl_redirect,
    base.check_referrer_policy,
    base.check_cross_origin_opener_policy,
)


@register(Tags.compatibility, deploy=True)
def check_security_middleware(
    app_configs: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    middleware = list(settings.MIDDLEWARE)
    if DJANGO in middleware:
        return []  # Django's own checks see it
    if OURS not in middleware:
        return [
            Warning(
                f"Neither {OURS} nor {DJANGO} is in MIDDLEWARE.",
                hint="The HSTS, nosniff, referrer and SSL redirect settings "
                "have no effect without one of them.",
                id="perfsite.W001",
            )
        ]
    swapped = [DJANGO if path == OURS else path for path in middleware]
    messages: list[CheckMessage] = []
    with override_settings(MIDDLEWARE=swapped):
        for check in _NEEDS_MIDDLEWARE:
            messages.extend(check(app_configs))
    return messages
