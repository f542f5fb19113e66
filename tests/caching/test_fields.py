"""Field dependencies: a write that names only other fields leaves them alone.

One function reads the title of one row (``row(Post, "pk", fields=["title"])``),
one the titles of every row (``fields(Post, "title")``); each write path is
tried with the title and with another field (``views``), on real Redis too.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings

from caching.decorators import cache_result
from caching.deps import Fields, fields, row
from caching.invalidation import invalidate_model, invalidate_rows
from perfsite.models import Post
from tests.perfsite.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


class Probe:
    def __init__(self) -> None:
        self.calls: list[Any] = []

        @cache_result(60, depends_on=[row(Post, "pk", fields=["title"])])
        def title(pk: int) -> str | None:
            self.calls.append(pk)
            return Post.objects.filter(pk=pk).values_list("title", flat=True).first()

        @cache_result(60, depends_on=[fields(Post, "title")])
        def titles() -> list[str]:
            self.calls.append("all")
            return sorted(Post.objects.values_list("title", flat=True))

        self.title, self.titles = title, titles

    def fresh(self, *pks: int) -> list[bool]:
        """For each row, then for the list: whether reading it recomputed it."""
        result = []
        for pk in pks:
            before = len(self.calls)
            value = self.title(pk)
            assert value == Post.objects.get(pk=pk).title  # never stale
            result.append(len(self.calls) > before)
        before = len(self.calls)
        assert self.titles() == sorted(Post.objects.values_list("title", flat=True))
        result.append(len(self.calls) > before)
        return result


@pytest.fixture
def probe(backend: Any) -> Probe:
    return Probe()


@pytest.fixture
def two(probe: Probe) -> tuple[Post, Post]:
    a, b = make_post(title="a"), make_post(title="b")
    probe.fresh(a.pk, b.pk)
    return a, b


def test_declared_fields_are_checked() -> None:
    with pytest.raises(ValueError, match="has no field 'titel'"):
        fields(Post, "titel").groups()
    with pytest.raises(ValueError, match="at least one"):
        fields(Post)
    assert Fields(Post, ("author_id",)).groups() == Fields(Post, ("author",)).groups()


def test_save_of_other_fields_bumps_nothing_for_them(probe: Probe, two: Any) -> None:
    a, b = two
    b.views = 7
    b.save(update_fields=["views"])
    assert probe.fresh(a.pk, b.pk) == [False, False, False]
    b.title = "b2"
    b.save(update_fields=["title", "views"])
    assert probe.fresh(a.pk, b.pk) == [False, True, True]


def test_a_plain_save_bumps_every_field(probe: Probe, two: Any) -> None:
    a, b = two
    b.views = 8
    b.save()  # the fields are not known: the title may have changed
    assert probe.fresh(a.pk, b.pk) == [False, True, True]


def test_create_and_delete_bump_the_list(probe: Probe, two: Any) -> None:
    a, b = two
    c = make_post(title="c")
    assert probe.fresh(a.pk, b.pk, c.pk) == [False, False, True, True]
    c.delete()
    assert probe.fresh(a.pk, b.pk) == [False, False, True]


def test_update_names_its_fields(probe: Probe, two: Any) -> None:
    a, b = two
    Post.objects.filter(pk=b.pk).update(views=3)
    assert probe.fresh(a.pk, b.pk) == [False, False, False]
    Post.objects.filter(pk=b.pk).update(title="b2")
    assert probe.fresh(a.pk, b.pk) == [False, True, True]
    with override_settings(CACHING_ROW_LIMIT=0):  # rows not listed
        Post.objects.filter(pk=b.pk).update(views=4)
        assert probe.fresh(a.pk, b.pk) == [True, True, False]
        Post.objects.filter(pk=b.pk).update(title="b3")
        assert probe.fresh(a.pk, b.pk) == [True, True, True]


def test_bulk_update_names_its_fields(probe: Probe, two: Any) -> None:
    a, b = two
    b.views = 9
    Post.objects.bulk_update([b], ["views"])
    assert probe.fresh(a.pk, b.pk) == [False, False, False]
    b.title = "b2"
    Post.objects.bulk_update([b], fields=["title"])
    assert probe.fresh(a.pk, b.pk) == [False, True, True]


def test_raw_sql_with_named_fields(probe: Probe, two: Any) -> None:
    a, b = two
    table = connection.ops.quote_name(Post._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET views = 5 WHERE id = %s", [b.pk])
    invalidate_rows(Post, [b.pk], ["views"])
    assert probe.fresh(a.pk, b.pk) == [False, False, False]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET title = 'raw' WHERE id = %s", [b.pk])
    invalidate_rows(Post, [b.pk])  # fields unknown
    assert probe.fresh(a.pk, b.pk) == [False, True, True]
    invalidate_model(Post)
    assert probe.fresh(a.pk, b.pk) == [True, True, True]


def test_a_transaction_bypasses_only_the_fields_it_wrote(
    probe: Probe, two: Any
) -> None:
    a, b = two
    with transaction.atomic():
        b.views = 10
        b.save(update_fields=["views"])
        assert probe.fresh(a.pk, b.pk) == [False, False, False]
        b.title = "inside"
        b.save(update_fields=["title"])
        assert probe.title(b.pk) == "inside"
    assert probe.fresh(a.pk, b.pk) == [False, True, True]
