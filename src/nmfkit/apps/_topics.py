"""The topics application: topics of a text corpus, with their coherence."""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch

from ..topics import dominant_topics, top_words
from ._compare import compare_with_sklearn
from ._defaults import TOPICS_DEFAULTS
from ._notes import convergence_note
from ._results import component_names, json_safe, model_from_record, write_factors
from ._sections import (
    SUMMARY_HEADER,
    add_comparison_sections,
    add_topics_sections,
    score_topics,
    summary_rows,
)

__all__ = ["TOPICS_DEFAULTS", "run_topics", "write_topics_outputs"]


def run_topics(
    corpus, report, *, n_words=10, progress=None, prefix="topics", **options
):
    """Fit and compare on a document-term matrix; add the sections to ``report``.

    Parameters
    ----------
    corpus : Bunch
        From :func:`nmfkit.datasets.vectorize_texts`.
    report : nmfkit.report.Report or None
        Where the sections go; None for no report.
    n_words : int, default=10
        Top words per topic (also the words scored by coherence).
    progress : Progress, default=None
        Shows the stages and the fits' iterations (nothing when None).
    prefix : str, default="topics"
        Prefix of the section and figure keys.
    **options
        Overrides of :data:`TOPICS_DEFAULTS` and the other arguments of
        :func:`compare_with_sklearn`.

    Returns
    -------
    result : Bunch
        ``comparison``; ``rows`` and ``header`` of the terminal table (with
        each model's mean NPMI and C_V); ``words`` and ``coherence``
        (``{"c_npmi": ..., "c_v": ...}``) keyed like ``comparison.fits``.

    See Also
    --------
    write_topics_outputs : Writes the model, factors and topics of the result.
    compare_with_sklearn : The comparison it runs.
    nmfkit.topics.coherence : The NPMI and C_V scores.

    Examples
    --------
    Six sentences, two topics, no report:

    >>> from nmfkit.apps import run_topics
    >>> from nmfkit.datasets import vectorize_texts
    >>> texts = ["the goal of the match", "a late goal wins the match",
    ...          "the vote on the law", "the law passes after a vote",
    ...          "the match ends in a draw", "a new law and a new vote"]
    >>> corpus = vectorize_texts(texts, min_df=1)
    >>> result = run_topics(corpus, None, n_words=3, n_components=2, max_iter=30,
    ...                     curves=False)
    >>> [sorted(words) for words in result.words["nmfkit"]]
    [['law', 'passes', 'vote'], ['goal', 'late', 'match']]
    >>> result.header[-2:]
    ('mean NPMI', 'mean C_V')
    """
    settings = {**TOPICS_DEFAULTS, **options}
    X = corpus.data
    comparison = compare_with_sklearn(X, progress=progress, **settings)
    if progress is not None:
        progress.step("scoring topic coherence")
    words, weights, scores = score_topics(comparison, corpus, n_words)
    if report is not None:
        add_topics_report(
            report, corpus, comparison, words, weights, scores,
            progress=progress, prefix=prefix,
        )  # fmt: skip
    rows_out = summary_rows(comparison)
    extra = [
        (float(np.nanmean(scores[k]["c_npmi"])), float(np.nanmean(scores[k]["c_v"])))
        for k in comparison.fits
    ]
    return Bunch(
        comparison=comparison,
        rows=[r + e for r, e in zip(rows_out, extra, strict=True)],
        header=SUMMARY_HEADER + ("mean NPMI", "mean C_V"),
        words=words,
        coherence=scores,
        settings=settings,
        n_words=n_words,
    )


def add_topics_report(
    report, corpus, comparison, words, weights, scores, *, progress=None,
    prefix="topics",
):  # fmt: skip
    """Add the topics sections and figures of a comparison to ``report``."""
    X = corpus.data
    facts = {
        "source": corpus.get("description", "texts"),
        "matrix": f"{X.shape[0]} documents x {X.shape[1]} terms "
        f"({corpus.method}, {X.nnz} non-zeros)",
        "documents skipped": len(corpus.get("skipped", [])),
    }
    results = add_comparison_sections(report, prefix, "Topics", comparison, facts)
    results.table(
        [
            (
                comparison.fits[k].label,
                float(np.nanmean(s["c_npmi"])),
                float(np.nanmean(s["c_v"])),
            )
            for k, s in scores.items()
        ],
        header=("model", "mean NPMI", "mean C_V"),
        caption="Topic coherence (window 10 for NPMI, 110 for C_V)",
        key=f"{prefix}-coherence",
    )
    if progress is not None:
        progress.step("drawing the topics figures")
    add_topics_sections(
        report, prefix, comparison, corpus, words, weights, scores, n_documents=15
    )


