"""Group versions: read, seed, persist, bump.

A group is a key holding a random number. An entry stores the numbers of its
groups as they were *before* its value was computed; a read compares them with
the current ones, so a bump (one ``set_many``, whatever the number of entries)
makes every older entry a miss, including a value computed from data that a
concurrent commit replaced. New numbers are random, so a group key that was
evicted and re-created never makes an old entry valid again.

Group names are ``<kind>:<subject>`` (see ``caching.keys``): a model's group
is bumped by any write to it; ``row_group`` names one row, for views and
functions that depend on a single object.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from django.apps import apps
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import models

from caching.conf import conf
from caching.keys import encode, group_key
from caching.purge import enqueue as purge_shared_caches

ModelRef = type[models.Model] | str


def resolve_model(ref: ModelRef) -> type[models.Model]:
    if isinstance(ref, str):
        return apps.get_model(ref)
    return ref


def _label(model: ModelRef) -> str:
    if isinstance(model, str) and not apps.models_ready:
        app_label, name = model.split(".")
        return f"{app_label.lower()}.{name.lower()}"
    meta = resolve_model(model)._meta.concrete_model._meta  # type: ignore[union-attr]
    return f"{meta.app_label}.{meta.model_name}"


def model_group(model: ModelRef) -> str:
    """The group every write to ``model`` bumps: ``model:app_label.model_name``."""
    return f"model:{_label(model)}"


def pk_part(model: ModelRef, value: Any) -> str:
    """A pk as group names spell it, converted by the model's pk field first.

    Reads and writes both go through here, so ``5`` and ``"5"`` name one row
    of an integer pk (and a UUID's text its UUID). ``ValueError`` for a value
    that cannot be a pk of the model.
    """
    meta = resolve_model(model)._meta
    try:
        pk = meta.pk.to_python(value)
    except (ValidationError, TypeError, ValueError):
        pk = None
    if pk is None:
        raise ValueError(f"{value!r} is not a pk of {meta.label}.")
    return encode(pk, "pk")


def row_group(model: ModelRef, pk: Any) -> str:
    """The group of one row: ``row:app_label.model_name:<pk>`` (see ``pk_part``)."""
    return f"row:{_label(model)}:{pk_part(model, pk)}"


def new_version() -> int:
    return secrets.randbits(62)


def read(backend: Any, keys: Sequence[str], current: Sequence[str]) -> dict[str, Any]:
    """``get_many`` of ``keys`` and of the group keys ``current``, the latter
    from the primary when ``backend`` has replicas (``FailoverCache``)."""
    reader = getattr(backend, "read_current", None)
    if reader is None:
        found: dict[str, Any] = backend.get_many([*keys, *current])
        return found
    return reader(keys, current)  # type: ignore[no-any-return]


Seeds = tuple[tuple[str, int], ...]  # (group key, version) not written yet

# The seeds of the computations running in this context: a lookup nested in
# one (a cached function the view calls) takes the same versions, so the
# outer entry and the inner one can both be stored under them.
_NONE: Mapping[str, int] = MappingProxyType({})
_computing: ContextVar[Mapping[str, int]] = ContextVar("computing", default=_NONE)


@contextmanager
def computing(seeds: Seeds = ()) -> Iterator[None]:
    """Around a computation from versions that include ``seeds``; leaving it
    also drops what ``enter`` added inside it."""
    token = _computing.set(_joined(seeds))
    try:
        yield
    finally:
        _computing.reset(token)


def enter(seeds: Seeds) -> None:
    """``computing`` for a computation that starts further down the same
    ``computing`` block (a view that middleware hands on)."""
    if seeds:
        _computing.set(_joined(seeds))


def _joined(seeds: Seeds) -> Mapping[str, int]:
    return {**_computing.get(), **dict(seeds)}


def seed(
    backend: Any, names: Sequence[str], found: Mapping[str, Any]
) -> tuple[tuple[int, ...], Seeds]:
    """Each group's version from a ``get_many`` result, and the missing ones.

    A missing group gets a new random version (or the one an enclosing
    computation seeded it with) that is *not* written here: ``persist``
    writes it with ``add`` only when something is kept under it (a stored
    entry, an ETag sent), so a lookup that stores nothing (a 404, a bypass,
    an error) leaves no key behind. Junk under a group key is removed.
    """
    versions: list[int] = []
    seeds: list[tuple[str, int]] = []
    pending = _computing.get()
    for name in names:
        key = group_key(name)
        version = found.get(key)
        if type(version) is not int:
            if version is not None:  # junk under a group key: drop it
                backend.delete(key)
            version = pending.get(key) or new_version()
            seeds.append((key, version))
        versions.append(version)
    return tuple(versions), tuple(seeds)


def persist(backend: Any, seeds: Seeds) -> bool:
    """Write the seeds of a lookup with ``add``; False when a group holds
    another version by now (another caller seeded it, or a write bumped it
    since the lookup): the versions read before cannot be vouched for, so
    nothing may be stored under them. A nested computation that wrote the
    same seed first is no conflict.
    """
    return all(
        backend.add(key, version, conf.GROUP_TIMEOUT)
        or read(backend, (), [key]).get(key) == version
        for key, version in seeds
    )


def group_versions(names: Sequence[str], cache: str = "default") -> dict[str, int]:
    """Current version of each group, created when missing."""
    backend = caches[cache]
    keys = [group_key(n) for n in names]
    current, seeds = seed(backend, names, read(backend, (), keys))
    if not persist(backend, seeds):  # another caller's seed, or a bump: take it
        current, _ = seed(backend, names, read(backend, (), keys))
    return dict(zip(names, current, strict=True))


def bump(names: Iterable[str], cache: str = "default") -> None:
    """Give each group a new version now (one ``set_many``), then purge its tag."""
    names = tuple(names)
    data = {group_key(n): new_version() for n in names}
    if data:
        caches[cache].set_many(data, conf.GROUP_TIMEOUT)
        purge_shared_caches(names)
