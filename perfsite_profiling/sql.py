"""The SQL hook: one permanent execute wrapper per connection, inert when idle.

It is installed through ``connection_created`` (and on connections that exist
when the app loads), so it sees every query, raw ``cursor.execute`` included,
without patching the ORM. With no request recorder in the ContextVar it costs
one ``ContextVar.get``.
"""

from __future__ import annotations

import logging
import re
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import django

from perfsite_profiling import recorder
from perfsite_profiling.conf import conf

logger = logging.getLogger("profiling.slow_queries")

_STRING = re.compile(r"'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w\"])-?\d+(?:\.\d+)?(?![\w\"])")
_PLACEHOLDER = re.compile(r"%s|\?|\$\d+")
_IN_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_SPACES = re.compile(r"\s+")
_FINGERPRINTS: dict[str, str] = {}
_FINGERPRINT_CACHE_SIZE = 2048


def fingerprint(sql: str) -> str:
    """SQL with literals and placeholders replaced by ``?`` and IN lists folded."""
    cached = _FINGERPRINTS.get(sql)
    if cached is not None:
        return cached
    text = _STRING.sub("?", sql)
    text = _PLACEHOLDER.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _IN_LIST.sub("(...)", text)
    text = _SPACES.sub(" ", text).strip()
    if len(_FINGERPRINTS) >= _FINGERPRINT_CACHE_SIZE:
        _FINGERPRINTS.clear()
    _FINGERPRINTS[sql] = text
    return text


_LIBRARY_DIRS = tuple(
    str(Path(p).resolve())
    for p in {
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        str(Path(django.__file__).parent),
        str(Path(__file__).parent),
    }
)
_PROJECT_CODE: dict[CodeType, bool] = {}


def _is_project(code: CodeType) -> bool:
    known = _PROJECT_CODE.get(code)
    if known is None:
        filename = code.co_filename
        known = not filename.startswith("<") and not filename.startswith(_LIBRARY_DIRS)
        _PROJECT_CODE[code] = known
    return known


def project_frames(frame: FrameType | None, limit: int) -> list[str]:
    """Up to ``limit`` ``file:line in function`` entries of project code, innermost first."""
    out: list[str] = []
    while frame is not None and len(out) < limit:
        if _is_project(frame.f_code):
            code = frame.f_code
            out.append(f"{code.co_filename}:{frame.f_lineno} in {code.co_name}")
        frame = frame.f_back
    return out


def call_site(frame: FrameType | None) -> str:
    """The innermost project frame that ran the query: the N+1 grouping key."""
    while frame is not None:
        if _is_project(frame.f_code):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


def execute_wrapper(
    execute: Callable[..., Any],
    sql: str,
    params: Any,
    many: bool,
    context: dict[str, Any],
) -> Any:
    rec = recorder.current.get()
    if rec is None:
        return execute(sql, params, many, context)
    start = recorder.clock()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed = recorder.clock() - start
        frame = sys._getframe(1)
        slow = elapsed >= conf.SLOW_QUERY_MS * 1_000_000
        text = fingerprint(sql)
        rec.add_query(text, call_site(frame), elapsed, slow)
        if slow:
            # Stacks are costly: captured only for the queries that are slow.
            alias = context["connection"].alias
            logger.warning(
                "slow query %.1f ms on %s at %s: %s | stack: %s",
                elapsed / 1e6,
                alias,
                rec.endpoint,
                text,
                " <- ".join(project_frames(frame, 5)),
                extra={
                    "duration_ms": elapsed / 1e6,
                    "alias": alias,
                    "endpoint": rec.endpoint,
                    "sql": text,
                },
            )


def install(connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver; also called for existing connections."""
    if execute_wrapper not in connection.execute_wrappers:
        # Outermost, so that time spent in other wrappers counts as DB time.
        connection.execute_wrappers.insert(0, execute_wrapper)
