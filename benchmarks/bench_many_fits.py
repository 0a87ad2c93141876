"""Many fits of one X: batched restarts, and consensus NMF against cNMF.

Two parts, in one run, on one machine (wall-clock seconds,
``time.perf_counter``; BLAS threads as ``--threads`` sets them, recorded in
the JSON):

1. **Restarts**: 20 random restarts at rank 10 of Olivetti faces (400 x
   4096, dense) and 20 Newsgroups TF-IDF (sparse), three ways: nmfkit's
   ``NMF(n_init=20)`` (one call; batched where nmfkit batches its restarts),
   20 sequential nmfkit fits (``NMF(n_init=1)`` with the seeds the batched
   call drew, ``n_init_seeds_``) and 20 sequential scikit-learn fits (its
   default solver, the same seeds). Every contender has ``init="random"``,
   ``tol=1e-4`` and ``max_iter=200`` (scikit-learn's defaults) and its
   library's default solver. Reported: the times, their ratios, and the best
   reconstruction error ``||X - WH||_F`` of each.
2. **Consensus**: ranks 5 to 10, 20 replicates each, of nmfkit's
   ``consensus_nmf`` against the ``cnmf`` package (Kotliar et al. 2019,
   PyPI) on synthetic single-cell-like counts with 7 planted programs
   (``nmfkit.consensus.make_planted_anndata``, 3000 cells x 2000 genes,
   sparse; synthetic, not real data). cNMF prepares the data first (all
   genes kept, each scaled to unit variance; timed apart, not in the
   ratio); nmfkit factorizes the very matrix cNMF wrote
   (``cnmf_tmp/*.norm_counts.h5ad``). Both: Frobenius loss, random starts,
   ``tol=1e-4``, ``max_iter=1000``, density threshold 0.5, 6 neighbours
   (30% of the replicates). cNMF's time is its factorize, combine,
   k_selection_plot and consensus (every rank, no clustergram, no starCAT
   reference) steps on one worker; nmfkit's is one ``consensus_nmf`` call
   (spectra, usages and scores of every rank). The consensus spectra of
   every rank are paired one to one by cosine similarity
   (``nmfkit.matching.match_components``); the cosine of each to the
   planted programs (scaled like the data) is reported too. Without
   ``cnmf`` installed (``pip install cnmf``, which needs scanpy) its columns
   are skipped with a message, and nmfkit runs on the counts scaled the same
   way.

Aims (issue 17): the batched 20 restarts in at most 0.25x the time of 20
sequential nmfkit fits; the consensus run at least 5x faster than cNMF with
matched spectra of cosine >= 0.95 at the planted rank.

Usage::

    python benchmarks/bench_many_fits.py [--repeats 1] [--threads N] [--skip-cnmf]
    python benchmarks/bench_many_fits.py --quick    # a check that it runs

``--quick`` uses tiny sizes (a slice of each data set, 3 restarts at rank
5, a 150 x 80 consensus at ranks 3 and 4 with 4 replicates); its figures
mean nothing and it writes ``bench_many_fits_quick.*`` instead of the
results files. Writes ``benchmarks/results/bench_many_fits.json`` and
``.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import NMF as SklearnNMF
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _datasets import load_20newsgroups_tfidf, load_olivetti  # noqa: E402
from _machine import machine_meta  # noqa: E402
from _results import QUICK_NOTICE, write_results  # noqa: E402
from nmfkit import NMF  # noqa: E402
from nmfkit.consensus import consensus_nmf, make_planted_anndata  # noqa: E402
from nmfkit.matching import match_components  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

#: The aims of issue 17.
AIM_BATCHED = 0.25
AIM_SPEEDUP = 5.0
AIM_COSINE = 0.95

FULL = dict(
    restarts=20,
    rank=10,
    max_iter=200,
    rows=None,
    cells=3000,
    genes=2000,
    programs=7,
    ranks=list(range(5, 11)),
    replicates=20,
)
QUICK = dict(
    restarts=3,
    rank=5,
    max_iter=30,
    rows=120,
    cells=150,
    genes=80,
    programs=3,
    ranks=[3, 4],
    replicates=4,
)
#: The settings of every consensus fit (cNMF's defaults for the Frobenius loss).
CONSENSUS = dict(
    beta_loss="frobenius", init="random", tol=1e-4, max_iter=1000,
    density_threshold=0.5,
)  # fmt: skip


# ------------------------------------------------------------------ restarts
def _slice(X, rows):
    """The first ``rows`` rows, without the columns they leave empty."""
    if rows is None:
        return X
    X = X[:rows]
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        return X[:, np.flatnonzero(X.getnnz(axis=0))]
    return X


def _fit_timed(make, X):
    model = make()
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start, model


def restarts_row(name, X, settings, repeats):
    """Batched, sequential nmfkit and sequential scikit-learn restarts of X."""
    rank, n, max_iter = settings["rank"], settings["restarts"], settings["max_iter"]
    common = dict(n_components=rank, init="random", tol=1e-4, max_iter=max_iter)
    times = {"batched": [], "nmfkit": [], "sklearn": []}
    best = {}
    for estimator in (NMF, SklearnNMF):  # warm-up: first-call costs not timed
        estimator(**dict(common, max_iter=2), random_state=0).fit(X)
    for repeat in range(repeats):
        seconds, model = _fit_timed(
            lambda r=repeat: NMF(n_init=n, random_state=r, **common), X
        )
        times["batched"].append(seconds)
        best["batched"] = float(model.reconstruction_err_)
        seeds = [int(s) for s in model.n_init_seeds_]
        for key, estimator in (("nmfkit", NMF), ("sklearn", SklearnNMF)):
            total, errors = 0.0, []
            for seed in seeds:
                seconds, run = _fit_timed(
                    lambda e=estimator, s=seed: e(random_state=s, **common), X
                )
                total += seconds
                errors.append(float(run.reconstruction_err_))
            times[key].append(total)
            best[key] = min(errors)
    seconds = {key: float(np.median(value)) for key, value in times.items()}
    row = dict(
        data=name,
        shape=list(X.shape),
        sparse=bool(sp.issparse(X)),
        dtype=str(X.dtype),
        rank=rank,
        restarts=n,
        max_iter=max_iter,
        seconds=seconds,
        best_error=best,
        ratio_batched_sequential=seconds["batched"] / seconds["nmfkit"],
        ratio_batched_sklearn=seconds["batched"] / seconds["sklearn"],
        ratio_sequential_sklearn=seconds["nmfkit"] / seconds["sklearn"],
    )
    print(
        f"{name:22s} {n} restarts rank {rank}: batched {seconds['batched']:.2f} s, "
        f"sequential nmfkit {seconds['nmfkit']:.2f} s, sklearn "
        f"{seconds['sklearn']:.2f} s (batched/sequential "
        f"{row['ratio_batched_sequential']:.2f})",
        flush=True,
    )
    return row


# ----------------------------------------------------------------- consensus
def _quiet():
    """cNMF prints a line per task; keep the benchmark's own output readable."""
    return contextlib.redirect_stdout(io.StringIO())


