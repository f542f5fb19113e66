"""What a setting's value must be: one small class per kind of value.

Each kind answers ``problem(value)``: ``None`` when the value fits, else what
it must be ("must be True or False"). Nothing is coerced: ``"false"`` is not a
bool, ``"5"`` is not an integer and ``True`` is not a number, so a setting
written as a string is refused by the app's system check instead of being
read as something else. Kinds nest (``ListOf(Text())``, ``Optional(Int())``),
so a setting's whole shape is declared once, beside its default, in the
app's ``conf.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Kind(Protocol):
    """A kind of setting value."""

    def problem(self, value: Any) -> str | None:
        """``None`` when ``value`` fits, else what it must be ("must be ...")."""


def is_number(value: Any) -> bool:
    """An int or a float, and not a bool (``True`` is an int in Python)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Bool:
    def problem(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else "must be True or False"


def _bounds(
    minimum: float | None,
    maximum: float | None,
    above: float | None,
    below: float | None,
) -> str:
    parts = []
    if minimum is not None:
        parts.append(f">= {minimum}")
    if above is not None:
        parts.append(f"> {above}")
    if maximum is not None:
        parts.append(f"<= {maximum}")
    if below is not None:
        parts.append(f"< {below}")
    return " and ".join(parts)


def _in_bounds(
    value: float,
    minimum: float | None,
    maximum: float | None,
    above: float | None,
    below: float | None,
) -> bool:
    return not (
        (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
        or (above is not None and value <= above)
        or (below is not None and value >= below)
    )


@dataclass(frozen=True)
class Int:
    """An integer (not a bool, not a float), within the bounds given."""

    minimum: int | None = None
    maximum: int | None = None

    def problem(self, value: Any) -> str | None:
        if is_integer(value) and _in_bounds(
            value, self.minimum, self.maximum, None, None
        ):
            return None
        bounds = _bounds(self.minimum, self.maximum, None, None)
        return f"must be an integer {bounds}".rstrip()


@dataclass(frozen=True)
class Number:
    """An int or a float (not a bool), within the bounds given."""

    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None  # exclusive
    below: float | None = None  # exclusive

    def problem(self, value: Any) -> str | None:
        limits = (self.minimum, self.maximum, self.above, self.below)
        if is_number(value) and _in_bounds(value, *limits):
            return None
        return f"must be a number {_bounds(*limits)}".rstrip()


@dataclass(frozen=True)
class Text:
    """A string; ``choices``: one of them; ``pattern``: matching it whole."""

    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    description: str = "a string"

    def problem(self, value: Any) -> str | None:
        if isinstance(value, str):
            if self.choices is not None and value not in self.choices:
                return f"must be one of {', '.join(map(repr, self.choices))}"
            if self.pattern is None or re.fullmatch(self.pattern, value):
                return None
        elif self.choices is not None:
            return f"must be one of {', '.join(map(repr, self.choices))}"
        return f"must be {self.description}"


@dataclass(frozen=True)
class Optional:
    """``None``, or a value of ``kind``."""

    kind: Kind

    def problem(self, value: Any) -> str | None:
        if value is None:
            return None
        problem = self.kind.problem(value)
        return None if problem is None else f"{problem}, or None"


@dataclass(frozen=True)
class ListOf:
    """A list (or tuple) of items of one kind; ``length``: exactly that many."""

    item: Kind
    length: int | None = None
    nonempty: bool = False

    def problem(self, value: Any) -> str | None:
        if isinstance(value, list | tuple) and not (
            (self.length is not None and len(value) != self.length)
            or (self.nonempty and not value)
        ):
            for item in value:
                problem = self.item.problem(item)
                if problem is not None:
                    return f"must be a list whose items each {problem}"
            return None
        size = f"{self.length} " if self.length is not None else ""
        return f"must be a {'non-empty ' if self.nonempty else ''}list of {size}items"


@dataclass(frozen=True)
class DictOf:
    """A dict whose keys and values are each of one kind."""

    key: Kind
    value: Kind

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, Mapping):
            return "must be a dict"
        for key, item in value.items():
            problem = self.key.problem(key)
            if problem is not None:
                return f"must be a dict whose keys each {problem}"
            problem = self.value.problem(item)
            if problem is not None:
                return f"[{key!r}] {problem}"
        return None


@dataclass(frozen=True)
class Where:
    """A value of ``kind`` that also passes ``test`` (``description`` says how)."""

    kind: Kind
    test: Callable[[Any], bool]
    description: str

    def problem(self, value: Any) -> str | None:
        problem = self.kind.problem(value)
        if problem is not None:
            return problem
        return None if self.test(value) else f"must be {self.description}"


@dataclass(frozen=True)
class AnyValue:
    """Any value at all: the app's own check judges it (a dotted path's target)."""

    def problem(self, value: Any) -> str | None:
        return None
