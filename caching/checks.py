"""System checks for the caching app's settings (ids caching.E0xx / W0xx)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.checks import CheckMessage, Error, Warning

from caching.conf import conf


def check_settings(**kwargs: Any) -> list[CheckMessage]:
    """Every ``CACHING_*`` setting against its kind (ids in ``caching.conf``),
    then what relates two of them; read from ``conf``, as the code reads them."""
    errors = conf.check()
    if conf.fits("CACHING_JITTER") and conf.JITTER >= 1:
        errors.append(
            Error(
                "CACHING_JITTER must be below 1.",
                hint="It is the fraction of a timeout taken off at random.",
                id="caching.E012",
            )
        )
    if (
        conf.fits("CACHING_BREAKER_COOLDOWN", "CACHING_BREAKER_COOLDOWN_MAX")
        and conf.BREAKER_COOLDOWN_MAX < conf.BREAKER_COOLDOWN
    ):
        errors.append(
            Error(
                "CACHING_BREAKER_COOLDOWN_MAX is below CACHING_BREAKER_COOLDOWN.",
                id="caching.E013",
            )
        )
    if hasattr(settings, "CACHING_NEAR_CACHE"):
        errors.append(
            Warning(
                "CACHING_NEAR_CACHE is deprecated.",
                hint='Set OPTIONS["NEAR_CACHE"] on each FailoverCache in CACHES '
                "instead; until then the setting is the default of that option.",
                id="caching.W005",
            )
        )
    return errors


def check_shared_caches(**kwargs: Any) -> list[CheckMessage]:
    """Surrogate-key preset and purge targets (ids caching.E024, E027, W003)."""
    from caching.purgers import configured
    from caching.surrogate import PRESETS

    errors: list[CheckMessage] = []
    preset = conf.SURROGATE_KEYS  # a bad one is caching.E024 (check_settings)
    if preset and preset not in PRESETS:
        errors.append(
            Error(
                "CACHING_SURROGATE_KEYS is not a known preset.",
                hint=f"Got {preset!r}; use one of {', '.join(map(repr, PRESETS))}, "
                "or '' for none.",
                id="caching.E024",
            )
        )
    try:
        targets = configured(conf.PURGERS)
    except ValueError as exc:
        errors.append(
            Error("CACHING_PURGERS is invalid.", hint=str(exc), id="caching.E027")
        )
    else:
        if targets and not preset:
            errors.append(
                Warning(
                    "CACHING_PURGERS is set but CACHING_SURROGATE_KEYS is not.",
                    hint="Responses carry no tags, so purges remove nothing.",
                    id="caching.W003",
                )
            )
    return errors


def _failing_caches(
    backend_path: str,
    probe: str,
    errors: tuple[type[BaseException], ...],
    skip: Collection[str] = (),
) -> Iterator[tuple[str, BaseException]]:
    """Each cache of ``backend_path`` whose method ``probe`` raises ``errors``."""
    for alias, config in settings.CACHES.items():
        if config.get("BACKEND") == backend_path and alias not in skip:
            try:
                getattr(caches[alias], probe)()
            except errors as exc:
                yield alias, exc


def check_embedded(**kwargs: Any) -> list[CheckMessage]:
    """An embedded cache whose file cannot be opened is an error at start-up."""
    from caching.embedded import STORE_ERRORS

    return [
        Error(
            f"Cache {alias!r} cannot use its SQLite file: {exc}",
            hint="Point its LOCATION (DJANGO_CACHE_PATH for the demo) "
            "at a writable file.",
            id="caching.E023",
        )
        for alias, exc in _failing_caches(
            "caching.embedded.SQLiteCache", "probe", STORE_ERRORS
        )
    ]


def _bad_cluster_seeds() -> dict[str, str]:
    """The FailoverCaches with ``OPTIONS["CLUSTER"]`` whose LOCATION is unusable."""
    from caching.cluster import is_cluster, seeds

    bad = {}
    for alias, config in settings.CACHES.items():
        if config.get("BACKEND") == "caching.backends.FailoverCache" and is_cluster(
            config
        ):
            try:
                seeds(config.get("LOCATION", ""))
            except ValueError as exc:
                bad[alias] = str(exc)
    return bad


def check_cluster(**kwargs: Any) -> list[CheckMessage]:
    """Seed nodes a cluster cache can use; no near cache asked for on one."""
    from caching.cluster import is_cluster

    messages: list[CheckMessage] = [
        Error(
            f"Cache {alias!r}: bad LOCATION for CLUSTER.",
            hint=f"{reason}; list seed nodes, comma-separated.",
            id="caching.E028",
        )
        for alias, reason in _bad_cluster_seeds().items()
    ]
    for alias, config in settings.CACHES.items():
        options = config.get("OPTIONS", {})
        if is_cluster(config) and options.get("NEAR_CACHE"):
            messages.append(
                Warning(
                    f"Cache {alias!r}: NEAR_CACHE is ignored with CLUSTER.",
                    hint="The near cache needs one Redis to track keys; "
                    "on a cluster every read goes to its node.",
                    id="caching.W004",
                )
            )
    return messages


def check_redis(**kwargs: Any) -> list[CheckMessage]:
    """Warn, without failing start-up, when a FailoverCache's Redis is unreachable."""
    from caching.errors import REDIS_ERRORS

    bad = _bad_cluster_seeds()  # caching.E028 says why
    return [
        Warning(
            f"Redis of cache {alias!r} is unreachable: {exc}",
            hint="The site runs on the per-process fallback until it "
            "answers; check the cache's LOCATION (REDIS_URL).",
            id="caching.W001",
        )
        for alias, exc in _failing_caches(
            "caching.backends.FailoverCache", "ping", REDIS_ERRORS, skip=bad
        )
    ]


RESPONSE_CACHE = "caching.middleware.ResponseCacheMiddleware"
# What may sit above the response cache: nothing that sets cookies, varies,
# compresses or needs the view.
_ABOVE = (
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "assets.middleware.StaticFilesMiddleware",
)
# What must sit below it, because it changes what the cache would store or
# must run for every response: judged on the final response, these are seen.
_BELOW = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "assets.compression.CompressionMiddleware",
)


def check_middleware(**kwargs: Any) -> list[CheckMessage]:
    """The response cache's place in ``MIDDLEWARE`` (ids caching.E016, W002)."""
    from caching.http import registered_policies

    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if RESPONSE_CACHE not in middleware:
        if not registered_policies():
            return []
        return [
            Warning(
                f"Views use cache_response or conditional but {RESPONSE_CACHE} "
                "is not in MIDDLEWARE.",
                hint="Without it they only filter their query: nothing is "
                "stored and no 304 is sent. Add it right under "
                "SecurityMiddleware and the static files middleware.",
                id="caching.W002",
            )
        ]
    position = middleware.index(RESPONSE_CACHE)
    misplaced = [m for m in middleware[:position] if m in _BELOW] + [
        m for m in middleware[position + 1 :] if m in _ABOVE
    ]
    if not misplaced:
        return []
    return [
        Error(
            f"{RESPONSE_CACHE} is misplaced in MIDDLEWARE.",
            hint=f"Put it right under {', '.join(_ABOVE[:1])} and the static "
            f"files middleware, above {', '.join(misplaced)}: it must judge "
            "the response they finish and answer before they run.",
            id="caching.E016",
        )
    ]
