"""``nmfkit series``: time-series templates of a set of recordings."""

from __future__ import annotations

from ..apps._defaults import SERIES_DEFAULTS
from ._options import (
    add_command,
    add_model_options,
    add_output_options,
    model_params,
    output_folder,
    positive_int,
    stamped_folder,
)
from ._shared import finish, open_outputs, print_lines, warn
from ._signals import add_beta_option, add_signal_input, convergence_notes

__all__ = ["BUILTIN_SERIES", "add_parser", "load_series", "run"]

#: ``--builtin`` choices: a year of daily electricity load profiles.
BUILTIN_SERIES = ("load-profiles",)


def add_parser(subparsers):
    """Register ``series`` and return its parser."""
    parser = add_command(
        subparsers,
        "series",
        help="find time-series templates of a set of recordings",
        description="Factorize a set of recordings (one per row, its values over "
        "time as the columns) into templates over time and the weight of each "
        "template in each recording. Writes templates.csv/.npy, "
        "activations.csv/.npy, reconstruction.csv/.npy (with the recordings' and "
        "time points' names), summary.json and report.html (templates, "
        "activations, reconstruction examples) into one folder, all together or "
        "nothing. Without FILE: the built-in daily load profiles.",
    )
    add_signal_input(
        parser,
        what="the recordings: .csv/.tsv (one per row; an optional header of time "
        "labels and first column of names) or .npy",
        builtin=BUILTIN_SERIES,
        builtin_help="built-in recordings: load-profiles (365 synthetic daily "
        "electricity profiles of 24 hours, made of four known shapes)",
    )
    group = add_model_options(parser, SERIES_DEFAULTS)
    add_beta_option(group, SERIES_DEFAULTS["beta_loss"])
    parser.add_argument(
        "--examples",
        type=positive_int,
        default=4,
        metavar="N",
        help="recordings drawn with their reconstructions in the report",
    )
    add_output_options(
        parser, default_dir="nmfkit-results/series-DATE-TIME", report=True
    )
    parser.set_defaults(func=run)
    return parser


def load_series(args):
    """The file of ``args.input`` (a path), or the built-in profiles (a Bunch)."""
    if args.input:
        from ..datasets import load_recordings

        return load_recordings(args.input)
    from ..datasets import make_load_profiles

    return make_load_profiles()


def run(args):
    """Run ``nmfkit series``; return the exit code."""
    from ._inputs import check_rank

    params = model_params(args, SERIES_DEFAULTS)
    folder = output_folder(args, stamped_folder("series"))
    packages = ("matplotlib",) if args.report else ()
    with open_outputs(
        args, folder, "series", stages=5, packages=packages, strict=True
    ) as (
        outputs,
        progress,
    ):
        from ..apps._series import decompose_series

        progress.step("reading the recordings")
        recordings = load_series(args)
        check_rank(params["n_components"], recordings.data.shape)
        with convergence_notes():
            result = decompose_series(
                recordings,
                params["n_components"],
                beta_loss=params["beta_loss"],
                init=params["init"],
                max_iter=params["max_iter"],
                tol=params["tol"],
                random_state=params["random_state"],
                n_examples=args.examples,
                outputs=outputs,
                report=None if args.report else False,
                progress=progress,
            )
    print_summary(result)
    warn(args, series_notes(result, params))
    return finish(folder, result.files)


def series_notes(result, params):
    """The shared convergence warning of the fit, if it stopped at --max-iter."""
    from ..apps._notes import convergence_note

    model = result.model
    note = convergence_note(
        "the fit", model.n_iter_, params["max_iter"], params["tol"], model.history_
    )
    return [note] if note else []


def print_summary(result):
    """The fit in two lines."""
    s = result.summary
    print_lines(
        f"series: {s['input']}, {s['shape'][0]} recordings x {s['shape'][1]} time "
        f"points",
        f"rank {s['rank']}: relative error {s['relative_error']:.4g}, "
        f"{s['n_iter']} iterations, {s['seconds']:.2f} s",
    )
