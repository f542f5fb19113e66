"""Invalidation: transaction-aware bumps, model signals, querysets that bump.

Group versions themselves (read, seed, bump) live in ``caching.versions``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from caching import family
from caching.conf import conf
from caching.deps import write_groups
from caching.versions import ModelRef, group_versions, model_group, resolve_model
from caching.versions import bump as bump_groups

__all__ = [
    "InvalidatingQuerySet",
    "ModelRef",
    "bump_groups",
    "dirty_groups",
    "group_versions",
    "invalidate_group",
    "invalidate_groups",
    "invalidate_model",
    "invalidate_rows",
    "model_group",
    "watch",
]


# -- transactions --------------------------------------------------------------
# Per thread: for each database alias, the outermost atomic block that wrote,
# and the groups it wrote. Inside it, functions of those groups bypass the cache
# (they must see the transaction's own writes); after it, nothing is kept.
_dirty = threading.local()


def _dirty_map() -> dict[str, tuple[object, set[str]]]:
    if not hasattr(_dirty, "map"):
        _dirty.map = {}
    result: dict[str, tuple[object, set[str]]] = _dirty.map
    return result


def _outermost(using: str) -> object | None:
    connection = connections[using]
    if not connection.in_atomic_block or not connection.atomic_blocks:
        return None
    return connection.atomic_blocks[0]


def dirty_groups() -> set[str]:
    """Groups written by a still-open transaction of this thread."""
    result: set[str] = set()
    dirty = _dirty_map()
    for using, (block, groups) in list(dirty.items()):
        if _outermost(using) is block:
            result |= groups
        else:  # committed or rolled back since
            del dirty[using]
    return result


def invalidate_groups(
    names: Iterable[str], using: str = DEFAULT_DB_ALIAS, cache: str = "default"
) -> None:
    """Bump groups when the transaction on ``using`` commits (now in autocommit)."""
    names = set(names)
    block = _outermost(using)
    if block is None:
        bump_groups(names, cache)
        return
    dirty = _dirty_map()
    current = dirty.get(using)
    if current is None or current[0] is not block:
        current = (block, set())
        dirty[using] = current
    current[1].update(names)
    transaction.on_commit(partial(bump_groups, names, cache), using=using, robust=True)


def invalidate_group(name: str, using: str = DEFAULT_DB_ALIAS) -> None:
    invalidate_groups([name], using=using)


def invalidate_model(model: ModelRef, using: str = DEFAULT_DB_ALIAS) -> None:
    """For writes that send no signals: ``update()``, bulk paths, raw SQL.

    Every dependency on the model, its rows or its fields is invalidated.
    """
    invalidate_groups(write_groups(model), using=using)


def invalidate_rows(
    model: ModelRef,
    pks: Iterable[Any],
    fields: Iterable[str] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> None:
    """After a write to these rows (of these fields, when known) without signals."""
    invalidate_groups(write_groups(model, list(pks), fields), using=using)


# -- signals -------------------------------------------------------------------
# Concrete models watched, and for each through model of their m2m relations
# the two ends its rows point at.
_watched: set[str] = set()
_ends: dict[type[models.Model], tuple[tuple[str, type[models.Model]], ...]] = {}
# Django sends no delete signal for the rows of an auto-created through model
# it deletes by cascade: per model at an end of one, (through, this end's
# attribute, the other end's attribute, the other end's model).
_links: dict[type[models.Model], set[tuple[Any, str, str, Any]]] = {}
_pending: list[ModelRef] = []
_watch_lock = threading.Lock()


def _on_write(
    sender: type[models.Model],
    instance: models.Model,
    using: str = DEFAULT_DB_ALIAS,
    update_fields: Iterable[str] | None = None,
    **kwargs: Any,
) -> None:
    # A creation or deletion changes the set of rows: fields unknown.
    known = None if kwargs.get("created") or update_fields is None else update_fields
    names = write_groups(sender, [instance.pk], known)
    concrete: Any = sender._meta.concrete_model
    for attname, model in _ends.get(concrete, ()):  # a row of an m2m relation
        pk = getattr(instance, attname)
        if pk is not None:
            names |= write_groups(model, [pk])
    invalidate_groups(names, using=using)


def _on_end_delete(
    sender: type[models.Model],
    instance: models.Model,
    using: str = DEFAULT_DB_ALIAS,
    **kwargs: Any,
) -> None:
    """Before a row at an end of m2m relations goes, bump the rows at their
    other ends, as ``remove()`` would: the cascade deletes the links silently."""
    names: set[str] = set()
    concrete: Any = sender._meta.concrete_model
    for through, mine, theirs, other in _links.get(concrete, ()):
        links: models.QuerySet[Any] = models.QuerySet(through).using(using)
        links = links.filter(**{mine: instance.pk})
        pks = _listed(links.values_list(theirs, flat=True), flat=True)
        if pks is None or pks:
            names |= write_groups(through) | write_groups(other, pks)
    if names:
        invalidate_groups(names, using=using)


def _on_m2m(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    model: type[models.Model],
    using: str = DEFAULT_DB_ALIAS,
    **kwargs: Any,
) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        pk_set = kwargs.get("pk_set")  # None after a clear: rows not listed
        invalidate_groups(
            write_groups(type(instance), [instance.pk])
            | write_groups(model, None if pk_set is None else sorted(pk_set))
            | write_groups(sender),
            using=using,
        )


def watch(refs: Iterable[ModelRef]) -> None:
    """Connect the write signals of these models (once each, when models are ready)."""
    with _watch_lock:
        _pending.extend(refs)
    if apps.models_ready:
        connect_pending()


def _connect(sender: type[models.Model]) -> None:
    uid = f"caching:{sender._meta.label_lower}"
    post_save.connect(_on_write, sender=sender, dispatch_uid=uid + ":save")
    # A delete receiver also keeps Django from deleting these rows "fast"
    # (without signals) when they go by cascade.
    post_delete.connect(_on_write, sender=sender, dispatch_uid=uid + ":delete")


def _connect_family(label: str) -> None:
    """Every model whose writes change the rows of the watched model ``label``:
    its multi-table tree, their proxies, and the through models of their m2m
    relations (``m2m_changed``; the saves and deletes of an explicit through
    model's rows; for an auto-created one, deletes of the rows at its ends)."""
    for member in family.tree(apps.get_model(label)):
        for sender in (member, *family.proxies(member)):
            _connect(sender)
        for through, ends in family.throughs(member).items():
            _ends[through] = ends
            if not through._meta.auto_created:  # Django sends its rows' signals
                _connect(through)
            elif len(ends) == 2:
                for (mine, end), (theirs, other) in (ends, ends[::-1]):
                    _links.setdefault(end, set()).add((through, mine, theirs, other))
                    for sender in (end, *family.proxies(end)):
                        pre_delete.connect(
                            _on_end_delete,
                            sender=sender,
                            dispatch_uid=f"caching:{sender._meta.label_lower}:ends",
                        )
            m2m_changed.connect(
                _on_m2m,
                sender=through,
                dispatch_uid=f"caching:{through._meta.label_lower}",
            )


def connect_pending() -> None:
    with _watch_lock:
        refs, _pending[:] = list(_pending), []
    for ref in refs:
        label = resolve_model(ref)._meta.concrete_model._meta.label_lower  # type: ignore[union-attr]
        if label not in _watched:
            _watched.add(label)
            _connect_family(label)


def model_defined(**kwargs: Any) -> None:
    """``class_prepared`` (connected once the models are loaded): a new proxy
    or child may share rows with a watched model."""
    family.forget()
    for label in sorted(_watched):
        _connect_family(label)


def watched_models() -> list[str]:
    return sorted(_watched)


# -- writes without signals ----------------------------------------------------
def _listed(queryset: models.QuerySet[Any], flat: bool = False) -> list[Any] | None:
    """The pks a write to ``queryset`` matches (its values when ``flat``), or
    None past ``CACHING_ROW_LIMIT``."""
    limit = conf.ROW_LIMIT
    if not limit:
        return None
    values = queryset if flat else queryset.values_list("pk", flat=True)
    pks = list(values.order_by()[: limit + 1])
    return None if len(pks) > limit else pks


def _pks(objs: Iterable[Any]) -> list[Any] | None:
    pks = [obj.pk for obj in objs]
    if None in pks or len(pks) > conf.ROW_LIMIT:
        return None
    return pks


class InvalidatingQuerySet(models.QuerySet[Any]):
    """``update``, ``bulk_create`` and ``bulk_update`` that bump the rows they wrote.

    Use ``objects = InvalidatingQuerySet.as_manager()`` (or mix it into your own
    queryset class). ``update()`` first lists the matched pks (at most
    ``CACHING_ROW_LIMIT``, one bounded query) and updates exactly those, so
    the bump names every row it changed; past the limit it bumps the model.
    """

    def update(self, **kwargs: Any) -> int:
        with transaction.atomic(using=self.db, savepoint=False):
            pks = _listed(self)
            target = self if pks is None else self.filter(pk__in=pks)
            count = super(InvalidatingQuerySet, target).update(**kwargs)
            invalidate_groups(write_groups(self.model, pks, kwargs), using=self.db)
        return count

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        created = super().bulk_create(objs, *args, **kwargs)
        invalidate_groups(write_groups(self.model, _pks(created)), using=self.db)
        return created

    def bulk_update(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        count = super().bulk_update(objs, *args, **kwargs)
        fields = kwargs.get("fields", args[0] if args else None)
        invalidate_groups(write_groups(self.model, _pks(objs), fields), using=self.db)
        return count
