"""Which models a write to one model touches: proxies and multi-table trees.

A proxy's rows are its concrete model's rows. A multi-table child's row is a
row of each of its parents too (one pk), and a parent's row is part of the row
of each child with that pk; Django saves a child's parents without a signal
for them. So a write to a row of any model of a multi-table tree (ancestors,
descendants, and their other children) names that pk in every model of the
tree whose fields it may have changed (``caching.deps.write_groups``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

__all__ = ["forget", "own_fields", "proxies", "throughs", "tree"]

Model = type[models.Model]
_trees: dict[Model, tuple[Model, ...]] = {}


def tree(model: Model) -> tuple[Model, ...]:
    """The concrete models sharing rows with ``model``'s: itself first."""
    concrete: Model = model._meta.concrete_model  # type: ignore[assignment]
    found = _trees.get(concrete)
    if found is None:
        lineage = {concrete, *concrete._meta.get_parent_list()}
        found = (concrete,) + tuple(
            other
            for other in apps.get_models()
            if other is not concrete
            and not other._meta.proxy
            and (other in lineage or lineage & set(other._meta.get_parent_list()))
        )
        _trees[concrete] = found
    return found


def forget(**kwargs: Any) -> None:
    """A model was defined late (``class_prepared``): trees are computed anew."""
    _trees.clear()


def own_fields(model: Model, names: Iterable[str]) -> frozenset[str]:
    """Those of ``names`` that are fields of ``model`` (its own or inherited)."""
    result = set()
    for name in names:
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        result.add(name)
    return frozenset(result)


def proxies(model: Model) -> list[Model]:
    return [
        other
        for other in apps.get_models()
        if other._meta.proxy and other._meta.concrete_model is model
    ]


def throughs(model: Model) -> dict[Model, tuple[tuple[str, Model], ...]]:
    """The through model of each m2m relation of ``model`` (either side), with
    its two ends: the foreign key's attribute and the model it points at."""
    result: dict[Model, tuple[tuple[str, Model], ...]] = {}
    for field in model._meta.get_fields(include_hidden=True):
        if not field.many_to_many:
            continue
        # The forward field keeps its through model on remote_field, the
        # reverse relation (ManyToManyRel) keeps the forward field on .field.
        forward: Any = (
            field if isinstance(field, models.ManyToManyField) else field.field  # type: ignore[union-attr]
        )
        through: Model = forward.remote_field.through
        ends: tuple[tuple[str, Model], ...] = ()
        if isinstance(forward, models.ManyToManyField):
            links = (forward.m2m_field_name(), forward.m2m_reverse_field_name())
            keys: Any = [through._meta.get_field(name) for name in links]
            ends = tuple((fk.attname, fk.related_model) for fk in keys)
        result[through] = ends
    return result
