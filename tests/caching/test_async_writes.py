"""Async ORM writes bump what the sync ones bump: an async reader (and a sync
one) sees them at once."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync

from caching.decorators import cache_result
from caching.deps import row
from perfsite.models import Post
from tests.perfsite.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["locmem", "failover"])
def backend(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


def readers() -> tuple[Any, Any]:
    @cache_result(60, depends_on=[Post])
    async def titles() -> list[str]:
        return [p.title async for p in Post.objects.order_by("pk")]

    @cache_result(60, depends_on=[row(Post, "pk")])
    async def title(pk: int) -> str:
        return (await Post.objects.aget(pk=pk)).title

    return titles, title


def test_asave_adelete_and_aupdate_bump_as_their_sync_twins(backend: Any) -> None:
    post = make_post(title="one")
    titles, title = readers()

    async def scenario() -> list[Any]:
        seen: list[Any] = [await titles(), await title(post.pk)]
        post.title = "saved"
        await post.asave()
        seen += [await titles(), await title(post.pk)]
        await Post.objects.filter(pk=post.pk).aupdate(title="updated")
        seen += [await titles(), await title(post.pk)]
        other = await Post.objects.acreate(
            title="two",
            slug="two",
            body="b",
            author_id=post.author_id,
            published_at=post.published_at,
        )
        seen.append(await titles())
        await other.adelete()
        seen.append(await titles())
        return seen

    assert async_to_sync(scenario)() == [
        ["one"], "one",
        ["saved"], "saved",
        ["updated"], "updated",
        ["updated", "two"],
        ["updated"],
    ]  # fmt: skip
