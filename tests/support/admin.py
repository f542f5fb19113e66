"""A client of the Django admin over real HTTP: logs in, submits forms, CSRF included."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol


class HasURL(Protocol):
    url: str


class AdminBrowser:
    """Logs into the Django admin and submits forms, CSRF included."""

    def __init__(self, site: HasURL, username: str, password: str) -> None:
        self.site = site
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.submit(
            "/admin/login/?next=/admin/", {"username": username, "password": password}
        )

    def open(self, path: str, data: dict[str, Any] | None = None) -> str:
        body = (
            urllib.parse.urlencode(data, doseq=True).encode()
            if data is not None
            else None
        )
        request = urllib.request.Request(
            self.site.url + path, data=body, headers={"Referer": self.site.url}
        )
        with self.opener.open(request, timeout=30) as response:
            self.headers = response.headers  # of the last page, for tests
            text: str = response.read().decode()
            return text

    def submit(self, path: str, fields: dict[str, Any]) -> str:
        form = self.open(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token, form[:500]
        return self.open(path, {**fields, "csrfmiddlewaretoken": token.group(1)})

    def edit_post(self, orm: Callable[[str], str], pk: int | str, title: str) -> None:
        """Change a demo post's title through its admin change form."""
        slug, views, author, day, clock = orm(
            f"from perfsite.models import Post; p = Post.objects.get(pk={pk}); "
            "print(p.slug, p.views, p.author_id, "
            "p.published_at.strftime('%Y-%m-%d %H:%M:%S'))"
        ).split()
        self.submit(
            f"/admin/perfsite/post/{pk}/change/",
            {
                "title": title,
                "slug": slug,
                "body": "Edited.",
                "views": views,
                "published_at_0": day,
                "published_at_1": clock,
                "author": author,
            },
        )
