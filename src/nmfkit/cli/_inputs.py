"""Where the commands' data come from: options, and loading from them.

The ``add_*`` functions import nothing heavy (``--help`` builds every
parser); the ``load_*`` functions import the loaders when a command runs.
"""

from __future__ import annotations

from pathlib import Path

from ._options import CommandError, positive_int

__all__ = [
    "FACE_SETS",
    "TEXT_SETS",
    "add_face_options",
    "add_matrix_options",
    "add_text_options",
    "load_anndata_table",
    "load_faces",
    "load_table",
    "load_texts",
    "vectorize",
]

FACE_SETS = ("lfw", "olivetti", "digits")
TEXT_SETS = ("lee", "newsgroups")


def _builtin_error(name, exc):
    return CommandError(
        f"the {name} data set is not available offline ({exc}); give --data-home "
        "with scikit-learn's cache, or --download to fetch it once"
    )


def add_cache_options(group):
    """``--data-home`` and ``--download`` (scikit-learn's data sets)."""
    group.add_argument("--data-home", help="scikit-learn's data folder")
    group.add_argument(
        "--download",
        action="store_true",
        help="allow downloading a scikit-learn data set missing from the cache",
    )


# -------------------------------------------------------------------- matrix
def add_matrix_options(parser, *, anndata=False):
    """The matrix file and how to read it (``fit``, ``rank``, ``consensus``).

    ``anndata``: the command also reads ``.h5ad`` files (:func:`load_anndata_table`).
    """
    formats = ".npy, .npz (dense or SciPy sparse), .csv/.tsv/.txt (delimiter "
    "detected, a header row of names kept)"
    if anndata:
        formats += ", .mtx or .h5ad (AnnData, cells x genes)"
    else:
        formats += " or .mtx"
    parser.add_argument(
        "input", help=f"the matrix file: {formats}; rows are samples"
    )
    group = parser.add_argument_group("input")
    group.add_argument("--key", help="array to use from a .npz archive")
    group.add_argument(
        "--index-col",
        metavar="COLUMN",
        help="CSV: the column of row names (its header name, or its position "
        "from 0); the other columns are the matrix",
    )
    group.add_argument(
        "--missing",
        action="store_true",
        help="empty and NaN cells (NaN entries in any format) are missing "
        "entries: fit only the observed ones (Frobenius loss)",
    )
    return group


#: The file name ending of AnnData files.
H5AD = ".h5ad"


def load_anndata_table(path, *, layer=None, highly_variable=False):
    """The AnnData of an ``.h5ad`` file and its matrix with cell and gene names.

    Returns
    -------
    adata : anndata.AnnData
        The whole file, in memory.
    table : Bunch
        ``data`` (``X`` or ``layers[layer]``, only the highly variable genes
        with ``highly_variable``; sparse stays sparse), ``row_names`` (the
        ``obs_names``), ``column_names`` (the kept ``var_names``) and
        ``features`` (the kept genes' indices, None for all).
    """
    from sklearn.utils import Bunch

    from .._optional import import_optional
    from ..consensus import anndata_matrix

    anndata = import_optional(
        "anndata", purpose="reading .h5ad files", extra="anndata"
    )
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; give an .h5ad file.")
    try:
        adata = anndata.read_h5ad(path)
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(
            f"{path} is not a readable .h5ad file ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); write it "
            "again with anndata's write_h5ad."
        ) from exc
    X, features = anndata_matrix(adata, layer=layer, highly_variable=highly_variable)
    genes = adata.var_names if features is None else adata.var_names[features]
    table = Bunch(
        data=X,
        row_names=[str(name) for name in adata.obs_names],
        column_names=[str(name) for name in genes],
        features=features,
    )
    return adata, table


def load_table(args):
    """The matrix of ``args.input`` with its row and column names."""
    from ..datasets._matrix import read_matrix

    return read_matrix(
        args.input,
        key=args.key,
        index_col=args.index_col,
        missing=getattr(args, "missing", False),
    )


