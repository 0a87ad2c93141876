"""``nmfkit topics``: topics of a text corpus, nmfkit against scikit-learn."""

from __future__ import annotations

from ..apps._defaults import TOPICS_DEFAULTS
from ._inputs import add_text_options, check_rank, load_texts, vectorize
from ._options import (
    add_command,
    add_model_options,
    add_output_options,
    model_params,
    output_folder,
    stamped_folder,
)
from ._shared import finish, open_outputs, warn

__all__ = ["add_parser", "print_topics", "run"]


def add_parser(subparsers):
    """Register ``topics`` and return its parser."""
    parser = add_command(
        subparsers,
        "topics",
        help="extract topics from text, with top words and coherence",
        description="Factorize a TF-IDF (or count) matrix of documents with "
        "nmfkit's penalized multiplicative updates and with scikit-learn from "
        "the same start. Writes model.npz, W and H (.npy, CSV by document and "
        "word), document_topics.csv, top_words.csv (with weights), coherence.csv "
        "(NPMI and C_V per topic), topics.json and report.html.",
    )
    add_text_options(parser)
    add_model_options(parser, TOPICS_DEFAULTS)
    add_output_options(
        parser, default_dir="nmfkit-results/topics-DATE-TIME", report=True
    )
    parser.set_defaults(func=run)
    return parser


def packages(args, source=None):
    """The optional packages the texts need."""
    return ("gensim",) if not source and args.builtin == "lee" else ()


def run(args):
    """Run ``nmfkit topics``; return the exit code."""
    from .faces import print_summary

    params = model_params(args, TOPICS_DEFAULTS)
    folder = output_folder(args, stamped_folder("topics"))
    with open_outputs(
        args,
        folder,
        "topics",
        stages=7,
        packages=packages(args, args.source),
        strict=True,
    ) as (outputs, progress):
        from ..apps._topics import run_topics, write_topics_outputs

        progress.step("reading documents")
        corpus = load_texts(args)
        progress.step("vectorizing")
        vectors = vectorize(
            corpus,
            vectorizer=args.vectorizer,
            min_df=args.min_df,
            max_df=args.max_df,
            max_features=args.max_features,
        )
        check_rank(params["n_components"], vectors.data.shape)
        report = None
        if args.report:
            from ..report import Report

            report = Report("nmfkit: topics", subtitle=corpus.description)
        result = run_topics(
            vectors, report, n_words=args.n_words, progress=progress, **params
        )
        files = write_topics_outputs(outputs, vectors, result)
        if report is not None:
            from ..apps._sections import add_output_files

            add_output_files(
                report, outputs, files, title="Topics: result files", key="topics-files"
            )
            report.write(outputs.path("report.html"))
            files.append("report.html")
    print_summary(f"topics: {corpus.description}", result)
    print_topics(result)
    if corpus.skipped:
        print(f"skipped {len(corpus.skipped)} document(s); see topics.json")
    warn(args, result.notes)
    return finish(folder, files)


def print_topics(result):
    """One wrapped line of top words per nmfkit topic."""
    from ..apps._table import wrap

    for k, words in enumerate(result.words["nmfkit"]):
        print(wrap(f"topic {k}: {' '.join(words)}"))
