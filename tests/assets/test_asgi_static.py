"""Static files under ASGI: found and answered on the event loop, with the
same negotiation, validators and ranges as under WSGI."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.core.handlers.base import BaseHandler
from django.test import AsyncRequestFactory

from tests.assets.conftest import hashed

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def fetch(method: str, path: str, hops: list[str], **headers: str) -> Any:
    async def run() -> tuple[Any, bytes]:
        handler = BaseHandler()
        handler.load_middleware(is_async=True)
        factory = AsyncRequestFactory()
        request = getattr(factory, method)(path, headers=headers)
        response = await handler.get_response_async(request)
        body = b"".join([part async for part in response])
        return response, body

    original = SyncToAsync.__call__

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(repr(self.func))
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SyncToAsync, "__call__", counted)
        return asyncio.run(run())


def test_a_static_file_is_negotiated_and_sent_from_the_loop(prod: Path) -> None:
    name = hashed(prod, "bundles/site.css")
    hops: list[str] = []
    response, body = fetch("get", f"/static/{name}", hops, accept_encoding="br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert body == (prod / f"{name}.br").read_bytes()
    assert response["Content-Length"] == str(len(body))
    assert hops == []


def test_a_304_a_range_and_a_head_under_asgi(prod: Path) -> None:
    name = hashed(prod, "bundles/site.css")
    url, hops = f"/static/{name}", []
    first, _ = fetch("get", url, hops)
    etag = first["ETag"]
    not_modified, body = fetch("get", url, hops, if_none_match=f'W/{etag}, "x"')
    assert (not_modified.status_code, body) == (304, b"")
    ranged, part = fetch("get", url, hops, range="bytes=0-9")
    assert ranged.status_code == 206
    assert part == (prod / name).read_bytes()[:10]
    head, empty = fetch("head", url, hops)
    assert head.status_code == 200 and empty == b""
    assert head["Content-Length"] == str((prod / name).stat().st_size)
    assert hops == []


def test_a_file_longer_than_a_chunk_is_read_whole(
    prod: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets import serving

    monkeypatch.setattr(serving, "CHUNK", 100)  # bytes: many executor reads
    name = hashed(prod, "bundles/site.css")
    _, body = fetch("get", f"/static/{name}", [])
    assert body == (prod / name).read_bytes()
