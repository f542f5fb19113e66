"""The name a cached view or function is known by, in every process.

Keys are shared by every process, so a name must be stable across them: an
``id()`` is not. It must also never be shared by two different objects, or
one view's page (one function's result) is served for another's. So:

- an explicit ``name=`` wins;
- a class-based view (``SomeView.as_view(**initkwargs)``, whose function is
  always ``View.as_view.<locals>.view``) is named by its class and its
  ``initkwargs``;
- a ``functools.partial`` by its function and its bound arguments;
- anything else by ``module.qualname``.

Each name is claimed when the object is decorated. When a second, different
object claims a name while the first is still alive (a factory that makes
several views, lambdas, ``as_view`` with arguments that cannot be keyed), the
name is *ambiguous* from then on: every object bearing it bypasses the cache
(it is always computed, never stored or served), so two objects never share
an entry, and system check ``caching.E032`` names it, with the fix: pass
``name=`` (``key_prefix=``). A holder that was garbage-collected (a reloaded
module's function) gives its name up.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import Any

from django.core.checks import CheckMessage, Error

from caching.keys import digest, encode

_claims: dict[str, weakref.ref[Any]] = {}  # name -> the object that holds it
_ambiguous: set[str] = set()
_lock = threading.Lock()


def derived_name(obj: Any) -> str:
    """The name ``obj`` gets without ``name=`` (see the module docstring)."""
    view_class = getattr(obj, "view_class", None)
    if isinstance(view_class, type):
        base = f"{view_class.__module__}.{view_class.__qualname__}"
        initkwargs = getattr(obj, "view_initkwargs", None) or {}
        return f"{base}({_bound(dict(initkwargs))})" if initkwargs else base
    if isinstance(obj, functools.partial):
        bound = _bound((obj.args, dict(obj.keywords)))
        return f"{derived_name(obj.func)}.partial({bound})"
    module = getattr(obj, "__module__", None) or type(obj).__module__
    qualname = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{qualname}"


def _bound(value: Any) -> str:
    """Bound arguments as part of a name: their digest, or a mark that makes
    every such name collide (and so turn ambiguous) when they cannot be keyed."""
    try:
        return digest(encode(value, "initkwargs"))[:16]
    except TypeError:
        return "?"


def claim(name: str, obj: Any) -> str:
    """Record that ``obj`` is cached under ``name``; returns the name."""
    with _lock:
        ref = _claims.get(name)
        earlier = None if ref is None else ref()
        if earlier is not None and earlier is not obj:
            _ambiguous.add(name)
        _claims[name] = weakref.ref(obj)
    return name


def is_ambiguous(name: str) -> bool:
    """Whether two live objects claimed ``name`` (cheap: per call)."""
    return name in _ambiguous


def ambiguous_names() -> list[str]:
    with _lock:
        return sorted(_ambiguous)


def snapshot() -> tuple[dict[str, weakref.ref[Any]], set[str]]:
    """The claims as they are (tests: ``restore`` drops what a test claimed)."""
    with _lock:
        return dict(_claims), set(_ambiguous)


def restore(state: tuple[dict[str, weakref.ref[Any]], set[str]]) -> None:
    with _lock:
        _claims.clear()
        _claims.update(state[0])
        _ambiguous.clear()
        _ambiguous.update(state[1])


def check_identity(**kwargs: Any) -> list[CheckMessage]:
    """Names two live cached views or functions share (id caching.E032)."""
    return [
        Error(
            f"Two different cached views or functions are named {name!r}: "
            "both bypass the cache.",
            hint="Give each its own name: cache_response(..., name=...) for a "
            "view, cache_result(..., key_prefix=...) for a function (a "
            "factory's functions, lambdas, class-based views whose as_view() "
            "arguments cannot be keyed).",
            id="caching.E032",
        )
        for name in ambiguous_names()
    ]
