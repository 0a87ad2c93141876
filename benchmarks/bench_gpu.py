"""Time per iteration of MU and ``solver="auto"``: PyTorch on a GPU against NumPy.

Runs as is on a machine with CUDA (``pip install 'nmfkit[array-api]'`` with a
CUDA build of torch): every problem is fitted from the same initialization
by the same solver code, once on NumPy and once on PyTorch through
scikit-learn's array API dispatch, and the script prints and writes the
median time per iteration, the ratio and the objectives' relative
difference. Solvers: the multiplicative updates (:func:`nmfkit.solvers.fit_mu`)
and what ``solver="auto"`` runs on both (:func:`nmfkit.solvers.fit_hals` with
Gillis and Glineur's inner loops and Ang and Gillis's extrapolation). Without a
GPU it says so and compares PyTorch on the CPU with NumPy instead.

    python benchmarks/bench_gpu.py                 # default problems
    python benchmarks/bench_gpu.py --quick         # small problems only
    python benchmarks/bench_gpu.py --device cpu    # force the CPU comparison

Writes ``benchmarks/results/bench_gpu.json`` and ``.md`` (``bench_gpu_cpu``
when the comparison ran on the CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # scikit-learn's array API needs it

import numpy as np  # noqa: E402
import sklearn  # noqa: E402

from nmfkit._atomic import atomic_write  # noqa: E402
from nmfkit._objective import Penalties  # noqa: E402
from nmfkit.solvers import (  # noqa: E402
    ConvergenceMonitor,
    fit_hals,
    fit_mu,
)

RESULTS = Path(__file__).resolve().parent / "results"

# (name, n_samples, n_features, rank)
PROBLEMS = [
    ("faces-like 400x4096", 400, 4096, 10),
    ("synthetic 5000x2000", 5000, 2000, 30),
    ("synthetic 20000x10000", 20000, 10000, 50),
]
QUICK = PROBLEMS[:2]


def _data(n, p, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, k)) @ rng.random((k, p)) + 0.1 * rng.random((n, p))
    W0, H0 = rng.random((n, k)), rng.random((k, p))
    return X.astype(dtype), W0.astype(dtype), H0.astype(dtype)


#: The solvers timed: MU, and what ``solver="auto"`` runs for the Frobenius loss.
SOLVERS = {
    "mu": lambda X, W0, H0, pen, monitor: fit_mu(X, W0, H0, pen, monitor=monitor),
    "auto": lambda X, W0, H0, pen, monitor: fit_hals(
        X, W0, H0, pen, monitor=monitor, inner_iter="auto", extrapolate=True
    ),
}


def _time_per_iteration(X, W0, H0, n_iter, sync, solver="mu"):
    """Seconds per iteration of a solver (from its own history), and the objective."""
    sync()
    monitor = ConvergenceMonitor(tol=0, max_iter=n_iter)
    start = time.perf_counter()
    result = SOLVERS[solver](X, W0, H0, Penalties(l1_W=0.01, l2_H=0.01), monitor)
    sync()
    total = time.perf_counter() - start
    history = result.history
    return history[-1, 1] / result.n_iter, total, float(history[-1, 2])


def run(problems, device, dtypes, repeats, n_iter, solvers=tuple(SOLVERS)):
    import torch

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    rows = []
    for name, n, p, k in problems:
        for dtype, solver in ((d, s) for d in dtypes for s in solvers):
            X, W0, H0 = _data(n, p, k, dtype)
            Xt, Wt, Ht = (torch.asarray(A, device=device) for A in (X, W0, H0))
            numpy_times, torch_times = [], []
            # warm up both (BLAS threads, CUDA context and kernels)
            _time_per_iteration(X, W0, H0, 2, lambda: None, solver)
            with sklearn.config_context(array_api_dispatch=True):
                _time_per_iteration(Xt, Wt, Ht, 2, sync, solver)
            for _ in range(repeats):  # alternate, so load changes hit both
                t, _, obj_np = _time_per_iteration(
                    X, W0, H0, n_iter, lambda: None, solver
                )
                numpy_times.append(t)
                with sklearn.config_context(array_api_dispatch=True):
                    t, _, obj_t = _time_per_iteration(Xt, Wt, Ht, n_iter, sync, solver)
                torch_times.append(t)
            row = dict(
                problem=name,
                solver=solver,
                shape=[n, p],
                rank=k,
                dtype=np.dtype(dtype).name,
                device=device,
                iterations=n_iter,
                repeats=repeats,
                numpy_ms_per_iter=1e3 * float(np.median(numpy_times)),
                torch_ms_per_iter=1e3 * float(np.median(torch_times)),
                objective_rel_diff=abs(obj_t - obj_np) / obj_np,
            )
            row["speedup"] = row["numpy_ms_per_iter"] / row["torch_ms_per_iter"]
            rows.append(row)
            print(
                f"{name:24s} {solver:5s} {row['dtype']:8s} "
                f"numpy {row['numpy_ms_per_iter']:9.2f} ms/it  "
                f"torch[{device}] {row['torch_ms_per_iter']:9.2f} ms/it  "
                f"speedup {row['speedup']:6.2f}x  objective rel. diff "
                f"{row['objective_rel_diff']:.1e}",
                flush=True,
            )
    return rows


def _markdown(rows, meta):
    lines = [
        f"Device: {meta['device_name']}; NumPy with {meta['threads']} CPU thread(s) "
        f"({meta['cpu_count']} cores, {meta['machine']}). "
        f"Median of {rows[0]['repeats']} runs of "
        f"{rows[0]['iterations']} iterations, same initialization.",
        "",
        "| problem | rank | solver | dtype | NumPy ms/iter | PyTorch ms/iter | "
        "speedup | objective rel. diff |",
        "|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['problem']} | {r['rank']} | {r.get('solver', 'mu')} | "
            f"{r['dtype']} | "
            f"{r['numpy_ms_per_iter']:.2f} | {r['torch_ms_per_iter']:.2f} | "
            f"{r['speedup']:.2f}x | {r['objective_rel_diff']:.1e} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", default=None, help="torch device (default: cuda if available)"
    )
    parser.add_argument("--quick", action="store_true", help="small problems only")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for NumPy's BLAS and PyTorch (default: all on a GPU run, "
        "1 for the CPU comparison, which is steadier on a shared machine)",
    )
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        raise SystemExit(
            "bench_gpu needs PyTorch: pip install 'nmfkit[array-api]' (or a CUDA "
            "build of torch)."
        ) from None

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda"):
        device_name = torch.cuda.get_device_name(torch.device(device))
        problems = QUICK if args.quick else PROBLEMS
        dtypes = [np.float32, np.float64]
    else:
        print(
            "No CUDA device found (torch.cuda.is_available() is False): comparing "
            "PyTorch on the CPU with NumPy instead. Run this script on a machine "
            "with a GPU for the GPU figures."
        )
        device_name = "CPU (no GPU available)"
        problems = QUICK  # the large problem is for GPUs
        dtypes = [np.float64, np.float32]
    threads = args.threads or (None if device.startswith("cuda") else 1)
    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
        torch.set_num_threads(threads)
    meta = dict(
        threads=threads or os.cpu_count(),
        device=device,
        device_name=device_name,
        torch=torch.__version__,
        numpy=np.__version__,
        cpu_count=os.cpu_count(),
        machine=platform.machine(),
    )
    rows = run(problems, device, dtypes, args.repeats, args.iterations)
    name = "bench_gpu" if device.startswith("cuda") else "bench_gpu_cpu"
    RESULTS.mkdir(exist_ok=True)
    with atomic_write(RESULTS / f"{name}.json", "w") as f:
        json.dump(dict(meta=meta, rows=rows), f, indent=2)
    table = _markdown(rows, meta)
    with atomic_write(RESULTS / f"{name}.md", "w") as f:
        f.write(table)
    print()
    print(table)


if __name__ == "__main__":
    main()
