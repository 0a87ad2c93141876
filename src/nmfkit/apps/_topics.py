"""The topics application: topics of a text corpus, with their coherence."""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch

from ..topics import coherence, dominant_topics, top_words
from ._compare import compare_with_sklearn
from ._defaults import TOPICS_DEFAULTS
from ._notes import convergence_note
from ._results import component_names, json_safe, model_from_record, write_factors
from ._sections import (
    SUMMARY_HEADER,
    add_comparison_sections,
    add_model_figures,
    summary_rows,
)

__all__ = ["TOPICS_DEFAULTS", "run_topics", "write_topics_outputs"]


def _snippet(text, length=90):
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


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
    prefix : str, default="topics"
    **options
        Overrides of :data:`TOPICS_DEFAULTS` and the other arguments of
        :func:`compare_with_sklearn`.

    Returns
    -------
    result : Bunch
        ``comparison``; ``rows`` and ``header`` of the terminal table (with
        each model's mean NPMI and C_V); ``words`` and ``coherence``
        (``{"c_npmi": ..., "c_v": ...}``) keyed like ``comparison.fits``.
    """
    settings = {**TOPICS_DEFAULTS, **options}
    X = corpus.data
    comparison = compare_with_sklearn(X, progress=progress, **settings)
    if progress is not None:
        progress.step("scoring topic coherence")
    words, weights, scores = {}, {}, {}
    for key, record in comparison.fits.items():
        words[key], weights[key] = top_words(record.H, corpus.vocabulary, n_words)
        usable = [w if len(w) >= 2 else None for w in words[key]]
        kept = [w for w in usable if w is not None]
        per = {m: np.full(len(usable), np.nan) for m in ("c_npmi", "c_v")}
        if kept:
            idx = [i for i, w in enumerate(usable) if w is not None]
            for m in per:
                per[m][idx] = coherence(kept, corpus.tokens, m)
        scores[key] = per
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
    from ..plotting import plot_top_words

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
    order, rows, sims = comparison.matches["nmfkit"]
    partner = dict(zip(rows.tolist(), order.tolist(), strict=True))
    similarity = dict(zip(rows.tolist(), sims.tolist(), strict=True))
    table = report.section("Topics: top words", key=f"{prefix}-words")
    table.table(
        [
            (
                k,
                " ".join(words["nmfkit"][k]),
                scores["nmfkit"]["c_npmi"][k],
                scores["nmfkit"]["c_v"][k],
                " ".join(words["sklearn"][partner[k]]) if k in partner else "",
                similarity.get(k, float("nan")),
            )
            for k in range(len(words["nmfkit"]))
        ],
        header=(
            "topic",
            "nmfkit top words",
            "NPMI",
            "C_V",
            "matched scikit-learn topic",
            "cosine",
        ),
        key=f"{prefix}-top-words",
    )
    W = comparison.fits["nmfkit"].W
    topics, shares = dominant_topics(W, n_topics=2)
    n_docs = min(15, W.shape[0])
    table.table(
        [
            (
                corpus.doc_ids[d],
                _snippet(corpus.texts[d]),
                int(topics[d, 0]),
                float(shares[d, 0]),
                int(topics[d, 1]) if topics.shape[1] > 1 else -1,
                float(shares[d, 1]) if shares.shape[1] > 1 else 0.0,
            )
            for d in range(n_docs)
        ],
        header=("document", "text", "top topic", "share", "second topic", "share"),
        caption=f"Dominant topics of the first {n_docs} documents (nmfkit)",
        key=f"{prefix}-dominant",
    )
    figures = report.section("Topics: figures", key=f"{prefix}-figures")
    figures.figure(
        plot_top_words(words["nmfkit"], weights["nmfkit"], title="nmfkit topics"),
        caption="Top words of nmfkit's topics",
        key=f"{prefix}-words-nmfkit",
    )
    matched = [partner[k] for k in sorted(partner)]
    figures.figure(
        plot_top_words(
            [words["sklearn"][j] for j in matched],
            weights["sklearn"][matched],
            title="scikit-learn topics, in nmfkit's order",
        ),
        caption="Top words of scikit-learn's matched topics",
        key=f"{prefix}-words-sklearn",
    )
    add_model_figures(figures, prefix, comparison)


def write_topics_outputs(outputs, corpus, result, *, folder=""):
    """Write nmfkit's model and topics of :func:`run_topics` into ``outputs``.

    Files (under ``folder``): ``model.npz``; ``W`` and ``H`` as ``.npy`` and
    CSV (rows of W: the document ids; columns of H: the vocabulary);
    ``document_topics.csv`` (each document's dominant topic and topic shares,
    ``W`` rows divided by their sums); ``top_words.csv`` (topic, position,
    word, weight in H); ``coherence.csv`` (NPMI and C_V per topic, with its
    top words); ``topics.json`` (the comparison table, settings, notes).

    Returns
    -------
    files : list of str
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
    sub.save_model(
        "model.npz", model_from_record(record, X, settings, comparison.penalties)
    )
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
