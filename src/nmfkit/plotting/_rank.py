"""Charts of a rank selection: each measure against the rank, consensus maps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .._rank import RankSelection

import math

import numpy as np

from .._quality import consensus_order
from ._figure import new_figure

__all__ = ["plot_consensus_maps", "plot_rank_scores"]


def _check_selection(selection):
    if not all(hasattr(selection, a) for a in ("ranks", "scores", "best_rank")):
        raise TypeError(
            f"expected a RankSelection (from nmfkit.select_rank), got "
            f"{type(selection).__name__}."
        )
    if not selection.ranks:
        raise ValueError("this rank selection has no ranks; nothing to plot.")
    return selection


# (score names, panel title, y label, method whose chosen rank the panel marks)
_PANELS = (
    (("objective",), "objective", "objective", None),
    (("explained_variance",), "explained variance", "1 - |X - WH|² / |X|²", None),
    (("sparseness_W", "sparseness_H"), "Hoyer sparseness", "sparseness", None),
    (("cv_rmse",), "cross-validation", "RMSE on held-out entries", "cv"),
    (("cophenetic",), "cophenetic correlation", "correlation", "consensus"),
    (("dispersion",), "dispersion", "dispersion", "consensus"),
)


def plot_rank_scores(
    selection: RankSelection,
    *,
    n_cols: int = 3,
    title: str | None = None,
) -> Figure:
    """Each measure of a rank selection against the rank.

    One panel per measure present in ``selection.scores``: the objective,
    the explained variance, the Hoyer sparseness of W and H, and with the
    methods that compute them the cross-validation RMSE (error bars: one
    standard error over the folds), the cophenetic correlation and the
    dispersion. A dashed vertical line marks the rank chosen by the panel's
    method (``selection.best_rank`` on the panels that belong to no method).
    The cross-validation panel has a logarithmic axis when its errors span
    more than a factor of 20.

    Parameters
    ----------
    selection : RankSelection
        From :func:`nmfkit.select_rank`.
    n_cols : int, default=3
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``fig.axes`` in the order of the panels above; each axis's label
        (``ax.get_label()``) is the name of its first measure.

    See Also
    --------
    nmfkit.select_rank : The rank selection to plot.
    plot_consensus_maps : Its consensus matrices.

    Examples
    --------
    >>> from nmfkit import RankSelection
    >>> from nmfkit.plotting import plot_rank_scores
    >>> scores = {
    ...     r: {"objective": 10.0 / r, "explained_variance": 1 - 0.1 / r,
    ...         "sparseness_W": 0.3, "sparseness_H": 0.4}
    ...     for r in (1, 2, 3)
    ... }
    >>> selection = RankSelection([1, 2, 3], 2, {"cv": 2}, scores, ("cv",))
    >>> fig = plot_rank_scores(selection)
    >>> type(fig).__name__
    'Figure'
    """
    ranks = np.asarray(_check_selection(selection).ranks)
    first = selection.scores[selection.ranks[0]]
    panels = [p for p in _PANELS if p[0][0] in first]
    n_cols = max(1, min(n_cols, len(panels)))
    n_rows = math.ceil(len(panels) / n_cols)
    fig = new_figure(3.4 * n_cols, 2.8 * n_rows)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        names, panel_title, ylabel, method = panel
        ax.set_label(names[0])
        for name in names:
            values = np.array([selection.scores[r][name] for r in selection.ranks])
            label = name.replace("sparseness_", "") if len(names) > 1 else None
            if name == "cv_rmse":
                errors = [selection.scores[r]["cv_se"] for r in selection.ranks]
                ax.errorbar(ranks, values, yerr=errors, marker="o", capsize=3)
                if values.min() > 0 and values.max() > 20 * values.min():
                    ax.set_yscale("log")  # over-fitted ranks can predict wildly
            else:
                ax.plot(ranks, values, marker="o", label=label)
        chosen = selection.best_rank_by.get(method, selection.best_rank)
        ax.axvline(chosen, color="tab:red", linestyle="--", linewidth=1)
        ax.set_title(f"{panel_title} (chosen: {chosen})", fontsize=9)
        ax.set_xlabel("rank")
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_xticks(ranks)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
        if len(names) > 1:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels) :]:
        ax.remove()
    if title:
        fig.suptitle(title)
    return fig


def plot_consensus_maps(
    selection: RankSelection,
    *,
    ranks: Sequence[int] | None = None,
    n_cols: int = 4,
    title: str | None = None,
) -> Figure:
    """Consensus matrices as heatmaps, samples ordered by hierarchical clustering.

    Each map shows ``C[order][:, order]`` for the order of
    :func:`nmfkit._quality.consensus_order` (average linkage of ``1 - C``):
    stable clusters appear as blocks of 1 on the diagonal.

    Parameters
    ----------
    selection : RankSelection
        From :func:`nmfkit.select_rank` with ``method="consensus"``.
    ranks : sequence of int, default=None
        Ranks to show (all that have a consensus matrix when None).
    n_cols : int, default=4
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axis per rank with the map as its image, then one colour bar.

    Raises
    ------
    ValueError
        When the selection has no consensus matrix for a requested rank.

    See Also
    --------
    nmfkit.select_rank : With ``method="consensus"``, the matrices.
    plot_rank_scores : The scores against the rank.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import RankSelection
    >>> from nmfkit.plotting import plot_consensus_maps
    >>> blocks = np.kron(np.eye(2), np.ones((3, 3)))  # two stable clusters
    >>> selection = RankSelection(
    ...     [2], 2, {"consensus": 2}, {2: {"cophenetic": 1.0}}, ("consensus",),
    ...     consensus={2: blocks},
    ... )
    >>> fig = plot_consensus_maps(selection)
    >>> len(fig.axes)  # the map and its colour bar
    2
    """
    available = sorted(_check_selection(selection).consensus)
    if not available:
        raise ValueError(
            "this rank selection has no consensus matrices; run select_rank "
            "with method='consensus'."
        )
    ranks = available if ranks is None else list(ranks)
    missing = [r for r in ranks if r not in selection.consensus]
    if missing or not ranks:
        raise ValueError(
            f"no consensus matrix for ranks {missing}; available: {available}."
        )
    n_cols = max(1, min(n_cols, len(ranks)))
    n_rows = math.ceil(len(ranks) / n_cols)
    fig = new_figure(2.6 * n_cols + 0.8, 2.6 * n_rows)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    image = None
    for ax, rank in zip(axes.flat, ranks, strict=False):
        C = np.asarray(selection.consensus[rank])
        order = consensus_order(C)
        image = ax.imshow(
            C[np.ix_(order, order)],
            vmin=0.0,
            vmax=1.0,
            cmap="viridis",
            interpolation="nearest",
        )
        cophenetic = selection.scores[rank].get("cophenetic")
        label = f"rank {rank}"
        if cophenetic is not None:
            label += f"\ncophenetic {cophenetic:.3f}"
        ax.set_title(label, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(ranks) :]:
        ax.remove()
    used = list(axes.flat)[: len(ranks)]
    fig.colorbar(image, ax=used, shrink=0.8, label="consensus")
    if title:
        fig.suptitle(title)
    return fig