def _cnmf_available():
    try:
        import cnmf  # noqa: F401
    except ImportError as exc:
        return f"cnmf is not installed ({exc}); install it with pip install cnmf"
    return None


def run_cnmf(adata, ranks, replicates, seed, folder):
    """cNMF's steps on one worker; the matrix it factorized and its results."""
    from cnmf import cNMF
    from cnmf.cnmf import load_df_from_npz

    counts = folder / "counts.h5ad"
    genes = folder / "genes.txt"
    adata.write_h5ad(counts)
    genes.write_text("\n".join(adata.var_names))
    model = cNMF(output_dir=str(folder), name="bench")
    seconds = {}
    with _quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.prepare(
            counts_fn=str(counts),
            components=ranks,
            n_iter=replicates,
            seed=seed,
            genes_file=str(genes),
            beta_loss=CONSENSUS["beta_loss"],
            init=CONSENSUS["init"],
            max_NMF_iter=CONSENSUS["max_iter"],
        )
        seconds["prepare"] = time.perf_counter() - start
        steps = (
            ("factorize", lambda: model.factorize(worker_i=0, total_workers=1)),
            ("combine", model.combine),
            ("k_selection", lambda: model.k_selection_plot(close_fig=True)),
            (
                "consensus",
                lambda: [
                    model.consensus(
                        k,
                        density_threshold=CONSENSUS["density_threshold"],
                        show_clustering=False,
                        build_ref=False,
                    )
                    for k in ranks
                ],
            ),
        )
        for step, call in steps:
            start = time.perf_counter()
            call()
            seconds[step] = time.perf_counter() - start
    threshold = str(CONSENSUS["density_threshold"]).replace(".", "_")
    spectra = {
        k: load_df_from_npz(model.paths["consensus_spectra"] % (k, threshold)).values
        for k in ranks
    }
    stats = load_df_from_npz(model.paths["k_selection_stats"])
    silhouette = dict(zip(stats["k"].astype(int), stats["silhouette"], strict=True))
    import anndata

    X = anndata.read_h5ad(model.paths["normalized_counts"]).X
    seconds["total"] = sum(v for k, v in seconds.items() if k != "prepare")
    return X, dict(seconds=seconds, spectra=spectra, silhouette=silhouette)


