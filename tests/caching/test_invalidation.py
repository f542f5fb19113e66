from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.db.models.signals import post_save

from caching.decorators import cache_result
from caching.invalidation import (
    InvalidatingQuerySet,
    group_versions,
    invalidate_group,
    invalidate_model,
    model_group,
)
from caching.keys import GROUP_PREFIX
from perfsite.models import Post
from tests.perfsite.factories import make_post, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def post_titles() -> tuple[Any, list[int]]:
    calls: list[int] = []

    @cache_result(60, depends_on=[Post])
    def titles() -> list[str]:
        calls.append(1)
        return sorted(Post.objects.values_list("title", flat=True))

    return titles, calls


def test_model_group_names() -> None:
    assert model_group(Post) == "model:perfsite.post"
    assert model_group("auth.User") == "model:auth.user"


def test_group_versions_are_random_and_stable(backend: Any) -> None:
    first = group_versions(["a", "b"])
    assert first == group_versions(["a", "b"])
    assert first["a"] != first["b"]
    invalidate_group("a")
    after = group_versions(["a", "b"])
    assert after["a"] != first["a"] and after["b"] == first["b"]


def test_an_evicted_group_never_revalidates_old_entries(backend: Any) -> None:
    titles, calls = post_titles()
    titles()
    backend.delete(GROUP_PREFIX + model_group(Post))  # evicted by Redis
    titles()
    assert len(calls) == 2


def test_save_delete_and_bulk_paths_invalidate(backend: Any) -> None:
    titles, calls = post_titles()
    post = make_post(title="one")
    assert titles() == ["one"]
    post.title = "two"
    post.save()
    assert titles() == ["two"]
    queryset = InvalidatingQuerySet(model=Post)
    queryset.filter(pk=post.pk).update(title="three")
    assert titles() == ["three"]
    post.refresh_from_db()
    post.title = "four"
    queryset.bulk_update([post], ["title"])
    assert titles() == ["four"]
    fresh = Post(title="five", slug="five", body="", published_at=post.published_at)
    fresh.author = post.author
    queryset.bulk_create([fresh])
    assert titles() == ["five", "four"]
    Post.objects.filter(title="five").delete()
    assert titles() == ["four"]
    post.delete()
    assert titles() == []
    assert len(calls) == 7


def test_plain_update_needs_the_helper(backend: Any) -> None:
    titles, calls = post_titles()
    post = make_post(title="one")
    titles()
    # A plain QuerySet (the demo's Post.objects invalidates; _base_manager does not).
    Post._base_manager.filter(pk=post.pk).update(title="two")  # no signal
    assert titles() == ["one"]
    invalidate_model(Post)
    assert titles() == ["two"]


def test_m2m_changes_invalidate_both_sides(backend: Any) -> None:
    user = make_user()
    group = Group.objects.create(name="editors")
    calls: list[str] = []

    @cache_result(60, depends_on=[User])
    def by_user() -> list[str]:
        calls.append("user")
        return list(
            Group.objects.filter(user__isnull=False).values_list("name", flat=True)
        )

    @cache_result(60, depends_on=[Group])
    def by_group() -> int:
        calls.append("group")
        return User.objects.filter(groups__isnull=False).count()

    assert by_user() == [] and by_group() == 0
    user.groups.add(group)
    assert by_user() == ["editors"] and by_group() == 1
    group.user_set.remove(user)
    assert by_user() == [] and by_group() == 0
    assert calls == ["user", "group"] * 3


def test_bumps_wait_for_commit_and_rollback_drops_them(backend: Any) -> None:
    titles, calls = post_titles()
    make_post(title="kept")
    titles()
    version = group_versions([model_group(Post)])
    with transaction.atomic():
        make_post(title="inside")
        # The writing transaction sees its own write (bypass), others' view is unchanged.
        assert titles() == ["inside", "kept"]
        assert group_versions([model_group(Post)]) == version
    assert group_versions([model_group(Post)]) != version
    assert titles() == ["inside", "kept"]
    version = group_versions([model_group(Post)])
    with pytest.raises(RuntimeError), transaction.atomic():
        make_post(title="rolled back")
        raise RuntimeError
    assert group_versions([model_group(Post)]) == version
    assert titles() == ["inside", "kept"]


def test_a_value_computed_before_a_commit_is_not_served_after_it(backend: Any) -> None:
    calls: list[int] = []
    make_post(title="old")

    @cache_result(60, depends_on=[Post])
    def titles() -> list[str]:
        calls.append(1)
        seen = sorted(Post.objects.values_list("title", flat=True))
        if len(calls) == 1:  # a writer commits after we read, before we store
            writer = threading.Thread(target=commit_new_post)
            writer.start()
            writer.join()
        return seen

    assert titles() == ["old"]  # computed from the old data, stored
    assert titles() == ["new", "old"]  # the stored value was not served
    assert len(calls) == 2


def commit_new_post() -> None:
    try:
        make_post(title="new")
    finally:
        connection.close()


def test_only_models_in_use_get_receivers() -> None:
    receivers = {str(key[0]) for key in post_save.receivers}
    assert any("caching:perfsite.post" in r for r in receivers)
    assert not any("caching:auth.permission" in r for r in receivers)
