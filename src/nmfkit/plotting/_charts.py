"""Charts: topic words, topic coherence, convergence curves, code sparsity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

import math

import numpy as np

from ..report._format import format_number
from ..sparsity import hoyer_sparsity, zero_share
from ._figure import new_figure, number_ticks
from ._validate import (
    as_factor,
    check_count,
    check_positive_int,
    convergence_histories,
    labelled_matrices,
)

__all__ = [
    "plot_code_sparsity",
    "plot_convergence",
    "plot_topic_coherence",
    "plot_top_words",
]

#: Line styles that keep coinciding curves visible (solid under dashed...).
_STYLES = (
    dict(linestyle="-", linewidth=2.6, alpha=0.8),
    dict(linestyle="--", linewidth=1.8),
    dict(linestyle=":", linewidth=2.4),
    dict(linestyle="-.", linewidth=1.6),
)

_MEASURE_LABELS = {"c_npmi": "NPMI (window 10)", "c_v": "C_V (window 110)"}


def _is_matrix(value):
    if hasattr(value, "toarray"):
        return True
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return False
    return array.ndim == 2 and array.dtype.kind in "biuf"


def _words_from_matrix(H, vocabulary, n_words):
    from ..topics import top_words

    H = as_factor(H, "H")
    vocabulary = np.asarray(vocabulary)
    if vocabulary.ndim != 1 or vocabulary.dtype.kind not in "OUS":
        raise TypeError(
            "with H as first argument, the second must be the vocabulary: a "
            f"sequence of strings (got an array of shape {vocabulary.shape})."
        )
    n_terms = vocabulary.shape[0]
    if H.shape[1] != n_terms:
        if H.shape[0] == n_terms:
            raise ValueError(
                f"H has shape {H.shape}: its rows run along the {n_terms} words of "
                "the vocabulary, so it is transposed; pass H.T (n_components x "
                "n_vocabulary, as model.components_ is)."
            )
        raise ValueError(
            f"H of shape {H.shape} does not match a vocabulary of {n_terms} words; "
            "pass H as n_components x n_vocabulary (model.components_)."
        )
    return top_words(H, vocabulary, n_words)


def _check_words(words, weights):
    if isinstance(words, str) or not all(
        isinstance(w, (list, tuple, np.ndarray)) and all(isinstance(t, str) for t in w)
        for w in words
    ):
        raise TypeError(
            "words must be a list of lists of strings (from nmfkit.topics."
            "top_words), or pass H and the vocabulary: plot_top_words(H, vocabulary)."
        )
    weights = as_factor(weights, "weights")
    longest = max((len(w) for w in words), default=0)
    if weights.shape[0] != len(words) or weights.shape[1] < longest:
        raise ValueError(
            f"weights of shape {weights.shape} do not match {len(words)} topics of "
            f"up to {longest} words; give one row of weights per topic."
        )
    return [list(w) for w in words], weights


def plot_top_words(
    words: Sequence[Sequence[str]],
    weights: ArrayLike,
    *,
    n_words: int = 10,
    topics: Sequence[int] | None = None,
    labels: Sequence[str] | None = None,
    n_cols: int = 5,
    title: str | None = None,
    xlabel: str = "weight in H",
    max_topics: int = 40,
) -> Figure:
    """One horizontal bar chart per topic: its top words and their weights.

    Parameters
    ----------
    words : list of list of str, or ndarray of shape (n_topics, n_vocabulary)
        The top words of each topic (from :func:`nmfkit.topics.top_words`),
        or the dictionary ``H`` itself (``model.components_``).
    weights : ndarray of shape (n_topics, n_words), or sequence of str
        The words' weights, or the vocabulary when ``words`` is ``H``.
    n_words : int, default=10
        Words per topic when ``H`` is given.
    topics : sequence of int, default=None
        Topics to draw, in this order (all when None), for example sorted by
        their share of the reconstruction.
    labels : sequence of str, default=None
        A title for each topic drawn (``"topic k"`` when None).
    n_cols : int, default=5
    title : str, default=None
    xlabel : str, default="weight in H"
    max_topics : int, default=40
        Largest number of panels; more raise an error instead of a figure of
        hundreds of megapixels.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When ``H`` is transposed (its rows along the vocabulary), when shapes
        disagree, or when more than ``max_topics`` topics would be drawn.
    TypeError
        When ``words`` is neither lists of strings nor a numeric matrix.

    See Also
    --------
    nmfkit.topics.top_words : The words and weights to plot.
    plot_topic_coherence : The coherence of every topic.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.plotting import plot_top_words
    >>> words = [["cat", "dog"], ["apple", "pear"]]
    >>> fig = plot_top_words(words, np.array([[2.0, 1.0], [3.0, 1.0]]))
    >>> len(fig.axes)  # one bar chart per topic
    2
    """
    n_words = check_positive_int(n_words, "n_words")
    check_count(n_words, 50, "words per topic", "pass n_words <= 50")
    if _is_matrix(words):
        words, weights = _words_from_matrix(words, weights, n_words)
    else:
        words, weights = _check_words(words, weights)
    topics = list(range(len(words))) if topics is None else [int(k) for k in topics]
    if any(not 0 <= k < len(words) for k in topics):
        raise ValueError(
            f"topics={topics} holds indices outside [0, {len(words)}); give topic "
            "numbers of this model."
        )
    check_count(
        len(topics),
        max_topics,
        "topics",
        "pass topics=[...] to choose some (or raise max_topics); if H came from "
        "a transposed matrix, pass H as n_components x n_vocabulary",
    )
    if labels is not None and len(labels) != len(topics):
        raise ValueError(
            f"{len(labels)} labels for {len(topics)} topics; give one label per topic."
        )
    n = len(topics)
    n_cols = max(1, min(check_positive_int(n_cols, "n_cols"), n))
    n_rows = max(1, math.ceil(n / n_cols))
    longest = max((len(words[k]) for k in topics), default=1)
    fig = new_figure(2.9 * n_cols, (0.24 * max(longest, 1) + 0.95) * n_rows + 0.3)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for position, ax in enumerate(axes.flat):
        if position >= n:
            ax.axis("off")
            continue
        k = topics[position]
        topic_words = words[k]
        values = weights[k, : len(topic_words)]
        ax.barh(range(len(topic_words)), values, color="tab:blue")
        ax.set_yticks(range(len(topic_words)), topic_words, fontsize=9)
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelsize=8)
        number_ticks(ax.xaxis, n_ticks=3)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_title(labels[position] if labels else f"topic {k}", fontsize=10)
    if title:
        fig.suptitle(title)
    return fig


def plot_topic_coherence(
    scores: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    max_topics: int = 100,
) -> Figure:
    """The coherence of every topic: one horizontal bar chart per measure.

    Parameters
    ----------
    scores : dict of str to ndarray of shape (n_topics,)
        A measure's name (``"c_npmi"``, ``"c_v"`` or any) to one value per
        topic, NaN where a topic could not be scored.
    labels : sequence of str, default=None
        One label per topic (``"topic k"`` when None), in the order of the
        values.
    title : str, default=None
    max_topics : int, default=100

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axis per measure; a dashed line marks the mean over the scored
        topics, and unscored topics are marked ``n/a``.

    Raises
    ------
    TypeError
        If ``scores`` is not a non-empty dict.
    ValueError
        If the measures score different numbers of topics, a score is not
        one value per topic or is infinite, or ``labels`` does not give one
        label per topic.

    See Also
    --------
    nmfkit.topics.coherence : The scores to plot.
    plot_top_words : The top words of every topic.

    Examples
    --------
    >>> from nmfkit.plotting import plot_topic_coherence
    >>> scores = {"c_npmi": [0.1, 0.3, -0.05], "c_v": [0.5, 0.6, 0.4]}
    >>> fig = plot_topic_coherence(scores)
    >>> len(fig.axes)  # one panel per measure
    2
    """
    if not isinstance(scores, dict) or not scores:
        raise TypeError(
            "scores must be a non-empty dict of measure name to one value per topic."
        )
    values = {}
    for name, v in scores.items():
        v = np.asarray(v, dtype=np.float64)
        if v.ndim != 1 or v.size == 0:
            raise ValueError(
                f"scores[{name!r}] must hold one value per topic, got shape {v.shape}."
            )
        if np.isinf(v).any():
            raise ValueError(f"scores[{name!r}] has infinite values.")
        values[str(name)] = v
    sizes = {v.size for v in values.values()}
    if len(sizes) != 1:
        raise ValueError(
            f"the measures score different numbers of topics ({sorted(sizes)}); give "
            "every measure one value per topic."
        )
    n = sizes.pop()
    check_count(n, max_topics, "topics", "pass a subset of the topics")
    if labels is None:
        labels = [f"topic {k}" for k in range(n)]
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} topics; give one per topic.")
    fig = new_figure(3.6 * len(values) + 0.6, 0.28 * n + 1.3)
    axes = fig.subplots(1, len(values), squeeze=False, sharey=True)[0]
    for ax, (name, v) in zip(axes, values.items(), strict=True):
        scored = np.isfinite(v)
        ax.barh(np.arange(n), np.where(scored, v, 0.0), color="tab:green")
        for k in np.flatnonzero(~scored):
            ax.text(0, k, " n/a", va="center", fontsize=8, color="tab:gray")
        if scored.any():
            mean = float(v[scored].mean())
            ax.axvline(
                mean,
                color="tab:red",
                linestyle="--",
                linewidth=1,
                label=f"mean {format_number(mean, 3)}",
            )
            ax.legend(fontsize=8, loc="lower right")
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_xlabel(_MEASURE_LABELS.get(name, name))
        ax.tick_params(labelsize=8)
        number_ticks(ax.xaxis, n_ticks=4)
        ax.grid(True, axis="x", alpha=0.3)
    axes[0].set_yticks(np.arange(n), labels, fontsize=9)
    axes[0].invert_yaxis()
    if title:
        fig.suptitle(title)
    return fig


def _objective_axis(ax, low, high, log, ylabel):
    if log is None:
        log = low > 0 and high > 30 * low
    if log:
        ax.set_yscale("log")
    number_ticks(ax.yaxis, n_ticks=6, log_range=(low, high) if log else None)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)


def _zoom_axis(ax, curves, start, ylabel):
    """The curves from iteration ``start`` on, on a linear axis fitted to them."""
    tails = [rows[rows[:, 0] >= start, 2] for rows in curves.values()]
    tails = np.concatenate([t for t in tails if t.size])
    low, high = float(tails.min()), float(tails.max())
    pad = 0.08 * (high - low) if high > low else 0.01 * max(abs(high), 1e-12)
    ax.set_xlim(start, max(float(rows[-1, 0]) for rows in curves.values()))
    ax.set_ylim(low - pad, high + pad)
    ax.set_title(f"from iteration {int(start)} on (zoomed)", fontsize=9)
    _objective_axis(ax, low, high, False, ylabel)


def plot_convergence(
    histories: Any,
    *,
    title: str | None = None,
    ylabel: str = "objective",
    log: bool | None = None,
    zoom: bool = True,
) -> Figure:
    """The objective against iterations and seconds, and a zoom on the end.

    Parameters
    ----------
    histories : estimator, ndarray, sequence or dict of str to either
        A fitted nmfkit estimator (its ``history_``, else its
        ``loss_curve_``), a history (rows ``(iteration, seconds,
        objective)``) or a loss curve (one objective per iteration), a list
        of those, or a dict of label to those.
    title : str, default=None
    ylabel : str, default="objective"
        Name the objective the curves show (all must show the same one).
    log : bool, default=None
        Logarithmic objective axis on the first two panels; when None, used
        when the values span more than a factor of 30.
    zoom : bool, default=True
        Add a panel of the second half of the iterations on a linear axis
        fitted to it, where the final values of close curves can be told
        apart (only when the longest run has at least 10 iterations).

    Returns
    -------
    fig : matplotlib.figure.Figure
        Axes: against iterations; against seconds, when at least one history
        has seconds; the zoom. The legend (first axis) gives each curve's
        last value; curves of at most 60 points (recomputed at some
        iterations only) are drawn with markers.

    Raises
    ------
    ValueError
        For an unfitted model, a model that records no objective, a history
        of the wrong shape or with non-finite objectives.

    See Also
    --------
    nmfkit.NMF : Its ``history_`` attribute is what is plotted.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import NMF
    >>> from nmfkit.plotting import plot_convergence
    >>> X = np.random.default_rng(0).random((10, 6))
    >>> model = NMF(2, max_iter=50, random_state=0).fit(X)
    >>> fig = plot_convergence({"HALS": model})
    >>> len(fig.axes)  # against iterations, against seconds, and the zoom
    3
    """
    curves = convergence_histories(histories)
    timed = [k for k, rows in curves.items() if np.isfinite(rows[:, 1]).all()]
    last = max(float(rows[-1, 0]) for rows in curves.values())
    zoom = bool(zoom) and last >= 10
    kinds = ["iteration"] + (["seconds"] if timed else []) + (["zoom"] if zoom else [])
    fig = new_figure(4.2 * len(kinds), 3.8)
    axes = dict(zip(kinds, fig.subplots(1, len(kinds), squeeze=False)[0], strict=True))
    objectives = np.concatenate([rows[:, 2] for rows in curves.values()])
    for i, (label, rows) in enumerate(curves.items()):
        style = dict(_STYLES[i % len(_STYLES)], color=f"C{i}")
        if rows.shape[0] <= 60:
            style.update(marker="o", markersize=3.5)
        legend = f"{label}: {format_number(float(rows[-1, 2]))}"
        axes["iteration"].plot(rows[:, 0], rows[:, 2], label=legend, **style)
        if "zoom" in axes:
            axes["zoom"].plot(rows[:, 0], rows[:, 2], **style)
        if label in timed:
            axes["seconds"].plot(rows[:, 1], rows[:, 2], **style)
    for kind, ax in axes.items():
        ax.set_xlabel("seconds" if kind == "seconds" else "iteration")
        number_ticks(ax.xaxis, n_ticks=5)
        ax.tick_params(labelsize=9)
        if kind == "zoom":
            _zoom_axis(ax, curves, np.floor(last / 2), ylabel)
        else:
            _objective_axis(ax, objectives.min(), objectives.max(), log, ylabel)
    axes["iteration"].legend(fontsize=8, title="last value", title_fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_code_sparsity(
    codes: ArrayLike,
    *,
    bins: int = 20,
    n_cols: int = 4,
    title: str | None = None,
) -> Figure:
    """Histograms of the sparsity of each sample's code, one panel per model.

    Sparsity is Hoyer's measure (:func:`nmfkit.sparsity.hoyer_sparsity`):
    0 when all components are equally active, 1 when one is. Panels share
    both axes so the models compare at a glance; each title gives the
    model's share of exactly zero entries and the median sparsity (the
    dashed line).

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_components), or dict of str to one
        One model's ``W`` or a dict of label to ``W`` (at most 12).
    bins : int, default=20
    n_cols : int, default=4
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axis per model, in the order given.

    See Also
    --------
    nmfkit.sparsity.hoyer_sparsity : The sparsity of each code.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.plotting import plot_code_sparsity
    >>> rng = np.random.default_rng(0)
    >>> codes = {"nmfkit": rng.random((20, 4)), "scikit-learn": rng.random((20, 4))}
    >>> fig = plot_code_sparsity(codes)
    >>> len(fig.axes)  # one panel per model
    2
    """
    matrices = labelled_matrices(codes, "codes", limit=12)
    bins = check_positive_int(bins, "bins")
    check_count(bins, 200, "bins", "pass bins <= 200")
    n = len(matrices)
    n_cols = max(1, min(check_positive_int(n_cols, "n_cols"), n))
    n_rows = math.ceil(n / n_cols)
    fig = new_figure(3.1 * n_cols + 0.3, 2.7 * n_rows + (0.4 if title else 0.0))
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=True, sharey=True)
    edges = np.linspace(0.0, 1.0, bins + 1)
    panels = zip(axes.flat, matrices.items(), strict=False)  # spare axes at the end
    for i, (ax, (label, W)) in enumerate(panels):
        sparsity = hoyer_sparsity(W)
        median = float(np.median(sparsity))
        ax.hist(sparsity, bins=edges, color=f"C{i}")
        ax.axvline(median, color="black", linestyle="--", linewidth=1)
        ax.set_title(
            f"{label}\n{format_number(100 * zero_share(W), 3)}% zeros, "
            f"median {format_number(median, 2)}",
            fontsize=9,
        )
        ax.set_xlim(0.0, 1.0)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("Hoyer sparsity of a sample's code", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("samples", fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.remove()
    if title:
        fig.suptitle(title)
    return fig
