"""``nmfkit rank``: score candidate ranks of a matrix file and choose one."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ._atomic import atomic_write, check_writable
from ._cli_common import (
    CommandError,
    _non_negative_float,
    add_penalty_options,
)
from ._rank import METHODS

__all__ = ["add_parser", "parse_ranks", "run"]


def parse_ranks(text):
    """Ranks from ``"2-10"``, ``"2,4,8"`` or a mix (``"2-4,8"``), sorted.

    Raises
    ------
    argparse.ArgumentTypeError
        With a message naming the bad part.
    """
    ranks = set()
    for part in str(text).split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not a rank or a range of ranks; write e.g. 2-10 or 2,3,5"
            ) from None
        if first < 1:
            raise argparse.ArgumentTypeError(f"rank {first} is not >= 1")
        if last < first:
            raise argparse.ArgumentTypeError(
                f"the range {part} is empty; write the smaller rank first"
            )
        ranks.update(range(first, last + 1))
    return sorted(ranks)


def _methods(text):
    methods = tuple(m.strip() for m in str(text).split(",") if m.strip())
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not valid; give cv, consensus or cv,consensus"
        )
    return tuple(dict.fromkeys(methods))


def _at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text} is not >= {minimum}")
        return value

    return parse


def add_parser(subparsers):
    """Register ``rank`` and return its parser."""
    parser = subparsers.add_parser(
        "rank",
        help="score candidate ranks of a matrix file and choose one",
        description="Fit every candidate rank of an NMF of a non-negative matrix "
        "(.npy, .npz, .csv/.tsv or .mtx; rows are samples) and choose one: by "
        "cross-validation on held-out entries (one-standard-error rule) and/or by "
        "the stability of the clusters over restarts (cophenetic correlation, "
        "dispersion). Prints the table of measures and the chosen rank.",
    )
    parser.add_argument("input", help="the matrix file")
    parser.add_argument("--key", help="array to use from a .npz archive")
    parser.add_argument(
        "--ranks",
        type=parse_ranks,
        required=True,
        help="candidate ranks: a range 2-10, a list 2,4,8 or both (2-5,8)",
    )
    parser.add_argument(
        "--method",
        type=_methods,
        default=("cv",),
        help="cv, consensus or cv,consensus; the first chooses the rank (default: cv)",
    )
    parser.add_argument(
        "--folds",
        type=_at_least(2),
        default=5,
        help="folds of entries for cv (default: %(default)s)",
    )
    parser.add_argument(
        "--runs",
        type=_at_least(1),
        default=10,
        help="restarts per rank for consensus (default: %(default)s)",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--solver",
        default="auto",
        choices=("auto", "cd", "hals", "mu"),
        help="algorithm (default: %(default)s)",
    )
    model.add_argument(
        "--init",
        default="random",
        choices=("random", "nndsvd", "nndsvda", "nndsvdar"),
        help="initialization of every fit (default: %(default)s)",
    )
    model.add_argument(
        "--n-init",
        type=_at_least(1),
        default=1,
        help="fits per fold and per consensus run, the best kept (default: 1)",
    )
    model.add_argument("--max-iter", type=_at_least(1), default=500)
    model.add_argument("--tol", type=_non_negative_float, default=1e-4)
    model.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the folds and of every fit (default: %(default)s)",
    )
    add_penalty_options(model)
    out = parser.add_argument_group("output")
    out.add_argument("--report", metavar="PATH", help="write an HTML report to PATH")
    out.add_argument(
        "--json", metavar="PATH", help="write the measures and choices as JSON"
    )
    out.add_argument(
        "--force", action="store_true", help="replace output files that exist"
    )
    out.add_argument("-q", "--quiet", action="store_true", help="print no progress bar")
    parser.set_defaults(func=run)
    return parser


def _check_outputs(args):
    """Refuse bad output paths before any work."""
    outputs = {}
    for option, suffixes in (("report", (".html", ".htm")), ("json", (".json",))):
        value = getattr(args, option)
        if not value:
            continue
        path = Path(value)
        if path.suffix.lower() not in suffixes:
            raise CommandError(
                f"--{option} {value}: give a name ending in {suffixes[0]}"
            )
        if path.is_dir():
            raise CommandError(f"--{option} {value} is a folder; give a file name")
        check_writable(path, force=args.force)
        outputs[option] = path
    return outputs


def _nmf_params(args):
    return dict(
        solver=args.solver,
        init=args.init,
        n_init=args.n_init,
        max_iter=args.max_iter,
        tol=args.tol,
        l1_W=args.l1_W,
        l2_W=args.l2_W,
        l1_H=args.l1_H,
        l2_H=args.l2_H,
    )


def run(args):
    """Run ``nmfkit rank``; return the exit code."""
    from ._rank import select_rank
    from .apps import Progress
    from .datasets import load_matrix

    outputs = _check_outputs(args)
    with Progress(len(args.ranks) + 2, "rank", quiet=args.quiet) as progress:
        progress.step("reading the matrix")
        X = load_matrix(args.input, key=args.key)
        if args.ranks[-1] > min(X.shape):
            raise CommandError(
                f"--ranks: rank {args.ranks[-1]} is larger than the data allow "
                f"({X.shape[0]} x {X.shape[1]}); give ranks up to {min(X.shape)}"
            )
        if "cv" in args.method and args.folds > X.shape[1]:
            raise CommandError(
                f"--folds {args.folds} is more than the {X.shape[1]} columns; "
                f"give --folds {X.shape[1]} or less"
            )
        start = time.perf_counter()
        selection = select_rank(
            X,
            args.ranks,
            method=args.method,
            n_folds=args.folds,
            n_runs=args.runs,
            random_state=args.random_state,
            callback=lambda rank, _: progress.step(f"rank {rank} done"),
            **_nmf_params(args),
        )
        seconds = time.perf_counter() - start
        if "json" in outputs:
            summary = _summary(args, X, selection, seconds)
            with atomic_write(outputs["json"], "w", force=args.force) as f:
                json.dump(summary, f, indent=2)
        if "report" in outputs:
            _write_report(args, X, selection, seconds, outputs["report"])
    print(selection.to_markdown())
    by = ", ".join(f"{m}: {r}" for m, r in selection.best_rank_by.items())
    print(f"chosen rank: {selection.best_rank} ({by}); {seconds:.1f} s")
    for option, path in outputs.items():
        print(f"{option}: {path}")
    return 0


def _summary(args, X, selection, seconds):
    return {
        "input": str(args.input),
        "shape": list(X.shape),
        "methods": list(selection.methods),
        "parameters": {
            "ranks": selection.ranks,
            "folds": args.folds,
            "runs": args.runs,
            "random_state": args.random_state,
            **_nmf_params(args),
        },
        "best_rank": selection.best_rank,
        "best_rank_by": selection.best_rank_by,
        "table": selection.table(),
        "cv_fold_rmse": {
            str(rank): np.asarray(scores["cv_fold_rmse"]).tolist()
            for rank, scores in selection.scores.items()
            if "cv_fold_rmse" in scores
        },
        "seconds": seconds,
    }


_RULES = {
    "cv": "cv: the smallest rank whose mean held-out RMSE is within one standard "
    "error (over the folds) of the lowest mean.",
    "consensus": "consensus: the last rank before the cophenetic correlation first "
    "decreases (Brunet et al. 2004); at equal cophenetic correlation, a decrease "
    "of the dispersion counts.",
}


def _write_report(args, X, selection, seconds, path):
    from .plotting import plot_consensus_maps, plot_rank_scores
    from .report import Report

    report = Report("nmfkit: rank", subtitle=str(args.input))
    report.section("Data").definitions(
        {
            "file": str(args.input),
            "shape": f"{X.shape[0]} x {X.shape[1]}",
            "sparse": bool(hasattr(X, "nnz")),
        }
    )
    report.section("Parameters").definitions(
        {
            "ranks": ", ".join(map(str, selection.ranks)),
            "methods": ", ".join(selection.methods),
            "folds": args.folds,
            "runs": args.runs,
            "random_state": args.random_state,
            **_nmf_params(args),
        }
    )
    results = report.section("Results")
    results.definitions(
        {
            "chosen rank": selection.best_rank,
            **{f"chosen by {m}": r for m, r in selection.best_rank_by.items()},
            "seconds": seconds,
        },
        key="choice",
    )
    rows = selection.table()
    header = list(rows[0])
    results.table(
        [[row[name] for name in header] for row in rows],
        header=header,
        caption="Measures per rank",
        key="scores",
    )
    for method in selection.methods:
        results.text(_RULES[method])
    figures = report.section("Figures")
    figures.figure(
        plot_rank_scores(selection),
        caption="Measures against the rank (dashed: the chosen rank; error bars: "
        "one standard error over the folds)",
        key="rank-scores",
    )
    if selection.consensus:
        figures.figure(
            plot_consensus_maps(selection),
            caption="Consensus matrices, samples ordered by average-linkage clustering",
            key="consensus-maps",
        )
    report.write(path, force=args.force)