def _unit_variance(counts):
    """Every gene scaled to unit variance (ddof=1), not centred: cNMF's step."""
    counts = sp.csr_matrix(counts, dtype=np.float64)
    n = counts.shape[0]
    mean = np.asarray(counts.mean(axis=0)).ravel()
    square = np.asarray(counts.multiply(counts).mean(axis=0)).ravel()
    scale = np.sqrt(np.maximum(square - mean**2, 0.0) * n / (n - 1))
    scale[scale == 0] = 1.0
    return sp.csr_matrix(counts @ sp.diags(1.0 / scale))


def _matched(reference, estimate):
    cosine = match_components(reference, estimate)[2]
    return float(cosine.min()), float(cosine.mean())


def consensus_row(settings, seed, skip_cnmf):
    """nmfkit's consensus_nmf against cNMF on the planted counts."""
    ranks, replicates = settings["ranks"], settings["replicates"]
    adata = make_planted_anndata(
        settings["cells"], settings["genes"], settings["programs"], random_state=seed
    )
    skipped = "--skip-cnmf was given" if skip_cnmf else _cnmf_available()
    cnmf = None
    with tempfile.TemporaryDirectory() as tmp:
        if skipped is None:
            X, cnmf = run_cnmf(adata, ranks, replicates, seed, Path(tmp))
        else:
            print(f"cnmf column skipped: {skipped}", flush=True)
            X = _unit_variance(adata.X)
    X = sp.csr_matrix(X, dtype=np.float64)
    # the planted programs in the scaled space: divided by each gene's scale
    scale = np.asarray(adata.X.sum(axis=0)).ravel() / np.asarray(X.sum(axis=0)).ravel()
    truth = adata.varm["planted_programs"].T / scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        selection = consensus_nmf(
            X, ranks, n_replicates=replicates, random_state=seed, **CONSENSUS
        )
        nmfkit_seconds = time.perf_counter() - start
    planted = settings["programs"]
    per_rank = []
    for rank in ranks:
        entry = dict(rank=rank, nmfkit_silhouette=selection[rank].silhouette)
        if cnmf is not None:
            low, mean = _matched(cnmf["spectra"][rank], selection[rank].spectra)
            entry.update(
                cnmf_silhouette=float(cnmf["silhouette"][rank]),
                min_cosine=low,
                mean_cosine=mean,
            )
        per_rank.append(entry)
    row = dict(
        data=f"synthetic planted programs ({planted}), counts scaled to unit variance",
        shape=list(X.shape),
        sparse=True,
        planted_rank=planted,
        ranks=ranks,
        replicates=replicates,
        settings=CONSENSUS,
        nmfkit_seconds=nmfkit_seconds,
        nmfkit_best_rank=selection.best_rank,
        nmfkit_truth_cosine=_matched(truth, selection[planted].spectra)[0],
        per_rank=per_rank,
        cnmf=None if cnmf is None else cnmf["seconds"],
        cnmf_skipped=skipped,
    )
    if cnmf is not None:
        silhouettes = cnmf["silhouette"]
        row.update(
            cnmf_best_rank=int(max(ranks, key=lambda k: (silhouettes[k], -k))),
            cnmf_truth_cosine=_matched(truth, cnmf["spectra"][planted])[0],
            speedup=cnmf["seconds"]["total"] / nmfkit_seconds,
            planted_min_cosine=next(
                e["min_cosine"] for e in per_rank if e["rank"] == planted
            ),
        )
        print(
            f"consensus ranks {ranks[0]}-{ranks[-1]} x {replicates}: nmfkit "
            f"{nmfkit_seconds:.1f} s, cnmf {cnmf['seconds']['total']:.1f} s "
            f"({row['speedup']:.1f}x), cosine at rank {planted} "
            f"{row['planted_min_cosine']:.4f}",
            flush=True,
        )
    else:
        print(f"consensus: nmfkit {nmfkit_seconds:.1f} s", flush=True)
    return row


# ------------------------------------------------------------------ markdown
def _met(ok):
    return "**met**" if ok else "**not met**"


