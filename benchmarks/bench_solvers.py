"""Time to target of nmfkit's solvers against scikit-learn's ``cd`` and ``mu``.

Protocol (``../shared/docs/design.md``, section 6): for every data set and
rank, several random initializations; every solver starts from the same one,
in one process, with one BLAS thread, for the same budget of CPU time.
Times are CPU seconds of the process (``time.process_time``), not wall time:
the machine is shared and its load moved the wall time of one iteration by a
factor of four during a run, while the CPU time of single-threaded work stays
put. ``L*`` is the lowest objective any run reached from that
initialization; a solver's time to target is the first time its objective
satisfies ``(L(t) - L*) / L* <= eps``. The reported ratio is scikit-learn's
best time (the sooner of ``cd`` and ``mu``) over the time of nmfkit's default
(``solver="auto"``), median over initializations; a run that never reaches
the target within the budget is a miss.

scikit-learn has no per-iteration history, so its private solver functions
(``_fit_coordinate_descent``, ``_fit_multiplicative_update``) are called for
one iteration (cd) or ten (mu) at a time from the current factors, timing
only those calls; both are stateless between calls for the Frobenius loss,
so the iterates are those of one long run. nmfkit's times are measured from
the call of the solver (setup included). Every solver first runs once on a
small matrix, untimed (``warm_up``), so that the process's one-time costs
(imports, loading the compiled HALS sweep) are not in the first case.

    python benchmarks/bench_solvers.py --quick     # what the README quotes
    python benchmarks/bench_solvers.py             # more seeds, longer runs
    python benchmarks/bench_solvers.py --solvers ''   # full protocol, auto alone

Writes ``benchmarks/results/bench_solvers.{json,md}`` and one PNG per case.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition._nmf import (
    _fit_coordinate_descent,
    _fit_multiplicative_update,
)
from threadpoolctl import threadpool_limits

from nmfkit import NMF, solvers
from nmfkit._atomic import atomic_write
from nmfkit._init import initialize_factors
from nmfkit._objective import Penalties, penalized_objective

CLOCK = time.process_time
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATA_HOME = (
    Path(os.environ.get("NMFKIT_SHARED_DATASETS", ROOT.parent / "shared" / "datasets"))
    / "scikit_learn_data"
)

# name -> NMF keyword arguments (solver="auto" is the default)
NMFKIT_SOLVERS = {
    "nmfkit auto": {},
    "nmfkit mu": {"solver": "mu"},
    "nmfkit cd": {"solver": "cd"},
    "nmfkit cd+inner": {"solver": "cd", "inner_iter": "auto"},
    "nmfkit cd+extrapolation": {"solver": "cd", "extrapolate": True},
    "nmfkit mu+inner+extrapolation": {
        "solver": "mu",
        "inner_iter": "auto",
        "extrapolate": True,
    },
}
SKLEARN_SOLVERS = ("sklearn cd", "sklearn mu")
# --quick leaves out the MU variants (nmfkit mu follows scikit-learn's mu)
QUICK_SOLVERS = [
    "nmfkit auto",
    "nmfkit cd",
    "nmfkit cd+inner",
    "nmfkit cd+extrapolation",
]


def load_olivetti():
    from sklearn.datasets import fetch_olivetti_faces

    data = fetch_olivetti_faces(data_home=DATA_HOME, download_if_missing=False)
    return data.data.astype(np.float64)


def load_newsgroups():
    from sklearn.datasets import fetch_20newsgroups
    from sklearn.feature_extraction.text import TfidfVectorizer

    posts = fetch_20newsgroups(
        data_home=DATA_HOME,
        subset="train",
        remove=("headers", "footers", "quotes"),
        download_if_missing=False,
    ).data
    vectorizer = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")
    return vectorizer.fit_transform(posts).tocsr().astype(np.float64)


def load_synthetic():
    rng = np.random.default_rng(12345)
    W = rng.random((5000, 30))
    H = rng.random((30, 2000))
    X = W @ H
    X += 0.1 * X.mean() * np.abs(rng.standard_normal(X.shape))
    return X


def run_sklearn(name, X, W0, H0, budget):
    """Objective against time for scikit-learn's cd or mu (timing its calls)."""
    W, H = W0.copy(), H0.copy()
    times, objs = [0.0], [penalized_objective(X, W, H)]
    elapsed = 0.0
    while elapsed < budget:
        start = CLOCK()
        if name == "sklearn cd":
            W, H, _ = _fit_coordinate_descent(X, W, H, tol=0.0, max_iter=1)
        else:
            W, H, _ = _fit_multiplicative_update(
                X, W, H, "frobenius", max_iter=10, tol=0.0
            )
        elapsed += CLOCK() - start
        times.append(elapsed)
        objs.append(penalized_objective(X, W, H))
    return np.array(times), np.array(objs)


