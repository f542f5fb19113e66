"""Every cache key the caching app writes, and canonical keys for calls.

The key scheme (all under the cache's own ``KEY_PREFIX``):

=============================  =================================================
``cr:<namespace>:<release>:{<digest>}``  an entry: a ``cache_result`` call
                               (namespace ``<module.qualname>:v<version>``) or a
                               stored response (namespace ``http``)
``cr:<namespace>:<release>:{<digest>}:lock``  its stampede lock
``cr:<...>:lock:done``         "stored just now", left by a lock holder
``cr:g:<group>``               a group version (no release: data versions are
                               shared by every release during a rolling deploy)
``caching:epoch``              the namespace epoch of ``FailoverCache``
``caching:stats:<name>``       a function's flushed statistics (a Redis hash),
``caching:stats:names``        and the set of their names
=============================  =================================================

Shared HTTP caches tag responses with *surrogate keys* derived from the same
names: ``g<hash>`` for a group, ``r<hash>`` for the release (``surrogate_tag``,
``release_tag``): short, header-safe, and without the release in a group's tag,
so one purge reaches the pages of every release live during a rolling deploy.

On a Redis Cluster the ``{<digest>}`` hash tag puts an entry, its lock and its
"done" key in one slot (the lock's release script touches two of them), and
spreads entries over the nodes by digest. Group keys carry no tag: each one
lives where its name hashes, and a hit reads them with the entry in one
``MGET`` per node involved (``caching.cluster``).

Group names are ``<kind>:<subject>``: ``model:<app_label>.<model>`` (any write
to the model), ``fn:<namespace>`` (``invalidate_all``), ``row:<app_label>.<model>:<pk>``
(one row) and free names given to ``groups=``.

Arguments are encoded with a type tag and, for strings and bytes, a length,
so ``1`` and ``"1"``, or ``("a b",)`` and ``("a", "b")``, never share a key.
Anything without an obvious, stable identity is refused instead of being
passed through ``str()`` or ``repr()``.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import hashlib
import inspect
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import Model

from caching.conf import conf

NAMESPACE = "cr"
GROUP_PREFIX = f"{NAMESPACE}:g:"
LOCK_SUFFIX = ":lock"
DONE_SUFFIX = ":done"
EPOCH_KEY = "caching:epoch"  # after the backend's own KEY_PREFIX
STATS_PREFIX = "caching:stats:"
STATS_NAMES_KEY = "caching:stats:names"
HTTP_NAMESPACE = "http"


def entry_key(namespace: str, digest_: str) -> str:
    """An entry's key; the release is part of it, so a deploy starts afresh."""
    return f"{NAMESPACE}:{namespace}:{conf.RELEASE}:{{{digest_}}}"


MAX_GROUP_LENGTH = 200  # longer names (a 4,000-digit pk, say) are hashed


def group_key(group: str) -> str:
    """A group's version key; a name past ``MAX_GROUP_LENGTH`` is hashed, so a
    request cannot make a key as long as its URL."""
    if len(group) > MAX_GROUP_LENGTH:
        group = "#" + hashlib.blake2b(group.encode(), digest_size=16).hexdigest()
    return GROUP_PREFIX + group


def lock_key(key: str) -> str:
    return key + LOCK_SUFFIX


def done_key(key: str) -> str:
    """Set for a moment by a lock holder that stored the entry (see ``locks``)."""
    return key + LOCK_SUFFIX + DONE_SUFFIX


def stats_key(name: str) -> str:
    return STATS_PREFIX + name


# Exact types (not subclasses: bool is not int here) take a shortcut.
_EXACT: dict[type, Callable[[Any], str]] = {
    int: lambda v: f"i{v}",
    str: lambda v: f"s{len(v)}:{v}",
    bool: lambda v: "b1" if v else "b0",
    type(None): lambda v: "N",
}


