"""Result files of the benchmarks, and the Markdown made from them.

Every ``bench/*.py`` records what it measured in a :class:`Results` and writes
it to ``bench/results/<bench>.json``: the exact command line, the commit, the
machine (CPUs, Python, Django, Redis and the peers' versions), every raw
sample, and the summary (its tables and each target, met or missed). The
tables a bench prints are :func:`render` of that file, so what a run prints,
what the file holds and what the documentation shows (``bench/report.py``)
are one text.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / "bench" / "results"
# Distributions and programs every bench reports, before its own peers.
COMMON_DISTRIBUTIONS = ("Django",)
VERSION = re.compile(r"\d+(?:\.\d+)+")


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout


def commit() -> dict[str, Any]:
    """The commit measured, and the tracked files that differed from it
    (documentation and result files aside: they change no figure)."""
    changed = _git("status", "--porcelain", "--untracked-files=no", "--", ".")
    changed_files = [
        name
        for name in (line[3:] for line in changed.splitlines())
        if not name.startswith(("bench/results/", "docs/")) and not name.endswith(".md")
    ]
    return {
        "sha": _git("rev-parse", "HEAD").strip() or "unknown",
        "dirty": changed_files,
    }


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "system": platform.platform(),
        "python": platform.python_version(),
    }


def distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def tool_version(program: str) -> str:
    """The version a program reports (``--version``, or ``-V`` as varnishd)."""
    path = shutil.which(program) or (
        f"/usr/sbin/{program}" if Path(f"/usr/sbin/{program}").exists() else None
    )
    if path is None:
        return "not installed"
    for flag in ("--version", "-V", "-v"):
        try:
            done = subprocess.run(
                [path, flag], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        match = VERSION.search(done.stdout + done.stderr)
        if match:
            return match.group(0)
    return "unknown"


class Results:
    """What one run of a bench measured, written as ``bench/results/<bench>.json``.

    Make it as the run starts: it records the commit and versions then.
    """

    def __init__(
        self,
        bench: str,
        distributions: Iterable[str] = (),
        programs: Iterable[str] = (),
        argv: Sequence[str] | None = None,
    ) -> None:
        argv = list(sys.argv if argv is None else argv)
        script = Path(argv[0]).resolve() if argv else Path(f"{bench}.py")
        try:
            shown = str(script.relative_to(ROOT))
        except ValueError:
            shown = script.name
        self.data: dict[str, Any] = {
            "bench": bench,
            "command": "python " + shlex.join([shown, *argv[1:]]),
            "commit": commit(),
            "recorded": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
            "machine": machine(),
            "versions": {
                **{d: distribution_version(d) for d in COMMON_DISTRIBUTIONS},
                **{d: distribution_version(d) for d in distributions},
                **{p: tool_version(p) for p in programs},
            },
            "sections": [],
            "targets": [],
            "samples": {},
        }

    @property
    def command(self) -> str:
        return str(self.data["command"])

    def sample(self, name: str, values: Any) -> None:
        """Record raw samples (any JSON value) under ``name``."""
        self.data["samples"][name] = values

    def table(
        self,
        title: str,
        header: Sequence[str],
        rows: Iterable[Sequence[Any]],
        notes: Iterable[str] = (),
        align: str = "",
    ) -> None:
        """A summary table (cells as shown), printed as it will be rendered.

        ``align`` has a letter per column: ``l`` or ``r`` (default all left).
        """
        section = {
            "title": title,
            "header": list(header),
            "rows": [[str(cell) for cell in row] for row in rows],
            "notes": list(notes),
            "align": align,
        }
        self.data["sections"].append(section)
        print(render_section(section), flush=True)

    def target(
        self, label: str, value: float, goal: str, met: bool, shown: str = ""
    ) -> None:
        """A target: ``goal`` in words (``>= 1.3x``), met or missed."""
        target = {
            "label": label,
            "value": value,
            "shown": shown or f"{value:.3g}",
            "goal": goal,
            "met": bool(met),
        }
        self.data["targets"].append(target)
        print(render_target(target), flush=True)

    def write(self, directory: Path = DIRECTORY) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.data['bench']}.json"
        path.write_text(json.dumps(self.data, indent=1, ensure_ascii=False) + "\n")
        print(
            f"\nwrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
        )
        return path


def load(bench: str, directory: Path = DIRECTORY) -> dict[str, Any] | None:
    path = directory / f"{bench}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# Markdown ---------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_section(section: dict[str, Any]) -> str:
    header = section["header"]
    align = section.get("align") or "l" * len(header)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [f"#### {section['title']}", ""]
    lines.append("| " + " | ".join(_cell(h) for h in header) + " |")
    lines.append("|" + "|".join(rule) + "|")
    for row in section["rows"]:
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    for note in section["notes"]:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def render_target(target: dict[str, Any]) -> str:
    verdict = "met" if target["met"] else "**missed**"
    return (
        f"- {target['label']}: {target['shown']} (target {target['goal']}): {verdict}"
    )


def render(data: dict[str, Any]) -> str:
    """The Markdown of a result file: provenance, tables, targets."""
    versions = ", ".join(f"{k} {v}" for k, v in data["versions"].items())
    sha = data["commit"]["sha"][:12]
    changed = data["commit"]["dirty"]
    dirty = f" (with uncommitted changes to {', '.join(changed)})" if changed else ""
    m = data["machine"]
    lines = [
        f"Recorded {data['recorded']} by `{data['command']}` at commit `{sha}`{dirty}, "
        f"on {m['cpus']} CPUs ({m['cpu_model']}), Python {m['python']}; {versions}. "
        f"Raw samples: `bench/results/{data['bench']}.json`.",
        "",
    ]
    for section in data["sections"]:
        lines.append(render_section(section))
    if data["targets"]:
        met = sum(t["met"] for t in data["targets"])
        lines.append(f"Targets: {met} of {len(data['targets'])} met.")
        lines.append("")
        lines += [render_target(t) for t in data["targets"]]
        lines.append("")
    return "\n".join(lines)
