"""``nmfkit faces``: parts of face images, nmfkit against scikit-learn."""

from __future__ import annotations

from ._cli_common import add_fit_options, add_output_options, fit_options, report_path
from ._cli_data import FACE_SETS, check_rank, load_faces_from_args

__all__ = ["add_data_options", "add_parser", "run"]


def add_data_options(parser, *, folder=True):
    """Where the images come from."""
    group = parser.add_argument_group("data")
    if folder:
        group.add_argument(
            "folder",
            nargs="?",
            help="a folder of images (default: the built-in set of --builtin)",
        )
        group.add_argument(
            "--shape",
            type=int,
            nargs=2,
            default=(64, 64),
            metavar=("H", "W"),
            help="resize folder images to H x W pixels (default: 64 64)",
        )
        group.add_argument(
            "--skip-bad-files",
            action="store_true",
            help="skip unreadable files (counted in the report) instead of stopping",
        )
    group.add_argument(
        "--builtin",
        choices=FACE_SETS,
        default="lfw",
        help="built-in images: lfw (scikit-image's bundled faces, offline), "
        "olivetti (scikit-learn's cache), digits (default: %(default)s)",
    )
    group.add_argument("--data-home", help="scikit-learn's data folder (for olivetti)")
    group.add_argument(
        "--download",
        action="store_true",
        help="allow downloading a scikit-learn data set missing from the cache",
    )


def add_parser(subparsers):
    """Register ``faces``."""
    from .apps import FACES_DEFAULTS

    parser = subparsers.add_parser(
        "faces",
        help="learn a parts-based dictionary of face images",
        description="Factorize images (one grayscale image per row) with nmfkit's "
        "penalized multiplicative updates and with scikit-learn from the same "
        "start; write an HTML report comparing the two dictionaries.",
    )
    add_data_options(parser)
    add_fit_options(parser, FACES_DEFAULTS)
    add_output_options(parser)
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Run ``nmfkit faces``; return the exit code."""
    from .apps import Progress, format_summary, run_faces
    from .report import Report

    path = report_path(args, "faces")
    with Progress(5, "faces", quiet=args.quiet) as progress:
        progress.step("loading images")
        images = load_faces_from_args(args)
        check_rank(args.rank, images.data.shape)
        report = Report("nmfkit: faces", subtitle=images.description)
        result = run_faces(images, report, progress=progress, **fit_options(args))
        report.write(path, force=args.force)
    print(format_summary(f"faces: {images.description}", result.rows, result.header))
    if images.skipped:
        print(f"skipped {len(images.skipped)} unreadable file(s); see the report")
    print(f"report: {path}")
    return 0