def encode(value: Any, name: str = "argument") -> str:
    fast = _EXACT.get(type(value))
    if fast is not None:
        return fast(value)
    # (None and bool cannot be subclassed: the shortcut covered them.)
    if isinstance(value, enum.Enum):
        cls = type(value)
        return f"e{cls.__module__}.{cls.__qualname__}({encode(value.value, name)})"
    if isinstance(value, int):
        return f"i{value}"
    if isinstance(value, float):
        return f"f{value!r}"
    if isinstance(value, str):
        return f"s{len(value)}:{value}"
    if isinstance(value, bytes):
        return f"y{len(value)}:{value.hex()}"
    if isinstance(value, decimal.Decimal):
        return f"d{value}"
    if isinstance(value, uuid.UUID):
        return f"u{value}"
    if isinstance(value, datetime.datetime):  # before date: a datetime is a date
        return f"T{value.isoformat()}"
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        return f"{type(value).__name__}:{value}"
    if isinstance(value, Model):
        if value.pk is None:
            raise TypeError(
                f"cache_result cannot key {name!r}: an unsaved {type(value).__name__} "
                "has no primary key; save it first or pass plain values."
            )
        meta = value._meta
        return f"m{meta.app_label}.{meta.model_name}:{encode(value.pk, name)}"
    if isinstance(value, tuple | list):
        tag = "t" if isinstance(value, tuple) else "l"
        return f"{tag}{len(value)}(" + ",".join(encode(v, name) for v in value) + ")"
    if isinstance(value, frozenset | set):
        tag = "F" if isinstance(value, frozenset) else "S"
        items = sorted(encode(v, name) for v in value)
        return f"{tag}{len(items)}(" + ",".join(items) + ")"
    if isinstance(value, Mapping):
        pairs = sorted(f"{encode(k, name)}={encode(v, name)}" for k, v in value.items())
        return f"D{len(pairs)}(" + ",".join(pairs) + ")"
    raise TypeError(
        f"cache_result cannot key {name!r} of type {type(value).__qualname__}: pass "
        "str, int, float, bool, None, bytes, Decimal, UUID, date/time, an enum, a "
        "saved model instance, or tuples/lists/sets/dicts of those (for example its "
        "id instead of the object)."
    )


class Binder:
    """Binds calls to a signature, with a fast path for plain parameters.

    ``inspect.Signature.bind`` is most of the cost of a key; for functions
    whose parameters are all positional-or-keyword or keyword-only (most of
    them) the binding is done here, and anything unusual (a missing or unknown
    argument, ``*args``) goes through ``bind`` for its exact behaviour.
    """

    def __init__(self, signature: inspect.Signature) -> None:
        self.signature = signature
        kinds = {p.kind for p in signature.parameters.values()}
        plain = {
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        }
        self.fast = kinds <= plain
        self.positional = [
            p.name
            for p in signature.parameters.values()
            if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ]
        self.names = list(signature.parameters)
        self.defaults = {
            p.name: p.default
            for p in signature.parameters.values()
            if p.default is not inspect.Parameter.empty
        }

    def canonical(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        if self.fast and len(args) <= len(self.positional):
            given = self.positional[: len(args)]
            if all(k in self.defaults or k not in given for k in kwargs) and all(
                k in self.signature.parameters and k not in given for k in kwargs
            ):
                values = {
                    **self.defaults,
                    **dict(zip(given, args, strict=True)),
                    **kwargs,
                }
                if len(values) == len(self.names):  # every required one given
                    return ";".join(
                        f"{name}={encode(values[name], name)}" for name in self.names
                    )
        return canonical_call(self.signature, args, kwargs)


def canonical_call(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> str:
    """The bound call with defaults applied, as one unambiguous string."""
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    parts = []
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            parts.append(f"**{name}={encode(dict(value), name)}")
        else:
            parts.append(f"{name}={encode(value, name)}")
    return ";".join(parts)


def digest(canonical: str) -> str:
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


TAG_BYTES = 6  # 12 hex digits: a collision only purges a page too many


def surrogate_tag(group: str) -> str:
    """A group's surrogate key, as a shared cache stores and purges it."""
    return "g" + hashlib.blake2b(group.encode(), digest_size=TAG_BYTES).hexdigest()


def release_tag() -> str:
    """The surrogate key of every response the current release stored."""
    return (
        "r" + hashlib.blake2b(conf.RELEASE.encode(), digest_size=TAG_BYTES).hexdigest()
    )
