"""Write the benchmark tables of the documentation from bench/results/*.json.

    .venv/bin/python bench/report.py          # rewrite the generated blocks
    .venv/bin/python bench/report.py --check  # exit 1 if a block differs

A generated block sits between ``<!-- bench-results: NAME -->`` and
``<!-- /bench-results: NAME -->`` (the tables of ``bench/results/NAME.json``),
or ``<!-- bench-headline -->`` and ``<!-- /bench-headline -->`` (one line per
bench: its targets met, from the same files). A bench with no result file
says so instead of a figure. ``scripts/dev bench NAME [ARGS]`` runs a bench
and then this script.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

if __name__ == "__main__":  # run as a script: the project root, not bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench.results import DIRECTORY, ROOT, load, render, render_target  # noqa: E402

# Each bench with a result file: its name and the page section it fills.
BENCHES = {
    "http": "HTTP",
    "servers": "Servers",
    "assets": "Assets",
    "lighthouse": "Lighthouse",
    "cache": "Cache",
    "mixed": "Mixed reads and writes",
    "profiling": "Profiling",
}
# Files with generated blocks.
PAGES = [ROOT / "docs" / "benchmarks.md", ROOT / "README.md"]
BLOCK = re.compile(
    r"(<!-- bench-results: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /bench-results: (?P=name) -->)",
    re.S,
)
HEADLINE = re.compile(
    r"(<!-- bench-headline -->\n)(?P<body>.*?)(<!-- /bench-headline -->)", re.S
)
DOCS_URL = "docs/benchmarks.md"
# A bench that is a mode of another script: what runs it.
RUNS = {"servers": "http --server gunicorn,uvicorn,granian"}


def script(name: str) -> str:
    return f"bench/{RUNS.get(name, name).replace(' ', '.py ', 1)}" + (
        "" if name in RUNS else ".py"
    )


def missing(name: str) -> str:
    return (
        f"No result file yet (`bench/results/{name}.json`): "
        f"run `scripts/dev bench {RUNS.get(name, name)}` to measure and regenerate.\n"
    )


def block(name: str, directory: Path = DIRECTORY) -> str:
    if name not in BENCHES:
        raise SystemExit(f"unknown bench {name!r} in a generated block")
    data = load(name, directory)
    return missing(name) if data is None else render(data)


def headline(directory: Path = DIRECTORY) -> str:
    """Per bench: where its figures come from, then each target's figure."""
    lines = []
    for name, title in BENCHES.items():
        data = load(name, directory)
        if data is None:
            lines.append(f"- {title} (`{script(name)}`): no result file yet.")
            continue
        targets = data["targets"]
        met = sum(t["met"] for t in targets)
        lines.append(
            f"- {title} (`{script(name)}`, recorded {data['recorded']} by "
            f"`{data['command']}`): {met} of {len(targets)} targets met"
            + (":" if targets else ".")
        )
        lines += ["  " + render_target(t) for t in targets]
    return "\n".join(lines) + "\n"


def generate(text: str, directory: Path = DIRECTORY) -> str:
    """``text`` with every generated block rewritten from the result files."""
    text = BLOCK.sub(
        lambda m: (
            m.group(1) + "\n" + block(m.group("name"), directory) + "\n" + m.group(4)
        ),
        text,
    )
    return HEADLINE.sub(
        lambda m: m.group(1) + "\n" + headline(directory) + "\n" + m.group(3), text
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 on a difference"
    )
    args = parser.parse_args()
    stale = []
    for page in PAGES:
        if not page.exists():
            continue
        text = page.read_text()
        fresh = generate(text)
        if fresh != text:
            stale.append(page.relative_to(ROOT))
            if not args.check:
                page.write_text(fresh)
    if args.check and stale:
        names = ", ".join(map(str, stale))
        raise SystemExit(
            f"generated benchmark tables differ in {names}: run bench/report.py"
        )
    for page in stale:
        print(f"rewrote {page}")


if __name__ == "__main__":
    main()
