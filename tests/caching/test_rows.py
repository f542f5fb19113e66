"""Row dependencies: every write path of docs/write-paths.md, on real Redis too.

Each test caches a function of one row (``row(Post, "pk")``) and one of the
whole model, writes through one path, and checks that the row's function
recomputes exactly when its row was written (no stale read) and survives
writes to other rows, while the model's function recomputes on every write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.test import Client, override_settings

from caching.decorators import cache_result
from caching.deps import Row, row, write_groups
from caching.invalidation import invalidate_model, invalidate_rows
from caching.keys import surrogate_tag
from caching.versions import row_group
from perfsite.models import Post
from tests.caching import site
from tests.perfsite.factories import make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)


class Probe:
    """A cached title of one post, and a cached list of all titles."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

        @cache_result(60, depends_on=[row(Post, "pk")])
        def title(pk: Any) -> str | None:
            pk = getattr(pk, "pk", pk)  # a Post or its pk
            self.calls.append(pk)
            return Post.objects.filter(pk=pk).values_list("title", flat=True).first()

        @cache_result(60, depends_on=[Post])
        def titles() -> list[str]:
            self.calls.append("all")
            return sorted(Post.objects.values_list("title", flat=True))

        self.title, self.titles = title, titles

    def fresh(self, pk: Any) -> bool:
        """Whether reading ``pk``'s title computes it (the cache had nothing valid)."""
        before = len(self.calls)
        value = self.title(pk)
        current = Post.objects.filter(pk=pk).values_list("title", flat=True).first()
        assert value == current  # never stale
        return len(self.calls) > before

    def list_fresh(self) -> bool:
        before = len(self.calls)
        assert self.titles() == sorted(Post.objects.values_list("title", flat=True))
        return len(self.calls) > before


@pytest.fixture
def probe(backend: Any) -> Probe:
    return Probe()


def warm(probe: Probe, *pks: Any) -> None:
    for pk in pks:
        probe.title(pk)
    probe.titles()


def test_row_group_names_and_write_groups() -> None:
    assert row_group(Post, 5) == "row:perfsite.post:i5"
    assert write_groups(Post, [5]) == {
        "model:perfsite.post",
        "row:perfsite.post:i5",
        "full:perfsite.post",
        "full:perfsite.post:i5",
    }
    assert write_groups(Post, [5], ["views"]) == {
        "model:perfsite.post",
        "row:perfsite.post:i5",
        "field:perfsite.post:views",
        "field:perfsite.post:views:i5",
    }
    assert write_groups(Post) == {
        "model:perfsite.post",
        "rows:perfsite.post",
        "full:perfsite.post",
    }
    # author_id and author are one field; a pk given as text is the same row
    assert write_groups(Post, [5], ["author_id"]) == write_groups(Post, [5], ["author"])
    assert Row(Post).groups({"pk": "5"}) == Row(Post).groups({"pk": 5})


def test_a_row_that_cannot_exist_depends_on_the_model() -> None:
    assert Row(Post).groups({"pk": "five"}) == ["model:perfsite.post"]
    assert Row(Post).groups({}) == ["model:perfsite.post"]


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(ValueError, match="no argument 'post_id'"):

        @cache_result(60, depends_on=[row(Post, "post_id")])
        def title(pk: int) -> str: ...

    with pytest.raises(ValueError, match="has no field 'nope'"):
        write_groups(Post, [1], ["nope"])


def test_save_bumps_its_row_and_the_model_only(probe: Probe) -> None:
    a, b = make_post(title="a"), make_post(title="b")
    warm(probe, a.pk, b.pk)
    b.title = "b2"
    b.save()
    assert not probe.fresh(a.pk)
    assert probe.fresh(b.pk)
    assert probe.list_fresh()


def test_a_row_is_read_by_instance_too(probe: Probe) -> None:
    a, b = make_post(), make_post()
    assert probe.title(a) == a.title
    b.save()
    assert len(probe.calls) == 1 and probe.title(a) == a.title
    a.save()
    probe.title(a)
    assert len(probe.calls) == 2


def test_create_bumps_a_row_that_was_missing(probe: Probe) -> None:
    a = make_post()
    missing = a.pk + 1
    assert probe.title(missing) is None  # cached: None is a value
    assert not probe.fresh(missing)
    probe.titles()
    make_post(title="new")
    assert Post.objects.filter(pk=missing).exists()
    assert probe.fresh(missing)
    assert probe.list_fresh()


def test_instance_delete_and_queryset_delete(probe: Probe) -> None:
    a, b, c = make_post(), make_post(), make_post()
    warm(probe, a.pk, b.pk, c.pk)
    b.delete()
    assert probe.fresh(b.pk) and not probe.fresh(a.pk) and probe.list_fresh()
    Post.objects.filter(pk=c.pk).delete()  # post_delete per row
    assert probe.fresh(c.pk) and not probe.fresh(a.pk) and probe.list_fresh()


def test_update_bumps_the_rows_it_matched(probe: Probe) -> None:
    a, b, c = make_post(), make_post(), make_post()
    warm(probe, a.pk, b.pk, c.pk)
    assert Post.objects.filter(pk__in=[b.pk, c.pk]).update(title="bc") == 2
    assert probe.fresh(b.pk) and probe.fresh(c.pk)
    assert not probe.fresh(a.pk)
    assert probe.list_fresh()