def run_nmfkit(options, X, W0, H0, budget):
    """Objective against time for an nmfkit solver, from its call."""
    est = NMF(
        n_components=H0.shape[0],
        init="custom",
        tol=0.0,
        max_iter=10**7,
        max_time=budget,
        random_state=0,
        **options,
    )
    fit = solvers.get_solver(est.solver, 2.0)
    solver_options = est._solver_options()
    solver_options["monitor"].clock = CLOCK
    start = CLOCK()
    result = fit(X, W0, H0, Penalties(), update_H=True, **solver_options)
    offset = solver_options["monitor"]._start - start
    history = result.history
    return history[:, 1] + offset, history[:, 2], result.info


def warm_up(solver_names):
    """One short fit of every solver: the process's one-time costs (imports,
    loading the compiled HALS sweep, about a second) are not timed."""
    rng = np.random.default_rng(0)
    X = rng.random((60, 40))
    W0, H0 = initialize_factors(X, 3, "random", random_state=0)
    for name in SKLEARN_SOLVERS:
        run_sklearn(name, X, W0, H0, budget=1e-9)  # one call
    for name in solver_names:
        run_nmfkit(NMFKIT_SOLVERS[name], X, W0, H0, budget=0.05)


def time_to_target(times, objs, target):
    hit = np.nonzero(objs <= target)[0]
    return float(times[hit[0]]) if hit.size else None


def run_case(name, X, rank, eps, seeds, budget, solver_names, plot=True):
    print(f"\n== {name}, rank {rank}, eps {eps:g}, budget {budget:g} s per run")
    per_seed = []
    for seed in seeds:
        W0, H0 = initialize_factors(X, rank, "random", random_state=seed)
        curves = {}
        for solver in SKLEARN_SOLVERS:
            t, L = run_sklearn(solver, X, W0, H0, budget)
            curves[solver] = (t, L, {})
        for solver in solver_names:
            curves[solver] = run_nmfkit(NMFKIT_SOLVERS[solver], X, W0, H0, budget)
        L_star = min(float(np.min(c[1])) for c in curves.values())
        target = L_star * (1.0 + eps)
        record = {"seed": seed, "L_star": L_star, "solvers": {}}
        for solver, (t, L, info) in curves.items():
            ttt = time_to_target(t, L, target)
            record["solvers"][solver] = {
                "time_to_target": ttt,
                "final_gap": float((L[-1] - L_star) / L_star),
                "iterations": int(len(L) - 1),
                "info": {k: v for k, v in info.items() if isinstance(v, (int, float))},
            }
            shown = "miss" if ttt is None else f"{ttt:7.3f} s"
            print(
                f"  seed {seed}  {solver:32s} {shown:>10}  "
                f"final gap {record['solvers'][solver]['final_gap']:.2e}",
                flush=True,
            )
        per_seed.append(record)
        if plot and seed == seeds[0]:
            plot_curves(name, rank, eps, curves, L_star)
    return summarize(name, rank, eps, budget, per_seed)


def summarize(name, rank, eps, budget, per_seed):
    solver_names = list(per_seed[0]["solvers"])
    med = {}
    for solver in solver_names:
        values = [r["solvers"][solver]["time_to_target"] for r in per_seed]
        hits = [v for v in values if v is not None]
        med[solver] = {
            "median_time": float(np.median(hits)) if hits else None,
            "misses": len(values) - len(hits),
        }
    ratios, bounds = [], 0
    for r in per_seed:
        s = r["solvers"]
        sk = [s[k]["time_to_target"] for k in SKLEARN_SOLVERS]
        sk = [v for v in sk if v is not None]
        ours = s["nmfkit auto"]["time_to_target"]
        if ours is None:
            continue
        if sk:
            ratios.append(min(sk) / ours)
        else:  # scikit-learn missed: its time is at least the budget
            ratios.append(budget / ours)
            bounds += 1
    return {
        "case": name,
        "rank": rank,
        "eps": eps,
        "budget_s": budget,
        "median_ratio": float(np.median(ratios)) if ratios else None,
        "ratios": ratios,
        "ratio_lower_bounds": bounds,
        "solvers": med,
        "per_seed": per_seed,
    }


