"""The HALS sweep alone: the compiled kernel against NumPy's loop.

One sweep of a component-major factor ``F`` (``r x m``) in place, as
``nmfkit.solvers._hals.hals_sweep`` runs it inside HALS and ``solver="auto"``
(many sweeps per update there, through the inner loops): with the compiled
kernel (numba) and with NumPy's loop over the components (``compiled=False``),
from the same ``F``, interleaved, the best of the repeats, on one thread (the
kernel's threaded variant takes factors of 2^21 entries or more only). Shapes
from the benchmarks' fits: ``W^T`` and ``H`` of Olivetti faces (400 and 4096
columns) at rank 10, ``H`` of 20 Newsgroups-sized data at rank 20 (20000
columns) and rank 50 over 4096 columns; float64 and float32.

Bound: a sweep does ``r^2 m`` multiply-adds (``2 r^2 m`` flops), timed
against the FMA peak of one thread measured here (a 2048^3 matrix product);
the factor stays in the L1/L2 cache chunk by chunk, so the memory is not
the bound.

Usage::

    python benchmarks/bench_sweep.py [--repeats 200] [--quick]

``--quick`` (a few repeats) writes ``bench_sweep_quick.*``; its figures mean
nothing. Writes ``benchmarks/results/bench_sweep.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_meta  # noqa: E402
from _results import QUICK_NOTICE, write_results  # noqa: E402
from bench_roofline import fma_peak  # noqa: E402
from nmfkit.solvers import _kernels  # noqa: E402
from nmfkit.solvers._hals import hals_sweep  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SHAPES = [(10, 400), (10, 4096), (20, 20000), (50, 4096)]


def _problem(r, m, dtype, seed=0):
    """A factor, its right-hand side and Gram matrix, as HALS builds them."""
    rng = np.random.default_rng(seed)
    F = rng.random((r, m)).astype(dtype)
    A = rng.random((r, 3 * r))
    G = (A @ A.T).astype(dtype)
    Q = (G @ rng.random((r, m))).astype(dtype)
    return F, Q, G


def time_sweeps(r, m, dtype, repeats):
    """Best seconds of one sweep, compiled and NumPy, interleaved."""
    F0, Q, G = _problem(r, m, dtype)
    inputs = _kernels.sweep_inputs(Q, G, dtype)
    best = {"compiled": np.inf, "numpy": np.inf}
    for compiled in (True, False):  # warm-up (the kernel compiles or loads)
        hals_sweep(F0.copy(), Q, G, compiled=compiled, inputs=inputs)
    for _ in range(repeats):
        for key, compiled in (("compiled", True), ("numpy", False)):
            F = F0.copy()
            start = time.perf_counter()
            hals_sweep(F, Q, G, compiled=compiled, inputs=inputs)
            best[key] = min(best[key], time.perf_counter() - start)
    return best


def _markdown(rows, peaks, quick):
    lines = list(QUICK_NOTICE) if quick else []
    lines += [
        "One HALS sweep of an r x m factor, best of the repeats, one thread; "
        f"bound: r^2 m multiply-adds at the measured FMA peak of one thread "
        f"({peaks['float64'] / 1e9:.1f} GFLOP/s float64, "
        f"{peaks['float32'] / 1e9:.1f} float32).",
        "",
        "| r x m | dtype | flops bound us | compiled us | NumPy us | "
        "compiled GFLOP/s | compiled / bound | NumPy / compiled |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        s = row["seconds"]
        lines.append(
            f"| {row['r']} x {row['m']} | {row['dtype']} | "
            f"{1e6 * row['bound_seconds']:.1f} | {1e6 * s['compiled']:.1f} | "
            f"{1e6 * s['numpy']:.1f} | {row['flops'] / s['compiled'] / 1e9:.1f} | "
            f"{s['compiled'] / row['bound_seconds']:.1f} | "
            f"{s['numpy'] / s['compiled']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="check that it runs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not _kernels.kernels_available():
        print("numba is not installed (pip install 'nmfkit[fast]'): nothing to time")
        return 1
    repeats = 3 if args.quick else args.repeats
    size = 256 if args.quick else 2048
    peaks = {np.dtype(d).name: fma_peak(1, d, size) for d in (np.float64, np.float32)}
    rows = []
    with threadpool_limits(1):
        for r, m in SHAPES:
            for dtype in (np.float64, np.float32):
                name = np.dtype(dtype).name
                flops = 2.0 * r * r * m
                seconds = time_sweeps(r, m, dtype, repeats)
                rows.append(
                    dict(
                        r=r,
                        m=m,
                        dtype=name,
                        flops=flops,
                        bound_seconds=flops / peaks[name],
                        seconds=seconds,
                    )
                )
                print(
                    f"{r} x {m} {name}: compiled {1e6 * seconds['compiled']:.1f} us, "
                    f"NumPy {1e6 * seconds['numpy']:.1f} us",
                    flush=True,
                )
        meta = dict(
            **machine_meta(),
            cpu_count=os.cpu_count(),
            threads="1 (BLAS and the kernel)",
            repeats=repeats,
            quick=args.quick,
            peaks=peaks,
        )
    md = _markdown(rows, peaks, args.quick)
    print(md)
    stem = "bench_sweep_quick" if args.quick else "bench_sweep"
    write_results(args.output, stem, dict(protocol=__doc__, meta=meta, rows=rows), md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
