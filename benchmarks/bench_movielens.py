"""MovieLens 100K: nmfkit's ratings model beside Surprise, measured without leakage.

On each of the 5 official folds (u1.base/u1.test ... u5.base/u5.test), in
one process, on the same ratings:

- nmfkit's :class:`~nmfkit.recommend.RatingsNMF` (mean + signed biases +
  non-negative tastes) with its rank, iterations and penalties chosen on a
  10% validation split of u1.base only (no test rating is ever seen) among
  candidates of about the same cost (rank x iterations near 480), then used
  unchanged on every fold; its fit process time over Surprise SVD's on
  u1.base, interleaved repeats in this process;
- Surprise (scikit-surprise) BaselineOnly, SVD, SVD++ and NMF with their
  default settings;
- the earlier nmfkit rows, NMF with non-negative offsets and pure NMF at
  fixed settings (``inverse_transform(W)`` clipped to [1, 5]).

RMSE, MAE and fit time (wall clock, seconds) for each; the figures Surprise
publishes (5 random folds, not these) are quoted beside, never instead.

Then the same protocol on a sparse-items variant: MovieLens subsampled so
that half of the items (drawn at random) keep at most 3 ratings, split into
5 random folds identical for every model, nmfkit's settings chosen on a
validation split of the first training fold only. Last, the time per
iteration and the peak memory of the ratings solver (and of the two masked
NMF solvers) as the number of observed ratings grows to 10^7 (synthetic).

Usage:
    python benchmarks/bench_movielens.py [--data-home ../shared/datasets]
        [--quick] [--folds N] [--skip-surprise] [--skip-sparse] [--skip-scaling]

``--quick`` checks that everything runs: one fold, two candidate settings,
few Surprise epochs, small scaling sizes; its figures mean nothing and it
writes ``bench_movielens_quick.*`` instead of the results files.

Writes benchmarks/results/bench_movielens.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import tracemalloc
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
from nmfkit.recommend import RatingsNMF, select_ratings_model
from nmfkit.solvers import ConvergenceMonitor, fit_masked_hals, fit_masked_mu
from nmfkit.solvers._ratings_bcd import fit_ratings_bcd, ratings_factors

RESULTS = Path(__file__).resolve().parent / "results"

#: Surprise's published ML-100K figures (RMSE, MAE), 5 random folds:
#: https://surpriselib.com (README benchmark table).
SURPRISE_PUBLISHED = {
    "Surprise BaselineOnly": (0.944, 0.748),
    "Surprise SVD": (0.934, 0.737),
    "Surprise SVD++": (0.919, 0.721),
    "Surprise NMF": (0.963, 0.758),
}

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

#: Candidates for RatingsNMF, chosen on a validation split of training data:
#: (rank, iterations) pairs of about the same cost (rank x iterations near
#: 480, a fit costing no more than Surprise's SVD), each with tied taste
#: penalties l2_W = l2_H and bias penalties.
RATINGS_BUDGET = ((40, 12), (60, 8), (80, 6), (120, 4))
RATINGS_GRID = [
    {
        "n_components": [rank],
        "max_iter": [n_iter],
        "l2_W": [l2],
        "l2_H": [l2],
        "l2_bias": [2.0, 5.0, 10.0],
    }
    for rank, n_iter in RATINGS_BUDGET
    for l2 in (0.07, 0.08, 0.09)
]
RATINGS_BASE = dict(tol=0.0, random_state=0)
QUICK_GRID = [
    {"n_components": [5], "max_iter": [6], "l2_W": [0.1], "l2_H": [0.1]},
    {"n_components": [10], "max_iter": [3], "l2_W": [0.1], "l2_H": [0.1]},
]
RATINGS_NAME = "nmfkit RatingsNMF"


def _matrix(ratings, shape):
    return sp.csr_matrix(
        (ratings[:, 2].astype(np.float64), (ratings[:, 0], ratings[:, 1])),
        shape=shape,
    )


def _errors(predictions, ratings):
    err = np.asarray(predictions, dtype=np.float64) - ratings
    return float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err)))


def _row(dataset, model, fold, predictions, test, seconds, **extra):
    rmse, mae = _errors(predictions, test[:, 2])
    row = dict(
        dataset=dataset,
        model=model,
        fold=fold,
        rmse=rmse,
        mae=mae,
        fit_seconds=seconds,
        **extra,
    )
    print(
        f"{dataset:<12} {model:<32} fold {fold}  RMSE {rmse:.4f}  MAE {mae:.4f}  "
        f"{seconds:7.2f} s",
        flush=True,
    )
    return row


def run_nmf_rows(dataset, folds, shape):
    """The earlier nmfkit rows: NMF with offsets and pure NMF, fixed settings."""
    rows = []
    for name, params in MODELS.items():
        for k, (train, test) in enumerate(folds, start=1):
            model = NMF(**params, **COMMON)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnobservedWarning)
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                W = model.fit_transform(_matrix(train, shape))
                seconds = time.perf_counter() - start
            completed = model.inverse_transform(W)
            pred = np.clip(completed[test[:, 0], test[:, 1]], 1, 5)
            rows.append(
                _row(dataset, name, k, pred, test, seconds, n_iter=int(model.n_iter_))
            )
    return rows


def choose_ratings_settings(train, shape, grid):
    """RatingsNMF's settings from a 10% validation split of ``train`` only."""
    base = RatingsNMF(**RATINGS_BASE, n_users=shape[0], n_items=shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        selection = select_ratings_model(
            base,
            grid,
            train[:, :2],
            train[:, 2].astype(np.float64),
            validation_fraction=0.1,
            random_state=0,
        )
    seconds = time.perf_counter() - start
    print(f"selection ({seconds:.0f} s): {selection.summary()}", flush=True)
    return selection, seconds


def run_ratings(dataset, folds, shape, params, name=RATINGS_NAME):
    rows = []
    for k, (train, test) in enumerate(folds, start=1):
        model = RatingsNMF(
            **{**RATINGS_BASE, **params}, n_users=shape[0], n_items=shape[1]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(train[:, :2], train[:, 2].astype(np.float64))
            seconds = time.perf_counter() - start
        pred = model.predict(test[:, 0], test[:, 1])
        rows.append(_row(dataset, name, k, pred, test, seconds, n_iter=model.n_iter_))
    return rows


def fit_time_ratio(train, shape, params, repeats):
    """Process time of RatingsNMF's fit over Surprise SVD's, interleaved.

    Both fit the same training ratings in this process, one after the other,
    ``repeats`` times; process time (CPU seconds of this process) is less
    disturbed than wall time by other work on the machine, and the ratio of
    two interleaved runs still less.
    """
    try:
        import pandas as pd
        import surprise
    except ImportError:
        return None
    frame = pd.DataFrame(
        {"user": train[:, 0], "item": train[:, 1], "rating": train[:, 2]}
    )
    trainset = surprise.Dataset.load_from_df(
        frame, surprise.Reader(rating_scale=(1, 5))
    ).build_full_trainset()
    pairs, ratings = train[:, :2].astype(np.int64), train[:, 2].astype(np.float64)
    ours, theirs = [], []
    for k in range(repeats):
        start = time.process_time()
        surprise.SVD(random_state=k).fit(trainset)
        theirs.append(time.process_time() - start)
        model = RatingsNMF(
            **{**RATINGS_BASE, **params, "random_state": k},
            n_users=shape[0],
            n_items=shape[1],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.process_time()
            model.fit(pairs, ratings)
            ours.append(time.process_time() - start)
    ratios = np.array(ours) / np.array(theirs)
    row = dict(
        repeats=repeats,
        ratings_nmf_process_seconds=ours,
        surprise_svd_process_seconds=theirs,
        ratio_median=float(np.median(ratios)),
        ratio_max=float(ratios.max()),
    )
    print(
        f"fit process time, RatingsNMF / Surprise SVD (20 epochs), {repeats} "
        f"interleaved repeats: median {row['ratio_median']:.2f}, max "
        f"{row['ratio_max']:.2f}",
        flush=True,
    )
    return row


def _surprise_models(quick):
    import surprise

    epochs = dict(n_epochs=2) if quick else {}
    return {
        "Surprise BaselineOnly": lambda: surprise.BaselineOnly(verbose=False),
        "Surprise SVD": lambda: surprise.SVD(random_state=0, **epochs),
        "Surprise SVD++": lambda: surprise.SVDpp(
            random_state=0, cache_ratings=True, **epochs
        ),
        "Surprise NMF": lambda: surprise.NMF(random_state=0, **epochs),
    }


def run_surprise(dataset, folds, quick):
    """Surprise's models with their defaults on the same folds, same process."""
    try:
        import pandas as pd
        import surprise
    except ImportError:
        print(
            "scikit-surprise is not installed (pip install 'nmfkit[bench]'); "
            "its rows are skipped",
            flush=True,
        )
        return []
    rows = []
    reader = surprise.Reader(rating_scale=(1, 5))
    for name, make in _surprise_models(quick).items():
        for k, (train, test) in enumerate(folds, start=1):
            frame = pd.DataFrame(
                {"user": train[:, 0], "item": train[:, 1], "rating": train[:, 2]}
            )
            trainset = surprise.Dataset.load_from_df(
                frame, reader
            ).build_full_trainset()
            algo = make()
            start = time.perf_counter()
            algo.fit(trainset)
            seconds = time.perf_counter() - start
            pred = [algo.predict(int(u), int(i), clip=True).est for u, i in test[:, :2]]
            rows.append(_row(dataset, name, k, pred, test, seconds))
    return rows


def sparse_items_variant(ratings, seed=0, at_most=3):
    """MovieLens with half of the items (at random) cut to 1..``at_most`` ratings."""
    rng = np.random.default_rng(seed)
    items = np.unique(ratings[:, 1])
    cut = rng.permutation(items)[: items.size // 2]
    keep = np.ones(len(ratings), dtype=bool)
    order = rng.permutation(len(ratings))
    for item in cut:
        where = order[ratings[order, 1] == item]
        keep[where[rng.integers(1, at_most + 1) :]] = False
    return ratings[keep], cut


def random_folds(ratings, n_folds=5, seed=0):
    order = np.random.default_rng(seed).permutation(len(ratings))
    parts = np.array_split(order, n_folds)
    return [
        (
            ratings[np.sort(np.concatenate(parts[:k] + parts[k + 1 :]))],
            ratings[parts[k]],
        )
        for k in range(n_folds)
    ]


def run_dataset(dataset, folds, shape, grid, quick, skip_surprise, nmf_rows):
    selection, seconds = choose_ratings_settings(folds[0][0], shape, grid)
    rows = run_ratings(dataset, folds, shape, selection.best_params)
    if not skip_surprise:
        rows += run_surprise(dataset, folds, quick)
    if nmf_rows:
        rows += run_nmf_rows(dataset, folds, shape)
    chosen = dict(
        params=selection.best_params,
        validation_rmse=selection.best_rmse,
        method=selection.method + " (of the first training fold only)",
        candidates=selection.results,
        seconds=seconds,
    )
    if dataset == "movielens" and not skip_surprise:
        chosen["fit_time_ratio"] = fit_time_ratio(
            folds[0][0], shape, selection.best_params, repeats=2 if quick else 5
        )
    return rows, chosen


def _synthetic(nnz, n, p, rng):
    flat = np.unique(rng.integers(0, n * p, size=int(nnz * 1.001) + 10))
    flat = rng.permutation(flat)[:nnz]
    return ObservedEntries(
        (n, p), flat // p, flat % p, rng.integers(1, 6, flat.size).astype(np.float64)
    )


def _run_solver(name, observed, W0, H0, n_iter):
    monitor = ConvergenceMonitor(tol=0, max_iter=n_iter)
    if name == "ratings bcd":
        n, p = observed.shape
        W, H = ratings_factors(W0, H0, np.zeros(n), np.zeros(p), 3.0)
        return fit_ratings_bcd(
            observed,
            W,
            H,
            Penalties(l2_W=0.1, l2_H=0.1),
            monitor=monitor,
            l2_bias=5.0,
            weighting="count",
        )
    solver = {"masked mu": fit_masked_mu, "masked hals": fit_masked_hals}[name]
    return solver(observed, W0, H0, Penalties(l2_W=1.0, l2_H=1.0), monitor=monitor)


def run_scaling(sizes, masked_up_to, n=200_000, p=50_000, rank=10, n_iter=3):
    """Seconds per iteration and peak memory against the observed ratings.

    The peak is what the solver allocates in one iteration (tracemalloc,
    which sees NumPy's allocations) on top of the data it is given; the
    time comes from an untraced run.
    """
    rows = []
    rng = np.random.default_rng(0)
    for nnz in sizes:
        observed = _synthetic(nnz, n, p, rng)
        W0 = rng.random((n, rank)) * 0.1
        H0 = rng.random((rank, p)) * 0.1
        names = ["ratings bcd"]
        if nnz <= masked_up_to:
            names += ["masked mu", "masked hals"]
        for name in names:
            start = time.perf_counter()
            _run_solver(name, observed, W0, H0, n_iter)
            seconds = (time.perf_counter() - start) / n_iter
            # memory in a separate, traced run (tracing slows allocations)
            tracemalloc.start()
            _run_solver(name, observed, W0, H0, 1)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            rows.append(
                dict(
                    solver=name,
                    observed=int(observed.nnz),
                    seconds_per_iter=seconds,
                    ns_per_observed_x_rank=1e9 * seconds / (observed.nnz * rank),
                    peak_mib=peak / 2**20,
                )
            )
            print(
                f"{name:<12} {observed.nnz:>11,} observed  {1e3 * seconds:9.1f} "
                f"ms/iteration  peak {peak / 2**20:8.1f} MiB",
                flush=True,
            )
    return rows, dict(n=n, p=p, rank=rank, n_iter=n_iter)


def _summary_lines(rows, dataset, published):
    lines = [
        "| model | mean RMSE | mean MAE | mean fit time (s) | published RMSE / MAE |",
        "| --- | --- | --- | --- | --- |",
    ]
    names = list(dict.fromkeys(r["model"] for r in rows if r["dataset"] == dataset))
    for name in names:
        sub = [r for r in rows if r["dataset"] == dataset and r["model"] == name]
        quoted = published.get(name)
        quoted = f"{quoted[0]:.3f} / {quoted[1]:.3f} (random folds)" if quoted else ""
        lines.append(
            f"| {name} ({len(sub)} folds) | {np.mean([r['rmse'] for r in sub]):.4f} | "
            f"{np.mean([r['mae'] for r in sub]):.4f} | "
            f"{np.mean([r['fit_seconds'] for r in sub]):.2f} | {quoted} |"
        )
    return lines


def _ratio_lines(ratio):
    if not ratio:
        return []
    return [
        f"Fit process time of RatingsNMF over Surprise SVD's (defaults, 20 epochs) "
        f"on the first training fold, {ratio['repeats']} interleaved repeats in "
        f"this process: median {ratio['ratio_median']:.2f}, max "
        f"{ratio['ratio_max']:.2f}.",
        "",
    ]


def _markdown(rows, chosen, scaling, scaling_settings):
    lines = []
    for dataset, title, published in (
        ("movielens", "MovieLens 100K, official folds u1..u5", SURPRISE_PUBLISHED),
        (
            "sparse",
            "Sparse items: half of the items cut to at most 3 ratings, 5 random folds",
            {},
        ),
    ):
        if dataset not in chosen:
            continue
        c = chosen[dataset]
        lines += [
            f"### {title}",
            "",
            f"RatingsNMF settings: {c['params']} (validation RMSE "
            f"{c['validation_rmse']:.4f}; {c['method']}).",
            "",
            *_ratio_lines(c.get("fit_time_ratio")),
            *_summary_lines(rows, dataset, published),
            "",
            "| model | fold | RMSE | MAE | fit time (s) |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {r['model']} | {r['fold']} | {r['rmse']:.4f} | {r['mae']:.4f} | "
            f"{r['fit_seconds']:.2f} |"
            for r in rows
            if r["dataset"] == dataset
        ]
        lines.append("")
    if scaling:
        s = scaling_settings
        lines += [
            f"### Time per iteration, synthetic {s['n']:,} x {s['p']:,} ratings, "
            f"rank {s['rank']}, {s['n_iter']} iterations",
            "",
            "| solver | observed | ms / iteration | ns / (observed x rank) | "
            "peak MiB |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {r['solver']} | {r['observed']:,} | {1e3 * r['seconds_per_iter']:.1f} "
            f"| {r['ns_per_observed_x_rank']:.1f} | {r['peak_mib']:.0f} |"
            for r in scaling
        ]
    return "\n".join(lines) + "\n"


def _zero_based(ratings):
    out = ratings[:, :3].copy()
    out[:, :2] -= 1
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-home",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "datasets"),
    )
    parser.add_argument("--quick", action="store_true", help="check that it runs")
    parser.add_argument("--folds", type=int, default=None, help="folds to run (1-5)")
    parser.add_argument("--skip-surprise", action="store_true")
    parser.add_argument("--skip-sparse", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args(argv)
    n_folds = args.folds or (1 if args.quick else 5)
    grid = QUICK_GRID if args.quick else RATINGS_GRID
    data = fetch_movielens_100k(args.data_home, download_if_missing=False)
    shape = (data.n_users, data.n_items)
    print("candidates:", grid, "with", RATINGS_BASE)
    rows, chosen = [], {}
    folds = [(_zero_based(a), _zero_based(b)) for a, b in data.folds][:n_folds]
    new_rows, chosen["movielens"] = run_dataset(
        "movielens", folds, shape, grid, args.quick, args.skip_surprise, True
    )
    rows += new_rows
    if not args.skip_sparse:
        sparse, cut = sparse_items_variant(_zero_based(data.ratings))
        print(
            f"sparse items: {len(sparse):,} ratings, {cut.size} items cut to at "
            "most 3 ratings",
            flush=True,
        )
        folds = random_folds(sparse)[:n_folds]
        new_rows, chosen["sparse"] = run_dataset(
            "sparse", folds, shape, grid, args.quick, args.skip_surprise, False
        )
        rows += new_rows
    scaling, scaling_settings = [], {}
    if not args.skip_scaling:
        sizes = [10_000, 100_000] if args.quick else [100_000, 1_000_000, 10_000_000]
        scaling, scaling_settings = run_scaling(sizes, masked_up_to=1_000_000)
    md = _markdown(rows, chosen, scaling, scaling_settings)
    print(md)
    RESULTS.mkdir(exist_ok=True)
    stem = "bench_movielens_quick" if args.quick else "bench_movielens"
    payload = dict(
        protocol=__doc__,
        candidates=grid,
        base_settings=RATINGS_BASE,
        chosen=chosen,
        nmf_settings={k: {**v, **COMMON} for k, v in MODELS.items()},
        surprise_published=SURPRISE_PUBLISHED,
        folds=rows,
        scaling=scaling,
        scaling_settings=scaling_settings,
        machine=dict(python=sys.version.split()[0], platform=platform.platform()),
    )
    with atomic_write(RESULTS / f"{stem}.json", "w") as f:
        json.dump(payload, f, indent=2, default=float)
    with atomic_write(RESULTS / f"{stem}.md", "w") as f:
        f.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