def _markdown(rows, consensus, quick):
    lines = list(QUICK_NOTICE) if quick else []
    lines += [
        "Restarts (wall seconds for all restarts; best `||X - WH||_F` of each):",
        "",
        "| data | shape | rank | restarts | batched s | sequential nmfkit s | "
        "sequential sklearn s | batched / sequential | batched / sklearn | "
        "best error (batched / sequential / sklearn) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        s, e = r["seconds"], r["best_error"]
        lines.append(
            f"| {r['data']} | {r['shape'][0]} x {r['shape'][1]} | {r['rank']} | "
            f"{r['restarts']} | {s['batched']:.2f} | {s['nmfkit']:.2f} | "
            f"{s['sklearn']:.2f} | **{r['ratio_batched_sequential']:.2f}** | "
            f"{r['ratio_batched_sklearn']:.2f} | {e['batched']:.6g} / "
            f"{e['nmfkit']:.6g} / {e['sklearn']:.6g} |"
        )
    worst = max(r["ratio_batched_sequential"] for r in rows)
    lines += [
        "",
        f"Aim: batched restarts in at most {AIM_BATCHED}x the time of sequential "
        f"nmfkit fits: {_met(worst <= AIM_BATCHED)} (largest ratio {worst:.2f}).",
        "",
    ]
    c = consensus
    head = (
        f"Consensus, {c['data']}, {c['shape'][0]} x {c['shape'][1]} (sparse), ranks "
        f"{c['ranks'][0]} to {c['ranks'][-1]}, {c['replicates']} replicates each:"
    )
    lines += [head, ""]
    if c["cnmf"] is None:
        lines += [
            f"| nmfkit s | chosen rank | cosine to planted (rank "
            f"{c['planted_rank']}) |",
            "|---:|---:|---:|",
            f"| {c['nmfkit_seconds']:.1f} | {c['nmfkit_best_rank']} | "
            f"{c['nmfkit_truth_cosine']:.4f} |",
            "",
            f"cnmf column skipped: {c['cnmf_skipped']}.",
        ]
        return "\n".join(lines) + "\n"
    t = c["cnmf"]
    lines += [
        "| nmfkit s | cnmf s (factorize + combine + k selection + consensus) | "
        "cnmf / nmfkit | cnmf prepare s (not in the ratio) | chosen rank "
        "(nmfkit / cnmf) | cosine to planted (nmfkit / cnmf) |",
        "|---:|---:|---:|---:|---|---|",
        f"| {c['nmfkit_seconds']:.1f} | {t['total']:.1f} ({t['factorize']:.1f} + "
        f"{t['combine']:.1f} + {t['k_selection']:.1f} + {t['consensus']:.1f}) | "
        f"**{c['speedup']:.1f}** | {t['prepare']:.1f} | {c['nmfkit_best_rank']} / "
        f"{c['cnmf_best_rank']} | {c['nmfkit_truth_cosine']:.4f} / "
        f"{c['cnmf_truth_cosine']:.4f} |",
        "",
        "| rank | silhouette nmfkit | silhouette cnmf (no density filter) | "
        "matched cosine, min | mean |",
        "|---:|---:|---:|---:|---:|",
    ]
    for e in c["per_rank"]:
        mark = "*" if e["rank"] == c["planted_rank"] else ""
        lines.append(
            f"| {e['rank']}{mark} | {e['nmfkit_silhouette']:.4f} | "
            f"{e['cnmf_silhouette']:.4f} | {e['min_cosine']:.4f} | "
            f"{e['mean_cosine']:.4f} |"
        )
    ok = c["speedup"] >= AIM_SPEEDUP and c["planted_min_cosine"] >= AIM_COSINE
    lines += [
        "",
        f"(* the planted rank.) Aim: the consensus run at least {AIM_SPEEDUP:g}x "
        f"faster than cnmf with matched spectra of cosine >= {AIM_COSINE} at the "
        f"planted rank: {_met(ok)} ({c['speedup']:.1f}x, cosine "
        f"{c['planted_min_cosine']:.4f}).",
    ]
    return "\n".join(lines) + "\n"


def _versions():
    names = ("nmfkit", "numpy", "scipy", "scikit-learn", "anndata", "cnmf")
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="check that it runs")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--threads", type=int, default=None, help="BLAS threads (default: as set)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-cnmf", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL

    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        faces = _slice(load_olivetti().astype(np.float64), settings["rows"])
        texts = _slice(load_20newsgroups_tfidf(), settings["rows"])
        rows = [
            restarts_row(name, X, settings, args.repeats)
            for name, X in (("Olivetti faces", faces), ("20 Newsgroups TF-IDF", texts))
        ]
        consensus = consensus_row(settings, args.seed, args.skip_cnmf)
        machine = machine_meta()
    meta = dict(
        **machine,
        cpu_count=os.cpu_count(),
        repeats=args.repeats,
        quick=args.quick,
        versions=_versions(),
        clock="wall (time.perf_counter)",
    )
    md = _markdown(rows, consensus, args.quick)
    print(md)
    stem = "bench_many_fits_quick" if args.quick else "bench_many_fits"
    write_results(
        args.output,
        stem,
        dict(protocol=__doc__, meta=meta, rows=rows, consensus=consensus),
        md,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