def test_update_past_the_row_limit_bumps_every_row(probe: Probe) -> None:
    a, b, c = make_post(), make_post(), make_post()
    warm(probe, a.pk, b.pk, c.pk)
    with override_settings(CACHING_ROW_LIMIT=1):
        assert Post.objects.filter(pk__in=[b.pk, c.pk]).update(title="bc") == 2
    assert probe.fresh(a.pk) and probe.fresh(b.pk) and probe.fresh(c.pk)
    assert probe.list_fresh()


def test_bulk_create_and_bulk_update(probe: Probe) -> None:
    a, b = make_post(), make_post()
    warm(probe, a.pk, b.pk)
    b.title = "bulk"
    assert Post.objects.bulk_update([b], ["title"]) == 1
    assert probe.fresh(b.pk) and not probe.fresh(a.pk) and probe.list_fresh()
    missing = b.pk + 1
    probe.title(missing)
    Post.objects.bulk_create(
        [
            Post(
                title="c",
                slug="c",
                body="",
                published_at=a.published_at,
                author=a.author,
            )
        ]
    )
    assert probe.fresh(missing) and not probe.fresh(a.pk) and probe.list_fresh()


def test_raw_sql_with_invalidate_model_or_rows(probe: Probe) -> None:
    a, b = make_post(title="a"), make_post(title="b")
    warm(probe, a.pk, b.pk)
    table = connection.ops.quote_name(Post._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET title = %s WHERE id = %s", ["raw", b.pk])
    invalidate_rows(Post, [b.pk], ["title"])
    assert probe.fresh(b.pk) and not probe.fresh(a.pk) and probe.list_fresh()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET title = %s", ["raw2"])
    invalidate_model(Post)
    assert probe.fresh(a.pk) and probe.fresh(b.pk) and probe.list_fresh()


def test_m2m_from_either_side_bumps_the_rows(backend: Any) -> None:
    calls: list[int] = []

    @cache_result(60, depends_on=[row(User, "pk")])
    def group_names(pk: int) -> list[str]:
        calls.append(pk)
        return sorted(User.objects.get(pk=pk).groups.values_list("name", flat=True))

    u, v = make_user(), make_user()
    group = Group.objects.create(name="editors")

    def fresh(user: Any) -> bool:
        before = len(calls)
        assert group_names(user.pk) == sorted(
            user.groups.values_list("name", flat=True)
        )
        return len(calls) > before

    writes: list[Callable[[], Any]] = [
        lambda: u.groups.add(group),  # forward, instance u
        lambda: group.user_set.remove(u),  # reverse, pk_set {u}
        lambda: group.user_set.add(u),
        lambda: group.user_set.clear(),  # reverse clear: rows not listed
    ]
    for write in writes:
        fresh(u), fresh(v)
        write()
        assert fresh(u)
    fresh(v)
    u.groups.add(group)
    assert fresh(u) and not fresh(v)


def test_transactions_bypass_only_the_rows_they_wrote(probe: Probe) -> None:
    a, b = make_post(title="a"), make_post(title="b")
    warm(probe, a.pk, b.pk)
    with transaction.atomic():
        b.title = "inside"
        b.save()
        assert probe.title(b.pk) == "inside"  # its own write, not the cache
        assert probe.title(a.pk) == "a" and not probe.fresh(a.pk)
    assert probe.fresh(b.pk) and not probe.fresh(a.pk)
    try:
        with transaction.atomic():
            a.title = "rolled back"
            a.save()
            raise RuntimeError
    except RuntimeError:
        pass
    assert not probe.fresh(a.pk)  # a rollback bumps nothing


def test_a_view_of_a_row_survives_writes_to_other_rows(
    failover: Any, settings: Any
) -> None:
    settings.ROOT_URLCONF = "tests.caching.site"
    site.renders.clear()
    a, b = make_post(title="a"), make_post(title="b")
    client = Client()
    first = client.get(f"/t/row/{a.pk}/")
    assert client.get(f"/t/row/{a.pk}/").content == b"a"
    assert site.renders == ["row"]
    b.title = "b2"
    b.save()
    Post.objects.filter(pk=b.pk).update(title="b3")
    again = client.get(f"/t/row/{a.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and site.renders == ["row"]
    a.title = "a2"
    a.save()
    edited = client.get(f"/t/row/{a.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert edited.status_code == 200 and edited.content == b"a2"
    assert site.renders == ["row", "row"]


def test_a_view_of_a_row_carries_its_rows_surrogate_key(
    failover: Any, settings: Any
) -> None:
    """A shared cache in front purges the page when its row is bumped."""
    settings.ROOT_URLCONF = "tests.caching.site"
    settings.CACHING_SURROGATE_KEYS = "xkey"
    a = make_post()
    keys = Client().get(f"/t/row/{a.pk}/")["xkey"].split()
    assert surrogate_tag(row_group(Post, a.pk)) in keys
    assert surrogate_tag(row_group(Post, a.pk + 1)) not in keys
