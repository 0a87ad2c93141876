"""``nmfkit demo``: the main job, on built-in data, offline."""

from __future__ import annotations

from ._cli_common import add_output_options, report_path
from ._cli_data import (
    FACE_SETS,
    TEXT_SETS,
    check_rank,
    load_faces_from_args,
    load_text_from_args,
)

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    """Register ``demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="run the main job on built-in data (faces and topics)",
        description="Faces and topics, each fitted by nmfkit (multiplicative "
        "updates with the course's penalties) and by scikit-learn from the same "
        "start, compared component to component; prints a summary and writes "
        "one HTML report. Offline by default.",
    )
    parser.add_argument(
        "--builtin-faces",
        dest="faces",
        choices=FACE_SETS,
        default="lfw",
        help="image set (default: %(default)s)",
    )
    parser.add_argument(
        "--builtin-text",
        dest="text",
        choices=TEXT_SETS,
        default="lee",
        help="text corpus (default: %(default)s)",
    )
    parser.add_argument("--data-home", help="scikit-learn's data folder")
    parser.add_argument(
        "--download",
        action="store_true",
        help="allow downloading a scikit-learn data set missing from the cache",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help="iterations of every fit (default: each application's)",
    )
    add_output_options(parser)
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Run ``nmfkit demo``; return the exit code."""
    from types import SimpleNamespace

    from ._cli_topics import vectorize_from_args
    from .apps import (
        FACES_DEFAULTS,
        TOPICS_DEFAULTS,
        Progress,
        format_summary,
        run_faces,
        run_topics,
    )
    from .report import Report

    path = report_path(args, "demo")
    extra = {} if args.max_iter is None else {"max_iter": args.max_iter}
    with Progress(12, "demo", quiet=args.quiet) as progress:
        progress.step("loading faces")
        images = load_faces_from_args(
            SimpleNamespace(
                builtin=args.faces, data_home=args.data_home, download=args.download
            )
        )
        check_rank(FACES_DEFAULTS["n_components"], images.data.shape)
        report = Report(
            "nmfkit demo: faces and topics",
            subtitle="nmfkit's multiplicative updates with the course's penalties "
            "against scikit-learn's NMF, from the same initialization",
        )
        faces = run_faces(images, report, progress=progress, **extra)
        progress.step("loading texts")
        corpus = load_text_from_args(
            SimpleNamespace(
                builtin=args.text, data_home=args.data_home, download=args.download
            )
        )
        vectors = vectorize_from_args(
            corpus,
            SimpleNamespace(
                vectorizer="tfidf", min_df=2, max_df=0.95, max_features=None
            ),
        )
        check_rank(TOPICS_DEFAULTS["n_components"], vectors.data.shape)
        topics = run_topics(vectors, report, progress=progress, **extra)
        progress.step("writing the report")
        report.write(path, force=args.force)
    print(format_summary(f"faces: {images.description}", faces.rows, faces.header))
    print()
    print(format_summary(f"topics: {corpus.description}", topics.rows, topics.header))
    for k, words in enumerate(topics.words["nmfkit"]):
        print(f"  topic {k}: {' '.join(words)}")
    print()
    print(f"report: {path}")
    return 0
