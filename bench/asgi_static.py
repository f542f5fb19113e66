"""A static file under an ASGI server: our middleware, whitenoise's and servestatic's.

    .venv/bin/python bench/asgi_static.py [--server uvicorn] [--runs 3] [--duration 5]

One worker each of ``--server`` (and of gunicorn, for scale), one hashed CSS
bundle asked with ``Accept-Encoding: br``, loaded in turn, median of the runs.
servestatic 4.x is measured when it is installed (``pip install servestatic``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import urllib.request  # noqa: E402
from contextlib import ExitStack  # noqa: E402

from bench.harness import prepare_site, wrk  # noqa: E402
from bench.servers import static_path  # noqa: E402
from tests.support.gunicorn import serve  # noqa: E402


def encoding(url: str) -> str:
    """The status and Content-Encoding a server answers the load's request with."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "br"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return (
            f"{response.status} {response.headers.get('Content-Encoding', 'identity')}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="uvicorn")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load")
    args = parser.parse_args()
    kinds = ["ours", "whitenoise"]
    if importlib.util.find_spec("servestatic"):
        kinds.append("servestatic")
    workdir = Path(tempfile.mkdtemp(prefix="perfsite-bench-"))
    try:
        env = prepare_site(workdir, 10, 20, DJANGO_SETTINGS_MODULE="bench.static_site")
        with ExitStack() as stack:
            bases = {
                f"{kind}, {args.server}": stack.enter_context(
                    serve(args.server, {**env, "BENCH_STATIC": kind}, workers=1)
                )
                for kind in kinds
            }
            bases["ours, gunicorn"] = stack.enter_context(serve("gunicorn", env, 1))
            path = static_path(next(iter(bases.values())))
            figures: dict[str, list[tuple[float, float]]] = {k: [] for k in bases}
            coding = {name: encoding(base + path) for name, base in bases.items()}
            for run in range(args.runs + 1):  # the first: warm-up
                for name, base in bases.items():
                    result = wrk(
                        name, base + path, ["Accept-Encoding: br"], args.duration
                    )
                    if run:
                        figures[name].append((result.rps, result.p99_ms))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"bench/asgi_static.py: {path}, 1 worker each, wrk 2 x 16, {args.runs} runs")
    for name, values in figures.items():
        rps = statistics.median(v[0] for v in values)
        p99 = statistics.median(v[1] for v in values)
        print(f"{name:<28} {rps:>8.0f} req/s  p99 {p99:>6.1f} ms  {coding[name]}")


if __name__ == "__main__":
    main()
