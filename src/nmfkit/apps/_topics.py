"""The topics application: topics of a text corpus, with their coherence."""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch

from ..topics import coherence, dominant_topics, top_words
from ._compare import compare_with_sklearn
from ._sections import (
    SUMMARY_HEADER,
    add_comparison_sections,
    add_model_figures,
    summary_rows,
)

__all__ = ["TOPICS_DEFAULTS", "run_topics"]

#: Defaults of the topics application (TF-IDF rows have unit norm).
TOPICS_DEFAULTS = dict(
    n_components=10, l1_W=0.05, l2_W=0.01, l2_H=0.01, max_iter=300, tol=1e-5
)


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
    report : nmfkit.report.Report
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
    from ..plotting import plot_top_words

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
    )
