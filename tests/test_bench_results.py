"""The benchmark figures of the docs are the committed result files, rendered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import report
from bench.results import DIRECTORY, ROOT, Results, render

RESULT_FILES = sorted(DIRECTORY.glob("*.json"))


def test_the_generated_tables_match_the_committed_result_files() -> None:
    for page in report.PAGES:
        text = page.read_text()
        assert report.generate(text) == text, (
            f"{page.relative_to(ROOT)} differs from bench/results: "
            "run scripts/dev bench-report"
        )


def test_the_benchmarks_page_has_a_block_for_every_bench() -> None:
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    names = {m.group("name") for m in report.BLOCK.finditer(text)}
    assert names == set(report.BENCHES)
    scripts = {
        p.stem for p in (ROOT / "bench").glob("*.py") if "Results(" in p.read_text()
    }  # and the modes of a script that record a file of their own
    assert set(report.BENCHES) == (scripts | set(report.RUNS)) - {"results"}


@pytest.mark.parametrize("path", RESULT_FILES, ids=lambda p: p.stem)
def test_each_result_file_holds_its_provenance_samples_and_summary(path: Path) -> None:
    data = json.loads(path.read_text())
    assert data["bench"] == path.stem in report.BENCHES
    assert data["command"].startswith(f"python {report.script(path.stem)}")
    assert len(data["commit"]["sha"]) == 40
    assert data["machine"]["cpus"] >= 1 and data["machine"]["cpu_model"]
    assert data["versions"]["Django"][0].isdigit()
    assert data["samples"], "no raw samples"
    assert data["sections"], "no summary table"


def test_a_missed_target_is_printed_as_missed(tmp_path: Path) -> None:
    results = Results("http", argv=["bench/http.py", "--runs", "1"])
    results.table("t", ["a", "b"], [["x", "1"]], align="lr")
    results.target("hit / floor", 0.9, ">= 1.3×", False, "0.90×")
    results.target("p99", 1.0, "< 5 ms", True, "1.0 ms")
    results.sample("x", [1.0, 2.0])
    results.write(tmp_path)
    text = render(json.loads((tmp_path / "http.json").read_text()))
    assert "- hit / floor: 0.90× (target >= 1.3×): **missed**" in text
    assert "- p99: 1.0 ms (target < 5 ms): met" in text
    assert "Targets: 1 of 2 met." in text
    assert "`python bench/http.py --runs 1`" in text


def test_a_bench_without_a_result_file_shows_no_figure(tmp_path: Path) -> None:
    page = "<!-- bench-results: lighthouse -->\nold figure 42\n<!-- /bench-results: lighthouse -->\n"
    fresh = report.generate(page, tmp_path)
    assert "old figure" not in fresh
    assert "No result file yet (`bench/results/lighthouse.json`)" in fresh
    assert "no result file yet" in report.headline(tmp_path)