def write_topics_outputs(outputs, corpus, result, *, folder=""):
    """Write nmfkit's model and topics of :func:`run_topics` into ``outputs``.

    Files (under ``folder``): ``model.npz``; ``W`` and ``H`` as ``.npy`` and
    CSV (rows of W: the document ids; columns of H: the vocabulary);
    ``document_topics.csv`` (each document's dominant topic and topic shares,
    ``W`` rows divided by their sums); ``top_words.csv`` (topic, position,
    word, weight in H); ``coherence.csv`` (NPMI and C_V per topic, with its
    top words); ``topics.json`` (the comparison table, settings, notes).

    Parameters
    ----------
    outputs : OutputSet or Subfolder
        Where to write.
    corpus : Bunch
        The corpus given to :func:`run_topics` (``data``, ``doc_ids``,
        ``vocabulary``).
    result : Bunch
        What :func:`run_topics` returned; gets ``notes`` (the convergence
        warnings written to ``topics.json``).
    folder : str, default=""
        The folder inside ``outputs`` (``""``: its top).

    Returns
    -------
    files : list of str
        The files written, relative to the output set.

    See Also
    --------
    run_topics : Makes ``result``.
    OutputSet : The all-or-nothing folder.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from nmfkit.apps import OutputSet, write_topics_outputs
    >>> from nmfkit.apps import run_topics
    >>> from nmfkit.datasets import vectorize_texts
    >>> texts = ["the goal of the match", "a late goal wins the match",
    ...          "the vote on the law", "the law passes after a vote",
    ...          "the match ends in a draw", "a new law and a new vote"]
    >>> corpus = vectorize_texts(texts, min_df=1)
    >>> result = run_topics(corpus, None, n_words=3, n_components=2, max_iter=30,
    ...                     curves=False)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> with OutputSet(pathlib.Path(tmp.name) / "topics") as out:
    ...     files = write_topics_outputs(out, corpus, result)
    >>> files[5:]
    ['document_topics.csv', 'top_words.csv', 'coherence.csv', 'topics.json']
    >>> tmp.cleanup()
    """
    comparison, settings = result.comparison, result.settings
    record = comparison.fits["nmfkit"]
    X = corpus.data
    sub = outputs.subfolder(folder)
    names = component_names(record.H.shape[0], kind="topic")
    write_factors(
        sub,
        record.W,
        record.H,
        row_names=corpus.doc_ids,
        column_names=[str(v) for v in corpus.vocabulary],
        components=names,
        corner="document",
    )
    sub.save_model("model.npz", model_from_record(record))
    topics, shares = dominant_topics(record.W, n_topics=1)
    totals = record.W.sum(axis=1, keepdims=True)
    share = np.divide(record.W, totals, out=np.zeros_like(record.W), where=totals > 0)
    sub.write_rows_csv(
        "document_topics.csv",
        ["document", "dominant_topic", *(f"share_{n}" for n in names)],
        [
            (doc, names[t] if t >= 0 else "", *row)
            for doc, t, row in zip(
                corpus.doc_ids, topics[:, 0].tolist(), share.tolist(), strict=True
            )
        ],
    )
    words, weights = top_words(record.H, corpus.vocabulary, result.n_words)
    sub.write_rows_csv(
        "top_words.csv",
        ["topic", "position", "word", "weight"],
        [
            (names[k], j + 1, word, float(weights[k, j]))
            for k, topic in enumerate(words)
            for j, word in enumerate(topic)
        ],
    )
    scores = result.coherence["nmfkit"]
    sub.write_rows_csv(
        "coherence.csv",
        ["topic", "npmi", "c_v", "top_words"],
        [
            (names[k], json_safe(scores["c_npmi"][k]), json_safe(scores["c_v"][k]),
             " ".join(words[k]))
            for k in range(len(names))
        ],
    )  # fmt: skip
    notes = [
        note
        for r in comparison.fits.values()
        if (note := convergence_note(r.label, r.n_iter, settings["max_iter"],
                                     settings["tol"], r.history))
    ]  # fmt: skip
    sub.write_json(
        "topics.json",
        {
            "source": corpus.get("description", "texts"),
            "shape": list(X.shape),
            "settings": settings,
            "table": {
                "header": list(result.header),
                "rows": [[json_safe(v) for v in row] for row in result.rows],
            },
            "documents_skipped": [list(map(str, s)) for s in corpus.get("skipped", [])],
            "warnings": notes,
        },
    )
    result.notes = notes
    return sub.files
