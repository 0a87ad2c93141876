"""``nmfkit topics``: topics of a text corpus, nmfkit against scikit-learn."""

from __future__ import annotations

from ._cli_common import add_fit_options, add_output_options, fit_options, report_path
from ._cli_data import TEXT_SETS, check_rank, load_text_from_args

__all__ = ["add_data_options", "add_parser", "run", "vectorize_from_args"]


def add_data_options(parser, *, source=True):
    """Where the documents come from and how they become a matrix."""
    group = parser.add_argument_group("data")
    if source:
        group.add_argument(
            "source",
            nargs="?",
            help="a folder of .txt files, a .csv or a .jsonl file (default: the "
            "built-in corpus of --builtin)",
        )
        group.add_argument(
            "--column",
            default="text",
            help="column (CSV) or key (JSONL) holding the text (default: %(default)s)",
        )
        group.add_argument("--id-column", help="column or key naming each document")
        group.add_argument("--encoding", default="utf-8", help="text encoding")
        group.add_argument(
            "--skip-bad-files",
            action="store_true",
            help="skip files that are not text (counted in the report)",
        )
    group.add_argument(
        "--builtin",
        choices=TEXT_SETS,
        default="lee",
        help="built-in corpus: lee (bundled with gensim, offline) or newsgroups "
        "(scikit-learn's cache) (default: %(default)s)",
    )
    group.add_argument("--data-home", help="scikit-learn's data folder (newsgroups)")
    group.add_argument(
        "--download",
        action="store_true",
        help="allow downloading a scikit-learn data set missing from the cache",
    )
    vec = parser.add_argument_group("vectorizing")
    vec.add_argument(
        "--vectorizer",
        choices=("tfidf", "count"),
        default="tfidf",
        help="term weights (default: %(default)s)",
    )
    vec.add_argument(
        "--min-df",
        type=float,
        default=2,
        help="drop terms in fewer documents (count, or share if < 1) "
        "(default: %(default)s)",
    )
    vec.add_argument(
        "--max-df",
        type=float,
        default=0.95,
        help="drop terms in more documents (share if <= 1, else count) "
        "(default: %(default)s)",
    )
    vec.add_argument("--max-features", type=int, help="keep the most frequent terms")
    vec.add_argument(
        "--n-words",
        type=int,
        default=10,
        help="top words per topic (default: %(default)s)",
    )


def _df(value):
    return int(value) if value >= 1 and float(value).is_integer() else value


def vectorize_from_args(corpus, args):
    """The document-term matrix of ``corpus`` with the command line's options."""
    from .datasets import vectorize_texts

    vectors = vectorize_texts(
        corpus,
        method=args.vectorizer,
        min_df=_df(args.min_df),
        max_df=args.max_df if args.max_df <= 1 else int(args.max_df),
        max_features=args.max_features,
    )
    vectors.description = corpus.description
    vectors.skipped = corpus.skipped
    return vectors


def add_parser(subparsers):
    """Register ``topics``."""
    from .apps import TOPICS_DEFAULTS

    parser = subparsers.add_parser(
        "topics",
        help="extract topics from text, with top words and coherence",
        description="Factorize a TF-IDF (or count) matrix of documents with "
        "nmfkit's penalized multiplicative updates and with scikit-learn from "
        "the same start; write an HTML report with top words, dominant topics "
        "and coherence (NPMI, C_V).",
    )
    add_data_options(parser)
    add_fit_options(parser, TOPICS_DEFAULTS)
    add_output_options(parser)
    parser.set_defaults(func=run)
    return parser


def run(args):
    """Run ``nmfkit topics``; return the exit code."""
    from .apps import Progress, format_summary, run_topics
    from .report import Report

    path = report_path(args, "topics")
    with Progress(7, "topics", quiet=args.quiet) as progress:
        progress.step("reading documents")
        corpus = load_text_from_args(args)
        progress.step("vectorizing")
        vectors = vectorize_from_args(corpus, args)
        check_rank(args.rank, vectors.data.shape)
        report = Report("nmfkit: topics", subtitle=corpus.description)
        result = run_topics(
            vectors,
            report,
            n_words=args.n_words,
            progress=progress,
            **fit_options(args),
        )
        report.write(path, force=args.force)
    print(format_summary(f"topics: {corpus.description}", result.rows, result.header))
    for k, words in enumerate(result.words["nmfkit"]):
        print(f"  topic {k}: {' '.join(words)}")
    if corpus.skipped:
        print(f"skipped {len(corpus.skipped)} document(s); see the report")
    print(f"report: {path}")
    return 0
