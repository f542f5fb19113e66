from __future__ import annotations

import pytest
from django.test import Client

from tests.perfsite.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def test_home_lists_popular_posts_and_stats(client: Client) -> None:
    author = make_user(username="grace")
    make_post(author, title="Quiet post", views=1)
    make_post(author, title="Loud post", views=900)

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Loud post") < html.index("Quiet post")
    assert response.context["stats"]["post_count"] == 2
    assert [p["title"] for p in response.context["posts"]] == [
        "Loud post",
        "Quiet post",
    ]


def test_home_without_posts_still_renders(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "seed_demo" in response.content.decode()


def test_post_detail(client: Client) -> None:
    post = make_post(make_user(username="linus"), title="Hello", body="One.\n\nTwo.")
    response = client.get(f"/posts/{post.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello" in html
    assert "<p>One.</p>" in html and "<p>Two.</p>" in html
    assert "linus" in html


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_missing_post_is_404(client: Client, pk: str) -> None:
    # An id beyond the database's integer range is a 404 too, not a 500.
    assert client.get(f"/posts/{pk}/").status_code == 404


def test_post_admin_lists_posts(admin_client: Client) -> None:
    make_post(title="Admin sees me")
    response = admin_client.get("/admin/perfsite/post/")
    assert response.status_code == 200
    assert "Admin sees me" in response.content.decode()


def test_home_says_how_old_its_figures_may_be(client: Client) -> None:
    import re

    from perfsite import queries, views

    html = client.get("/").content.decode()
    note = re.search(r'id="stats-freshness">([^<]+)<', html)
    assert note and "live" not in note.group(1)
    (seconds,) = re.findall(r"at most (\d+) s old", note.group(1))
    # A stored page (HOME_SECONDS) may hold stats cached that long before it.
    assert int(seconds) == queries.site_stats.timeout + views.HOME_SECONDS


def test_the_post_figure_is_captioned_as_an_illustration(client: Client) -> None:
    post = make_post(make_user(username="ida"), title="Figure post")
    html = client.get(f"/posts/{post.pk}/").content.decode()
    caption = html[html.index("<figcaption>") : html.index("</figcaption>")]
    assert caption.startswith("<figcaption>Illustration, not measured data")
