"""Text corpora and their document-term matrices.

The loaders return a :class:`sklearn.utils.Bunch` with ``texts`` (one string
per document), ``doc_ids`` (a name per document), ``target`` (labels or
None), ``source``, ``description`` and ``skipped`` (``(name, reason)`` of
files left out). :func:`vectorize_texts` turns the texts into the
non-negative matrix NMF factorizes, with the vocabulary that reads its
columns and the token lists that topic coherence needs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._optional import import_optional
from .._typing import PathLike

__all__ = [
    "load_lee_corpus",
    "load_newsgroups",
    "load_text_folder",
    "load_text_table",
    "vectorize_texts",
]


def _text_bunch(texts, *, source, description, doc_ids=None, target=None, **extra):
    texts = list(texts)
    if doc_ids is None:
        doc_ids = [str(i) for i in range(len(texts))]
    return Bunch(
        texts=texts,
        doc_ids=[str(d) for d in doc_ids],
        target=None if target is None else np.asarray(target),
        source=source,
        description=description,
        skipped=list(extra.pop("skipped", ())),
        **extra,
    )


def load_newsgroups(
    *,
    data_home: PathLike | None = None,
    subset: str = "train",
    categories: Sequence[str] | None = None,
    remove: Sequence[str] = ("headers", "footers", "quotes"),
    download_if_missing: bool = True,
) -> Bunch:
    """20 Newsgroups posts through scikit-learn's fetcher.

    Parameters
    ----------
    data_home : str or path-like, default=None
        scikit-learn's data folder.
    subset : {"train", "test", "all"}, default="train"
    categories : list of str, default=None
        Newsgroups to keep (all by default).
    remove : tuple, default=("headers", "footers", "quotes")
        Parts of each post to strip (scikit-learn's meaning).
    download_if_missing : bool, default=True

    Returns
    -------
    bunch : Bunch
        ``target`` holds the newsgroup index and ``target_names`` the names.

    See Also
    --------
    vectorize_texts : The document-term matrix of the posts.
    load_lee_corpus : A small corpus that needs no network.
    sklearn.datasets.fetch_20newsgroups : scikit-learn's fetcher, used here.

    Examples
    --------
    Needs scikit-learn's cache or a download, so it is not run here:

    >>> from nmfkit.datasets import load_newsgroups
    >>> posts = load_newsgroups(categories=["sci.space"])  # doctest: +SKIP
    >>> posts.target_names  # doctest: +SKIP
    ['sci.space']
    """
    from sklearn.datasets import fetch_20newsgroups

    news = fetch_20newsgroups(
        data_home=data_home,
        subset=subset,
        categories=categories,
        remove=remove,
        shuffle=False,
        download_if_missing=download_if_missing,
    )
    return _text_bunch(
        news.data,
        source="20newsgroups",
        description=f"20 Newsgroups ({subset}), {len(news.data)} posts",
        doc_ids=[f"{subset}-{i}" for i in range(len(news.data))],
        target=news.target,
        target_names=list(news.target_names),
    )


def load_lee_corpus() -> Bunch:
    """The Lee news corpus bundled with gensim: 300 short Australian news texts.

    Needs no network (the file ships inside the gensim package).

    Returns
    -------
    bunch : Bunch

    See Also
    --------
    vectorize_texts : The document-term matrix of the texts.
    load_newsgroups : 20 Newsgroups posts.

    Examples
    --------
    >>> from nmfkit.datasets import load_lee_corpus
    >>> len(load_lee_corpus().texts)
    300
    """
    utils = import_optional("gensim.test.utils", purpose="the built-in Lee corpus")
    path = Path(utils.datapath("lee_background.cor"))
    texts = [line.strip() for line in path.read_text(encoding="latin-1").splitlines()]
    texts = [t for t in texts if t]
    return _text_bunch(
        texts,
        source="lee",
        description=f"Lee news corpus (bundled with gensim), {len(texts)} texts",
        doc_ids=[f"lee-{i}" for i in range(len(texts))],
    )


def _decode(raw, encoding, name):
    """Return the text of ``raw`` bytes, or raise ValueError if it is not text."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise ValueError(
            f"{name} is not a text file (it holds a NUL byte at offset {nul})"
        )
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{name} is not valid {encoding} text (byte 0x{raw[exc.start]:02x} at "
            f"offset {exc.start}); give --encoding or convert the file"
        ) from exc


