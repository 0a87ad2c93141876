"""The benchmark pages' fragments, generated from benchmarks/results/."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _extension():
    path = ROOT / "docs" / "_ext" / "nmfkit_benchmarks.py"
    spec = importlib.util.spec_from_file_location("nmfkit_benchmarks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_result_has_a_page_that_includes_it():
    pages = "".join(p.read_text() for p in (ROOT / "docs" / "benchmarks").glob("*.md"))
    for table in RESULTS.glob("*.md"):
        assert f"_generated/{table.stem}.md" in pages, table.name


def test_fragments_state_machine_threads_and_the_bound():
    ext = _extension()
    for table in sorted(RESULTS.glob("*.md")):
        data = json.loads(table.with_suffix(".json").read_text())
        text = ext.fragment(table.stem, table.read_text(), data)
        assert re.search(r"- \*\*Machine\*\*: .*x86_64", text), table.name
        # the threads the run recorded, or an explicit statement that it did not
        assert re.search(
            r"- \*\*Threads\*\*: (.*\d|not recorded in the results)", text
        ), table.name
        assert "bound" in text.lower(), table.name
        # the table itself, without its own page title
        assert table.read_text().splitlines()[-1] in text
        assert not re.search(r"^# ", text, re.M)


def test_the_work_bound_is_the_arithmetic_of_the_two_products():
    ext = _extension()
    data = json.loads((RESULTS / "bench_mu.json").read_text())
    text = ext.fragment("bench_mu", (RESULTS / "bench_mu.md").read_text(), data)
    row = next(r for r in data["rows"] if not r["sparse"])
    n, p = row["shape"]
    flops = 4 * n * p * row["rank"]
    expected = f"| {flops / 1e6:.1f} | {flops / row['seconds']['nmfkit'] / 1e9:.2f} |"
    assert expected in text
    scale = json.loads((RESULTS / "bench_scale.json").read_text())
    text = ext.fragment("bench_scale", (RESULTS / "bench_scale.md").read_text(), scale)
    big = scale["rows"][-1]
    rate = 8 * big["entries"] / big["dask_disk_s_per_iter"] / 1e9
    assert f"| {rate:.2f} |" in text
