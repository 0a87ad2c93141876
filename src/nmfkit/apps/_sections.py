"""Report sections and terminal lines shared by the applications.

Section builders take a :class:`~nmfkit.report.Report` (or one of its
sections) and the results, and add titled tables and figures with stable
``data-section``/``data-table``/``data-figure`` keys. Every number goes
through :func:`~nmfkit.report.format_number`; every model is scored on the
comparison's shared penalized objective; components are sorted by their
share of the reconstruction (:func:`~nmfkit.plotting.component_shares`) and
labelled with their index in ``H``.
"""

from __future__ import annotations

import numpy as np

from ..report._format import format_number

__all__ = [
    "OBJECTIVE_TEXT",
    "SUMMARY_HEADER",
    "add_comparison_sections",
    "add_faces_figures",
    "add_fit_sections",
    "add_model_figures",
    "add_output_files",
    "add_result_files",
    "add_summary_files",
    "add_topics_sections",
    "format_summary",
    "score_topics",
    "summary_rows",
    "topic_coherence_rows",
]

SUMMARY_HEADER = (
    "model",
    "||X - WH||_F",
    "objective",
    "seconds",
    "iterations",
    "zeros in W %",
    "matched cosine mean",
    "matched cosine min",
)

#: The shared objective, as the reports write it.
OBJECTIVE_TEXT = "1/2 ||X - WH||_F^2 + lambda ||W||_1 + mu/2 ||W||_F^2 + nu/2 ||H||_F^2"


def summary_rows(comparison):
    """Rows of :data:`SUMMARY_HEADER`, one per fitted model."""
    rows = []
    for key, record in comparison.fits.items():
        if key in comparison.matches:
            sims = comparison.matches[key][2]
            mean, low = float(np.mean(sims)), float(np.min(sims))
        else:
            mean = low = "reference"
        rows.append(
            (
                record.label,
                record.reconstruction_error,
                record.objective,
                record.seconds,
                record.n_iter,
                100 * record.zero_share,
                mean,
                low,
            )
        )
    return rows


