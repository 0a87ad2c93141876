"""Restarts on a Dask cluster: batched against sequential nmfkit fits.

20 random restarts at rank 10 of Olivetti faces (400 x 4096, dense float64)
as a Dask array of 4 blocks of rows, persisted on a real
``dask.distributed.LocalCluster`` of 2 worker processes with one thread each
(Dask starts its workers with one BLAS thread; the client, which updates H,
keeps the BLAS threads as ``--threads`` sets them). Two ways, timed in
wall-clock seconds (``time.perf_counter``):

- **batched**: one ``NMF(n_components=10, n_init=20)`` call, whose restarts
  share every pass over the blocks (``nmfkit.distributed.fit_dask_batched``:
  one task per block and pass for all the fits);
- **sequential**: 20 ``NMF(n_init=1)`` fits with the seeds the batched call
  drew (``n_init_seeds_``), one after another.

Both with ``init="random"``, ``tol=1e-4``, ``max_iter=200`` (scikit-learn's
defaults) and the default solver (plain HALS on Dask). The two run the same
fits, so their best errors ``||X - WH||_F`` agree to rounding (reported).
scikit-learn does not fit Dask arrays; the in-memory comparison is
``bench_many_fits.py``. Aim (issue 17): batched in at most 0.25x the time of
the sequential fits.

Usage::

    python benchmarks/bench_dask_restarts.py [--repeats 1] [--threads N]
    python benchmarks/bench_dask_restarts.py --quick    # a check that it runs

``--quick`` (3 restarts at rank 5, 30 iterations, 120 rows) writes
``bench_dask_restarts_quick.*``; its figures mean nothing. Writes
``benchmarks/results/bench_dask_restarts.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _datasets import load_olivetti  # noqa: E402
from _machine import machine_meta  # noqa: E402
from _results import QUICK_NOTICE, write_results  # noqa: E402
from bench_many_fits import _fit_timed  # noqa: E402
from bench_roofline import fma_peak, iteration_cost  # noqa: E402
from nmfkit import NMF  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
#: The aim of issue 17.
AIM_BATCHED = 0.25
FULL = dict(restarts=20, rank=10, max_iter=200, rows=None, blocks=4, workers=2)
QUICK = dict(restarts=3, rank=5, max_iter=30, rows=120, blocks=4, workers=2)


def restarts(X, settings, repeats):
    """Time the batched and the sequential restarts of the Dask array X."""
    common = dict(
        n_components=settings["rank"], init="random", tol=1e-4,
        max_iter=settings["max_iter"],
    )  # fmt: skip
    _fit_timed(lambda: NMF(**dict(common, max_iter=2), random_state=0), X)  # warm-up
    times = {"batched": [], "sequential": []}
    best, iterations = {}, {}
    for repeat in range(repeats):
        seconds, batch = _fit_timed(
            lambda r=repeat: NMF(n_init=settings["restarts"], random_state=r, **common),
            X,
        )
        times["batched"].append(seconds)
        best["batched"] = float(batch.reconstruction_err_)
        total, errors, counts = 0.0, [], []
        for seed in batch.n_init_seeds_:
            seconds, run = _fit_timed(
                lambda s=int(seed): NMF(random_state=s, **common), X
            )
            total += seconds
            errors.append(float(run.reconstruction_err_))
            counts.append(int(run.n_iter_))
        times["sequential"].append(total)
        best["sequential"] = min(errors)
        iterations = dict(total=int(sum(counts)), max=int(max(counts)))
    seconds = {key: float(np.median(value)) for key, value in times.items()}
    return dict(
        seconds=seconds,
        best_error=best,
        iterations=iterations,
        ratio=seconds["batched"] / seconds["sequential"],
        # a pass of one fit (sequential) and a round of every running fit
        ms_per_pass=dict(
            sequential=1e3 * seconds["sequential"] / iterations["total"],
            batched=1e3 * seconds["batched"] / iterations["max"],
        ),
    )


def _markdown(row, quick):
    s, e, it = row["seconds"], row["best_error"], row["iterations"]
    m = row["ms_per_pass"]
    lines = list(QUICK_NOTICE) if quick else []
    lines += [
        f"Restarts on a Dask array ({row['blocks']} blocks of rows, persisted) on a "
        f"`LocalCluster` of {row['workers']} worker processes x 1 thread "
        "(wall seconds for all restarts; best `||X - WH||_F` of each):",
        "",
        "| data | shape | rank | restarts | iterations (all fits / longest) | "
        "flops bound s | batched s | sequential s | batched / sequential | "
        "ms per pass (batched round / one fit) | best error "
        "(batched / sequential) |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|---|---|",
        f"| {row['data']} | {row['shape'][0]} x {row['shape'][1]} | {row['rank']} | "
        f"{row['restarts']} | {it['total']} / {it['max']} | "
        f"{row['flops_bound_s']:.2f} | {s['batched']:.2f} | "
        f"{s['sequential']:.2f} | **{row['ratio']:.2f}** | "
        f"{m['batched']:.0f} / {m['sequential']:.0f} | "
        f"{e['batched']:.6g} / {e['sequential']:.6g} |",
        "",
        f"Aim: batched restarts in at most {AIM_BATCHED}x the time of sequential "
        f"nmfkit fits: **{'met' if row['ratio'] <= AIM_BATCHED else 'not met'}** "
        f"({row['ratio']:.2f}). Bound: the flops of every iteration of every fit "
        f"({row['flops_per_iteration'] / 1e6:.0f} MFLOP each) at the measured FMA "
        f"peak of one thread ({row['peak_gflops']:.1f} GFLOP/s float64) on each of "
        f"the {row['workers']} workers; both runs are far above it: a Dask pass is "
        "bound by its scheduling and transfers (a task per block and pass, H "
        "broadcast, the sums gathered), which the batched fits share.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    import dask.array as da
    from dask import distributed

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="check that it runs")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="client BLAS threads (default: as set)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL

    X = load_olivetti().astype(np.float64)
    if settings["rows"] is not None:
        X = X[: settings["rows"]]
    chunk = -(-X.shape[0] // settings["blocks"])
    peak = fma_peak(1, np.float64)  # before the cluster: a quiet process
    flops = iteration_cost(X, settings["rank"])[1]
    with (
        threadpool_limits(args.threads),
        warnings.catch_warnings(),
        distributed.LocalCluster(
            n_workers=settings["workers"], threads_per_worker=1, processes=True,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster),
    ):  # fmt: skip
        warnings.simplefilter("ignore", ConvergenceWarning)
        Xd = da.from_array(X, chunks=(chunk, X.shape[1])).persist()
        distributed.wait(Xd)
        row = dict(
            data="Olivetti faces",
            shape=list(X.shape),
            dtype=str(X.dtype),
            rank=settings["rank"],
            restarts=settings["restarts"],
            max_iter=settings["max_iter"],
            blocks=settings["blocks"],
            workers=settings["workers"],
            **restarts(Xd, settings, args.repeats),
        )
        row.update(
            flops_per_iteration=flops,
            peak_gflops=peak / 1e9,
            flops_bound_s=flops * row["iterations"]["total"] / (peak * row["workers"]),
        )
        machine = machine_meta()  # the client's BLAS threads, as measured
    print(
        f"Olivetti faces on Dask, {settings['restarts']} restarts: batched "
        f"{row['seconds']['batched']:.2f} s, sequential "
        f"{row['seconds']['sequential']:.2f} s ({row['ratio']:.2f})",
        flush=True,
    )
    meta = dict(
        **machine,
        cpu_count=os.cpu_count(),
        repeats=args.repeats,
        quick=args.quick,
        threads=f"{settings['workers']} Dask workers x 1 thread (BLAS 1 each)",
        clock="wall (time.perf_counter)",
    )
    md = _markdown(row, args.quick)
    print(md)
    stem = "bench_dask_restarts_quick" if args.quick else "bench_dask_restarts"
    write_results(args.output, stem, dict(protocol=__doc__, meta=meta, row=row), md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
