from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from perfsite.models import Post

pytestmark = pytest.mark.django_db


def seed(**options: int) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def test_seed_creates_users_and_posts() -> None:
    output = seed(users=20, posts=150)
    assert "20 users and 150 posts created" in output
    assert get_user_model().objects.count() == 20
    assert Post.objects.count() == 150
    assert Post.objects.filter(author__isnull=True).count() == 0
    assert Post.objects.values("author").distinct().count() == 20
    # Popularity is long-tailed, not uniform.
    assert (
        Post.objects.filter(views__gt=100).count()
        < Post.objects.filter(views__lt=30).count()
    )


def test_seed_is_idempotent_and_extends() -> None:
    seed(users=5, posts=30)
    first = list(Post.objects.order_by("slug").values_list("slug", "title", "views"))

    assert "0 users and 0 posts created" in seed(users=5, posts=30)
    assert "0 users and 10 posts created" in seed(users=5, posts=40)

    again = list(Post.objects.order_by("slug").values_list("slug", "title", "views"))
    assert Post.objects.count() == 40
    assert set(first) <= set(again)


def test_if_empty_leaves_a_database_with_posts_alone() -> None:
    seed(users=2, posts=3)
    assert "nothing to do" in seed(users=2, posts=10, if_empty=True)
    assert Post.objects.count() == 3


def test_seed_rejects_nonsense_counts() -> None:
    with pytest.raises(SystemExit):
        seed(users=0, posts=1)
