"""``nmfkit consensus``: consensus NMF of a matrix file over candidate ranks."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..apps._defaults import CONSENSUS_DEFAULTS
from ._inputs import H5AD, add_matrix_options, load_anndata_table, load_table
from ._options import (
    CommandError,
    add_command,
    add_model_options,
    add_output_options,
    model_params,
    output_folder,
    positive_int,
)
from ._shared import finish, open_outputs, print_lines, warn
from .fit import beta_loss, check_solver
from .rank import parse_ranks

__all__ = ["add_parser", "run"]


def _replicates(text):
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"{text} is not >= 2")
    return value


def _threshold(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 2:
        raise argparse.ArgumentTypeError(
            f"{text} is not in (0, 2] (2 keeps every component)"
        )
    return value


def add_parser(subparsers):
    """Register ``consensus`` and return its parser."""
    parser = add_command(
        subparsers,
        "consensus",
        help="consensus NMF (cNMF): stable spectra from many fits per rank",
        description="Consensus NMF of a non-negative matrix file (rows are samples, "
        "e.g. cells x genes), the method of cNMF (Kotliar et al. 2019): for every "
        "candidate rank, many fits from random starts; their components pooled, "
        "the outliers dropped by local density, the rest clustered by k-means "
        "into consensus spectra; the usages refitted with the spectra fixed. "
        "Prints the stability (silhouette) and error of every rank and chooses "
        "the most stable; writes spectra_kK.csv and usages_kK.csv for every "
        "rank (with the input's row and column names), consensus.csv, "
        "stability.png, consensus.json and report.html. An .h5ad input (AnnData) "
        "gives its X or a --layer, optionally only its highly variable genes, "
        "and its cell and gene names; --h5ad writes it back with the results.",
    )
    group = add_matrix_options(parser, anndata=True)
    group.add_argument(
        "--layer",
        metavar="NAME",
        help=".h5ad input: factorize the layer NAME (e.g. counts) instead of X",
    )
    group.add_argument(
        "--highly-variable",
        action="store_true",
        help=".h5ad input: only the genes marked in var['highly_variable']",
    )
    group.add_argument(
        "--h5ad",
        action="store_true",
        help=".h5ad input: also write consensus.h5ad, the input with the usages "
        "of every rank K in obsm['consensus_usages_kK'], the spectra in "
        "varm['consensus_spectra_kK'] (NaN for genes not factorized) and the "
        "scores in uns['consensus']",
    )
    parser.add_argument(
        "--ranks",
        type=parse_ranks,
        nargs="+",
        required=True,
        help="candidate ranks (each >= 2): a list 5 6 7, a range 2-10 or 2,4,8",
    )
    parser.add_argument(
        "--replicates",
        type=_replicates,
        default=20,
        help="fits per rank (cNMF advises 100 or more for a final analysis)",
    )
    parser.add_argument(
        "--density-threshold",
        type=_threshold,
        default=0.5,
        metavar="T",
        help="drop the components whose mean distance to their nearest neighbours "
        "exceeds T (unit-norm components; 2 keeps all)",
    )
    parser.add_argument(
        "--neighbors",
        type=positive_int,
        default=None,
        metavar="N",
        help="neighbours of the local density (default: 30%% of --replicates)",
    )
    group = add_model_options(parser, CONSENSUS_DEFAULTS)
    group.add_argument(
        "--beta-loss",
        type=beta_loss,
        default="frobenius",
        help="divergence: frobenius, kullback-leibler, itakura-saito or a number "
        "(beta); other than frobenius needs --solver auto or mu",
    )
    add_output_options(parser, default_dir="INPUT's name + '-consensus'", report=True)
    parser.set_defaults(func=run)
    return parser


def _check_input_options(args, source):
    """The options of one kind of input are refused with the other."""
    if source.suffix.lower() == H5AD:
        for option, value in (("--key", args.key), ("--index-col", args.index_col)):
            if value is not None:
                raise CommandError(
                    f"{option} is for .npz and CSV files; an .h5ad file has its "
                    "own names (obs_names, var_names): leave it out"
                )
        return True
    for option, value in (
        ("--layer", args.layer),
        ("--highly-variable", args.highly_variable),
        ("--h5ad", args.h5ad),
    ):
        if value:
            raise CommandError(
                f"{option} is for an .h5ad (AnnData) input, not {source.name}; "
                "give an .h5ad file or leave it out"
            )
    return False


def run(args):
    """Run ``nmfkit consensus``; return the exit code."""
    from ..apps._table import format_table

    source = Path(args.input)
    h5ad = _check_input_options(args, source)
    if args.missing:
        raise CommandError(
            "--missing is not available for nmfkit consensus (its fits need "
            "complete data); fill the missing entries"
        )
    ranks = sorted({rank for group in args.ranks for rank in group})
    if ranks[0] < 2:
        raise CommandError(
            "--ranks: rank 1 has no clustering to score; give ranks >= 2"
        )
    params = model_params(args, CONSENSUS_DEFAULTS)
    check_solver(params["solver"], args.beta_loss, False)
    largest = args.replicates * ranks[0] - 1
    if args.neighbors is not None and args.neighbors > largest:
        raise CommandError(
            f"--neighbors {args.neighbors} is more than the {largest} other "
            f"components of rank {ranks[0]}; give --neighbors {largest} or less"
        )
    folder = output_folder(args, source.with_name(source.stem + "-consensus"))
    with open_outputs(
        args, folder, "consensus", stages=len(ranks) + 1, packages=("matplotlib",)
    ) as (outputs, progress):
        from ..apps._consensus import consensus_matrix, write_consensus_outputs

        progress.step("reading the matrix")
        adata, anndata_settings = None, {}
        if h5ad:
            anndata_settings = dict(
                layer=args.layer, highly_variable=args.highly_variable
            )
            adata, table = load_anndata_table(source, **anndata_settings)
        else:
            table = load_table(args)
        X = table.data
        if ranks[-1] > min(X.shape):
            raise CommandError(
                f"--ranks: rank {ranks[-1]} is larger than the data allow "
                f"({X.shape[0]} x {X.shape[1]}); give ranks up to {min(X.shape)}"
            )
        result = consensus_matrix(
            X if adata is None else adata,
            ranks,
            progress=progress,
            n_replicates=args.replicates,
            density_threshold=args.density_threshold,
            n_neighbors=args.neighbors,
            beta_loss=args.beta_loss,
            **anndata_settings,
            **params,
        )
        summary = write_consensus_outputs(
            outputs,
            table,
            result,
            source=source,
            report=args.report,
            anndata=adata if args.h5ad else None,
        )
    selection = result.selection
    print_lines(
        format_table(
            ["rank", "silhouette", "error", "dropped"],
            [
                [
                    f"{row['rank']}*"
                    if row["rank"] == selection.best_rank
                    else row["rank"],
                    row["silhouette"],
                    row["reconstruction_error"],
                    row["n_dropped"],
                ]
                for row in selection.table()
            ],
            title=f"consensus {X.shape[0]} x {X.shape[1]}, {args.replicates} "
            "replicates per rank (* the chosen rank)",
        ),
        f"chosen rank: {selection.best_rank} (largest silhouette); "
        f"{result.seconds:.1f} s",
    )
    warn(args, result.notes)
    return finish(folder, summary["files"])
