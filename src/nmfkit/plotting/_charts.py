"""Charts: topic words, convergence curves, code sparsity."""

from __future__ import annotations

import math

import numpy as np

from ..sparsity import hoyer_sparsity, zero_share
from ._figure import new_figure

__all__ = ["plot_code_sparsity", "plot_convergence", "plot_top_words"]


def plot_top_words(words, weights, *, n_cols=5, title=None):
    """One horizontal bar chart per topic: its top words and their weights.

    Parameters
    ----------
    words : list of list of str
    weights : ndarray of shape (n_topics, n_words)
        From :func:`nmfkit.topics.top_words`.
    n_cols : int, default=5
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    n = len(words)
    n_cols = max(1, min(n_cols, n))
    n_rows = max(1, math.ceil(n / n_cols))
    n_words = max((len(w) for w in words), default=1)
    fig = new_figure(2.6 * n_cols, 0.25 * n_words * n_rows + 0.8 * n_rows)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        topic_words = words[k]
        values = np.asarray(weights[k][: len(topic_words)])
        ax.barh(range(len(topic_words)), values, color="tab:blue")
        ax.set_yticks(range(len(topic_words)), topic_words, fontsize=8)
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(f"topic {k}", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plot_convergence(histories, *, title=None):
    """Objective against iterations (left) and seconds (right).

    Parameters
    ----------
    histories : dict of str to ndarray of shape (n, 3)
        Label to rows ``(iteration, seconds, objective)``, an estimator's
        ``history_``.
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    fig = new_figure(9.0, 3.4)
    by_iter, by_time = fig.subplots(1, 2)
    for label, history in histories.items():
        history = np.asarray(history, dtype=np.float64)
        by_iter.plot(history[:, 0], history[:, 2], label=label)
        by_time.plot(history[:, 1], history[:, 2], label=label)
    for ax, xlabel in ((by_iter, "iteration"), (by_time, "seconds")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel("objective")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_code_sparsity(codes, *, bins=20, title=None):
    """Histograms of the sparsity of each sample's code (rows of ``W``).

    Sparsity is Hoyer's measure (:func:`nmfkit.sparsity.hoyer_sparsity`):
    0 when all components are equally active, 1 when one is. The legend
    gives each model's share of exactly zero entries.

    Parameters
    ----------
    codes : dict of str to ndarray of shape (n_samples, n_components)
    bins : int, default=20
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    fig = new_figure(6.0, 3.4)
    ax = fig.subplots()
    edges = np.linspace(0.0, 1.0, bins + 1)
    for label, W in codes.items():
        ax.hist(
            hoyer_sparsity(W),
            bins=edges,
            alpha=0.55,
            label=f"{label} ({100 * zero_share(W):.1f}% zeros)",
        )
    ax.set_xlabel("Hoyer sparsity of a sample's code")
    ax.set_ylabel("samples")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig
