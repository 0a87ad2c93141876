"""Sphinx extension: benchmark pages generated from ``benchmarks/results/``.

When the build starts, every ``benchmarks/results/<name>.md`` table that the
benchmark scripts wrote, with its ``<name>.json``, becomes the fragment
``docs/benchmarks/_generated/<name>.md``: the conditions of the run read from
the JSON (machine, CPU count, BLAS or worker threads, repeats), the table
itself, and the work bound of each row where the JSON gives the shapes (the
arithmetic of the two products with X for dense data, the bytes of X read
per iteration for Dask). The hand-written pages in ``docs/benchmarks/``
include these fragments, so re-running a benchmark updates the site.
The figures ``<name>*.png`` are copied beside the fragments.

A result whose JSON is missing still gets its table, with the conditions
stated as not recorded; a page that includes a fragment whose result is
missing fails the build (Sphinx's include error), so a renamed benchmark
cannot leave a stale page.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
NOT_RECORDED = "not recorded in the results"


def _threads(meta):
    """The BLAS / worker threads a result's metadata records, as text."""
    parts = []
    for lib in meta.get("blas") or []:
        if lib.get("num_threads") is not None:
            version = lib.get("version") or ""
            label = " ".join(filter(None, (lib["internal_api"], version)))
            parts.append(f"{label}: {lib['num_threads']}")
    for key, label in (
        ("threads", "threads"),
        ("numpy_threads", "NumPy BLAS threads"),
    ):
        if key in meta:
            parts.append(f"{label}: {meta[key]}")
    return "; ".join(dict.fromkeys(parts)) if parts else NOT_RECORDED


def _machine(meta):
    """The machine a result's metadata records, as text."""
    parts = []
    for key, fmt in (
        ("device_name", "{}"),
        ("machine", "{}"),
        ("platform", "{}"),
        ("processor", "{}"),
        ("cpu_count", "{} cores"),
        ("memory_gb", "{:.0f} GB memory"),
        ("python", "Python {}"),
        ("numpy", "NumPy {}"),
        ("torch", "PyTorch {}"),
    ):
        value = meta.get(key)
        if value not in (None, ""):
            parts.append(fmt.format(value))
    return ", ".join(parts) if parts else NOT_RECORDED


def _meta(data):
    """The metadata block of a result, whatever the script named it."""
    meta = {}
    for key in ("meta", "machine"):
        if isinstance(data.get(key), dict):
            meta.update(data[key])
    for key in ("python", "machine", "threads"):
        if key in data and not isinstance(data[key], dict | list):
            meta.setdefault(key, data[key])
    return meta


def _dense_flops_rows(rows, seconds_of):
    """Rows of a table: 4 n p r flops of the two products, and the rate."""
    lines = []
    for row in rows:
        if row.get("sparse") or "shape" not in row:
            continue
        n, p = row["shape"]
        flops = 4.0 * n * p * row["rank"]
        seconds = seconds_of(row)
        if not seconds:
            continue
        name = row.get("data") or row.get("problem")
        label = f"{name}, {row.get('dtype', 'float64')}, rank {row['rank']}"
        lines.append(
            f"| {label} | {flops / 1e6:.1f} | {flops / seconds / 1e9:.2f} |"
        )
    if not lines:
        return ""
    return "\n".join(
        [
            "",
            "Work bound of the dense rows: every iteration computes the two "
            "products `W^T X` and `X H^T` (each `2 n p r` flops), which no "
            "solver can skip; the achieved rate is that work divided by the "
            "measured time (the machine's peak rate is "
            f"{NOT_RECORDED}, so compare rows with each other).",
            "",
            "| row | products, Mflop per iteration | achieved GFLOP/s |",
            "|---|---:|---:|",
            *lines,
            "",
        ]
    )


