"""Lighthouse 12 (mobile preset, simulated slow 4G) on the demo's two pages.

    .venv/bin/python bench/lighthouse.py [--runs 5]
    # needs: npm and Debian's chromium; installs lighthouse@12.8.2 into
    # bench/.lighthouse with npm (no browser is downloaded: CHROME_PATH
    # points at the system Chromium)

Runs ``/`` and ``/posts/<id>/`` alternately (A B A B) against the demo under
gunicorn with production settings, and prints per page the median score,
CLS, TBT and LCP with their spread (min-max), and which targets are missed:
score 100, CLS 0, TBT <= 50 ms, LCP <= 1.0 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

from bench.harness import seeded_site  # noqa: E402
from bench.results import Results  # noqa: E402

VERSION = "12.8.2"
HERE = Path(__file__).resolve().parent / ".lighthouse"
TARGETS = {"score": 100, "cls": 0.0, "tbt": 50.0, "lcp": 1000.0}


def lighthouse_bin() -> Path:
    binary = HERE / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        if shutil.which("npm") is None:
            raise SystemExit("npm is not installed: apt-get install -y npm")
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(HERE),
                f"lighthouse@{VERSION}",
            ],
            check=True,
        )
    return binary


ATTEMPTS = 3  # Lighthouse sometimes fails to record a trace (NO_NAVSTART)


def run(binary: Path, url: str, chrome: str) -> dict[str, float]:
    """One Lighthouse run; a run that records no trace is tried again (at most
    ``ATTEMPTS`` times), and the sample says how many attempts it took."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return {**run_once(binary, url, chrome), "attempts": attempt}
        except subprocess.CalledProcessError:
            if attempt == ATTEMPTS:
                raise
            print(f"lighthouse failed on {url}, attempt {attempt}: trying again")
    raise AssertionError("unreachable")


def run_once(binary: Path, url: str, chrome: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        subprocess.run(
            [
                str(binary),
                url,
                "--quiet",
                "--output=json",
                f"--output-path={out}",
                "--only-categories=performance",
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            ],
            check=True,
            env={**os.environ, "CHROME_PATH": chrome},
            cwd=tmp,
        )
        report = json.loads(out.read_text())
    audits = report["audits"]
    return {
        "score": round(report["categories"]["performance"]["score"] * 100),
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "fcp": audits["first-contentful-paint"]["numericValue"],
    }


def record(samples: dict[str, list[dict[str, float]]], results: Results) -> None:
    def cell(values: list[float], fmt: str) -> str:
        return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"

    rows = []
    for page, runs in samples.items():
        results.sample(page, runs)
        col = {k: [r[k] for r in runs] for k in runs[0]}
        med = {k: statistics.median(v) for k, v in col.items()}
        rows.append(
            [
                page,
                cell(col["score"], ".0f"),
                cell(col["cls"], ".3f"),
                cell(col["tbt"], ".0f") + " ms",
                cell(col["lcp"], ".0f") + " ms",
                cell(col["fcp"], ".0f") + " ms",
            ]
        )
        for label, value, goal, met, shown in (
            ("score", med["score"], "100", med["score"] >= TARGETS["score"], "{:.0f}"),
            ("CLS", med["cls"], "0", med["cls"] <= TARGETS["cls"], "{:.3f}"),
            ("TBT", med["tbt"], "<= 50 ms", med["tbt"] <= TARGETS["tbt"], "{:.0f} ms"),
            ("LCP", med["lcp"], "<= 1.0 s", med["lcp"] <= TARGETS["lcp"], "{:.0f} ms"),
        ):
            results.target(f"{page}: {label}", value, goal, met, shown.format(value))
    count = len(next(iter(samples.values())))
    results.table(
        f"Lighthouse {VERSION}, mobile, median (min-max) of {count} runs",
        ["page", "score", "CLS", "TBT", "LCP", "FCP"],
        rows,
        align="lrrrrr",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()
    chrome = shutil.which("chromium")
    if chrome is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    binary = lighthouse_bin()
    results = Results("lighthouse", programs=("chromium", "node"))
    results.data["versions"]["lighthouse"] = VERSION
    with seeded_site(50, args.posts, DJANGO_LOG_LEVEL="WARNING") as base:
        pages = {"/": base + "/", "/posts/1/": base + "/posts/1/"}
        samples: dict[str, list[dict[str, float]]] = {}
        for _ in range(args.runs):
            for name, url in pages.items():
                samples.setdefault(name, []).append(run(binary, url, chrome))
    record(samples, results)
    results.write()


if __name__ == "__main__":
    main()