def plot_curves(name, rank, eps, curves, L_star):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for solver, (t, L, _) in curves.items():
        gap = np.maximum((L - L_star) / L_star, 1e-12)
        style = "--" if solver.startswith("sklearn") else "-"
        ax.loglog(np.maximum(t, 1e-3), gap, style, label=solver)
    ax.axhline(eps, color="grey", linewidth=0.8)
    ax.set_xlabel("CPU seconds")
    ax.set_ylabel("(L - L*) / L*")
    ax.set_title(f"{name}, rank {rank} (first initialization)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    slug = name.lower().replace(" ", "_").replace("/", "_")
    path = RESULTS / f"bench_solvers_{slug}_r{rank}.png"
    with atomic_write(path, "wb") as f:
        fig.savefig(f, dpi=90, format="png")
    plt.close(fig)


def markdown(summaries, args):
    lines = [
        "# Time to target: nmfkit against scikit-learn",
        "",
        f"`python benchmarks/bench_solvers.py{' --quick' if args.quick else ''}"
        f" --seeds {len(args.seeds)}"
        + ("" if args.solvers is None else f" --solvers '{args.solvers}'")
        + "`; "
        f"{len(args.seeds)} random initializations per case, one BLAS thread, "
        "CPU seconds, "
        "ratio = scikit-learn's best time to target / nmfkit default "
        '(`solver="auto"`) time, median over initializations; `L*` is the '
        "lowest objective of the solvers in the second table.",
        "",
        "| data | rank | eps | scikit-learn best (s) | nmfkit auto (s) "
        "| median ratio | nmfkit misses | budget (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in summaries:
        sk = [s["solvers"][k]["median_time"] for k in SKLEARN_SOLVERS]
        sk = [v for v in sk if v is not None]
        ours = s["solvers"]["nmfkit auto"]
        ratio = "n/a" if s["median_ratio"] is None else f"{s['median_ratio']:.1f}"
        if s["ratio_lower_bounds"]:
            ratio = f">= {ratio} ({s['ratio_lower_bounds']} lower bounds)"
        sk_cell = "miss" if not sk else f"{min(sk):.2f}"
        t = ours["median_time"]
        our_cell = "miss" if t is None else f"{t:.2f}"
        lines.append(
            f"| {s['case']} | {s['rank']} | {s['eps']:g} | {sk_cell} | {our_cell}"
            f" | {ratio} | {ours['misses']}/{len(args.seeds)} | {s['budget_s']:g} |"
        )
    lines += [
        "",
        "Median time to target (s) of every solver (misses in brackets):",
        "",
    ]
    names = list(summaries[0]["solvers"])
    lines.append("| data | rank | " + " | ".join(names) + " |")
    lines.append("| --- | --- | " + " | ".join("---" for _ in names) + " |")
    for s in summaries:
        cells = []
        for n in names:
            m = s["solvers"][n]
            t = "miss" if m["median_time"] is None else f"{m['median_time']:.2f}"
            cells.append(t + (f" ({m['misses']})" if m["misses"] else ""))
        lines.append(f"| {s['case']} | {s['rank']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _solver_names(args):
    """The nmfkit solvers of the run: ``nmfkit auto`` first, then --solvers."""
    if args.solvers is None:
        return QUICK_SOLVERS if args.quick else list(NMFKIT_SOLVERS)
    names = ["nmfkit auto"]
    for name in filter(None, (n.strip() for n in args.solvers.split(","))):
        full = f"nmfkit {name}"
        if full not in NMFKIT_SOLVERS:
            known = ", ".join(n.removeprefix("nmfkit ") for n in NMFKIT_SOLVERS)
            raise SystemExit(f"unknown solver {name!r} in --solvers; known: {known}")
        if full not in names:
            names.append(full)
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds, shorter runs, fewer solvers"
    )
    parser.add_argument("--only", default=None, help="olivetti, newsgroups, synthetic")
    parser.add_argument(
        "--seeds", type=int, default=None, help="initializations (2 quick, 5 full)"
    )
    parser.add_argument(
        "--solvers",
        default=None,
        help="comma-separated nmfkit solvers besides auto, as in NMFKIT_SOLVERS "
        "without 'nmfkit ' (default: the quick set, or all); '' for auto alone",
    )
    args = parser.parse_args(argv)
    n_seeds = args.seeds if args.seeds is not None else (2 if args.quick else 5)
    args.seeds = list(range(n_seeds))
    scale = 1.0 if args.quick else 2.0
    solver_names = _solver_names(args)
    # (name, loader, ranks -> budget in seconds per run, eps)
    cases = [
        ("Olivetti faces", load_olivetti, {10: 8.0, 50: 12.0}, 1e-3),
        ("20 Newsgroups TF-IDF", load_newsgroups, {10: 10.0, 50: 20.0}, 1e-5),
        ("Synthetic 5000x2000", load_synthetic, {10: 8.0, 30: 12.0}, 1e-3),
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    summaries = []
    with threadpool_limits(1):
        warm_up(solver_names)
        for name, loader, ranks, eps in cases:
            if args.only and args.only.lower() not in name.lower():
                continue
            X = loader()
            print(f"{name}: {X.shape}, {type(X).__name__}", flush=True)
            for rank, budget in ranks.items():
                summaries.append(
                    run_case(
                        name, X, rank, eps, args.seeds, budget * scale, solver_names
                    )
                )
    payload = {
        "benchmark": "bench_solvers",
        "quick": args.quick,
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "threads": 1,
        "summaries": summaries,
    }
    with atomic_write(RESULTS / "bench_solvers.json", "w") as f:
        f.write(json.dumps(payload, indent=1))
    table = markdown(summaries, args)
    with atomic_write(RESULTS / "bench_solvers.md", "w") as f:
        f.write(table)
    print("\n" + table)


if __name__ == "__main__":
    main()
