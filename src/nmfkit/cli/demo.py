"""``nmfkit demo``: the main job, on built-in data, offline."""

from __future__ import annotations

from types import SimpleNamespace

from ._inputs import FACE_SETS, TEXT_SETS, check_rank, load_faces, load_texts, vectorize
from ._options import (
    add_command,
    add_output_options,
    output_folder,
    positive_int,
    stamped_folder,
)
from ._shared import finish, open_outputs, warn

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    """Register ``demo`` and return its parser."""
    parser = add_command(
        subparsers,
        "demo",
        help="run the main job on built-in data (faces, topics, time series)",
        description="Faces and topics, each fitted by nmfkit (multiplicative "
        "updates with the course's penalties) and by scikit-learn from the same "
        "start, compared component to component, and the time-series templates "
        "of the built-in daily load profiles. Prints a summary; writes the "
        "results of each (faces/, topics/ and series/, as nmfkit faces, topics "
        "and series do) and one report.html. Offline by default.",
    )
    parser.add_argument(
        "--builtin-faces",
        dest="faces",
        choices=FACE_SETS,
        default="lfw",
        help="image set",
    )
    parser.add_argument(
        "--builtin-text",
        dest="text",
        choices=TEXT_SETS,
        default="lee",
        help="text corpus",
    )
    parser.add_argument("--data-home", help="scikit-learn's data folder")
    parser.add_argument(
        "--download",
        action="store_true",
        help="allow downloading a scikit-learn data set missing from the cache",
    )
    parser.add_argument(
        "--max-iter",
        type=positive_int,
        default=None,
        help="iterations of every fit (default: each application's: 300 for "
        "faces and topics, 1000 for the series)",
    )
    add_output_options(parser, default_dir="nmfkit-results/demo-DATE-TIME", report=True)
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Run ``nmfkit demo``; return the exit code."""
    from . import faces as faces_command
    from . import series as series_command
    from . import topics as topics_command

    extra = {} if args.max_iter is None else {"max_iter": args.max_iter}
    face_args = SimpleNamespace(
        builtin=args.faces, data_home=args.data_home, download=args.download
    )
    text_args = SimpleNamespace(
        builtin=args.text, data_home=args.data_home, download=args.download
    )
    needed = faces_command.packages(face_args) + topics_command.packages(text_args)
    folder = output_folder(args, stamped_folder("demo"))
    with open_outputs(
        args, folder, "demo", stages=14, packages=needed, strict=True
    ) as (
        outputs,
        progress,
    ):
        from ..apps._defaults import FACES_DEFAULTS, TOPICS_DEFAULTS
        from ..apps._faces import run_faces, write_faces_outputs
        from ..apps._sections import add_output_files
        from ..apps._topics import run_topics, write_topics_outputs

        report = None
        if args.report:
            from ..report import Report

            report = Report(
                "nmfkit demo: faces, topics and time series",
                subtitle="nmfkit's multiplicative updates with the course's "
                "penalties against scikit-learn's NMF, from the same initialization",
            )
        progress.step("loading faces")
        images = load_faces(face_args)
        check_rank(FACES_DEFAULTS["n_components"], images.data.shape)
        faces = run_faces(images, report, progress=progress, **extra)
        files = write_faces_outputs(outputs, images, faces, folder="faces")
        if report is not None:
            add_output_files(
                report, outputs, files, title="Faces: result files", key="faces-files"
            )
        progress.step("loading texts")
        corpus = load_texts(text_args)
        vectors = vectorize(corpus)
        check_rank(TOPICS_DEFAULTS["n_components"], vectors.data.shape)
        topics = run_topics(vectors, report, progress=progress, **extra)
        written = write_topics_outputs(outputs, vectors, topics, folder="topics")
        if report is not None:
            add_output_files(
                report, outputs, written, title="Topics: result files",
                key="topics-files",
            )  # fmt: skip
        files += written
        progress.step("fitting the load profiles")
        series = run_series(outputs, report, progress, extra)
        files += series.files
        if report is not None:
            progress.step("writing the report")
            report.write(outputs.path("report.html"))
            files.append("report.html")
    faces_command.print_summary(f"faces: {images.description}", faces)
    print()
    faces_command.print_summary(f"topics: {corpus.description}", topics)
    topics_command.print_topics(topics)
    print()
    series_command.print_summary(series)
    print()
    warn(args, faces.notes + topics.notes + series.notes)
    return finish(folder, files)


def run_series(outputs, report, progress, extra):
    """The series section: templates of the built-in load profiles in series/."""
    from ..apps._defaults import SERIES_DEFAULTS
    from ..apps._sections import add_output_files
    from ..apps._series import decompose_series
    from ..datasets import make_load_profiles
    from ._signals import convergence_notes
    from .series import series_notes

    params = {**SERIES_DEFAULTS, "n_components": 4, **extra}
    folder = outputs.subfolder("series")
    with convergence_notes():
        result = decompose_series(
            make_load_profiles(),
            params["n_components"],
            beta_loss=params["beta_loss"],
            init=params["init"],
            max_iter=params["max_iter"],
            tol=params["tol"],
            random_state=params["random_state"],
            outputs=folder,
            report=report if report is not None else False,
            progress=progress,
        )
    if report is not None:
        add_output_files(
            report, outputs, result.files, title="Series: result files",
            key="series-files",
        )  # fmt: skip
    result.notes = series_notes(result, params)
    return result