def format_summary(title, rows, header=SUMMARY_HEADER, *, digits=4):
    """A plain-text table for the terminal, numbers by ``format_number``.

    Parameters
    ----------
    title : str
        The first line.
    rows : sequence of sequences
        One row per model, in the order of ``header``; text is kept as is.
    header : sequence of str, default=SUMMARY_HEADER
        The column names (those of :func:`summary_rows` by default).
    digits : int, default=4
        Significant digits of the numbers
        (:func:`nmfkit.report.format_number`).

    Returns
    -------
    text : str
        The title, the header, a rule and one line per row; the first column
        left-aligned, the others right-aligned.

    Raises
    ------
    ValueError
        ``digits`` is not an integer in [1, 17].

    See Also
    --------
    format_table : A table that splits into blocks to fit the terminal.
    Comparison.summary_rows : Rows for this table.

    Examples
    --------
    >>> from nmfkit.apps import format_summary
    >>> rows = [("nmfkit", 0.123456, 12, "reference")]
    >>> header = ("model", "error", "iterations", "match")
    >>> print(format_summary("Faces", rows, header=header))
    Faces
    model    error  iterations      match
    ------  ------  ----------  ---------
    nmfkit  0.1235          12  reference
    """
    table = [tuple(header)] + [
        tuple(format_number(v, digits) for v in row) for row in rows
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [title]
    for n, row in enumerate(table):
        lines.append(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def add_comparison_sections(report, prefix, title, comparison, data_facts):
    """Add the data, parameters and results sections; return the results section."""
    report.section(f"{title}: data", key=f"{prefix}-data").definitions(
        data_facts, key=f"{prefix}-data"
    )
    p = comparison.penalties
    params = dict(comparison.settings)
    params.update(
        {
            "lambda (l1_W, nmfkit)": p.l1_W,
            "mu (l2_W, nmfkit)": p.l2_W,
            "nu (l2_H, nmfkit)": p.l2_H,
            "objective": OBJECTIVE_TEXT,
            "scikit-learn": "NMF(solver='mu', init='custom', no penalty), "
            "same W0 and H0",
        }
    )
    report.section(f"{title}: parameters", key=f"{prefix}-parameters").definitions(
        params, key=f"{prefix}-parameters"
    )
    results = report.section(f"{title}: timings and objective", key=f"{prefix}-results")
    results.text(
        "Every model is scored on the same penalized objective, "
        f"{OBJECTIVE_TEXT}, with the lambda, mu and nu above (scikit-learn's "
        "fit and the check minimize it without penalties, so they score "
        "higher on it). The matched cosine compares each dictionary with "
        "scikit-learn's after pairing components one to one (Hungarian "
        "matching). Hover a number for its full value."
    )
    results.table(
        summary_rows(comparison),
        header=SUMMARY_HEADER,
        key=f"{prefix}-summary",
        decimals={"zeros in W %": 2},
    )
    return results


def _convergence_caption(comparison):
    notes = "; ".join(
        f"{r.label}: {r.curve_note}" for r in comparison.fits.values() if r.curve_note
    )
    return (
        "Every model's penalized objective (the one in the table above) against "
        f"iterations and seconds. {notes}."
    )


def add_model_figures(section, prefix, comparison):
    """Convergence (every model on the shared objective) and code sparsity."""
    from ..plotting import plot_code_sparsity, plot_convergence

    curves = {r.label: r.curve for r in comparison.fits.values() if r.curve is not None}
    if curves:
        section.figure(
            plot_convergence(curves, ylabel="penalized objective"),
            caption=_convergence_caption(comparison),
            key=f"{prefix}-convergence",
        )
    else:
        section.text(
            "No convergence curve could be drawn: " + _convergence_caption(comparison)
        )
    section.figure(
        plot_code_sparsity({r.label: r.W for r in comparison.fits.values()}),
        caption="Sparsity of the codes (rows of W), one panel per model on shared "
        "axes: Hoyer's measure is 0 when a sample uses all components equally "
        "and 1 when it uses one; the dashed line is the median.",
        key=f"{prefix}-sparsity",
    )


def add_result_files(report, files, *, title="Result files", key="files"):
    """Add a section of links to the result files written with the report.

    Parameters
    ----------
    report : Report
        The report to add the section to.
    files : iterable of (path, description)
        Paths as the command writes them; the links are relative to the
        report's folder when it is written.
    title, key : str
        The section's title and its ``data-section`` (and ``data-table``)
        key.

    Returns
    -------
    section : Section
        The new section.

    See Also
    --------
    nmfkit.report.Section.files : The table of links it adds.
    OutputSet.written_path : Where a file of an output set is before commit.

    Examples
    --------
    >>> from nmfkit.report import Report
    >>> from nmfkit.apps import add_result_files
    >>> report = Report("A run")
    >>> _ = add_result_files(report, [("W.npy", "the codes")])
    >>> html = report.render()
    >>> 'data-section="files"' in html, 'href="W.npy"' in html
    (True, True)
    """
    section = report.section(title, key=key)
    section.text(
        "The results, written beside this report (the links are relative, so "
        "move the folder as a whole)."
    )
    section.files(files, key=key)
    return section


#: What each result file holds, for the report's links (by name or folder).
FILE_DESCRIPTIONS = {
    "model.npz": "the fitted model (nmfkit.load reads it)",
    "W.npy": "codes W (samples x components), NumPy",
    "H.npy": "dictionary H (components x features), NumPy",
    "W.csv": "codes W with the sample and component names",
    "H.csv": "dictionary H with the component and feature names",
    "fit.json": "what ran (solver, init), the objective, the iterations",
    "faces.json": "the comparison table, the settings and the warnings",
    "topics.json": "the comparison table, the settings and the warnings",
    "document_topics.csv": "each document's dominant topic and topic shares",
    "top_words.csv": "top words of each topic with their weights in H",
    "coherence.csv": "NPMI and C_V of each topic",
    "predictions.csv": "the predicted rating of every held-out pair",
    "recommendations.csv": "the top unseen items of each user, with titles and "
    "the tastes that drive them",
    "recommendations.json": "the same, with each driving taste and its top items",
    "biases.csv": "the mean rating and every user's and item's bias",
    "ratings.json": "the candidates, what was chosen, the held-out errors and "
    "the warnings",
    "rank.csv": "the measures of every candidate rank",
    "rank.json": "the measures, the chosen rank and the settings",
    "templates.csv": "the templates, one column each",
    "templates.npy": "the templates (components x frequencies or time points)",
    "activations.csv": "the activations, one column per template",
    "activations.npy": "the activations (frames or recordings x templates)",
    "reconstruction.csv": "each recording's reconstruction",
    "reconstruction.npy": "the reconstructions (recordings x time points)",
    "summary.json": "the settings, the fit and the files",
    "components/": "each component as a PNG image",
    "reconstructions/": "each image's reconstruction W H as a PNG image",
}


def add_summary_files(report, outputs, names, *, title="Result files", key="files"):
    """Links to the top-level ``names`` a command listed in its JSON summary."""
    rows = [
        (outputs.written_path(name), FILE_DESCRIPTIONS[name])
        for name in names
        if name in FILE_DESCRIPTIONS
    ]
    return add_result_files(report, rows, title=title, key=key)


def add_output_files(report, outputs, files, *, title, key):
    """Links to the files an application wrote into an output set.

    Parameters
    ----------
    report : Report
    outputs : OutputSet or Subfolder
        The set the files were written into (not committed yet: the links are
        made from where the files are now, relative to the report beside them).
    files : sequence of str
        Names relative to the set (``faces/W.npy``, as ``Subfolder.files``
        gives them); the files of a subfolder
        get one link, to the folder, with their count.
    title, key : str

    Returns
    -------
    section : Section
    """
    outputs = outputs.root
    rows, folders = [], {}  # folder -> its row's index and file count
    for name in files:
        folder, _, base = name.rpartition("/")
        kind = folder.rpartition("/")[2] + "/"
        if folder and kind in FILE_DESCRIPTIONS:
            index, count = folders.get(folder, (len(rows), 0))
            if count == 0:
                rows.append(None)
            folders[folder] = (index, count + 1)
            rows[index] = (
                outputs.written_path(folder),
                f"{FILE_DESCRIPTIONS[kind]} ({count + 1} files)",
            )
            continue
        text = FILE_DESCRIPTIONS.get(base)
        if text is None and base.endswith(".wav"):
            text = "a separated source (WAV, float32)"
        rows.append((outputs.written_path(name), text or ""))
    return add_result_files(report, rows, title=title, key=key)


def _matched_by_share(comparison, key, shares):
    """The pairs of fit ``key`` with scikit-learn's, heaviest component first."""
    order, rows, sims = comparison.matches[key]
    by_share = np.argsort(-shares[rows], kind="stable")
    return order[by_share], rows[by_share], sims[by_share]


def add_faces_figures(report, prefix, comparison, images):
    """The faces figures section, components sorted by share and labelled.

    Parameters
    ----------
    report : Report
    prefix : str
        Section and figure keys start with it (``"faces"``).
    comparison : Comparison
    images : Bunch
        ``data``, ``image_shape`` and ``sample_names``, from an image loader.

    Returns
    -------
    section : Section
        Figures ``{prefix}-samples``, ``-matched``, ``-components``,
        ``-reconstructions``, ``-convergence`` and ``-sparsity``.
    """
    from ..plotting import (
        component_shares,
        plot_components,
        plot_gallery,
        plot_matched_components,
        plot_reconstructions,
    )

    figures = report.section("Faces: figures", key=f"{prefix}-figures")
    X, shape = images.data, images.image_shape
    fit, reference = comparison.fits["nmfkit"], comparison.fits["sklearn"]
    shares = component_shares(fit.W, fit.H)
    order, rows, sims = _matched_by_share(comparison, "nmfkit", shares)
    n = min(16, X.shape[0])
    figures.figure(
        plot_gallery(X[:n], shape, titles=list(images.sample_names[:n])),
        caption=f"The first {n} images",
        key=f"{prefix}-samples",
    )
    figures.figure(
        plot_matched_components(
            fit.H,
            reference.H,
            shape,
            order,
            sims,
            rows=rows,
            shares=shares,
            labels=("nmfkit", "sklearn"),
        ),
        caption="nmfkit's components (top rows, with their share of the "
        "reconstruction, heaviest first) above their matched scikit-learn "
        "components (with the cosine similarity of the pair)",
        key=f"{prefix}-matched",
    )
    figures.figure(
        plot_components(fit.W, fit.H, shape, title="nmfkit components"),
        caption="nmfkit's dictionary (rows of H as images), heaviest first: each "
        "label gives the row of H and its share of the reconstruction W H",
        key=f"{prefix}-components",
    )
    figures.figure(
        plot_reconstructions(
            X, fit.W @ fit.H, shape, names=list(images.sample_names[:8])
        ),
        caption="Originals (top) and nmfkit's reconstructions W H (below)",
        key=f"{prefix}-reconstructions",
    )
    add_model_figures(figures, prefix, comparison)
    return figures


def score_topics(comparison, corpus, n_words=10):
    """Top words and per-topic coherence (NPMI, C_V) of every fit.

    Parameters
    ----------
    comparison : Comparison
    corpus : Bunch
        ``vocabulary`` and ``tokens``, from
        :func:`nmfkit.datasets.vectorize_texts`.
    n_words : int, default=10

    Returns
    -------
    words, weights, scores : dict keyed like ``comparison.fits``
        :func:`nmfkit.topics.top_words` of each fit, and
        ``scores[fit] = {"c_npmi": ..., "c_v": ...}``, one value per topic
        (NaN for a topic with fewer than two words of non-zero weight).
    """
    from ..topics import coherence, top_words

    words, weights, scores = {}, {}, {}
    for key, record in comparison.fits.items():
        words[key], weights[key] = top_words(record.H, corpus.vocabulary, n_words)
        scored = [i for i, w in enumerate(words[key]) if len(w) >= 2]
        per = {m: np.full(len(words[key]), np.nan) for m in ("c_npmi", "c_v")}
        if scored:
            kept = [words[key][i] for i in scored]
            for m in per:
                per[m][scored] = coherence(kept, corpus.tokens, m)
        scores[key] = per
    return words, weights, scores


def topic_coherence_rows(comparison, words, scores):
    """Per-topic coherence of nmfkit's topics beside their scikit-learn match.

    Parameters
    ----------
    comparison : Comparison
    words : dict of str to list of list of str
        Top words of each fit, keyed like ``comparison.fits``.
    scores : dict of str to dict of str to ndarray
        ``scores[fit]["c_npmi"]`` and ``["c_v"]``: one value per topic.

    Returns
    -------
    header : tuple of str
        The column names.
    rows : list of tuple
        One row per nmfkit topic, heaviest first: topic, share %, top words,
        NPMI, C_V, matched scikit-learn topic, its NPMI and C_V, cosine.

    See Also
    --------
    score_topics : The words and scores it reads.
    run_topics : The topics command that shows the table.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.apps import compare_with_sklearn, topic_coherence_rows
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((12, 2)) @ rng.random((2, 6))
    >>> comparison = compare_with_sklearn(X, n_components=2, max_iter=20,
    ...                                   check=False, curves=False)
    >>> topics = [["goal", "match"], ["vote", "law"]]
    >>> words = {"nmfkit": topics, "sklearn": topics}
    >>> per_topic = {"c_npmi": np.array([0.5, 0.25]), "c_v": np.array([0.75, 0.5])}
    >>> scores = {"nmfkit": per_topic, "sklearn": per_topic}
    >>> header, rows = topic_coherence_rows(comparison, words, scores)
    >>> header[:5]
    ('topic', 'share %', 'nmfkit top words', 'NPMI', 'C_V')
    >>> [(row[0], row[2], row[5]) for row in rows]
    [(0, 'goal match', '0: goal match'), (1, 'vote law', '1: vote law')]
    """
    from ..plotting import component_shares

    fit = comparison.fits["nmfkit"]
    shares = component_shares(fit.W, fit.H)
    order, rows, sims = _matched_by_share(comparison, "nmfkit", shares)
    pairs = zip(order.tolist(), sims.tolist(), strict=True)
    partner = dict(zip(rows.tolist(), pairs, strict=True))
    header = (
        "topic",
        "share %",
        "nmfkit top words",
        "NPMI",
        "C_V",
        "matched scikit-learn topic",
        "its NPMI",
        "its C_V",
        "cosine",
    )
    table = []
    for k in np.argsort(-shares, kind="stable").tolist():
        j, cosine = partner.get(k, (None, float("nan")))
        table.append(
            (
                k,
                100 * float(shares[k]),
                " ".join(words["nmfkit"][k]),
                float(scores["nmfkit"]["c_npmi"][k]),
                float(scores["nmfkit"]["c_v"][k]),
                "" if j is None else f"{j}: {' '.join(words['sklearn'][j])}",
                float("nan") if j is None else float(scores["sklearn"]["c_npmi"][j]),
                float("nan") if j is None else float(scores["sklearn"]["c_v"][j]),
                cosine,
            )
        )
    return header, table


def add_topics_sections(
    report, prefix, comparison, corpus, words, weights, scores, *, n_documents=15
):
    """The topics' words, coherence and figures sections.

    Parameters
    ----------
    report : Report
    prefix : str
        Keys start with it (``"topics"``).
    comparison : Comparison
    corpus : Bunch
        ``doc_ids`` and ``texts`` of the documents.
    words, weights : dict of str to (list of list of str), ndarray
        :func:`nmfkit.topics.top_words` of each fit, keyed like
        ``comparison.fits``.
    scores : dict of str to dict of str to ndarray
        Per-topic ``"c_npmi"`` and ``"c_v"`` of each fit.
    n_documents : int, default=15
        Documents in the dominant-topics table.

    Returns
    -------
    words_section, figures_section : Section
        Tables ``{prefix}-top-words`` and ``{prefix}-dominant``; figures
        ``{prefix}-words-nmfkit``, ``-words-sklearn``, ``-coherence``,
        ``-convergence`` and ``-sparsity``.
    """
    from ..plotting import (
        component_shares,
        plot_top_words,
        plot_topic_coherence,
    )
    from ..topics import dominant_topics

    fit = comparison.fits["nmfkit"]
    shares = component_shares(fit.W, fit.H)
    ranked = np.argsort(-shares, kind="stable").tolist()
    header, rows = topic_coherence_rows(comparison, words, scores)
    section = report.section("Topics: top words", key=f"{prefix}-words")
    section.text(
        "nmfkit's topics, heaviest first (share: the topic's part of the "
        "reconstruction W H), with the coherence of their top words (NPMI over "
        "windows of 10 tokens, C_V over windows of 110; higher is more "
        "coherent) beside the scikit-learn topic matched to each."
    )
    section.table(
        rows,
        header=header,
        key=f"{prefix}-top-words",
        decimals={h: 3 for h in ("NPMI", "C_V", "its NPMI", "its C_V", "cosine")}
        | {"share %": 2},
    )
    topics, topic_shares = dominant_topics(fit.W, n_topics=2)
    n_docs = min(n_documents, fit.W.shape[0])
    second = topics.shape[1] > 1
    section.table(
        [
            (
                corpus.doc_ids[d],
                _snippet(corpus.texts[d]),
                int(topics[d, 0]),
                100 * float(topic_shares[d, 0]),
                int(topics[d, 1]) if second else -1,
                100 * float(topic_shares[d, 1]) if second else 0.0,
            )
            for d in range(n_docs)
        ],
        header=("document", "text", "top topic", "share %", "second topic", "share %"),
        caption=f"Dominant topics of the first {n_docs} documents (nmfkit)",
        key=f"{prefix}-dominant",
        decimals={"share %": 1},
    )
    figures = report.section("Topics: figures", key=f"{prefix}-figures")
    labels = [f"topic {k} · {format_number(100 * shares[k], 2)}%" for k in ranked]
    figures.figure(
        plot_top_words(
            words["nmfkit"],
            weights["nmfkit"],
            topics=ranked,
            labels=labels,
            title="nmfkit topics, heaviest first",
        ),
        caption="Top words of nmfkit's topics, heaviest topic first; bars are the "
        "words' weights in H",
        key=f"{prefix}-words-nmfkit",
    )
    order, matched_rows, sims = _matched_by_share(comparison, "nmfkit", shares)
    figures.figure(
        plot_top_words(
            words["sklearn"],
            weights["sklearn"],
            topics=order.tolist(),
            labels=[
                f"topic {j} ↔ {k} · cos {format_number(float(c), 3)}"
                for j, k, c in zip(order, matched_rows, sims, strict=True)
            ],
            title="scikit-learn topics, matched to nmfkit's (same order)",
        ),
        caption="Top words of scikit-learn's topics in the order of their nmfkit "
        "partners (each title: scikit-learn topic ↔ nmfkit topic, cosine)",
        key=f"{prefix}-words-sklearn",
    )
    figures.figure(
        plot_topic_coherence(
            {m: np.asarray(scores["nmfkit"][m])[ranked] for m in ("c_npmi", "c_v")},
            labels=labels,
            title="Coherence of nmfkit's topics",
        ),
        caption="Coherence of each nmfkit topic, heaviest first (dashed: the mean "
        "over the topics)",
        key=f"{prefix}-coherence",
    )
    add_model_figures(figures, prefix, comparison)
    return section, figures


def _snippet(text, length=90):
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


#: Parameters a fit's report always lists (the others only when not default).
_KEY_PARAMETERS = (
    "n_components",
    "solver",
    "beta_loss",
    "init",
    "max_iter",
    "tol",
    "random_state",
    "l1_W",
    "l2_W",
    "l1_H",
    "l2_H",
)


def _parameter_rows(model, ran):
    params = model.get_params()
    defaults = type(model)().get_params()
    shown = {}
    for name in _KEY_PARAMETERS:
        if name in params:
            shown[name] = params[name]
    for name, value in params.items():
        if name not in shown and _differs(value, defaults.get(name)):
            shown[name] = value
    for name, value in (ran or {}).items():
        asked = "auto" if params.get(name) is None else params.get(name)
        if name in params and str(asked) != str(value):
            shown[name] = f"{value} (asked: {asked})"
        else:
            shown[name] = value
    return {k: ("None" if v is None else v) for k, v in shown.items()}, params


def _differs(a, b):
    try:
        return bool(a != b)
    except (TypeError, ValueError):  # arrays
        return True


def add_fit_sections(
    report,
    X,
    W,
    model,
    *,
    source,
    seconds,
    notes=(),
    ran=None,
    files=(),
    sample_names=None,
    feature_names=None,
):
    """The sections of ``nmfkit fit``'s report.

    Data; the parameters that matter (the main ones, those changed from the
    defaults and what actually ran; every parameter folded below); the
    results with formatted numbers; links to the result files; heatmaps of
    W and H with components sorted by share; convergence and code sparsity.

    Parameters
    ----------
    report : Report
    X : ndarray or sparse matrix
        The data that was fitted.
    W : ndarray of shape (n_samples, n_components)
    model : NMF
        The fitted model (``components_``, ``history_``, ``loss_``...).
    source : str
        Where X came from (a file name).
    seconds : float
        Wall time of the fit.
    notes : sequence of str, default=()
        Warnings raised by the fit.
    ran : dict, default=None
        What ran where the parameters left a choice (``{"solver": "cd",
        "init": "nndsvda"}``), shown in place of the requested values.
    files : sequence of (path, description), default=()
        Result files written beside the report, linked from it.
    sample_names, feature_names : sequence of str, default=None
        Row and column names, for the heatmaps' ticks.

    Returns
    -------
    report : Report
    """
    from ..plotting import (
        component_shares,
        plot_code_sparsity,
        plot_convergence,
        plot_factor_heatmaps,
    )
    from ..sparsity import zero_share

    H = model.components_
    report.section("Data", key="data").definitions(
        {
            "file": str(source),
            "shape": f"{X.shape[0]} x {X.shape[1]}",
            "sparse": bool(hasattr(X, "nnz")),
        },
        key="data",
    )
    shown, every = _parameter_rows(model, ran)
    parameters = report.section("Parameters", key="parameters")
    parameters.definitions(shown, key="parameters")
    parameters.details(f"All {len(every)} parameters", every, key="all-parameters")
    results = report.section("Results", key="results")
    fit_name = (
        "||X - WH||_F"
        if model.get_params().get("beta_loss", "frobenius") in ("frobenius", 2, 2.0)
        else "sqrt(2 D_beta(X | WH))"
    )
    results.definitions(
        {
            "objective (loss_)": float(model.loss_),
            fit_name: float(model.reconstruction_err_),
            "iterations": int(model.n_iter_),
            "seconds": float(seconds),
            "zeros in W %": 100 * zero_share(W),
            "zeros in H %": 100 * zero_share(H),
            "warnings": "; ".join(notes) or "none",
        },
        key="results",
    )
    shares = component_shares(W, H)
    results.table(
        [(k, 100 * float(shares[k])) for k in np.argsort(-shares, kind="stable")],
        header=("component", "share of W H %"),
        caption="Components, heaviest first",
        key="components",
        decimals={"share of W H %": 2},
    )
    if files:
        add_result_files(report, files)
    figures = report.section("Figures", key="figures")
    figures.figure(
        plot_factor_heatmaps(
            W, H, sample_names=sample_names, feature_names=feature_names
        ),
        caption="W (codes) and H (dictionary), components heaviest first, each "
        "divided by its maximum (the share gives its weight); samples and "
        "features grouped by their heaviest component",
        key="factors",
    )
    figures.figure(
        plot_convergence({"nmfkit": model}, ylabel="objective (loss_)"),
        caption="The objective against iterations and seconds (the model's history_)",
        key="convergence",
    )
    figures.figure(
        plot_code_sparsity({"nmfkit": W}),
        caption="Sparsity of the codes (rows of W)",
        key="sparsity",
    )
    return report
