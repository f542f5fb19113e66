"""The assets app's settings, read from ``django.conf.settings`` on access."""

from __future__ import annotations

from typing import Any

from django.conf import settings

# seconds: a year, the longest lifetime RFC 9111 caches are expected to honour.
YEAR = 365 * 24 * 60 * 60


class Settings:
    @property
    def BUNDLES(self) -> dict[str, dict[str, list[str]]]:
        """Named bundles: ``{"name": {"css": [...], "js": [...], "critical": [...]}}``."""
        value: Any = getattr(settings, "ASSETS_BUNDLES", {})
        return value  # type: ignore[no-any-return]

    @property
    def DEBUG(self) -> bool:
        """Emit the source files one by one instead of the built bundles."""
        return bool(getattr(settings, "ASSETS_DEBUG", settings.DEBUG))

    @property
    def CDN_URL(self) -> str:
        """Origin (and path) put in front of relative static URLs by ``cdn_url``."""
        value: Any = getattr(settings, "ASSETS_CDN_URL", "")
        return str(value or "").rstrip("/")

    @property
    def OUTPUT_DIR(self) -> str:
        value: Any = getattr(settings, "ASSETS_OUTPUT_DIR", "bundles")
        return value  # type: ignore[no-any-return]

    @property
    def LAZY_JS_TIMEOUT(self) -> int:
        """Milliseconds before ``lazy_js`` loads its scripts with no interaction."""
        value: Any = getattr(settings, "ASSETS_LAZY_JS_TIMEOUT", 3000)
        return value  # type: ignore[no-any-return]

    @property
    def MAX_AGE(self) -> int:
        """Seconds static files without a content hash may be cached."""
        value: Any = getattr(
            settings,
            "ASSETS_MAX_AGE",
            getattr(settings, "WHITENOISE_MAX_AGE", 24 * 60 * 60),
        )
        return value  # type: ignore[no-any-return]

    @property
    def IMMUTABLE_MAX_AGE(self) -> int:
        """Seconds hashed static files may be cached (with ``immutable``)."""
        value: Any = getattr(settings, "ASSETS_IMMUTABLE_MAX_AGE", YEAR)
        return value  # type: ignore[no-any-return]

    @property
    def COMPRESS_ENCODINGS(self) -> list[str]:
        """Codings the compression middleware offers, the server's favourite first."""
        value: Any = getattr(
            settings, "ASSETS_COMPRESS_ENCODINGS", ["br", "zstd", "gzip"]
        )
        return value  # type: ignore[no-any-return]

    @property
    def COMPRESS_MIN_SIZE(self) -> int:
        """Bytes: smaller bodies are sent as they are."""
        value: Any = getattr(settings, "ASSETS_COMPRESS_MIN_SIZE", 512)
        return value  # type: ignore[no-any-return]

    @property
    def BROTLI_QUALITY(self) -> int:
        value: Any = getattr(settings, "ASSETS_BROTLI_QUALITY", 4)
        return value  # type: ignore[no-any-return]

    @property
    def ZSTD_LEVEL(self) -> int:
        """zstd level for live responses (and for ``dcz``)."""
        value: Any = getattr(settings, "ASSETS_ZSTD_LEVEL", 6)
        return value  # type: ignore[no-any-return]

    @property
    def DICTIONARY_TEMPLATES(self) -> list[str]:
        """Templates rendered into the ``dcz`` dictionary; empty: no dictionary."""
        value: Any = getattr(settings, "ASSETS_DICTIONARY_TEMPLATES", [])
        return value  # type: ignore[no-any-return]

    @property
    def DICTIONARY_MATCH(self) -> str:
        """URL pattern (RFC 9842 ``match``) of the pages the dictionary serves."""
        value: Any = getattr(settings, "ASSETS_DICTIONARY_MATCH", "/*")
        return value  # type: ignore[no-any-return]

    @property
    def GZIP_LEVEL(self) -> int:
        value: Any = getattr(settings, "ASSETS_GZIP_LEVEL", 6)
        return value  # type: ignore[no-any-return]

    @property
    def CRITICAL_PAGES(self) -> dict[str, list[dict[str, str]]]:
        """Per bundle, the pages whose first viewport its critical CSS covers:
        ``{"site": [{"template": "home.html", "context": "dotted.callable"}]}``."""
        value: Any = getattr(settings, "ASSETS_CRITICAL_PAGES", {})
        return value  # type: ignore[no-any-return]

    @property
    def CRITICAL_VIEWPORTS(self) -> list[list[int]]:
        """``[width, height]`` CSS pixels of each first viewport (mobile, desktop)."""
        value: Any = getattr(
            settings, "ASSETS_CRITICAL_VIEWPORTS", [[412, 823], [1350, 940]]
        )
        return value  # type: ignore[no-any-return]

    @property
    def CRITICAL_BROWSER(self) -> str:
        """Chromium's command (or path); '' keeps the declared critical lists."""
        value: Any = getattr(settings, "ASSETS_CRITICAL_BROWSER", "chromium")
        return value  # type: ignore[no-any-return]

    @property
    def IMAGE_WIDTHS(self) -> list[int]:
        """Pixel widths of the responsive variants (never wider than the source)."""
        value: Any = getattr(settings, "ASSETS_IMAGE_WIDTHS", [400, 800, 1200, 1600])
        return value  # type: ignore[no-any-return]

    @property
    def IMAGE_FORMATS(self) -> list[str]:
        """Formats of the responsive variants, the most compact first."""
        value: Any = getattr(settings, "ASSETS_IMAGE_FORMATS", ["avif", "webp"])
        return value  # type: ignore[no-any-return]

    @property
    def SPECULATION_EXCLUDE(self) -> list[str]:
        """URL patterns (URL Pattern syntax) never prefetched."""
        value: Any = getattr(
            settings,
            "ASSETS_SPECULATION_EXCLUDE",
            ["/admin/*", "/*logout*", "/*login*", "/profiling/*"],
        )
        return value  # type: ignore[no-any-return]

    @property
    def SPECULATION_EAGERNESS(self) -> str:
        value: Any = getattr(settings, "ASSETS_SPECULATION_EAGERNESS", "moderate")
        return value  # type: ignore[no-any-return]


conf = Settings()