def _bound(name, data):
    """The physical bound section of one result (empty when none applies)."""
    rows = data.get("rows") or []
    if name == "bench_mu":
        return _dense_flops_rows(rows, lambda r: r["seconds"]["nmfkit"])
    if name == "bench_beta":
        return _dense_flops_rows(
            [r for r in rows if r.get("estimator") == "NMF"],
            lambda r: r["seconds"]["nmfkit"],
        )
    if name.startswith("bench_gpu"):
        return _dense_flops_rows(rows, lambda r: r["torch_ms_per_iter"] / 1e3)
    if name == "bench_scale":
        lines = [
            f"| {row['entries']:.0e} | {8 * row['entries'] / 1e6:.0f} | "
            f"{8 * row['entries'] / row['dask_disk_s_per_iter'] / 1e9:.2f} | "
            f"{8 * row['entries'] / row['numpy_s_per_iter'] / 1e9:.2f} |"
            for row in rows
        ]
        return "\n".join(
            [
                "",
                "Bandwidth bound: every iteration reads all of X once "
                "(8 bytes an entry in float64), so the time per iteration "
                "is at least X's size over the read bandwidth (the disk's "
                f"and memory's peak bandwidths are {NOT_RECORDED}):",
                "",
                "| entries | X, MB | Dask from disk, GB/s read | NumPy, GB/s read |",
                "|---:|---:|---:|---:|",
                *lines,
                "",
            ]
        )
    if name == "bench_movielens":
        return (
            "\nWork bound of the masked solvers: O(observed entries x rank) "
            "per iteration; the last column of the cost table is the time per "
            "unit of that work (it falls as the fixed O((n + p) x rank) cost "
            "is spread over more entries).\n"
        )
    if name == "bench_many_fits":
        return (
            "\nPhysical bound: none applies; these are times of whole runs "
            "(restarts to convergence, consensus pipelines), which depend on "
            "the iterations each fit takes, not a rate. The batched restarts "
            "share every pass over X, so their floor is one fit's reads of X "
            "per iteration, against one per restart for the sequential fits.\n"
        )
    if name == "bench_solvers":
        return (
            "\nPhysical bound: none applies; this is a time to a target "
            "objective, which depends on the path a solver takes, not a rate.\n"
        )
    return f"\nPhysical bound: {NOT_RECORDED}.\n"


def fragment(name, table, data):
    """The Markdown fragment for one benchmark result."""
    meta = _meta(data) if data else {}
    extra = []
    for key in ("iterations", "repeats", "minibatch_passes"):
        if key in meta:
            extra.append(f"{key.replace('_', ' ')}: {meta[key]}")
    lines = [
        f"- **Machine**: {_machine(meta)}",
        f"- **Threads**: {_threads(meta)}",
    ]
    if extra:
        lines.append(f"- **Protocol**: {', '.join(extra)}")
    lines.append(
        f"- **Source**: `benchmarks/results/{name}.md` and `{name}.json`, "
        "written by the benchmark script"
    )
    # The page has its own title: a table file's "# ..." heading is dropped.
    table = "\n".join(
        line for line in table.strip().splitlines() if not line.startswith("# ")
    ).strip()
    body = "\n".join(lines) + "\n\n" + table + "\n"
    if data:
        body += _bound(name, data)
    return body


def generate(app=None):
    """Write every fragment; return the names written."""
    docs = Path(app.srcdir) if app is not None else RESULTS.parents[1] / "docs"
    out = docs / "benchmarks" / "_generated"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table_path in sorted(RESULTS.glob("*.md")):
        name = table_path.stem
        json_path = table_path.with_suffix(".json")
        data = json.loads(json_path.read_text()) if json_path.exists() else None
        text = fragment(name, table_path.read_text(), data)
        target = out / f"{name}.md"
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
        written.append(name)
    for png in sorted(RESULTS.glob("*.png")):
        target = out / png.name
        if not target.exists() or target.read_bytes() != png.read_bytes():
            shutil.copyfile(png, target)
    return written


def setup(app):
    app.connect("builder-inited", generate)
    return {"version": "1", "parallel_read_safe": True}
