"""``nmfkit faces``: parts of face images, nmfkit against scikit-learn."""

from __future__ import annotations

from ..apps._defaults import FACES_DEFAULTS
from ._inputs import add_face_options, check_rank, load_faces
from ._options import (
    add_command,
    add_model_options,
    add_output_options,
    model_params,
    output_folder,
    stamped_folder,
)
from ._shared import finish, open_outputs, print_lines, warn

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    """Register ``faces`` and return its parser."""
    parser = add_command(
        subparsers,
        "faces",
        help="learn a parts-based dictionary of face images",
        description="Factorize images (one grayscale image per row) with nmfkit's "
        "penalized multiplicative updates and with scikit-learn from the same "
        "start, and compare the dictionaries. Writes model.npz, W and H (.npy, "
        "CSV by image name and pixel), the components and the reconstructions as "
        "PNG images, faces.json and report.html.",
    )
    add_face_options(parser)
    add_model_options(parser, FACES_DEFAULTS)
    add_output_options(
        parser, default_dir="nmfkit-results/faces-DATE-TIME", report=True
    )
    parser.set_defaults(func=run)
    return parser


def packages(args, folder=None):
    """The optional packages the images need."""
    needed = ["PIL"]
    if not folder and args.builtin == "lfw":
        needed.append("skimage")
    return tuple(needed)


def run(args):
    """Run ``nmfkit faces``; return the exit code."""
    params = model_params(args, FACES_DEFAULTS)
    folder = output_folder(args, stamped_folder("faces"))
    with open_outputs(
        args,
        folder,
        "faces",
        stages=5,
        packages=packages(args, args.folder),
        strict=True,
    ) as (outputs, progress):
        from ..apps._faces import run_faces, write_faces_outputs

        progress.step("loading images")
        images = load_faces(args)
        check_rank(params["n_components"], images.data.shape)
        report = None
        if args.report:
            from ..report import Report

            report = Report("nmfkit: faces", subtitle=images.description)
        result = run_faces(images, report, progress=progress, **params)
        files = write_faces_outputs(outputs, images, result)
        if report is not None:
            from ..apps._sections import add_output_files

            add_output_files(
                report, outputs, files, title="Faces: result files", key="faces-files"
            )
            report.write(outputs.path("report.html"))
            files.append("report.html")
    print_summary(f"faces: {images.description}", result)
    if images.skipped:
        print(f"skipped {len(images.skipped)} unreadable file(s); see faces.json")
    warn(args, result.notes)
    return finish(folder, files)


def print_summary(title, result):
    """The comparison table, fitted to the terminal."""
    from ..apps._table import format_table

    print_lines(format_table(result.header, result.rows, title=title))
