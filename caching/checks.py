"""System checks for the caching app's settings (ids caching.E0xx / W0xx)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.core.checks import CheckMessage, Error, Warning

from caching.conf import DEFAULTS


class _Rule(NamedTuple):
    kind: type
    minimum: float
    id: str


_NUMBERS: dict[str, _Rule] = {
    "CACHING_FALLBACK_TIMEOUT": _Rule(int, 1, id="caching.E001"),
    "CACHING_FALLBACK_MAX_ENTRIES": _Rule(int, 1, id="caching.E002"),
    "CACHING_BREAKER_THRESHOLD": _Rule(int, 1, id="caching.E003"),
    "CACHING_BREAKER_COOLDOWN": _Rule(float, 0, id="caching.E004"),
    "CACHING_BREAKER_COOLDOWN_MAX": _Rule(float, 0, id="caching.E005"),
    "CACHING_REPLAY_LIMIT": _Rule(int, 0, id="caching.E006"),
    "CACHING_GROUP_TIMEOUT": _Rule(int, 60, id="caching.E007"),
    "CACHING_LOCK_TIMEOUT": _Rule(float, 0.1, id="caching.E008"),
    "CACHING_LOCK_WAIT": _Rule(float, 0, id="caching.E009"),
    "CACHING_JITTER": _Rule(float, 0, id="caching.E010"),
    "CACHING_STATS_FLUSH_INTERVAL": _Rule(float, 0, id="caching.E011"),
    "CACHING_NEAR_MAX_ENTRIES": _Rule(int, 0, id="caching.E021"),
    "CACHING_NEAR_MAX_BYTES": _Rule(int, 0, id="caching.E022"),
    "CACHING_EXIT_WAIT": _Rule(float, 0, id="caching.E014"),
    "CACHING_SHARED_MAX_AGE": _Rule(int, 0, id="caching.E025"),
    "CACHING_PURGE_QUEUE": _Rule(int, 1, id="caching.E026"),
    "CACHING_ROW_LIMIT": _Rule(int, 0, id="caching.E030"),
    "CACHING_COUNTER_FLUSH_INTERVAL": _Rule(float, 0, id="caching.E031"),
}


def _number_errors() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, (kind, minimum, check_id) in _NUMBERS.items():
        value = getattr(settings, name, DEFAULTS[name])
        valid_type = isinstance(value, int | float) and not isinstance(value, bool)
        if kind is int:
            valid_type = valid_type and isinstance(value, int)
        if not valid_type or value < minimum:
            errors.append(
                Error(
                    f"{name} must be {'an integer' if kind is int else 'a number'} "
                    f">= {minimum}.",
                    hint=f"Got {value!r}; the default is {DEFAULTS[name]!r}.",
                    id=check_id,
                )
            )
    return errors


def check_settings(**kwargs: Any) -> list[CheckMessage]:
    errors = _number_errors()
    near = getattr(settings, "CACHING_NEAR_CACHE", DEFAULTS["CACHING_NEAR_CACHE"])
    if not isinstance(near, bool):
        errors.append(
            Error(
                "CACHING_NEAR_CACHE must be True or False.",
                hint=f"Got {near!r}; the default is True.",
                id="caching.E020",
            )
        )
    if not errors:
        jitter = getattr(settings, "CACHING_JITTER", DEFAULTS["CACHING_JITTER"])
        if jitter >= 1:
            errors.append(
                Error(
                    "CACHING_JITTER must be below 1.",
                    hint="It is the fraction of a timeout taken off at random.",
                    id="caching.E012",
                )
            )
        cooldown = getattr(
            settings, "CACHING_BREAKER_COOLDOWN", DEFAULTS["CACHING_BREAKER_COOLDOWN"]
        )
        cooldown_max = getattr(
            settings,
            "CACHING_BREAKER_COOLDOWN_MAX",
            DEFAULTS["CACHING_BREAKER_COOLDOWN_MAX"],
        )
        if cooldown_max < cooldown:
            errors.append(
                Error(
                    "CACHING_BREAKER_COOLDOWN_MAX is below CACHING_BREAKER_COOLDOWN.",
                    id="caching.E013",
                )
            )
    return errors


def check_shared_caches(**kwargs: Any) -> list[CheckMessage]:
    """Surrogate-key preset and purge targets (ids caching.E024, E027, W003)."""
    from caching.purgers import configured
    from caching.surrogate import PRESETS

    errors: list[CheckMessage] = []
    preset = getattr(settings, "CACHING_SURROGATE_KEYS", "")
    if preset not in ("", None, *PRESETS):
        errors.append(
            Error(
                "CACHING_SURROGATE_KEYS is not a known preset.",
                hint=f"Got {preset!r}; use one of {', '.join(map(repr, PRESETS))}, "
                "or '' for none.",
                id="caching.E024",
            )
        )
    purgers = getattr(settings, "CACHING_PURGERS", [])
    try:
        targets = configured(purgers or [])
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


def check_release(**kwargs: Any) -> list[CheckMessage]:
    value = getattr(settings, "CACHING_RELEASE", None)
    if value is None:
        return []
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 64
        or not value.isprintable()
        or any(c.isspace() for c in value)
    ):
        return [
            Error(
                "CACHING_RELEASE must be 1-64 printable characters, no spaces.",
                hint=f"Got {value!r}; None derives it from the static manifest, "
                "the installed versions and the templates.",
                id="caching.E015",
            )
        ]
    return []


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
