"""Time per iteration of nmfkit's multiplicative updates against scikit-learn's.

Protocol (see the design notes): the same data and the same initial factors
for every contender, in one process, repeats interleaved, the median reported,
and ratios rather than absolute times (the machines are shared and noisy).

Contenders, all ``solver="mu"`` with the Frobenius loss:

- nmfkit, which computes the objective after every iteration;
- scikit-learn with ``tol=0``: no objective is ever computed (its cheapest
  mode, which users rarely run);
- scikit-learn as users run it (``tol > 0``): its convergence check computes
  the error every 10 iterations (here ``tol=1e-30`` so that it never stops
  early and both run the same number of iterations).

Data (from ``../shared/datasets``): Olivetti faces (400 x 4096, dense, float64
and float32) and 20 Newsgroups training posts as TF-IDF (sparse); ranks 10
and 50.

Usage::

    python benchmarks/bench_mu.py [--repeats 5] [--iterations 50]

Writes ``benchmarks/results/bench_mu.json`` and ``bench_mu.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import NMF as SklearnNMF
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _datasets import load_20newsgroups_tfidf, load_olivetti  # noqa: E402
from nmfkit import NMF  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _initial_factors(X, rank, seed):
    """scikit-learn's random initialization, drawn once and shared."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(X.mean() / rank)
    W = np.abs(scale * rng.standard_normal((X.shape[0], rank))).astype(X.dtype)
    H = np.abs(scale * rng.standard_normal((rank, X.shape[1]))).astype(X.dtype)
    return W, H


def _contenders(rank, iterations):
    common = dict(n_components=rank, init="custom", solver="mu", max_iter=iterations)
    return {
        "nmfkit": lambda: NMF(tol=0, **common),
        "sklearn_tol0": lambda: SklearnNMF(tol=0, **common),
        "sklearn": lambda: SklearnNMF(tol=1e-30, **common),
    }


def time_per_iteration(X, rank, iterations, repeats, seed=0):
    """Median seconds per iteration of each contender, interleaved repeats."""
    W0, H0 = _initial_factors(X, rank, seed)
    contenders = _contenders(rank, iterations)
    times = {name: [] for name in contenders}
    errors = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for make in contenders.values():  # warm-up
            make().fit(X, W=W0.copy(), H=H0.copy())
        for _ in range(repeats):
            for name, make in contenders.items():
                model = make()
                start = time.perf_counter()
                model.fit(X, W=W0.copy(), H=H0.copy())
                times[name].append((time.perf_counter() - start) / model.n_iter_)
                errors[name] = float(model.reconstruction_err_)
    return {name: float(np.median(t)) for name, t in times.items()}, errors


def _markdown(rows):
    lines = [
        "| data | dtype | rank | nmfkit ms/iter | sklearn ms/iter | ratio | "
        "sklearn tol=0 ms/iter | ratio vs tol=0 |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ms = {name: 1e3 * value for name, value in r["seconds"].items()}
        lines.append(
            f"| {r['data']} | {r['dtype']} | {r['rank']} | {ms['nmfkit']:.2f} | "
            f"{ms['sklearn']:.2f} | {r['ratio']:.2f} | {ms['sklearn_tol0']:.2f} | "
            f"{r['ratio_tol0']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--ranks", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    faces = load_olivetti()
    datasets = [
        ("Olivetti faces", faces.astype(np.float64)),
        ("Olivetti faces", faces.astype(np.float32)),
        ("20 Newsgroups TF-IDF", load_20newsgroups_tfidf()),
    ]
    rows = []
    for name, X in datasets:
        for rank in args.ranks:
            seconds, errors = time_per_iteration(X, rank, args.iterations, args.repeats)
            row = dict(
                data=name,
                shape=list(X.shape),
                sparse=not isinstance(X, np.ndarray),
                dtype=str(X.dtype),
                rank=rank,
                seconds=seconds,
                reconstruction_err=errors,
                ratio=seconds["nmfkit"] / seconds["sklearn"],
                ratio_tol0=seconds["nmfkit"] / seconds["sklearn_tol0"],
            )
            rows.append(row)
            print(
                f"{name:22s} {row['dtype']:8s} rank {rank:3d}: nmfkit "
                f"{1e3 * seconds['nmfkit']:.2f} ms/iter, sklearn "
                f"{1e3 * seconds['sklearn']:.2f} (ratio {row['ratio']:.2f}), "
                f"sklearn tol=0 {1e3 * seconds['sklearn_tol0']:.2f} "
                f"(ratio {row['ratio_tol0']:.2f})",
                flush=True,
            )
    meta = dict(
        python=platform.python_version(),
        machine=platform.machine(),
        processor=platform.processor(),
        blas=[
            {
                k: i.get(k)
                for k in ("internal_api", "version", "num_threads", "architecture")
            }
            for i in threadpool_info()
        ],
        iterations=args.iterations,
        repeats=args.repeats,
    )
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "bench_mu.json").write_text(
        json.dumps(dict(meta=meta, rows=rows), indent=2)
    )
    (args.output / "bench_mu.md").write_text(_markdown(rows))
    print(_markdown(rows))


if __name__ == "__main__":
    main()
