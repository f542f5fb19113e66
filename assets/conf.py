"""The assets app's settings: defaults in ``DEFAULTS``, one typed property each
(the skeleton is ``perfsite_conf.AppSettings``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from perfsite_conf import AppSettings, Setting
from perfsite_conf.kinds import (
    AnyValue,
    Bool,
    DictOf,
    Int,
    ListOf,
    Optional,
    Text,
    Where,
    is_integer,
)

# seconds: a year, the longest lifetime RFC 9111 caches are expected to honour.
YEAR = 365 * 24 * 60 * 60

# The shapes of the settings that take more than a plain value.
BUNDLE_KINDS = ("css", "js", "critical")  # assets.bundles.KINDS
EAGERNESS = ("immediate", "eager", "moderate", "conservative")  # speculation rules
BUNDLES = DictOf(
    Text(pattern=r"[\w.-]+", description="a bundle name (letters, digits, . - _)"),
    DictOf(Text(choices=BUNDLE_KINDS), ListOf(Text())),
)
PATH = Where(Text(), lambda v: v.startswith("/"), "a path starting with /")
MATCH = Where(
    PATH,
    lambda v: v.isprintable() and not set(v) & {'"', "\\"},
    "a URL pattern without quotes or backslashes",
)
CDN_URL = Where(
    Text(),
    lambda v: v == "" or v.startswith(("https://", "http://", "//")),
    "'' or an origin such as 'https://cdn.example.com'",
)
OUTPUT_DIR = Where(
    Text(),
    lambda v: bool(v) and not v.startswith("/") and ".." not in v.split("/"),
    "a relative directory under STATIC_ROOT",
)

SETTINGS: dict[str, Setting] = {
    "ASSETS_BUNDLES": Setting({}, BUNDLES, "assets.E001"),
    "ASSETS_DEBUG": Setting(
        None, Optional(Bool()), "assets.E027"
    ),  # None: follow DEBUG
    "ASSETS_CDN_URL": Setting("", CDN_URL, "assets.E028"),
    "ASSETS_OUTPUT_DIR": Setting("bundles", OUTPUT_DIR, "assets.E029"),
    "ASSETS_LAZY_JS_TIMEOUT": Setting(
        3000, Int(minimum=0), "assets.E004"
    ),  # milliseconds
    "ASSETS_MAX_AGE": Setting(
        None, Optional(Int(minimum=0)), "assets.E004"
    ),  # seconds; None: WHITENOISE_MAX_AGE, else a day
    "ASSETS_IMMUTABLE_MAX_AGE": Setting(YEAR, Int(minimum=0), "assets.E004"),  # seconds
    "ASSETS_COMPRESS_ENCODINGS": Setting(
        ["br", "zstd", "gzip"],
        ListOf(Text(choices=("br", "zstd", "gzip"))),
        "assets.E005",
    ),
    "ASSETS_COMPRESS_MIN_SIZE": Setting(512, Int(minimum=0), "assets.E004"),  # bytes
    "ASSETS_BROTLI_QUALITY": Setting(
        4,
        Int(0, 9),
        "assets.E006",
        "For live responses: Brotli 10 and 11 take hundreds of milliseconds "
        "per page; 4 or 5 is fast.",
    ),
    "ASSETS_ZSTD_LEVEL": Setting(
        6,
        Int(1, 19),
        "assets.E008",
        "For live responses: above 19 the window exceeds the 8 MB browsers "
        "accept; 3 to 6 is fast.",
    ),
    "ASSETS_GZIP_LEVEL": Setting(6, Int(1, 9), "assets.E007"),
    "ASSETS_DICTIONARY_TEMPLATES": Setting([], ListOf(Text()), "assets.E009"),
    "ASSETS_DICTIONARY_MATCH": Setting("/*", MATCH, "assets.E010"),
    "ASSETS_CRITICAL_PAGES": Setting(
        {}, DictOf(Text(), ListOf(AnyValue())), "assets.E020"
    ),
    "ASSETS_CRITICAL_VIEWPORTS": Setting(
        [[412, 823], [1350, 940]],
        ListOf(ListOf(Int(minimum=1), length=2), nonempty=True),
        "assets.E021",
    ),  # CSS pixels
    "ASSETS_CRITICAL_BROWSER": Setting("chromium", Text(), "assets.E022"),
    "ASSETS_IMAGE_WIDTHS": Setting(
        [400, 800, 1200, 1600], ListOf(Int(minimum=1)), "assets.E023"
    ),  # pixels
    "ASSETS_IMAGE_FORMATS": Setting(
        ["avif", "webp"], ListOf(Text(choices=("avif", "webp"))), "assets.E024"
    ),
    "ASSETS_SPECULATION_EXCLUDE": Setting(
        ["/admin/*", "/*logout*", "/*login*", "/profiling/*"],
        ListOf(PATH),
        "assets.E025",
    ),
    "ASSETS_SPECULATION_EAGERNESS": Setting(
        "moderate", Text(choices=EAGERNESS), "assets.E026"
    ),
}
DEFAULTS: dict[str, Any] = {name: spec.default for name, spec in SETTINGS.items()}


class Settings(AppSettings):
    @property
    def BUNDLES(self) -> dict[str, dict[str, list[str]]]:
        """Named bundles: ``{"name": {"css": [...], "js": [...], "critical": [...]}}``."""
        value: dict[str, dict[str, list[str]]] = self._get("ASSETS_BUNDLES")
        return value

    @property
    def DEBUG(self) -> bool:
        """Emit the source files one by one instead of the built bundles."""
        value = self._get("ASSETS_DEBUG")
        return value if isinstance(value, bool) else bool(settings.DEBUG)

    @property
    def CDN_URL(self) -> str:
        """Origin (and path) put in front of relative static URLs by ``cdn_url``."""
        return self._str("ASSETS_CDN_URL").rstrip("/")

    @property
    def OUTPUT_DIR(self) -> str:
        return self._str("ASSETS_OUTPUT_DIR")

    @property
    def LAZY_JS_TIMEOUT(self) -> int:
        """Milliseconds before ``lazy_js`` loads its scripts with no interaction."""
        return self._int("ASSETS_LAZY_JS_TIMEOUT")

    @property
    def MAX_AGE(self) -> int:
        """Seconds static files without a content hash may be cached."""
        value = self._get("ASSETS_MAX_AGE")
        if value is None:
            value = getattr(settings, "WHITENOISE_MAX_AGE", 24 * 60 * 60)
        return value if is_integer(value) else 24 * 60 * 60

    @property
    def IMMUTABLE_MAX_AGE(self) -> int:
        """Seconds hashed static files may be cached (with ``immutable``)."""
        return self._int("ASSETS_IMMUTABLE_MAX_AGE")

    @property
    def COMPRESS_ENCODINGS(self) -> list[str]:
        """Codings the compression middleware offers, the server's favourite first."""
        value: list[str] = self._get("ASSETS_COMPRESS_ENCODINGS")
        return value

    @property
    def COMPRESS_MIN_SIZE(self) -> int:
        """Bytes: smaller bodies are sent as they are."""
        return self._int("ASSETS_COMPRESS_MIN_SIZE")

    @property
    def BROTLI_QUALITY(self) -> int:
        return self._int("ASSETS_BROTLI_QUALITY")

    @property
    def ZSTD_LEVEL(self) -> int:
        """zstd level for live responses (and for ``dcz``)."""
        return self._int("ASSETS_ZSTD_LEVEL")

    @property
    def GZIP_LEVEL(self) -> int:
        return self._int("ASSETS_GZIP_LEVEL")

    @property
    def DICTIONARY_TEMPLATES(self) -> list[str]:
        """Templates rendered into the ``dcz`` dictionary; empty: no dictionary."""
        value: list[str] = self._get("ASSETS_DICTIONARY_TEMPLATES")
        return value

    @property
    def DICTIONARY_MATCH(self) -> str:
        """URL pattern (RFC 9842 ``match``) of the pages the dictionary serves."""
        return self._str("ASSETS_DICTIONARY_MATCH")

    @property
    def CRITICAL_PAGES(self) -> dict[str, list[dict[str, str]]]:
        """Per bundle, the pages whose first viewport its critical CSS covers:
        ``{"site": [{"template": "home.html", "context": "dotted.callable"}]}``."""
        value: dict[str, list[dict[str, str]]] = self._get("ASSETS_CRITICAL_PAGES")
        return value

    @property
    def CRITICAL_VIEWPORTS(self) -> list[list[int]]:
        """``[width, height]`` CSS pixels of each first viewport (mobile, desktop)."""
        value: list[list[int]] = self._get("ASSETS_CRITICAL_VIEWPORTS")
        return value

    @property
    def CRITICAL_BROWSER(self) -> str:
        """Chromium's command (or path); '' keeps the declared critical lists."""
        return self._str("ASSETS_CRITICAL_BROWSER")

    @property
    def IMAGE_WIDTHS(self) -> list[int]:
        """Pixel widths of the responsive variants (never wider than the source)."""
        value: list[int] = self._get("ASSETS_IMAGE_WIDTHS")
        return value

    @property
    def IMAGE_FORMATS(self) -> list[str]:
        """Formats of the responsive variants, the most compact first."""
        value: list[str] = self._get("ASSETS_IMAGE_FORMATS")
        return value

    @property
    def SPECULATION_EXCLUDE(self) -> list[str]:
        """URL patterns (URL Pattern syntax) never prefetched."""
        value: list[str] = self._get("ASSETS_SPECULATION_EXCLUDE")
        return value

    @property
    def SPECULATION_EAGERNESS(self) -> str:
        return self._str("ASSETS_SPECULATION_EAGERNESS")


conf = Settings(SETTINGS)
