"""Critical CSS: the rules of a stylesheet that a browser used, re-wrapped.

``select`` takes a stylesheet's text and the start offsets of the rules a
browser reported as used (CDP rule-usage coverage, see ``assets.coverage``)
and returns those rules in source order, each inside the ``@media``,
``@supports``, ``@layer`` or ``@container`` blocks it was written in, plus the
``@font-face`` and ``@keyframes`` rules the kept rules name (directly or
through a custom property they define). The stylesheet is parsed with
tinycss2; no regular expression touches it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

import tinycss2
from tinycss2.ast import AtRule, IdentToken, QualifiedRule, StringToken

# Conditional group rules whose children are rules: kept when a child is.
GROUPS = ("media", "supports", "layer", "container")
# Kept when a kept rule names them.
NAMED = {"font-face", "keyframes", "-webkit-keyframes", "property"}
# Kept whatever is used: they change how the rest is read.
STATEMENTS = {"namespace", "layer"}


def _rules(text: str | Sequence[Any]) -> list[Any]:
    if isinstance(text, str):
        return list(tinycss2.parse_stylesheet(text, True, True))
    return list(tinycss2.parse_rule_list(text, True, True))


class _Offsets:
    """Maps tinycss2's (line, column) positions to offsets in the text."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self.starts.append(index + 1)

    def of(self, node: Any) -> int:
        offset: int = self.starts[node.source_line - 1] + node.source_column - 1
        return offset


def utf16_to_index(text: str, offsets: Iterable[int]) -> list[int]:
    """CDP offsets count UTF-16 code units; Python indexes code points."""
    if text.isascii():
        return list(offsets)
    units: list[int] = []
    count = 0
    for char in text:
        units.append(count)
        count += 2 if ord(char) > 0xFFFF else 1
    return [bisect.bisect_left(units, offset) for offset in offsets]


def _children(rule: Any, tree: dict[int, list[Any]]) -> list[Any] | None:
    """The rules inside a group rule, parsed once and kept in ``tree``."""
    if not (
        isinstance(rule, AtRule)
        and rule.lower_at_keyword in GROUPS
        and rule.content is not None
    ):
        return None
    if id(rule) not in tree:
        tree[id(rule)] = _rules(rule.content)
    return tree[id(rule)]


def _walk(rules: list[Any], tree: dict[int, list[Any]]) -> Iterable[QualifiedRule]:
    for rule in rules:
        if isinstance(rule, QualifiedRule):
            yield rule
        else:
            yield from _walk(_children(rule, tree) or [], tree)


def _names(rules: Iterable[QualifiedRule | AtRule]) -> set[str]:
    """Every identifier and string in the declarations of ``rules``."""
    names: set[str] = set()
    for rule in rules:
        for declaration in tinycss2.parse_declaration_list(rule.content, True, True):
            for token in getattr(declaration, "value", []):
                if isinstance(token, IdentToken):
                    names.add(token.lower_value)
                elif isinstance(token, StringToken):
                    names.add(token.value.lower())
    return names


def _named(rule: AtRule, names: set[str]) -> bool:
    if rule.lower_at_keyword == "font-face":
        families = _names([rule])
        return bool(families & names)
    prelude = tinycss2.serialize(rule.prelude).strip().strip("'\"").lower()
    return prelude in names


def _emit(
    rules: list[Any], kept: set[int], names: set[str], tree: dict[int, list[Any]]
) -> list[str]:
    out: list[str] = []
    for rule in rules:
        if isinstance(rule, QualifiedRule):
            if id(rule) in kept:
                out.append(rule.serialize())
            continue
        if not isinstance(rule, AtRule):
            continue
        keyword = rule.lower_at_keyword
        children = _children(rule, tree)
        if children is not None:
            inner = _emit(children, kept, names, tree)
            if inner:
                prelude = tinycss2.serialize(rule.prelude).strip()
                out.append(f"@{keyword} {prelude}{{{''.join(inner)}}}")
        elif keyword in STATEMENTS or (keyword in NAMED and _named(rule, names)):
            out.append(rule.serialize())
    return out


def select(text: str, used_offsets: Iterable[int]) -> str:
    """The rules of ``text`` that start at one of ``used_offsets`` (UTF-16
    offsets, as CDP reports them), with what they need around them."""
    offsets = _Offsets(text)
    top = _rules(text)
    tree: dict[int, list[Any]] = {}
    rules = list(_walk(top, tree))
    starts = [offsets.of(rule) for rule in rules]
    kept: set[int] = set()
    for used in utf16_to_index(text, used_offsets):
        # The rule that starts at, or most closely before, the used offset.
        index = bisect.bisect_right(starts, used) - 1
        if index >= 0:
            kept.add(id(rules[index]))
    names = _names(rule for rule in rules if id(rule) in kept)
    return "".join(_emit(top, kept, names, tree))