def load_text_folder(
    path: PathLike,
    *,
    pattern: str = "*.txt",
    encoding: str = "utf-8",
    on_error: str = "raise",
) -> Bunch:
    """One document per text file of a folder.

    Parameters
    ----------
    path : str or path-like
        The folder.
    pattern : str, default="*.txt"
        Glob pattern of the files to read (``"**/*.txt"`` reads sub-folders).
    encoding : str, default="utf-8"
    on_error : {"raise", "skip"}, default="raise"
        A file that is not text (NUL bytes, not valid in ``encoding``):
        raise a ValueError naming it, or leave it out and list it in
        ``bunch.skipped``.

    Returns
    -------
    bunch : Bunch
        ``doc_ids`` are the paths relative to ``path``.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a folder.
    ValueError
        If ``on_error`` is not valid, no file matches ``pattern``, no file is
        readable text, or (with ``on_error="raise"``) one file is not.

    See Also
    --------
    load_text_table : Documents as rows of a CSV or JSON Lines file.
    vectorize_texts : The document-term matrix of the documents.

    Examples
    --------
    >>> import os
    >>> from nmfkit.datasets import load_text_folder
    >>> os.mkdir("notes")
    >>> for name, text in [("a.txt", "cats and dogs"), ("b.txt", "stocks and bonds")]:
    ...     with open(os.path.join("notes", name), "w") as file:
    ...         _ = file.write(text)
    >>> notes = load_text_folder("notes")
    >>> notes.texts, notes.doc_ids
    (['cats and dogs', 'stocks and bonds'], ['a.txt', 'b.txt'])
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(
            f"on_error={on_error!r} is not valid; choose 'raise' or 'skip'."
        )
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder} is not a folder; give a folder of text files."
        )
    files = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not files:
        raise ValueError(
            f"no file matching {pattern!r} in {folder}; add text files or choose "
            "another folder."
        )
    texts, names, skipped = [], [], []
    for file in files:
        name = str(file.relative_to(folder))
        try:
            texts.append(_decode(file.read_bytes(), encoding, str(file)))
        except ValueError as exc:
            if on_error == "raise":
                raise ValueError(
                    f"{exc}; remove it or skip such files (on_error='skip', "
                    "--skip-bad-files)."
                ) from exc
            skipped.append((name, str(exc)))
            continue
        names.append(name)
    if not texts:
        raise ValueError(
            f"none of the {len(files)} files in {folder} is readable text; "
            f"the first error: {skipped[0][1]}."
        )
    return _text_bunch(
        texts,
        source=str(folder),
        description=f"{len(texts)} text files from {folder}",
        doc_ids=names,
        skipped=skipped,
    )


def _table_format(path, format):
    if format is not None:
        if format not in ("csv", "jsonl"):
            raise ValueError(
                f"format={format!r} is not valid; choose 'csv' or 'jsonl'."
            )
        return format
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise ValueError(
        f"cannot tell the format of {path} from its name; name it .csv or .jsonl, "
        "or give the format."
    )


def _csv_rows(path, text):
    dialect = "excel-tab" if Path(path).suffix.lower() == ".tsv" else "excel"
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    if reader.fieldnames is None:
        raise ValueError(f"{path} is empty; a CSV file needs a header row.")
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise ValueError(f"{path}, line {reader.line_num}: {exc}.") from exc


def _jsonl_rows(path, text):
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}, line {line_no}: not valid JSON ({exc.msg})."
            ) from exc
        if not isinstance(row, dict):
            raise ValueError(
                f"{path}, line {line_no}: each line must be a JSON object, "
                f"got {type(row).__name__}."
            )
        yield line_no, row


def load_text_table(
    path: PathLike,
    column: str,
    *,
    id_column: str | None = None,
    format: str | None = None,
    encoding: str = "utf-8",
) -> Bunch:
    """One document per row: a text column of a CSV or JSON Lines file.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` (``.tsv``) file with a header row, or a ``.jsonl`` file
        with one JSON object per line.
    column : str
        The column (CSV) or key (JSON Lines) that holds the text.
    id_column : str, default=None
        Column or key naming each document (row numbers by default).
    format : {"csv", "jsonl"}, default=None
        Taken from the file name when None.
    encoding : str, default="utf-8"

    Returns
    -------
    bunch : Bunch
        Rows whose text is missing or empty are left out and listed in
        ``skipped``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file has no column ``column``, or no text in it.

    See Also
    --------
    load_text_folder : One document per file.
    vectorize_texts : The document-term matrix of the documents.

    Examples
    --------
    >>> from nmfkit.datasets import load_text_table
    >>> with open("posts.csv", "w") as file:
    ...     _ = file.write("id,body\\n1,cats and dogs\\n2,\\n3,stocks and bonds\\n")
    >>> posts = load_text_table("posts.csv", "body", id_column="id")
    >>> posts.texts, posts.doc_ids
    (['cats and dogs', 'stocks and bonds'], ['1', '3'])
    """
    path = Path(path)
    fmt = _table_format(path, format)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; give a {fmt.upper()} file.")
    text = _decode(path.read_bytes(), encoding, str(path))
    rows = _csv_rows(path, text) if fmt == "csv" else _jsonl_rows(path, text)
    texts, ids, skipped = [], [], []
    seen_column = False
    for line_no, row in rows:
        if column not in row:
            if fmt == "csv":
                raise ValueError(
                    f"{path} has no column {column!r}; its columns are "
                    f"{', '.join(repr(k) for k in row)}."
                )
            skipped.append((f"line {line_no}", f"no key {column!r}"))
            continue
        seen_column = True
        value = row[column]
        if value is None or (isinstance(value, str) and not value.strip()):
            skipped.append((f"line {line_no}", "empty text"))
            continue
        texts.append(str(value))
        ids.append(str(row.get(id_column, line_no)) if id_column else f"line {line_no}")
    if not texts:
        hint = "" if seen_column else f" (no row has the key {column!r})"
        raise ValueError(f"{path} holds no text in {column!r}{hint}.")
    return _text_bunch(
        texts,
        source=str(path),
        description=f"{len(texts)} documents from column {column!r} of {path}",
        doc_ids=ids,
        skipped=skipped,
    )


def vectorize_texts(
    texts: Iterable[str],
    *,
    method: str = "tfidf",
    max_df: float | int = 0.95,
    min_df: float | int = 2,
    max_features: int | None = None,
    stop_words: str | Sequence[str] | None = "english",
) -> Bunch:
    """Document-term matrix of ``texts`` with scikit-learn's vectorizers.

    Parameters
    ----------
    texts : list of str or Bunch
        Documents, or a Bunch from one of this module's loaders (its
        ``texts`` and ``doc_ids`` are used).
    method : {"tfidf", "count"}, default="tfidf"
        :class:`~sklearn.feature_extraction.text.TfidfVectorizer` (rows of
        unit Euclidean norm) or raw term counts
        (:class:`~sklearn.feature_extraction.text.CountVectorizer`).
    max_df, min_df : float or int
        Drop terms in more than ``max_df`` or fewer than ``min_df`` documents
        (scikit-learn's meaning: a float is a share, an int a count).
    max_features : int, default=None
        Keep only the most frequent terms.
    stop_words : "english", list or None, default="english"

    Returns
    -------
    bunch : Bunch
        ``data`` (CSR matrix, documents by terms), ``vocabulary`` (ndarray
        of str, the column names), ``doc_ids``, ``texts``, ``tokens`` (each
        document as the vectorizer's token list, for topic coherence) and
        ``vectorizer``.

    Raises
    ------
    ValueError
        If there is no document, ``method`` is not valid, or no vocabulary is
        left after ``min_df``, ``max_df`` and the stop words.

    See Also
    --------
    load_text_folder : Documents from files.
    nmfkit.topics.top_words : Read the topics of an NMF of the matrix.
    sklearn.feature_extraction.text.TfidfVectorizer : The vectorizer used.

    Examples
    --------
    >>> from nmfkit.datasets import vectorize_texts
    >>> texts = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"]
    >>> corpus = vectorize_texts(texts, min_df=1)
    >>> corpus.data.shape, list(corpus.vocabulary)
    ((3, 5), ['cat', 'dog', 'log', 'mat', 'sat'])
    """
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    doc_ids = None
    if isinstance(texts, Bunch):
        doc_ids = texts.doc_ids
        texts = texts.texts
    texts = list(texts)
    if not texts:
        raise ValueError("no documents to vectorize; give at least one text.")
    if method not in ("tfidf", "count"):
        raise ValueError(f"method={method!r} is not valid; choose 'tfidf' or 'count'.")
    cls = TfidfVectorizer if method == "tfidf" else CountVectorizer
    vectorizer = cls(
        max_df=max_df, min_df=min_df, max_features=max_features, stop_words=stop_words
    )
    try:
        data = vectorizer.fit_transform(texts)
    except ValueError as exc:
        raise ValueError(
            f"cannot build a vocabulary from {len(texts)} documents ({exc}); give "
            "more documents or loosen min_df / max_df (--min-df, --max-df)."
        ) from exc
    analyzer = vectorizer.build_analyzer()
    return Bunch(
        data=data.tocsr().astype(np.float64),
        vocabulary=np.asarray(vectorizer.get_feature_names_out()),
        doc_ids=list(doc_ids)
        if doc_ids is not None
        else [str(i) for i in range(len(texts))],
        texts=texts,
        tokens=[analyzer(t) for t in texts],
        method=method,
        vectorizer=vectorizer,
    )
