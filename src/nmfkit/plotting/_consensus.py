"""Charts of consensus NMF: stability and error against the rank, densities."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..consensus import ConsensusFactors, ConsensusSelection

import numpy as np

from ._figure import new_figure

__all__ = ["plot_consensus_stability", "plot_local_density"]


def _check_consensus(selection):
    if not all(hasattr(selection, a) for a in ("ranks", "factors", "best_rank")):
        raise TypeError(
            "expected a ConsensusSelection (from nmfkit.consensus.consensus_nmf), "
            f"got {type(selection).__name__}."
        )
    if not selection.ranks:
        raise ValueError("this consensus selection has no ranks; nothing to plot.")
    return selection


def plot_consensus_stability(
    selection: ConsensusSelection, *, title: str | None = None
) -> Figure:
    """Stability (silhouette) and reconstruction error against the rank.

    cNMF's rank-selection chart (Kotliar et al. 2019): the left panel is the
    silhouette of the clustering of each rank's pooled components, the right
    one the reconstruction error of its consensus model. A dashed vertical
    line marks ``selection.best_rank`` on both.

    Parameters
    ----------
    selection : ConsensusSelection
        From :func:`nmfkit.consensus.consensus_nmf`.
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
        Two axes, labelled (``ax.get_label()``) ``"silhouette"`` and
        ``"reconstruction_error"``.

    Raises
    ------
    TypeError
        When ``selection`` is not a consensus selection.

    See Also
    --------
    nmfkit.consensus.consensus_nmf : Computes the scores.
    plot_rank_scores : The measures of :func:`nmfkit.select_rank`.

    Examples
    --------
    >>> from nmfkit.consensus import consensus_nmf, make_planted_programs
    >>> from nmfkit.plotting import plot_consensus_stability
    >>> X = make_planted_programs(60, 30, 3, random_state=0).X
    >>> selection = consensus_nmf(X, [2, 3], n_replicates=4, random_state=0)
    >>> fig = plot_consensus_stability(selection)
    >>> [ax.get_label() for ax in fig.axes]
    ['silhouette', 'reconstruction_error']
    """
    ranks = np.asarray(_check_consensus(selection).ranks)
    fig = new_figure(7.0, 2.8)
    axes = fig.subplots(1, 2)
    panels = (
        ("silhouette", "stability", "silhouette score"),
        ("reconstruction_error", "consensus model's error", "||X - WH||"),
    )
    for ax, (name, panel_title, ylabel) in zip(axes, panels, strict=True):
        values = [getattr(selection.factors[r], name) for r in selection.ranks]
        ax.set_label(name)
        ax.plot(ranks, values, marker="o")
        ax.axvline(selection.best_rank, color="tab:red", linestyle="--", linewidth=1)
        ax.set_title(f"{panel_title} (chosen: {selection.best_rank})", fontsize=9)
        ax.set_xlabel("rank")
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_xticks(ranks)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def plot_local_density(
    factors: ConsensusFactors,
    density_threshold: float,
    *,
    bins: int = 30,
    title: str | None = None,
) -> Figure:
    """Histogram of the local densities of one rank's pooled components.

    The components right of the dashed threshold were dropped before the
    clustering: a clear gap between a mass near 0 and a few far ones is the
    sign of a well-chosen threshold.

    Parameters
    ----------
    factors : ConsensusFactors
        ``selection[rank]`` from :func:`nmfkit.consensus.consensus_nmf`.
    density_threshold : float
        The threshold used (``selection.density_threshold``).
    bins : int, default=30
        Bins of the histogram.
    title : str, default=None
        Title of the figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
        One axes: the histogram and the threshold, titled with the number of
        dropped components.

    Raises
    ------
    TypeError
        When ``factors`` has no local densities.

    See Also
    --------
    nmfkit.consensus.consensus_nmf : Computes the densities.
    plot_consensus_stability : The scores of every rank.

    Examples
    --------
    >>> from nmfkit.consensus import consensus_nmf, make_planted_programs
    >>> from nmfkit.plotting import plot_local_density
    >>> X = make_planted_programs(60, 30, 3, random_state=0).X
    >>> selection = consensus_nmf(X, [3], n_replicates=4, random_state=0)
    >>> factors = selection[3]
    >>> fig = plot_local_density(factors, selection.density_threshold, bins=10)
    >>> ax = fig.axes[0]
    >>> ax.get_title() == f"rank 3: {factors.n_dropped} of 12 dropped"
    True
    >>> int(sum(patch.get_height() for patch in ax.patches))  # every pooled component
    12
    """
    if not hasattr(factors, "density") or not hasattr(factors, "rank"):
        raise TypeError(
            "expected a ConsensusFactors (selection[rank] of consensus_nmf), got "
            f"{type(factors).__name__}."
        )
    fig = new_figure(4.0, 2.8)
    ax = fig.subplots()
    ax.hist(np.asarray(factors.density), bins=bins, color="tab:blue")
    ax.axvline(density_threshold, color="tab:red", linestyle="--", linewidth=1)
    ax.set_xlabel("local density (mean distance to the nearest neighbours)")
    ax.set_ylabel("components")
    ax.set_title(
        f"rank {factors.rank}: {factors.n_dropped} of {factors.density.size} dropped",
        fontsize=9,
    )
    ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig
