"""Every write path bumps what the equivalent plain save or delete bumps.

Each test caches reads of one row and of a whole model, writes through one
path (a pk given as text, a proxy, a multi-table child or parent, a cascade,
``get_or_create``/``update_or_create``, the bulk paths, an m2m through model)
and checks that every read is fresh afterwards: never stale, and recomputed
exactly when its rows were written. On LocMem, real Redis and a cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, models
from django.test import override_settings

from caching.decorators import cache_result
from caching.deps import row
from caching.invalidation import invalidate_rows
from perfsite.models import Post
from tests.perfsite.factories import make_post, make_user
from tests.testmodels.models import (
    Article,
    Club,
    Member,
    Membership,
    PostProxy,
    Story,
    Tag,
    TagProxy,
)

pytestmark = pytest.mark.django_db(transaction=True)
_names = count()


class LatePostProxy(Post):
    """A proxy defined after start-up, when Post's receivers are connected."""

    class Meta:
        proxy = True
        app_label = "testmodels"

    def __str__(self) -> str:
        return self.title


def snapshot(model: type[models.Model]) -> Callable[[Any], list[dict[str, Any]]]:
    return lambda pk: list(model._default_manager.filter(pk=pk).values())


class Seen:
    """A cached read of one row of ``model`` and one of all its rows.

    ``fresh(pk)`` reads the row and says whether that computed it (the cache
    held nothing valid); every read is compared with the database, so a stale
    one fails the test.
    """

    def __init__(
        self,
        model: type[models.Model],
        read_row: Callable[[Any], Any] | None = None,
        fields: list[str] | None = None,
    ) -> None:
        self.calls: list[Any] = []
        self.read_row = read_row or snapshot(model)
        self.read_all: Callable[[], Any] = lambda: sorted(
            model._default_manager.values_list("pk", flat=True)
        )
        n = next(_names)  # each its own entries, whatever the test

        @cache_result(
            60, key_prefix=f"wp-row-{n}", depends_on=[row(model, "pk", fields=fields)]
        )
        def one(pk: Any) -> Any:
            self.calls.append(pk)
            return self.read_row(pk)

        @cache_result(60, key_prefix=f"wp-all-{n}", depends_on=[model])
        def every() -> Any:
            self.calls.append("all")
            return self.read_all()

        self.one, self.every = one, every

    def fresh(self, pk: Any) -> bool:
        before = len(self.calls)
        assert self.one(pk) == self.read_row(pk)  # never stale
        return len(self.calls) > before

    def list_fresh(self) -> bool:
        before = len(self.calls)
        assert self.every() == self.read_all()
        return len(self.calls) > before

    def warm(self, *pks: Any) -> None:
        for pk in pks:
            self.one(pk)
        self.every()


def test_a_save_with_the_pk_as_text_bumps_its_row(backend: Any) -> None:
    a, b = make_post(title="a"), make_post(title="b")
    seen = Seen(Post)
    seen.warm(a.pk, b.pk)
    Post(
        pk=str(a.pk),  # as a form or a URL gives it
        title="a2",
        slug=a.slug,
        body=a.body,
        published_at=a.published_at,
        author_id=a.author_id,
    ).save()
    assert seen.fresh(a.pk) and not seen.fresh(b.pk) and seen.list_fresh()


