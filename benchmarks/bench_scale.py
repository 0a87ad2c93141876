"""Time per iteration and peak worker memory of the Dask fit, against in-memory NumPy.

For each size (number of entries of X, float64, 1,000 columns, rank 10) the
script writes X to disk as a stack of ``.npy`` files, one per row chunk, and
fits it from the same initialization three ways:

- ``numpy``: the in-memory solver on the whole matrix (where it fits in RAM);
- ``dask-memory``: the Dask solver on a 2-worker ``LocalCluster`` with X
  persisted in the workers' memory;
- ``dask-disk``: the same cluster reading every chunk from disk at every
  iteration (out of core).

Time per iteration is the median over iterations of the solver's own history
(the objective pass included). Peak worker memory is each worker process's
peak resident set size (``getrusage``) minus its resident size just before
the fit, in fresh worker processes (the numbers read from disk first); it is
given in MB and in chunks of X.

    python benchmarks/bench_scale.py                      # 1e6, 1e7, 1e8
    python benchmarks/bench_scale.py --sizes 1e6 1e7      # a quick run
    python benchmarks/bench_scale.py --sizes 1e9          # needs ~8 GB disk and RAM

Writes ``benchmarks/results/bench_scale.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from nmfkit._atomic import atomic_write
from nmfkit._objective import Penalties
from nmfkit.solvers import ConvergenceMonitor, fit_mu

RESULTS = Path(__file__).resolve().parent / "results"
N_FEATURES = 1_000
RANK = 10
CHUNK_BYTES = 32e6  # about 32 MB per row chunk


def _reset_peak_rss():
    """Reset the process's peak resident size (Linux: VmHWM), if the OS allows."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_bytes():
    """Peak resident size since the last reset (or since the process started)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _current_rss_bytes():
    import psutil

    return psutil.Process().memory_info().rss


def _warm_up():
    """Import the solver on a worker, so that its code is not counted as data."""
    import nmfkit.distributed._blocks  # noqa: F401

    return True


def _per_iteration(history):
    return float(np.median(np.diff(history[:, 1])))


def _cluster():
    import dask
    from distributed import Client, LocalCluster

    # One root task (here: one chunk read) in flight per worker thread, not
    # Dask's default 1.1 (rounded up to 2): the setting that keeps an
    # out-of-core pass at one or two chunks per thread.
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    return cluster, Client(cluster)


def run_size(entries, n_iter, workdir, in_memory_limit):
    import dask
    import dask.array as da
    from distributed import wait

    from nmfkit.distributed import fit_dask

    n = int(entries) // N_FEATURES
    rows = int(min(max(1, CHUNK_BYTES // (8 * N_FEATURES)), max(1, n // 4)))
    chunk_mb = rows * N_FEATURES * 8 / 1e6
    path = Path(workdir) / f"X_{n}"
    start = time.perf_counter()
    source = da.random.RandomState(0).random((n, N_FEATURES), chunks=(rows, N_FEATURES))
    with dask.config.set(scheduler="threads"):
        da.to_npy_stack(path, source, axis=0)
    write_s = time.perf_counter() - start
    rng = np.random.default_rng(0)
    W0, H0 = rng.random((n, RANK)), rng.random((RANK, N_FEATURES))
    row = dict(
        entries=n * N_FEATURES,
        shape=[n, N_FEATURES],
        rank=RANK,
        chunk_rows=rows,
        chunk_mb=chunk_mb,
        n_chunks=-(-n // rows),
        iterations=n_iter,
        write_s=write_s,
    )

    def monitor():
        return ConvergenceMonitor(tol=0, max_iter=n_iter)

    objective = {}
    if n * N_FEATURES * 8 <= in_memory_limit:
        files = sorted(path.glob("*.npy"), key=lambda f: int(f.stem))
        X = np.concatenate([np.load(f) for f in files])
        result = fit_mu(X, W0, H0, Penalties(), monitor=monitor())
        row["numpy_s_per_iter"] = _per_iteration(result.history)
        objective["numpy"] = result.history[-1, 2]
        del X, result
    else:
        row["numpy_s_per_iter"] = None

    cluster, client = _cluster()  # fresh worker processes for the memory peak
    try:
        X_disk = da.from_npy_stack(path, mmap_mode=None)
        client.run(_warm_up)
        client.run(_reset_peak_rss)
        before = client.run(_current_rss_bytes)
        result = fit_dask(X_disk, W0, H0, Penalties(), monitor=monitor())
        peaks = client.run(_peak_rss_bytes)
        extra = max(peaks[w] - before[w] for w in peaks)
        row["dask_disk_s_per_iter"] = _per_iteration(result.history)
        row["dask_disk_peak_extra_mb"] = extra / 1e6
        row["dask_disk_peak_extra_chunks"] = extra / (chunk_mb * 1e6)
        objective["dask-disk"] = result.history[-1, 2]
        del result

        X_mem = X_disk.persist()
        wait(X_mem)
        result = fit_dask(X_mem, W0, H0, Penalties(), monitor=monitor())
        row["dask_memory_s_per_iter"] = _per_iteration(result.history)
        objective["dask-memory"] = result.history[-1, 2]
        del X_mem, result
    finally:
        client.close()
        cluster.close()

    if "numpy" in objective:
        row["ratio_dask_memory_vs_numpy"] = (
            row["dask_memory_s_per_iter"] / row["numpy_s_per_iter"]
        )
        row["ratio_dask_disk_vs_numpy"] = (
            row["dask_disk_s_per_iter"] / row["numpy_s_per_iter"]
        )
        ref = objective["numpy"]
        row["max_objective_rel_diff"] = max(
            abs(v - ref) / ref for v in objective.values()
        )
    shutil.rmtree(path, ignore_errors=True)
    return row


def _fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def _markdown(rows, meta):
    lines = [
        f"2 workers x 1 thread ({meta['cpu_count']} cores, {meta['memory_gb']:.0f} GB "
        f"RAM, shared with other jobs); NumPy with {meta['numpy_threads']} BLAS "
        f"threads. float64, {N_FEATURES} columns, rank {RANK}; time per iteration "
        "is the median over iterations; peak memory is above the idle worker; "
        "scheduler worker-saturation 1.0.",
        "",
        "| entries | chunks x MB | NumPy s/iter | Dask (in worker memory) s/iter | "
        "Dask (from disk) s/iter | Dask/NumPy (memory, disk) | peak worker memory "
        "(from disk) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratios = (
            f"{r['ratio_dask_memory_vs_numpy']:.2f}x, "
            f"{r['ratio_dask_disk_vs_numpy']:.2f}x"
            if r.get("ratio_dask_memory_vs_numpy")
            else "n/a"
        )
        lines.append(
            f"| {r['entries']:.0e} | {r['n_chunks']} x {r['chunk_mb']:.0f} | "
            f"{_fmt(r['numpy_s_per_iter'], '.3f')} | "
            f"{r['dask_memory_s_per_iter']:.3f} | "
            f"{r['dask_disk_s_per_iter']:.3f} | {ratios} | "
            f"{r['dask_disk_peak_extra_mb']:.0f} MB = "
            f"{r['dask_disk_peak_extra_chunks']:.1f} chunks |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e6, 1e7, 1e8])
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--workdir", default=None, help="folder for the .npy stacks")
    args = parser.parse_args(argv)

    import psutil
    from threadpoolctl import threadpool_info

    memory = psutil.virtual_memory()
    in_memory_limit = memory.available / 4
    meta = dict(
        cpu_count=os.cpu_count(),
        memory_gb=memory.total / 1e9,
        machine=platform.machine(),
        numpy_threads=max((p["num_threads"] for p in threadpool_info()), default=1),
        in_memory_limit_gb=in_memory_limit / 1e9,
    )
    workdir = args.workdir or tempfile.mkdtemp(prefix="nmfkit-scale-")
    rows = []
    for entries in args.sizes:
        n_iter = args.iterations or (10 if entries <= 1e7 else 5)
        if entries * 8 * 2 > psutil.disk_usage(workdir).free:
            print(f"{entries:.0e} entries: not enough disk for the stack; skipped")
            continue
        row = run_size(entries, n_iter, workdir, in_memory_limit)
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    with atomic_write(RESULTS / "bench_scale.json", "w") as f:
        json.dump(dict(meta=meta, rows=rows), f, indent=2)
    table = _markdown(rows, meta)
    with atomic_write(RESULTS / "bench_scale.md", "w") as f:
        f.write(table)
    print()
    print(table)


if __name__ == "__main__":
    main()
