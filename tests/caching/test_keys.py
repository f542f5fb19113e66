from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from caching.decorators import cache_result
from caching.versions import bump, group_versions

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.binary(max_size=4)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)


def typed(value: Any) -> Any:
    """What the key must tell apart: the value and its type, recursively."""
    if isinstance(value, dict):
        return ("dict", sorted((typed(k), typed(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(v) for v in value])
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


@cache_result(60)
def target(a: Any, b: Any = "default", *rest: Any, c: Any = None, **extra: Any) -> None:
    return None


@settings(deadline=None)  # a loaded CI machine must not fail a property
@given(values, values, values)
def test_equivalent_calls_share_a_key(a: Any, b: Any, c: Any) -> None:
    key = target.cache_key(a, b, c=c)
    assert target.cache_key(a=a, b=b, c=c) == key
    assert target.cache_key(a, c=c, b=b) == key
    assert target.cache_key(a, "default") == target.cache_key(a)


@settings(deadline=None)
@given(values, values)
def test_distinct_calls_get_distinct_keys(a: Any, b: Any) -> None:
    same = typed(a) == typed(b)
    assert (target.cache_key(a) == target.cache_key(b)) is same
    assert (target.cache_key(1, x=a) == target.cache_key(1, x=b)) is same


def test_types_and_separators_are_encoded() -> None:
    assert target.cache_key(1) != target.cache_key("1")
    assert target.cache_key(1) != target.cache_key(True)
    assert target.cache_key(1) != target.cache_key(1.0)
    assert target.cache_key("a b") != target.cache_key("a", "b")
    assert target.cache_key(("a", "b")) != target.cache_key(["a", "b"])
    assert target.cache_key({1, 2}) == target.cache_key({2, 1})
    assert target.cache_key({1}) != target.cache_key(frozenset({1}))


class Colour(enum.Enum):
    RED = 1


def test_other_keyable_types() -> None:
    keyed = [
        decimal.Decimal("1.5"),
        uuid.UUID(int=1),
        datetime.datetime(2024, 1, 1, 12),
        datetime.date(2024, 1, 1),
        datetime.time(12),
        datetime.timedelta(seconds=3),
        Colour.RED,
    ]
    found = {target.cache_key(v) for v in keyed}
    assert len(found) == len(keyed)
    assert target.cache_key(Colour.RED) != target.cache_key(1)


def test_models_key_by_label_and_pk() -> None:
    user = User(pk=7, username="x")
    same = User(pk=7, username="renamed")
    assert target.cache_key(user) == target.cache_key(same)
    assert target.cache_key(user) != target.cache_key(User(pk=8))
    assert target.cache_key(user) != target.cache_key(7)


def test_unkeyable_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot key 'a' of type object"):
        target.cache_key(object())
    with pytest.raises(TypeError, match="unsaved User"):
        target.cache_key(User(username="new"))
    with pytest.raises(TypeError, match="cannot key 'extra'"):
        target.cache_key(1, extra=object())


def test_readable_prefix_and_version() -> None:
    assert target.cache_key(1).startswith("cr:tests.caching.test_keys.target:v1:")

    @cache_result(60, version=2, key_prefix="custom")
    def other(a: int) -> int:
        return a

    assert other.cache_key(1).startswith("cr:custom:v2:")


def plain(a: Any, b: Any = 2, *, c: Any = 3) -> None:
    return None


@settings(deadline=None)  # a loaded CI machine must not fail a property
@given(values, values, values)
def test_the_fast_binding_matches_inspect(a: Any, b: Any, c: Any) -> None:
    import inspect

    from caching.keys import Binder, canonical_call

    binder = Binder(inspect.signature(plain))
    for args, kwargs in [((a,), {}), ((a, b), {"c": c}), ((), {"a": a, "c": c})]:
        assert binder.canonical(args, kwargs) == canonical_call(
            binder.signature, args, kwargs
        )


def test_the_fast_binding_refuses_what_bind_refuses() -> None:
    import inspect

    from caching.keys import Binder

    binder = Binder(inspect.signature(plain))
    for args, kwargs in [((), {}), ((1,), {"a": 1}), ((1,), {"z": 1}), ((1, 2, 3), {})]:
        with pytest.raises(TypeError):
            binder.canonical(args, kwargs)


def test_subclasses_of_int_and_str_key_like_their_base() -> None:
    from django.utils.safestring import SafeString

    class Count(int):
        pass

    assert target.cache_key(SafeString("a")) == target.cache_key("a")
    assert target.cache_key(Count(3)) == target.cache_key(3)


def test_group_versions_are_shared_by_every_release() -> None:
    """A process of the old release and one of the new, live together during a
    rolling deploy, read one version per group: a write in either invalidates
    the entries of both (entry keys, unlike group keys, carry the release)."""
    cache.clear()
    with override_settings(CACHING_RELEASE="one"):
        old_entry = target.cache_key(1)
        old = group_versions(["model:perfsite.post"])
    with override_settings(CACHING_RELEASE="two"):
        assert target.cache_key(1) != old_entry
        assert group_versions(["model:perfsite.post"]) == old
        bump(["model:perfsite.post"])
        new = group_versions(["model:perfsite.post"])
    assert new != old
    with override_settings(CACHING_RELEASE="one"):
        assert group_versions(["model:perfsite.post"]) == new


def test_over_long_group_names_are_hashed_into_a_bounded_key() -> None:
    from caching.keys import MAX_GROUP_LENGTH, group_key

    short = "row:perfsite.post:i" + "9" * (MAX_GROUP_LENGTH - 19)
    assert group_key(short).endswith(short)
    long_a, long_b = short + "1", short + "2"
    assert len(group_key(long_a)) < 80
    assert group_key(long_a) != group_key(long_b)
    assert group_key(long_a) == group_key(long_a)
