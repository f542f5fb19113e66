"""The assets app's settings: defaults in ``DEFAULTS``, one typed property each
(the skeleton is ``perfsite_conf.AppSettings``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from perfsite_conf import AppSettings

# seconds: a year, the longest lifetime RFC 9111 caches are expected to honour.
YEAR = 365 * 24 * 60 * 60

DEFAULTS: dict[str, Any] = {
    "ASSETS_BUNDLES": {},
    "ASSETS_DEBUG": None,  # None: follow DEBUG
    "ASSETS_CDN_URL": "",
    "ASSETS_OUTPUT_DIR": "bundles",
    "ASSETS_LAZY_JS_TIMEOUT": 3000,  # milliseconds
    "ASSETS_MAX_AGE": None,  # seconds; None: WHITENOISE_MAX_AGE, else a day
    "ASSETS_IMMUTABLE_MAX_AGE": YEAR,  # seconds
    "ASSETS_COMPRESS_ENCODINGS": ["br", "zstd", "gzip"],
    "ASSETS_COMPRESS_MIN_SIZE": 512,  # bytes
    "ASSETS_BROTLI_QUALITY": 4,
    "ASSETS_ZSTD_LEVEL": 6,
    "ASSETS_GZIP_LEVEL": 6,
    "ASSETS_DICTIONARY_TEMPLATES": [],
    "ASSETS_DICTIONARY_MATCH": "/*",
    "ASSETS_CRITICAL_PAGES": {},
    "ASSETS_CRITICAL_VIEWPORTS": [[412, 823], [1350, 940]],  # CSS pixels
    "ASSETS_CRITICAL_BROWSER": "chromium",
    "ASSETS_IMAGE_WIDTHS": [400, 800, 1200, 1600],  # pixels
    "ASSETS_IMAGE_FORMATS": ["avif", "webp"],
    "ASSETS_SPECULATION_EXCLUDE": ["/admin/*", "/*logout*", "/*login*", "/profiling/*"],
    "ASSETS_SPECULATION_EAGERNESS": "moderate",
}


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
        return bool(settings.DEBUG if value is None else value)

    @property
    def CDN_URL(self) -> str:
        """Origin (and path) put in front of relative static URLs by ``cdn_url``."""
        return str(self._get("ASSETS_CDN_URL") or "").rstrip("/")

    @property
    def OUTPUT_DIR(self) -> str:
        value: str = self._get("ASSETS_OUTPUT_DIR")
        return value

    @property
    def LAZY_JS_TIMEOUT(self) -> int:
        """Milliseconds before ``lazy_js`` loads its scripts with no interaction."""
        value: int = self._get("ASSETS_LAZY_JS_TIMEOUT")
        return value

    @property
    def MAX_AGE(self) -> int:
        """Seconds static files without a content hash may be cached."""
        value = self._get("ASSETS_MAX_AGE")
        if value is None:
            value = getattr(settings, "WHITENOISE_MAX_AGE", 24 * 60 * 60)
        return value  # type: ignore[no-any-return]

    @property
    def IMMUTABLE_MAX_AGE(self) -> int:
        """Seconds hashed static files may be cached (with ``immutable``)."""
        value: int = self._get("ASSETS_IMMUTABLE_MAX_AGE")
        return value

    @property
    def COMPRESS_ENCODINGS(self) -> list[str]:
        """Codings the compression middleware offers, the server's favourite first."""
        value: list[str] = self._get("ASSETS_COMPRESS_ENCODINGS")
        return value

    @property
    def COMPRESS_MIN_SIZE(self) -> int:
        """Bytes: smaller bodies are sent as they are."""
        value: int = self._get("ASSETS_COMPRESS_MIN_SIZE")
        return value

    @property
    def BROTLI_QUALITY(self) -> int:
        value: int = self._get("ASSETS_BROTLI_QUALITY")
        return value

    @property
    def ZSTD_LEVEL(self) -> int:
        """zstd level for live responses (and for ``dcz``)."""
        value: int = self._get("ASSETS_ZSTD_LEVEL")
        return value

    @property
    def GZIP_LEVEL(self) -> int:
        value: int = self._get("ASSETS_GZIP_LEVEL")
        return value

    @property
    def DICTIONARY_TEMPLATES(self) -> list[str]:
        """Templates rendered into the ``dcz`` dictionary; empty: no dictionary."""
        value: list[str] = self._get("ASSETS_DICTIONARY_TEMPLATES")
        return value

    @property
    def DICTIONARY_MATCH(self) -> str:
        """URL pattern (RFC 9842 ``match``) of the pages the dictionary serves."""
        value: str = self._get("ASSETS_DICTIONARY_MATCH")
        return value

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
        value: str = self._get("ASSETS_CRITICAL_BROWSER")
        return value

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
        value: str = self._get("ASSETS_SPECULATION_EAGERNESS")
        return value


conf = Settings(DEFAULTS)
