"""``StaticFilesMiddleware``: whitenoise with perfsite's caching and negotiation.

A drop-in replacement for ``whitenoise.middleware.WhiteNoiseMiddleware``, in
the same place (right after ``SecurityMiddleware``; system check
``assets.E011``):

- every file whose name carries its content hash (anything in Django's
  manifest, bundles included) is ``public, max-age=31536000, immutable``; any
  other file ``public, max-age=ASSETS_MAX_AGE`` (a day);
- ``Accept-Encoding`` q-values are honoured (``br;q=0`` gets no brotli);
- ``If-None-Match`` lists, weak tags and ``*`` give 304s;
- each encoding has its own ETag;
- ``.zst`` variants (``assets.precompress``) are served like ``.br``/``.gz``;
- the ``dcz`` dictionary (``assets.dictionary``) is immutable and carries
  ``Use-As-Dictionary``.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any
from wsgiref.headers import Headers

from asgiref.sync import sync_to_async
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponseBase
from whitenoise.base import MissingFileError
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.responders import StaticFile

from assets import dictionary, precompress
from assets.conf import conf
from assets.serving import NegotiatingStaticFile, aserve
from perfsite_conf.onloop import Dual


class StaticFilesMiddleware(Dual, WhiteNoiseMiddleware):  # type: ignore[misc]
    def __init__(self, get_response: Any = None, **kwargs: Any) -> None:
        super().__init__(get_response, **kwargs)
        self._set_mode(get_response)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:  # development: looking a file up reads the disk
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return aserve(static_file, request)
        response: HttpResponseBase = await self.get_response(request)
        return response

    @cached_property
    def hashed_names(self) -> set[str]:
        """Every content-hashed name the manifest storage wrote."""
        hashed_files = getattr(staticfiles_storage, "hashed_files", None) or {}
        found = dictionary.current()
        return set(hashed_files.values()) | ({found.name} if found else set())

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

        found = dictionary.current()
        if found is not None and url == found.url:
            headers["Use-As-Dictionary"] = found.use_as_dictionary

    is_compressed_variant = staticmethod(precompress.is_compressed_variant)

    def get_static_file(self, path: str, url: str, stat_cache: Any = None) -> Any:
        # whitenoise's own, with a zstd variant among the encodings.
        if stat_cache is None and not os.path.exists(path):
            raise MissingFileError(path)
        headers = Headers([])
        self.add_mime_headers(headers, path, url)
        self.add_cache_headers(headers, path, url)
        if self.allow_all_origins:
            headers["Access-Control-Allow-Origin"] = "*"
        if self.add_headers_function is not None:
            self.add_headers_function(headers, path, url)
        encodings = {"gzip": ".gz", "br": ".br", "zstd": ".zst"}
        return NegotiatingStaticFile(
            StaticFile(
                path,
                headers.items(),
                stat_cache=stat_cache,
                encodings={name: path + suffix for name, suffix in encodings.items()},
            )
        )