# --------------------------------------------------------------------- faces
def add_face_options(parser, *, folder=True):
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
            type=positive_int,
            nargs=2,
            default=(64, 64),
            metavar=("H", "W"),
            help="resize folder images to H x W pixels",
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
        "olivetti (scikit-learn's cache), digits",
    )
    add_cache_options(group)
    return group


def load_faces(args):
    """Images from ``args.folder`` or the built-in set ``args.builtin``."""
    from .. import datasets

    folder = getattr(args, "folder", None)
    if folder:
        return datasets.load_image_folder(
            folder,
            shape=tuple(args.shape),
            on_error="skip" if args.skip_bad_files else "raise",
        )
    if args.builtin == "olivetti":
        try:
            return datasets.load_olivetti_faces(
                data_home=args.data_home, download_if_missing=args.download
            )
        except OSError as exc:
            raise _builtin_error("Olivetti faces", exc) from exc
    if args.builtin == "digits":
        return datasets.load_digits_images()
    return datasets.load_lfw_subset()


# --------------------------------------------------------------------- texts
def _share_or_count(text):
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number > 0")
    return value


def add_text_options(parser, *, source=True):
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
            help="column (CSV) or key (JSONL) holding the text",
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
        "(scikit-learn's cache)",
    )
    add_cache_options(group)
    vec = parser.add_argument_group("vectorizing")
    vec.add_argument(
        "--vectorizer",
        choices=("tfidf", "count"),
        default="tfidf",
        help="term weights",
    )
    vec.add_argument(
        "--min-df",
        type=_share_or_count,
        default=2,
        help="drop terms in fewer documents (a count, or a share if < 1)",
    )
    vec.add_argument(
        "--max-df",
        type=_share_or_count,
        default=0.95,
        help="drop terms in more documents (a share if <= 1, else a count)",
    )
    vec.add_argument(
        "--max-features", type=positive_int, help="keep the most frequent terms"
    )
    vec.add_argument(
        "--n-words", type=positive_int, default=10, help="top words per topic"
    )
    return group


def load_texts(args):
    """Documents from ``args.source`` (folder, CSV, JSONL) or ``args.builtin``."""
    from .. import datasets

    source = getattr(args, "source", None)
    on_error = "skip" if getattr(args, "skip_bad_files", False) else "raise"
    if source:
        path = Path(source)
        if path.is_dir():
            return datasets.load_text_folder(
                path, encoding=args.encoding, on_error=on_error
            )
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist; give a folder of .txt files, a .csv or a "
                ".jsonl file"
            )
        return datasets.load_text_table(
            path, args.column, id_column=args.id_column, encoding=args.encoding
        )
    if args.builtin == "newsgroups":
        try:
            return datasets.load_newsgroups(
                data_home=args.data_home, download_if_missing=args.download
            )
        except OSError as exc:
            raise _builtin_error("20 Newsgroups", exc) from exc
    return datasets.load_lee_corpus()


def _df(value):
    return int(value) if value >= 1 and float(value).is_integer() else value


def vectorize(corpus, *, vectorizer="tfidf", min_df=2, max_df=0.95, max_features=None):
    """The document-term matrix of ``corpus`` (its description and skips kept)."""
    from ..datasets import vectorize_texts

    vectors = vectorize_texts(
        corpus,
        method=vectorizer,
        min_df=_df(min_df),
        max_df=max_df if max_df <= 1 else int(max_df),
        max_features=max_features,
    )
    vectors.description = corpus.description
    vectors.skipped = corpus.skipped
    return vectors


def check_rank(rank, shape):
    """Refuse a rank the shared SVD-based initialization cannot produce."""
    if rank > min(shape):
        raise CommandError(
            f"--rank {rank} is larger than the data allow ({shape[0]} x {shape[1]}); "
            f"give --rank {min(shape)} or less"
        )
