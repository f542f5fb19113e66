"""``StaticFilesMiddleware``: whitenoise with perfsite's caching and negotiation.

A drop-in replacement for ``whitenoise.middleware.WhiteNoiseMiddleware``, in
the same place (right after ``SecurityMiddleware``; system check
``assets.E008``):

- every file whose name carries its content hash (anything in Django's
  manifest, bundles included) is ``public, max-age=31536000, immutable``; any
  other file ``public, max-age=ASSETS_MAX_AGE`` (a day);
- ``Accept-Encoding`` q-values are honoured (``br;q=0`` gets no brotli);
- ``If-None-Match`` lists, weak tags and ``*`` give 304s;
- each encoding has its own ETag.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any
from wsgiref.headers import Headers

from django.contrib.staticfiles.storage import staticfiles_storage
from whitenoise.middleware import WhiteNoiseMiddleware

from assets.conf import conf
from assets.serving import NegotiatingStaticFile


class StaticFilesMiddleware(WhiteNoiseMiddleware):  # type: ignore[misc]
    @cached_property
    def hashed_names(self) -> set[str]:
        """Every content-hashed name the manifest storage wrote."""
        hashed_files = getattr(staticfiles_storage, "hashed_files", None) or {}
        return set(hashed_files.values())

    def immutable_file_test(self, path: str, url: str) -> bool:
        if (
            url.startswith(self.static_prefix)
            and url[len(self.static_prefix) :] in self.hashed_names
        ):
            return True
        return bool(super().immutable_file_test(path, url))

    def add_cache_headers(self, headers: Headers, path: str, url: str) -> None:
        if self.immutable_file_test(path, url):
            headers["Cache-Control"] = (
                f"public, max-age={conf.IMMUTABLE_MAX_AGE}, immutable"
            )
        else:
            headers["Cache-Control"] = f"public, max-age={conf.MAX_AGE}"

    def get_static_file(self, path: str, url: str, stat_cache: Any = None) -> Any:
        return NegotiatingStaticFile(
            super().get_static_file(path, url, stat_cache=stat_cache)
        )
