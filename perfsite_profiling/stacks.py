"""Sampled stacks: what is stored, and what is derived from them.

A profile keeps its stacks as a frame table plus ``[frame indexes, ms,
samples]`` triples (outermost frame first). From that come the top-functions table, a
``.prof`` file in the pstats format (self and cumulative times from samples,
call counts replaced by sample counts) and speedscope's JSON.
"""

from __future__ import annotations

import marshal
from collections import defaultdict
from pathlib import Path
from typing import Any

from perfsite_profiling.sampler import Session

_OWN_DIR = str(Path(__file__).parent)
Key = tuple[str, int, str]  # file, first line, name: pstats' function key
SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def encode(session: Session) -> dict[str, Any]:
    """The stored form of a session's stacks, without this app's own frames."""
    index: dict[Key, int] = {}
    merged: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [0.0, 0])
    for codes, seconds, count in session.weighted():
        path: list[int] = []
        for code in codes:
            if code.co_filename.startswith(_OWN_DIR):
                continue
            key = (code.co_filename, code.co_firstlineno, code.co_qualname)
            path.append(index.setdefault(key, len(index)))
        if path:
            merged[tuple(path)][0] += seconds * 1000
            merged[tuple(path)][1] += count
    return {
        "interval_ms": session.interval * 1000,
        "samples": session.samples,
        "frames": [[name, file, line] for (file, line, name) in index],
        "stacks": [[list(p), round(ms, 4), int(n)] for p, (ms, n) in merged.items()],
    }


def _keys(stacks: dict[str, Any]) -> list[Key]:
    return [(file, line, name) for name, file, line in stacks["frames"]]


def label(key: Key) -> str:
    file, line, name = key
    if file == "~":  # cProfile's built-ins
        return name
    return f"{name} ({file}:{line})"


def union_of_tops(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The ``limit`` top rows by self time and by cumulative time, merged."""
    by_self = sorted(rows, key=lambda r: r["self_ms"], reverse=True)[:limit]
    by_cum = sorted(rows, key=lambda r: r["cumulative_ms"], reverse=True)[:limit]
    chosen = {id(r): r for r in by_self + by_cum}
    return sorted(chosen.values(), key=lambda r: r["self_ms"], reverse=True)


def _totals(
    stacks: dict[str, Any],
) -> tuple[dict[int, list[float]], dict[tuple[int, int], list[float]]]:
    """Per frame [samples, self ms, cumulative ms]; per (caller, callee) edge
    [samples, cumulative ms]. A recursive frame counts once per stack."""
    frames: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    edges: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0, 0.0])
    for path, ms, n in stacks["stacks"]:
        for i in set(path):
            frames[i][0] += n
            frames[i][2] += ms
        frames[path[-1]][1] += ms
        for pair in set(zip(path, path[1:], strict=False)):
            edges[pair][0] += n
            edges[pair][1] += ms
    return frames, edges


def top_functions(stacks: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Functions by self and by cumulative time; ``calls`` counts samples."""
    keys = _keys(stacks)
    frames, _ = _totals(stacks)
    rows = [
        {
            "function": label(keys[i]),
            "calls": int(n),
            "primitive_calls": int(n),
            "self_ms": round(self_ms, 3),
            "cumulative_ms": round(cum_ms, 3),
        }
        for i, (n, self_ms, cum_ms) in frames.items()
    ]
    return union_of_tops(rows, limit)


def to_prof(stacks: dict[str, Any]) -> bytes:
    """pstats' marshalled dict: {key: (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}."""
    keys = _keys(stacks)
    frames, edges = _totals(stacks)
    callers: dict[int, dict[Key, tuple[int, int, float, float]]] = defaultdict(dict)
    for (caller, callee), (n, ms) in edges.items():
        callers[callee][keys[caller]] = (int(n), int(n), 0.0, ms / 1000)
    stats = {
        keys[i]: (int(n), int(n), self_ms / 1000, cum_ms / 1000, callers[i])
        for i, (n, self_ms, cum_ms) in frames.items()
    }
    return marshal.dumps(stats)


def to_speedscope(stacks: dict[str, Any], name: str) -> dict[str, Any]:
    """speedscope's file format, one "sampled" profile weighted in ms."""
    weights = [ms for _, ms, _n in stacks["stacks"]]
    return {
        "$schema": SPEEDSCOPE_SCHEMA,
        "shared": {
            "frames": [
                {"name": n, "file": file, "line": line}
                for n, file, line in stacks["frames"]
            ]
        },
        "profiles": [
            {
                "type": "sampled",
                "name": name,
                "unit": "milliseconds",
                "startValue": 0,
                "endValue": round(sum(weights), 4),
                "samples": [path for path, _ms, _n in stacks["stacks"]],
                "weights": weights,
            }
        ],
        "name": name,
        "exporter": "perfsite_profiling",
    }
