"""The fused pass (one read of X per iteration) against the two separate products.

Plain MU and HALS (``solver="mu"`` and ``"hals"``, scikit-learn's update
order) on dense X far beyond the last-level cache, each fit run twice from
the same start: through the fused pass of ``nmfkit.solvers._fused`` (W's
rows updated block by block while the block is in cache, ``W^T X``
accumulated in the same pass; forced with ``_fused.MODE = "always"``) and
through the two whole products (``MODE = "never"``). Per iteration from the
fit's history (no set-up), the median of interleaved repeats, for float64
and float32, ranks 10, 20 and 50, one BLAS thread and all cores. The two
paths give the same iterates up to rounding (``tests/test_fused.py``).

Bound: the fused pass reads X once per iteration, the two products twice;
the table states both reads against the streaming bandwidth measured here
(``X @ v`` over 512 MiB) and the flops (``4 n p r``) against the FMA peak
(a 2048^3 matrix product), as ``bench_roofline.py`` measures them.

Usage::

    python benchmarks/bench_fused.py [--iterations 10] [--repeats 5] [--quick]

``--quick`` runs tiny sizes (figures meaningless) and writes
``bench_fused_quick.*``. Writes ``benchmarks/results/bench_fused.json`` and
``bench_fused.md``.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import nmfkit.solvers._fused as fused
from _machine import machine_meta
from _results import write_results
from bench_roofline import fma_peak, streaming_bandwidth
from nmfkit import NMF

RESULTS = Path(__file__).resolve().parent / "results"
MIB = 1 << 20


def per_iteration(X, rank, solver, mode, iterations, start):
    """Seconds per iteration of one fit through ``mode`` (from its history)."""
    fused.MODE = mode
    model = NMF(
        n_components=rank, solver=solver, init="custom", tol=0, max_iter=iterations
    )
    W0, H0 = start
    model.fit(X, W=W0.copy(), H=H0.copy())
    history = model.history_
    return (history[-1, 1] - history[0, 1]) / model.n_iter_


def measure(X, rank, threads, iterations, repeats):
    rng = np.random.default_rng(1)
    scale = np.sqrt(X.mean() / rank)
    start = (
        (scale * rng.random((X.shape[0], rank))).astype(X.dtype),
        (scale * rng.random((rank, X.shape[1]))).astype(X.dtype),
    )
    keys = [(s, m) for s in ("mu", "hals") for m in ("always", "never")]
    times = {k: [] for k in keys}
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for round_ in range(repeats + 1):  # the first round warms up
            for solver, mode in keys:
                t = per_iteration(X, rank, solver, mode, iterations, start)
                if round_:
                    times[(solver, mode)].append(t)
    fused.MODE = "auto"
    return {f"{s} {'fused' if m == 'always' else 'two products'}": float(
        np.median(v)
    ) for (s, m), v in times.items()}


def _markdown(meta, rows):
    lines = [
        "Measured here, per thread count: streaming bandwidth (X @ v over "
        "512 MiB) and FMA peak (2048^3 matrix product).",
        "",
        "| threads | bandwidth GB/s | float64 peak GFLOP/s | float32 peak GFLOP/s |",
        "|---:|---:|---:|---:|",
    ]
    for threads, b in meta["machine_bounds"].items():
        lines.append(
            f"| {threads} | {b['bandwidth'] / 1e9:.1f} | "
            f"{b['peak_float64'] / 1e9:.1f} | {b['peak_float32'] / 1e9:.1f} |"
        )
    lines += [
        "",
        "Per iteration in ms, dense X of "
        f"{rows[0]['shape'][0]} x {rows[0]['shape'][1]}; bound: one read of X / "
        "bandwidth (fused), two reads (two products), and flops / peak; "
        "ratio = fused / two products (below 1: the fused pass is faster).",
        "",
        "| dtype | rank | threads | one read ms | two reads ms | flops ms | "
        "mu fused | mu two products | ratio | hals fused | hals two products | "
        "ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ms = {k: 1e3 * v for k, v in r["seconds"].items()}
        lines.append(
            f"| {r['dtype']} | {r['rank']} | {r['threads']} | "
            f"{1e3 * r['read_seconds']:.1f} | {2e3 * r['read_seconds']:.1f} | "
            f"{1e3 * r['flops_seconds']:.1f} | "
            f"{ms['mu fused']:.1f} | {ms['mu two products']:.1f} | "
            f"{ms['mu fused'] / ms['mu two products']:.2f} | "
            f"{ms['hals fused']:.1f} | {ms['hals two products']:.1f} | "
            f"{ms['hals fused'] / ms['hals two products']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ranks", type=int, nargs="+", default=[10, 20, 50])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    shape = (8192, 4096)  # 256 MiB in float64
    if args.quick:
        args.iterations, args.repeats, args.ranks, shape = 3, 1, [4], (300, 200)
    cores = os.cpu_count() or 1
    thread_counts = sorted({1, cores})
    bounds = {}
    for threads in thread_counts:
        nbytes = 8 * MIB if args.quick else 512 * MIB
        size = 256 if args.quick else 2048
        bounds[threads] = dict(
            bandwidth=streaming_bandwidth(threads, nbytes),
            peak_float64=fma_peak(threads, np.float64, size),
            peak_float32=fma_peak(threads, np.float32, size),
        )
        print(f"{threads} thread(s): {bounds[threads]}", flush=True)
    rng = np.random.default_rng(0)
    n, p = shape
    X64 = rng.random((n, 12)) @ rng.random((12, p)) + 0.1 * rng.random((n, p))
    rows = []
    for dtype in (np.float64, np.float32):
        X = X64.astype(dtype)
        for rank in args.ranks:
            for threads in thread_counts:
                b = bounds[threads]
                row_dtype = np.dtype(dtype).name
                seconds = measure(X, rank, threads, args.iterations, args.repeats)
                row = dict(
                    shape=list(X.shape),
                    dtype=np.dtype(dtype).name,
                    rank=rank,
                    threads=threads,
                    read_seconds=X.nbytes / b["bandwidth"],
                    flops_seconds=4.0 * n * p * rank / b[f"peak_{row_dtype}"],
                    seconds=seconds,
                )
                rows.append(row)
                print(
                    f"{row['dtype']} r={rank} t={threads}: "
                    + ", ".join(f"{k} {1e3 * v:.1f}" for k, v in seconds.items()),
                    flush=True,
                )
    with threadpool_limits(cores):
        meta = machine_meta()
    meta.update(
        cpu_count=cores,
        threads=f"1 and {cores} (BLAS, set per row through threadpoolctl)",
        iterations=args.iterations,
        repeats=args.repeats,
        machine_bounds={str(t): b for t, b in bounds.items()},
    )
    stem = "bench_fused_quick" if args.quick else "bench_fused"
    text = _markdown(meta, rows)
    write_results(args.output, stem, dict(meta=meta, rows=rows), text)
    print(text)


if __name__ == "__main__":
    main()
