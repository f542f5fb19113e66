"""Dependencies finer than a model: rows and fields.

A write names the groups it touches (``write_groups``); a dependency names
the groups it reads (``Row.groups``, ``Fields.groups``). The two sides meet on
these group names (``<label>`` is ``app_label.model_name``):

===========================  ============================================
``model:<label>``            any write to the model (``model_group``)
``rows:<label>``             a write whose rows were not listed
``row:<label>:<pk>``         any write to that row (``row_group``)
``full:<label>``             a write whose fields are not known
``full:<label>:<pk>``        such a write, to that row
``field:<label>:<f>``        a write that names field ``f``
``field:<label>:<f>:<pk>``   such a write, to that row
===========================  ============================================

``<pk>`` is the pk as the model's pk field converts it (``versions.pk_part``,
on both sides). A proxy names its concrete model; a write to a model of a
multi-table tree names the pk in each model of the tree that has a written
field (``caching.family``).

So a bump is still one ``set_many`` of a few keys, whatever the number of
entries: a plain ``save()`` of one row sets four, a ``save(update_fields=F)``
two plus two per field. Why not one group per field that every plain save
bumps: that costs a key per field of the model on every save; the ``full``
groups cost one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from caching import family
from caching.family import own_fields
from caching.versions import (
    ModelRef,
    _label,
    model_group,
    pk_part,
    resolve_model,
    row_group,
)

__all__ = ["Fields", "Row", "field_groups", "fields", "row", "split", "write_groups"]


def field_names(model: ModelRef, names: Iterable[str]) -> frozenset[str]:
    """Field names as ``_meta`` spells them (``author_id`` becomes ``author``)."""
    if isinstance(model, str) and not apps.models_ready:
        return frozenset(names)  # checked again on the first call
    model = resolve_model(model)
    result = set()
    for name in names:
        try:
            result.add(model._meta.get_field(name).name)
        except FieldDoesNotExist:
            raise ValueError(
                f"{model._meta.label} has no field {name!r}; valid fields: "
                + ", ".join(sorted(f.name for f in model._meta.concrete_fields))
            ) from None
    return frozenset(result)


def _spread(
    model: ModelRef, fields: Iterable[str] | None
) -> list[tuple[type[models.Model], frozenset[str] | None]]:
    """The models a write to ``model`` touches (``caching.family``), each with
    the written fields it has; a model that has none of them is left out."""
    names = None if fields is None else field_names(model, fields)
    written = resolve_model(model)._meta.concrete_model
    result: list[tuple[type[models.Model], frozenset[str] | None]] = []
    for member in family.tree(resolve_model(model)):
        own = names if names is None or member is written else own_fields(member, names)
        if own is None or own or member is written:
            result.append((member, own))
    return result


def _field_groups(
    model: type[models.Model], names: Iterable[str], pks: list[Any]
) -> set[str]:
    label = _label(model)
    result = {f"field:{label}:{f}" for f in names}
    for pk in pks:
        part = pk_part(model, pk)
        result.update(f"field:{label}:{f}:{part}" for f in names)
    return result


def field_groups(
    model: ModelRef, fields: Iterable[str], pks: Iterable[Any]
) -> set[str]:
    """The groups of these fields, model-wide and in each of these rows."""
    pks = list(pks)
    result: set[str] = set()
    for member, names in _spread(model, fields):
        result |= _field_groups(member, names or (), pks)
    return result


def _member_groups(
    model: type[models.Model], pks: list[Any] | None, names: frozenset[str] | None
) -> set[str]:
    label = _label(model)
    result = {model_group(model)}
    if names is not None:
        result |= _field_groups(model, names, pks or [])
    else:
        result.add(f"full:{label}")
        result.update(f"full:{label}:{pk_part(model, pk)}" for pk in pks or ())
    if pks is None:
        result.add(f"rows:{label}")
    else:
        result.update(row_group(model, pk) for pk in pks)
    return result


def write_groups(
    model: ModelRef,
    pks: Iterable[Any] | None = None,
    fields: Iterable[str] | None = None,
) -> set[str]:
    """The groups a write bumps: ``pks`` None for rows not listed, ``fields``
    None when which fields changed is not known. A proxy names its concrete
    model; a model of a multi-table tree names the rows in the whole tree."""
    pks = None if pks is None else list(pks)
    result: set[str] = set()
    for member, names in _spread(model, fields):
        result |= _member_groups(member, pks, names)
    return result


@dataclass(frozen=True)
class Fields:
    """A dependency on some fields of every row of a model (a list of titles).

    Writes that name other fields only (``save(update_fields=["views"])``)
    leave it alone; creations, deletions and plain saves invalidate it.
    """

    model: ModelRef
    fields: tuple[str, ...]

    def groups(self) -> list[str]:
        label = _label(self.model)
        names = field_names(self.model, self.fields)
        return [f"full:{label}", *(f"field:{label}:{f}" for f in sorted(names))]


@dataclass(frozen=True)
class Row:
    """A dependency on one row, whose pk is the call's (or URL's) ``arg``.

    The argument may be the pk or an instance of the model. With ``fields``,
    only writes that may change those fields of the row invalidate.
    """

    model: ModelRef
    arg: str = "pk"
    fields: tuple[str, ...] | None = None

    def groups(self, arguments: Mapping[str, Any]) -> list[str]:
        model = resolve_model(self.model)
        label = _label(model)
        value = arguments.get(self.arg)
        if isinstance(value, models.Model):
            value = value.pk
        try:
            pk = pk_part(model, value)
        except ValueError:  # no row to name: any write to the model invalidates
            return [model_group(model)]
        if self.fields is None:
            return [f"rows:{label}", f"row:{label}:{pk}"]
        names = field_names(model, self.fields)
        return [
            f"rows:{label}",
            f"full:{label}:{pk}",
            *(f"field:{label}:{f}:{pk}" for f in sorted(names)),
        ]


def row(
    model: ModelRef, arg: str = "pk", *, fields: Iterable[str] | None = None
) -> Row:
    """``depends_on=[row(Post, "pk")]``: the row whose pk is the argument ``pk``."""
    return Row(model, arg, None if fields is None else tuple(fields))


def fields(model: ModelRef, *names: str) -> Fields:
    """``depends_on=[fields(Post, "title")]``: those fields of every row."""
    if not names:
        raise ValueError("fields() needs at least one field name.")
    return Fields(model, names)


Dependency = ModelRef | Row | Fields


def split(
    depends_on: Iterable[Dependency],
) -> tuple[list[str], tuple[Row, ...], list[ModelRef]]:
    """Static group names, row dependencies and the models to watch."""
    static: list[str] = []
    rows: list[Row] = []
    watched: list[ModelRef] = []
    for dependency in depends_on:
        if isinstance(dependency, Row):
            rows.append(dependency)
            watched.append(dependency.model)
        elif isinstance(dependency, Fields):
            static.extend(dependency.groups())
            watched.append(dependency.model)
        else:
            static.append(model_group(dependency))
            watched.append(dependency)
    return static, tuple(rows), watched
