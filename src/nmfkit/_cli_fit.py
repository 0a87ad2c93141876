"""``nmfkit fit``: factorize a matrix from a file and save W and H."""

from __future__ import annotations

import io
import json
import time
import warnings
from pathlib import Path

import numpy as np

from ._atomic import atomic_write, check_writable
from ._checkpoint import add_checkpoint_arguments, checkpoint_params
from ._cli_common import CommandError, add_output_options, add_penalty_options
from ._fit_runner import FitInterruptedWarning

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    """Register ``fit`` and return its parser (other modules may add options)."""
    parser = subparsers.add_parser(
        "fit",
        help="factorize a matrix file and save W and H",
        description="Factorize X ~ W H for a non-negative matrix in a .npy, .npz, "
        ".csv/.tsv or Matrix Market (.mtx) file (rows are samples). Writes W and "
        "H and a fit.json summary to the output folder.",
    )
    parser.add_argument("input", help="the matrix file")
    parser.add_argument("--key", help="array to use from a .npz archive")
    parser.add_argument(
        "-o",
        "--output-dir",
        metavar="DIR",
        help="folder for W, H and fit.json (default: INPUT's name + '-nmf')",
    )
    parser.add_argument(
        "--format",
        choices=("npy", "csv"),
        default="npy",
        help="file format of W and H (default: %(default)s)",
    )
    model = parser.add_argument_group("model")
    model.add_argument("--rank", type=int, required=True, help="number of components")
    model.add_argument(
        "--solver",
        default="auto",
        help="algorithm: auto, cd (hals) or mu (default: %(default)s)",
    )
    model.add_argument(
        "--beta-loss",
        default="frobenius",
        help="divergence: frobenius, kullback-leibler, itakura-saito or a number",
    )
    model.add_argument("--init", default=None, help="initialization (default: auto)")
    model.add_argument("--max-iter", type=int, default=200)
    model.add_argument("--tol", type=float, default=1e-4)
    model.add_argument("--random-state", type=int, default=0)
    add_penalty_options(model)
    add_checkpoint_arguments(parser)
    add_output_options(parser, report=False)
    parser.add_argument(
        "--report", metavar="PATH", help="also write an HTML report to PATH"
    )
    parser.set_defaults(func=run)
    return parser


def _beta(text):
    try:
        return float(text)
    except ValueError:
        return text


def _array_bytes(array, fmt):
    buffer = io.BytesIO()
    if fmt == "npy":
        np.save(buffer, array, allow_pickle=False)
    else:
        np.savetxt(buffer, array, delimiter=",", fmt="%.17g")
    return buffer.getvalue()


def _output_paths(args):
    source = Path(args.input)
    folder = (
        Path(args.output_dir)
        if args.output_dir
        else source.with_name(source.stem + "-nmf")
    )
    paths = {
        "W": folder / f"W.{args.format}",
        "H": folder / f"H.{args.format}",
        "summary": folder / "fit.json",
    }
    if args.report:
        paths["report"] = Path(args.report)
        if paths["report"].suffix.lower() not in (".html", ".htm"):
            raise CommandError(f"--report {args.report}: give a name ending in .html")
        if not paths["report"].parent.is_dir():
            raise CommandError(
                f"--report {args.report}: the folder {paths['report'].parent} does "
                "not exist; create it first"
            )
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"{folder} exists and is not a folder; choose --output-dir")
    for path in paths.values():
        if path.exists() and not args.force:
            check_writable(path, force=False)
    return folder, paths


def run(args):
    """Run ``nmfkit fit``; return the exit code."""
    from . import NMF
    from .apps import Progress
    from .datasets import load_matrix

    folder, paths = _output_paths(args)
    with Progress(4, "fit", quiet=args.quiet) as progress:
        progress.step("reading the matrix")
        X = load_matrix(args.input, key=args.key)
        model = NMF(
            n_components=args.rank,
            solver=args.solver,
            beta_loss=_beta(args.beta_loss),
            init=args.init,
            max_iter=args.max_iter,
            tol=args.tol,
            random_state=args.random_state,
            l1_W=args.l1_W,
            l2_W=args.l2_W,
            l1_H=args.l1_H,
            l2_H=args.l2_H,
            **checkpoint_params(args),
        )
        progress.step("fitting")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            W = model.fit_transform(X)
            seconds = time.perf_counter() - start
        if any(issubclass(w.category, FitInterruptedWarning) for w in caught):
            where = (
                f"; run the same command again to resume from {args.checkpoint}"
                if args.checkpoint
                else "; give --checkpoint to make a long fit resumable"
            )
            raise CommandError(
                f"interrupted at iteration {model.n_iter_}, nothing written{where}",
                exit_code=130,
            )
        notes = sorted({str(w.message).splitlines()[0] for w in caught})
        H = model.components_
        summary = {
            "input": str(args.input),
            "shape": list(X.shape),
            "parameters": {k: v for k, v in model.get_params().items()},
            "n_iter": int(model.n_iter_),
            "seconds": seconds,
            "objective": model.loss_,
            "reconstruction_err": model.reconstruction_err_,
            "warnings": notes,
            "files": {"W": paths["W"].name, "H": paths["H"].name},
        }
        progress.step("writing W and H")
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in (("W", W), ("H", H)):
            with atomic_write(paths[name], "wb", force=args.force) as f:
                f.write(_array_bytes(array, args.format))
        with atomic_write(paths["summary"], "w", force=args.force) as f:
            json.dump(summary, f, indent=2, default=str)
        if args.report:
            _write_report(args, X, W, model, seconds, notes, paths["report"])
    print(
        f"fit {X.shape[0]} x {X.shape[1]}, rank {args.rank}: objective "
        f"{model.loss_:.6g}, ||X - WH||_F {model.reconstruction_err_:.6g}, "
        f"{model.n_iter_} iterations, {seconds:.3f} s"
    )
    for note in notes:
        print(f"warning: {note}")
    print(f"W: {paths['W']}\nH: {paths['H']}\nsummary: {paths['summary']}")
    if args.report:
        print(f"report: {paths['report']}")
    return 0


def _write_report(args, X, W, model, seconds, notes, path):
    from .plotting import plot_code_sparsity, plot_convergence
    from .report import Report
    from .sparsity import zero_share

    report = Report("nmfkit: fit", subtitle=str(args.input))
    report.section("Data").definitions(
        {
            "file": str(args.input),
            "shape": f"{X.shape[0]} x {X.shape[1]}",
            "sparse": bool(hasattr(X, "nnz")),
        }
    )
    report.section("Parameters").definitions(model.get_params())
    results = report.section("Results")
    results.definitions(
        {
            "objective": model.loss_,
            "||X - WH||_F": model.reconstruction_err_,
            "iterations": int(model.n_iter_),
            "seconds": seconds,
            "zeros in W %": 100 * zero_share(W),
            "warnings": "; ".join(notes) or "none",
        }
    )
    figures = report.section("Figures")
    figures.figure(
        plot_convergence({"nmfkit": model.history_}),
        caption="Objective against iterations and seconds",
        key="convergence",
    )
    figures.figure(
        plot_code_sparsity({"nmfkit": W}),
        caption="Sparsity of the codes",
        key="sparsity",
    )
    report.write(path, force=args.force)
