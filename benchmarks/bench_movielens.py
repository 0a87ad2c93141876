"""MovieLens 100K: held-out RMSE/MAE per official fold, and cost per iteration.

Fits nmfkit's NMF to the observed ratings only (``sparse_unobserved="missing"``)
on each of the 5 official folds (u1.base/u1.test ... u5.base/u5.test) and
predicts the held-out ratings from ``inverse_transform(W)`` (clipped to the
rating scale [1, 5]). Printed next to the published 5-fold figures of the
Surprise library. Then the time per iteration of both masked solvers as the
number of observed entries grows (synthetic observations of a large matrix).

Usage:
    python benchmarks/bench_movielens.py [--data-home ../shared/datasets] [--quick]

Writes benchmarks/results/bench_movielens.json and .md.
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
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from nmfkit import NMF
from nmfkit._atomic import atomic_write
from nmfkit._objective import Penalties
from nmfkit._observed import ObservedEntries
from nmfkit._validation import UnobservedWarning
from nmfkit.datasets import fetch_movielens_100k
from nmfkit.solvers import ConvergenceMonitor, fit_masked_hals, fit_masked_mu

RESULTS = Path(__file__).resolve().parent / "results"
SURPRISE = {"Surprise NMF": (0.963, 0.758), "Surprise SVD": (0.934, 0.737)}

MODELS = {
    "nmfkit NMF + offsets": dict(
        n_components=3, solver="hals", bias=True, l2_W=4.0, l2_H=4.0
    ),
    "nmfkit NMF (pure)": dict(
        n_components=3, solver="hals", bias=False, l2_W=4.0, l2_H=4.0
    ),
}
COMMON = dict(
    sparse_unobserved="missing", init="nndsvda", max_iter=100, tol=1e-5, random_state=0
)


def _matrix(ratings, shape):
    return sp.csr_matrix(
        (ratings[:, 2].astype(np.float64), (ratings[:, 0] - 1, ratings[:, 1] - 1)),
        shape=shape,
    )


def run_folds(data):
    shape = (data.n_users, data.n_items)
    rows = []
    for name, params in MODELS.items():
        for k, (train, test) in enumerate(data.folds, start=1):
            model = NMF(**params, **COMMON)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnobservedWarning)
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                W = model.fit_transform(_matrix(train, shape))
                seconds = time.perf_counter() - start
            completed = model.inverse_transform(W)
            pred = np.clip(completed[test[:, 0] - 1, test[:, 1] - 1], 1, 5)
            err = pred - test[:, 2]
            row = dict(
                model=name,
                fold=k,
                rmse=float(np.sqrt(np.mean(err**2))),
                mae=float(np.mean(np.abs(err))),
                fit_seconds=seconds,
                n_iter=int(model.n_iter_),
            )
            rows.append(row)
            print(
                f"{name:<24} fold {k}  RMSE {row['rmse']:.4f}  MAE {row['mae']:.4f}  "
                f"{seconds:6.2f} s  {row['n_iter']} it",
                flush=True,
            )
    return rows


def run_scaling(sizes, n=100_000, p=50_000, rank=10, n_iter=5, repeats=3):
    """Median seconds per iteration against the number of observed entries."""
    rows = []
    rng = np.random.default_rng(0)
    for nnz in sizes:
        flat = rng.choice(n * p, size=nnz, replace=False)
        observed = ObservedEntries((n, p), flat // p, flat % p, 1 + 4 * rng.random(nnz))
        W0 = rng.random((n, rank))
        H0 = rng.random((rank, p))
        for name, solver in (("mu", fit_masked_mu), ("hals", fit_masked_hals)):
            times = []
            for _ in range(repeats):
                monitor = ConvergenceMonitor(tol=0, max_iter=n_iter)
                start = time.perf_counter()
                solver(observed, W0, H0, Penalties(l2_W=1.0, l2_H=1.0), monitor=monitor)
                times.append((time.perf_counter() - start) / n_iter)
            seconds = float(np.median(times))
            rows.append(
                dict(
                    solver=name,
                    observed=int(nnz),
                    seconds_per_iter=seconds,
                    ns_per_observed_x_rank=1e9 * seconds / (nnz * rank),
                )
            )
            print(
                f"masked {name:<5} {nnz:>9,} observed  "
                f"{1e3 * seconds:8.2f} ms/iteration",
                flush=True,
            )
    return rows, dict(n=n, p=p, rank=rank, n_iter=n_iter, repeats=repeats)


def _markdown(folds, scaling, scaling_settings):
    lines = [
        "| model | RMSE | MAE | fit time (s) |",
        "| --- | --- | --- | --- |",
    ]
    for name in MODELS:
        sub = [r for r in folds if r["model"] == name]
        rmse = np.mean([r["rmse"] for r in sub])
        mae = np.mean([r["mae"] for r in sub])
        sec = np.mean([r["fit_seconds"] for r in sub])
        lines.append(
            f"| {name} (mean of 5 folds) | {rmse:.4f} | {mae:.4f} | {sec:.1f} |"
        )
    for name, (rmse, mae) in SURPRISE.items():
        lines.append(f"| {name} (published) | {rmse:.3f} | {mae:.3f} | |")
    lines += [
        "",
        "| model | fold | RMSE | MAE | fit time (s) | iterations |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in folds:
        lines.append(
            f"| {r['model']} | u{r['fold']} | {r['rmse']:.4f} | {r['mae']:.4f} | "
            f"{r['fit_seconds']:.2f} | {r['n_iter']} |"
        )
    s = scaling_settings
    lines += [
        "",
        f"Time per iteration, {s['n']:,} x {s['p']:,} matrix, rank {s['rank']}, "
        f"median of {s['repeats']} runs of {s['n_iter']} iterations:",
        "",
        "| solver | observed entries | ms / iteration | ns / (observed x rank) |",
        "| --- | --- | --- | --- |",
    ]
    for r in scaling:
        lines.append(
            f"| masked {r['solver']} | {r['observed']:,} | "
            f"{1e3 * r['seconds_per_iter']:.2f} | {r['ns_per_observed_x_rank']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-home",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "datasets"),
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller scaling sizes (for a fast check)"
    )
    args = parser.parse_args(argv)
    data = fetch_movielens_100k(args.data_home, download_if_missing=False)
    print("settings:", {k: {**v, **COMMON} for k, v in MODELS.items()})
    print("predictions: inverse_transform(W) at the held-out pairs, clipped to [1, 5]")
    folds = run_folds(data)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    scaling, scaling_settings = run_scaling(sizes)
    md = _markdown(folds, scaling, scaling_settings)
    print(md)
    RESULTS.mkdir(exist_ok=True)
    payload = dict(
        settings={k: {**v, **COMMON} for k, v in MODELS.items()},
        prediction="inverse_transform(W)[user, item] clipped to [1, 5]",
        surprise_published=SURPRISE,
        folds=folds,
        scaling=scaling,
        scaling_settings=scaling_settings,
        machine=dict(python=sys.version.split()[0], platform=platform.platform()),
    )
    with atomic_write(RESULTS / "bench_movielens.json", "w") as f:
        json.dump(payload, f, indent=2)
    with atomic_write(RESULTS / "bench_movielens.md", "w") as f:
        f.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