def test_invalidate_rows_with_pks_as_text(backend: Any) -> None:
    a, b = make_post(title="a"), make_post(title="b")
    seen = Seen(Post)
    seen.warm(a.pk, b.pk)
    table = connection.ops.quote_name(Post._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET title = %s WHERE id = %s", ["raw", a.pk])
    invalidate_rows(Post, [str(a.pk)])
    assert seen.fresh(a.pk) and not seen.fresh(b.pk)
    with pytest.raises(ValueError, match="'five' is not a pk of perfsite.Post"):
        invalidate_rows(Post, ["five"])


def test_writes_through_a_proxy_bump_the_concrete_model(backend: Any) -> None:
    a, b, c = make_post(), make_post(), make_post()
    seen = Seen(Post)
    seen.warm(a.pk, b.pk, c.pk)
    proxied = PostProxy.objects.get(pk=a.pk)
    proxied.title = "through the proxy"
    proxied.save()
    assert seen.fresh(a.pk) and not seen.fresh(b.pk) and seen.list_fresh()
    PostProxy.objects.get(pk=b.pk).delete()
    assert seen.fresh(b.pk) and seen.list_fresh()
    PostProxy.objects.filter(pk=c.pk).delete()  # a queryset delete
    assert seen.fresh(c.pk) and not seen.fresh(a.pk) and seen.list_fresh()
    missing = c.pk + 1
    seen.one(missing)
    PostProxy.objects.create(
        title="new", slug="new", body="", published_at=a.published_at, author=a.author
    )
    assert seen.fresh(missing) and seen.list_fresh()


def test_a_proxy_defined_after_start_up_bumps_the_concrete_model(
    backend: Any,
) -> None:
    a = make_post()
    seen = Seen(Post)
    seen.warm(a.pk)
    late = LatePostProxy.objects.get(pk=a.pk)
    late.title = "late"
    late.save()
    assert seen.fresh(a.pk) and seen.list_fresh()


def test_a_model_watched_through_its_proxy_sees_writes_to_the_model(
    backend: Any,
) -> None:
    owner = make_user()
    a, b = (
        Tag.objects.create(name="a", owner=owner),
        Tag.objects.create(name="b", owner=owner),
    )
    seen = Seen(TagProxy)
    seen.warm(a.pk, b.pk)
    a.name = "a2"
    a.save()
    assert seen.fresh(a.pk) and not seen.fresh(b.pk) and seen.list_fresh()
    Tag.objects.filter(pk=b.pk).delete()
    assert seen.fresh(b.pk) and seen.list_fresh()


def test_deletes_by_cascade_bump_the_deleted_rows(backend: Any) -> None:
    owner, other = make_user(), make_user()
    tag = Tag.objects.create(name="t", owner=owner)
    kept = Tag.objects.create(name="k", owner=other)
    post, post_kept = make_post(author=owner), make_post(author=other)
    tags, posts = Seen(TagProxy), Seen(Post)
    tags.warm(tag.pk, kept.pk)
    posts.warm(post.pk, post_kept.pk)
    owner.delete()  # deletes the tag and the post by cascade
    assert tags.fresh(tag.pk) and not tags.fresh(kept.pk) and tags.list_fresh()
    assert posts.fresh(post.pk) and not posts.fresh(post_kept.pk)
    assert posts.list_fresh()


def test_a_cascade_through_m2m_rows_bumps_both_ends(backend: Any) -> None:
    """Deleting a group deletes its users' m2m rows: each user's row is bumped,
    as ``user.groups.remove(group)`` would bump it."""
    u, v = make_user(), make_user()
    group, other = Group.objects.create(name="g"), Group.objects.create(name="h")
    u.groups.add(group)
    v.groups.add(other)
    seen = Seen(
        User,
        read_row=lambda pk: sorted(
            Group.objects.filter(user=pk).values_list("name", flat=True)
        ),
    )
    seen.warm(u.pk, v.pk)
    group.delete()
    assert seen.fresh(u.pk) and not seen.fresh(v.pk)
    w, outsider = make_user(), make_user()  # the outsider is in no group
    u.groups.add(other)
    w.groups.add(other)
    seen.warm(u.pk, v.pk, w.pk, outsider.pk)
    loner = Group.objects.create(name="nobody's")
    loner.delete()  # no links: nothing to bump
    assert not seen.fresh(u.pk)
    with override_settings(CACHING_ROW_LIMIT=1):
        other.delete()  # more links than the limit: every user's row
    assert seen.fresh(u.pk) and seen.fresh(v.pk) and seen.fresh(w.pk)
    assert seen.fresh(outsider.pk)
    club = Club.objects.create(name="c")
    member = Member.objects.create(name="m")
    Membership.objects.create(club=club, member=member)
    clubs = Seen(
        Member,
        read_row=lambda pk: sorted(
            Club.objects.filter(members=pk).values_list("name", flat=True)
        ),
    )
    clubs.warm(member.pk)
    club.delete()
    assert clubs.fresh(member.pk)


def test_a_child_write_bumps_its_parent_and_a_parent_write_its_child(
    backend: Any,
) -> None:
    story, plain = (
        Story.objects.create(title="s", lede="l"),
        Article.objects.create(title="p"),
    )
    articles, stories = Seen(Article), Seen(Story)
    articles.warm(story.pk, plain.pk)
    stories.warm(story.pk)
    story.title = "s2"
    story.save()  # writes the parent's table too, with no signal for it
    assert articles.fresh(story.pk) and not articles.fresh(plain.pk)
    assert articles.list_fresh() and stories.fresh(story.pk)
    story.lede = "l2"
    story.save(update_fields=["lede"])  # the child's table only
    assert stories.fresh(story.pk) and not articles.fresh(story.pk)
    parent = Article.objects.get(pk=story.pk)
    parent.title = "s3"
    parent.save()  # the child row shows the parent's fields
    assert stories.fresh(story.pk) and stories.list_fresh()
    Story.objects.filter(pk=story.pk).update(title="s4")  # InvalidatingQuerySet
    assert articles.fresh(story.pk) and stories.fresh(story.pk)
    story.refresh_from_db()
    story.title = "s5"
    Story.objects.bulk_update([story], ["title"])
    assert articles.fresh(story.pk) and stories.fresh(story.pk)
    story.delete()
    assert articles.fresh(story.pk) and articles.list_fresh()
    assert stories.fresh(story.pk) and not articles.fresh(plain.pk)


def test_get_or_create_and_update_or_create(backend: Any) -> None:
    a = make_post(title="a")
    posts, articles = Seen(Post), Seen(Article)
    posts.warm(a.pk)
    articles.warm()
    PostProxy.objects.update_or_create(pk=str(a.pk), defaults={"title": "a2"})
    assert posts.fresh(a.pk) and posts.list_fresh()
    got, created = PostProxy.objects.get_or_create(
        slug="made",
        defaults={
            "title": "made",
            "body": "",
            "published_at": a.published_at,
            "author": a.author,
        },
    )
    assert created and posts.fresh(got.pk) and posts.list_fresh()
    PostProxy.objects.get_or_create(slug="made")  # found: nothing written
    assert not posts.list_fresh()
    story, created = Story.objects.get_or_create(title="s")
    assert created and articles.fresh(story.pk) and articles.list_fresh()
    Story.objects.update_or_create(pk=story.pk, defaults={"title": "s2"})
    assert articles.fresh(story.pk) and articles.list_fresh()


def test_bulk_create_and_bulk_update(backend: Any) -> None:
    a, b = make_post(title="a"), make_post(title="b")
    seen = Seen(Post)
    seen.warm(a.pk, b.pk)
    edited = Post(pk=str(b.pk), title="bulk")  # a pk as text, as a form gives it
    assert Post.objects.bulk_update([edited], ["title"]) == 1
    assert seen.fresh(b.pk) and not seen.fresh(a.pk) and seen.list_fresh()
    missing = b.pk + 1
    seen.one(missing)
    PostProxy.objects.bulk_create(
        [
            PostProxy(
                title="c",
                slug="c",
                body="",
                published_at=a.published_at,
                author=a.author,
            )
        ]
    )
    assert seen.fresh(missing) and not seen.fresh(a.pk) and seen.list_fresh()


def test_m2m_through_a_model_of_its_own(backend: Any) -> None:
    club, other = Club.objects.create(name="c"), Club.objects.create(name="o")
    m, n = Member.objects.create(name="m"), Member.objects.create(name="n")

    def member_clubs(pk: Any) -> list[str]:
        return sorted(Club.objects.filter(members=pk).values_list("name", flat=True))

    def club_members(pk: Any) -> list[tuple[str, str]]:
        return sorted(
            Membership.objects.filter(club=pk).values_list("member__name", "role")
        )

    members = Seen(Member, read_row=member_clubs)
    clubs = Seen(Club, read_row=club_members)

    def check(write: Callable[[], Any], member: Member, written: Club) -> None:
        members.warm(m.pk, n.pk)
        clubs.warm(club.pk, other.pk)
        write()
        assert members.fresh(member.pk) and clubs.fresh(written.pk)
        assert not clubs.fresh(other.pk if written is club else club.pk)

    check(lambda: club.members.add(m, through_defaults={"role": "chair"}), m, club)
    check(lambda: Membership.objects.create(club=club, member=n), n, club)
    check(lambda: _set_role(club, n, "treasurer"), n, club)
    check(lambda: club.members.remove(m), m, club)
    check(lambda: Membership.objects.get(club=club, member=n).delete(), n, club)
    check(lambda: other.members.set([m, n]), m, other)
    check(lambda: other.members.clear(), n, other)


def _set_role(club: Club, member: Member, role: str) -> None:
    membership = Membership.objects.get(club=club, member=member)
    membership.role = role
    membership.save()
