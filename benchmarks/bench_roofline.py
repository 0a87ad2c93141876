"""Time per iteration of the Frobenius solvers against this machine's roofline.

For each case the lower bound of one iteration is

    max(bytes of X read once / streaming bandwidth, flops / FMA peak),

and for sparse X also ``bytes of factor rows gathered / cache bandwidth``
(below), with every figure measured here, for one thread and for all cores:

- streaming bandwidth: a matrix-vector product ``X @ v`` over a float64
  matrix of 512 MiB (far beyond the last-level cache): every byte of X is
  read once, as one NMF iteration must at least;
- FMA peak: the best of a few ``A @ A`` products of 2048 x 2048 matrices
  (``2 n^3`` flops), float64 and float32: the practical peak of this BLAS;
- cache bandwidth: the same ``X @ v`` over 8 MiB, in the last-level cache.
  A sparse product reads (``X H^T``) or updates (``W^T X``) a row of ``r``
  numbers of a factor for every stored entry, at positions no prefetcher
  foresees: ``2 nnz r`` numbers per iteration, at best at this rate
  (the factors of the sparse case, ``min(n, p) x r``, fit in the cache).

An iteration of MU or HALS does ``4 n p r + 4 (n + p) r^2`` flops on dense X
(``4 nnz r + 4 (n + p) r^2`` on sparse X: the products ``X H^T`` and
``W^T X``, and the Gram matrices), and reads X at least once: ``n p`` entries
dense, ``nnz`` values and column indices and ``n + 1`` row pointers sparse.

Cases: dense X in cache (a quarter of the L3 cache), dense X far beyond it
(256 MiB in float64), and sparse CSR X (0.5% of the entries); float32 and
float64; ranks 10 and 50; one thread and all cores (BLAS threads through
threadpoolctl). nmfkit's solvers: ``mu``, ``hals`` and ``auto``; per
iteration from the fit's history (no set-up), the median of interleaved
repeats; scikit-learn's ``mu`` and ``cd`` beside (fit time over ``n_iter_``,
the same custom start).

Usage::

    python benchmarks/bench_roofline.py [--iterations 10] [--repeats 3] [--quick]

``--quick`` runs tiny sizes to check that everything works; its figures mean
nothing and it writes ``bench_roofline_quick.*``. Writes
``benchmarks/results/bench_roofline.json`` and ``bench_roofline.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import NMF as SklearnNMF
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

from nmfkit import NMF

RESULTS = Path(__file__).resolve().parent / "results"
MIB = 1 << 20


def _best_seconds(call, repeats):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def streaming_bandwidth(threads, nbytes=512 * MIB, repeats=5):
    """Bytes per second read by ``X @ v`` over a float64 matrix of ``nbytes``."""
    columns = 1024
    X = np.ones((nbytes // (8 * columns), columns))
    v = np.ones(columns)
    with threadpool_limits(threads):
        X @ v  # warm-up: pages touched, threads started
        seconds = _best_seconds(lambda: X @ v, repeats)
    return X.nbytes / seconds


def cache_bandwidth(threads, nbytes=8 * MIB, repeats=50):
    """Bytes per second read by ``X @ v`` over a float64 matrix in cache."""
    return streaming_bandwidth(threads, nbytes, repeats)


def fma_peak(threads, dtype, n=2048, repeats=3):
    """Flops per second of a square matrix product (the BLAS's practical peak)."""
    A = np.random.default_rng(0).random((n, n)).astype(dtype)
    with threadpool_limits(threads):
        A @ A
        seconds = _best_seconds(lambda: A @ A, repeats)
    return 2.0 * n**3 / seconds


def iteration_cost(X, rank):
    """``(bytes of X read once, flops, bytes of factor rows gathered)`` of
    one MU or HALS iteration (no gathers for dense X)."""
    n, p = X.shape
    gram = 4.0 * (n + p) * rank**2
    if sp.issparse(X):
        nbytes = X.nnz * (X.dtype.itemsize + X.indices.dtype.itemsize)
        nbytes += (n + 1) * X.indptr.dtype.itemsize
        gathered = 2.0 * X.nnz * rank * X.dtype.itemsize
        return float(nbytes), 4.0 * X.nnz * rank + gram, gathered
    return float(X.nbytes), 4.0 * n * p * rank + gram, 0.0


def make_cases(quick):
    """The data of each case: ``(name, X)`` in float64 (cast per dtype later)."""
    rng = np.random.default_rng(0)
    l3 = _l3_bytes()
    if quick:
        shapes = {"dense, in cache": (60, 80), "dense, beyond cache": (200, 300)}
        sparse_shape = (300, 400)
    else:
        side = int(np.sqrt(l3 / 4 / 8))  # a quarter of L3 in float64
        shapes = {
            "dense, in cache": (side, side),
            "dense, beyond cache": (8192, 4096),  # 256 MiB in float64
        }
        sparse_shape = (50000, 20000)
    cases = []
    for name, (n, p) in shapes.items():
        X = rng.random((n, 12)) @ rng.random((12, p)) + 0.1 * rng.random((n, p))
        cases.append((name, X))
    X = sp.random(*sparse_shape, density=0.005, format="csr", random_state=rng)
    X.data += 0.1
    cases.append(("sparse CSR, 0.5% stored", X))
    return cases


def _l3_bytes():
    path = Path("/sys/devices/system/cpu/cpu0/cache/index3/size")
    try:
        text = path.read_text().strip()
    except OSError:
        return 32 * MIB
    units = {"K": 1 << 10, "M": MIB}
    return int(text[:-1]) * units.get(text[-1], 1) if text[-1] in units else int(text)


def _start(X, rank):
    rng = np.random.default_rng(1)
    scale = np.sqrt(X.mean() / rank)
    W = (scale * rng.random((X.shape[0], rank))).astype(X.dtype)
    H = (scale * rng.random((rank, X.shape[1]))).astype(X.dtype)
    return W, H


def _contenders(rank, iterations):
    common = dict(n_components=rank, init="custom", tol=0, max_iter=iterations)
    return {
        "nmfkit mu": (lambda: NMF(solver="mu", **common), "history"),
        "nmfkit hals": (lambda: NMF(solver="hals", **common), "history"),
        "nmfkit auto": (lambda: NMF(solver="auto", **common), "history"),
        "sklearn mu": (lambda: SklearnNMF(solver="mu", **common), "wall"),
        "sklearn cd": (lambda: SklearnNMF(solver="cd", **common), "wall"),
    }


def seconds_per_iteration(X, rank, threads, iterations, repeats):
    """Median seconds per iteration of every contender, repeats interleaved."""
    W0, H0 = _start(X, rank)
    contenders = _contenders(rank, iterations)
    times = {name: [] for name in contenders}
    with threadpool_limits(threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for round_ in range(repeats + 1):  # the first round warms up
            for name, (make, clock) in contenders.items():
                model = make()
                start = time.perf_counter()
                model.fit(X, W=W0.copy(), H=H0.copy())
                wall = time.perf_counter() - start
                if clock == "history":
                    history = model.history_
                    per = (history[-1, 1] - history[0, 1]) / model.n_iter_
                else:
                    per = wall / model.n_iter_
                if round_:
                    times[name].append(per)
    return {name: float(np.median(t)) for name, t in times.items()}


def _markdown(meta, rows):
    lines = [
        f"Machine: {meta['cpu']}, {meta['cores']} cores, L3 {meta['l3_mib']:.0f} MiB; "
        f"Python {meta['python']}, BLAS "
        + ", ".join(f"{b['internal_api']} {b['version']}" for b in meta["blas"])
        + ". Measured here: streaming "
        "bandwidth (X @ v over 512 MiB), cache bandwidth (X @ v over 8 MiB) and FMA "
        "peak (2048^3 matrix product), per thread count:",
        "",
        "| threads | bandwidth GB/s | cache bandwidth GB/s | float64 peak GFLOP/s "
        "| float32 peak GFLOP/s |",
        "|---:|---:|---:|---:|---:|",
    ]
    for threads, figures in meta["machine_bounds"].items():
        lines.append(
            f"| {threads} | {figures['bandwidth'] / 1e9:.1f} | "
            f"{figures['cache_bandwidth'] / 1e9:.1f} | "
            f"{figures['peak_float64'] / 1e9:.1f} | "
            f"{figures['peak_float32'] / 1e9:.1f} |"
        )
    lines += [
        "",
        "Per iteration, in ms; bound = max(bytes of X / bandwidth, flops / peak, "
        "and for sparse X the factor rows gathered, 2 nnz r numbers, / cache "
        "bandwidth), with the limiting side named; ratio = time / bound (the aim "
        "is at most 2). "
        "scikit-learn's `mu` and `cd` beside, and nmfkit's time over theirs.",
        "",
        "| case | shape | dtype | rank | threads | bound ms (side) | nmfkit mu | "
        "hals | auto | ratio mu / hals / auto | sklearn mu | sklearn cd | "
        "mu / sklearn mu | hals / sklearn cd |",
        "|---|---|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        ms = {name: 1e3 * value for name, value in r["seconds"].items()}
        bound = 1e3 * r["bound_seconds"]
        ratios = " / ".join(
            f"{ms[f'nmfkit {s}'] / bound:.1f}" for s in ("mu", "hals", "auto")
        )
        lines.append(
            f"| {r['case']} | {r['shape'][0]} x {r['shape'][1]} | {r['dtype']} | "
            f"{r['rank']} | {r['threads']} | {bound:.2f} ({r['limit']}) | "
            f"{ms['nmfkit mu']:.2f} | {ms['nmfkit hals']:.2f} | "
            f"{ms['nmfkit auto']:.2f} | {ratios} | {ms['sklearn mu']:.2f} | "
            f"{ms['sklearn cd']:.2f} | {ms['nmfkit mu'] / ms['sklearn mu']:.2f} | "
            f"{ms['nmfkit hals'] / ms['sklearn cd']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ranks", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.iterations, args.repeats, args.ranks = 3, 1, [4]

    cores = os.cpu_count() or 1
    thread_counts = sorted({1, cores})
    bounds = {}
    for threads in thread_counts:
        nbytes = 8 * MIB if args.quick else 512 * MIB
        size = 256 if args.quick else 2048
        bounds[threads] = dict(
            bandwidth=streaming_bandwidth(threads, nbytes),
            cache_bandwidth=cache_bandwidth(threads, min(nbytes, 8 * MIB)),
            peak_float64=fma_peak(threads, np.float64, size),
            peak_float32=fma_peak(threads, np.float32, size),
        )
        print(f"{threads} thread(s): {bounds[threads]}", flush=True)

    rows = []
    for case, X64 in make_cases(args.quick):
        for dtype in (np.float64, np.float32):
            X = X64.astype(dtype)
            for rank in args.ranks:
                nbytes, flops, gathered = iteration_cost(X, rank)
                for threads in thread_counts:
                    figures = bounds[threads]
                    peak = figures[f"peak_{np.dtype(dtype).name}"]
                    sides = {
                        "memory": nbytes / figures["bandwidth"],
                        "flops": flops / peak,
                        "gathers": gathered / figures["cache_bandwidth"],
                    }
                    limit = max(sides, key=sides.__getitem__)
                    seconds = seconds_per_iteration(
                        X, rank, threads, args.iterations, args.repeats
                    )
                    row = dict(
                        case=case,
                        shape=list(X.shape),
                        dtype=np.dtype(dtype).name,
                        rank=rank,
                        threads=threads,
                        bytes=nbytes,
                        flops=flops,
                        gathered_bytes=gathered,
                        bound_seconds=sides[limit],
                        bound_sides=sides,
                        limit=limit,
                        seconds=seconds,
                    )
                    rows.append(row)
                    print(
                        f"{case:26s} {row['dtype']:8s} r={rank:3d} t={threads}: bound "
                        f"{1e3 * row['bound_seconds']:.2f} ms ({row['limit']}), "
                        + ", ".join(f"{k} {1e3 * v:.2f}" for k, v in seconds.items()),
                        flush=True,
                    )
    meta = dict(
        python=platform.python_version(),
        cpu=_cpu_name(),
        cores=cores,
        l3_mib=_l3_bytes() / MIB,
        machine=platform.machine(),
        processor=_cpu_name(),
        cpu_count=cores,
        threads=f"1 and {cores} (BLAS, set per row through threadpoolctl)",
        blas=[
            {k: i.get(k) for k in ("internal_api", "version", "architecture")}
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        ],
        iterations=args.iterations,
        repeats=args.repeats,
        machine_bounds={str(t): b for t, b in bounds.items()},
    )
    stem = "bench_roofline_quick" if args.quick else "bench_roofline"
    args.output.mkdir(parents=True, exist_ok=True)
    record = json.dumps(dict(meta=meta, rows=rows), indent=2)
    (args.output / f"{stem}.json").write_text(record)
    text = _markdown(meta, rows)
    (args.output / f"{stem}.md").write_text(text)
    print(text)


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
