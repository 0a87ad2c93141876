"""The factors themselves: each component's weight and heatmaps of W and H."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

import numpy as np

from ..report._format import format_number
from ._figure import new_figure, number_ticks
from ._validate import as_factor_pair, check_positive_int

__all__ = ["component_order", "component_shares", "plot_factor_heatmaps"]


def component_shares(W: ArrayLike, H: ArrayLike) -> np.ndarray:
    """Each component's share of the reconstruction ``W H``.

    Component ``k`` contributes the rank-one matrix ``W[:, k] H[k]``, whose
    entries sum to ``sum(W[:, k]) * sum(H[k])``; for non-negative factors
    these contributions add up to ``sum(W H)``, so the shares are in [0, 1]
    and sum to 1. This is the weight by which reports sort components.

    Parameters
    ----------
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)

    Returns
    -------
    shares : ndarray of shape (n_components,)
        All zero when ``W H`` is zero.

    See Also
    --------
    component_order : The components sorted by these shares.

    Examples
    --------
    >>> import numpy as np
    >>> component_shares(np.array([[1.0, 0.0], [1.0, 1.0]]), np.ones((2, 3)))
    array([0.66666667, 0.33333333])
    """
    W, H = as_factor_pair(W, H)
    mass = W.sum(axis=0) * H.sum(axis=1)
    total = mass.sum()
    return mass / total if total > 0 else np.zeros_like(mass)


def component_order(W: ArrayLike, H: ArrayLike) -> np.ndarray:
    """Components heaviest first (by :func:`component_shares`, ties by index).

    Parameters
    ----------
    W : ndarray of shape (n_samples, n_components)
        The codes.
    H : ndarray of shape (n_components, n_features)
        The dictionary.

    Returns
    -------
    order : ndarray of int of shape (n_components,)
        Component indices, largest share first.

    See Also
    --------
    component_shares : Each component's share of ``W H``.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.plotting import component_order
    >>> W = np.array([[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]])
    >>> component_order(W, np.ones((3, 2))).tolist()
    [2, 0, 1]
    """
    return np.argsort(-component_shares(W, H), kind="stable")


def _grouped(M, axis, limit):
    """Order the lines of ``M`` along ``axis`` by their heaviest component.

    Lines (rows of W, columns of H) are grouped by the component where they
    are largest, in component order, heaviest first within a group. Beyond
    ``limit`` lines, consecutive ones are averaged into ``limit`` bands.
    Returns ``(matrix, order, band)``: ``band`` lines per drawn line (1 when
    none are averaged).
    """
    lines = M if axis == 0 else M.T  # one line per row
    order = np.lexsort((-lines.max(axis=1), lines.argmax(axis=1)))
    lines = lines[order]
    band = 1
    if lines.shape[0] > limit:
        groups = np.array_split(np.arange(lines.shape[0]), limit)
        band = int(np.ceil(lines.shape[0] / limit))
        lines = np.stack([lines[g].mean(axis=0) for g in groups])
    return (lines if axis == 0 else lines.T), order, band


def _names_ticks(ax, axis, names, order, limit):
    setter = ax.set_yticks if axis == "y" else ax.set_xticks
    if names is None or len(order) > limit:
        setter([])
        return
    labels = [str(names[i]) for i in order]
    if axis == "y":
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
    else:
        ax.set_xticks(range(len(labels)), labels, fontsize=8, rotation=90)


def _check_names(names, n, what):
    if names is not None and len(names) != n:
        raise ValueError(f"{len(names)} {what} names for {n} {what}s; give one each.")


def plot_factor_heatmaps(
    W: ArrayLike,
    H: ArrayLike,
    *,
    sample_names: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
    max_rows: int = 150,
    max_columns: int = 400,
    scale: str = "component",
    title: str | None = None,
) -> Figure:
    """Heatmaps of ``W`` (left) and ``H`` (right), components heaviest first.

    Components are sorted by :func:`component_shares` and labelled with
    their index and share. The rows of ``W`` (samples) and the columns of
    ``H`` (features) are grouped by their heaviest component, so a clean
    parts-based factorization shows as blocks; beyond ``max_rows`` rows or
    ``max_columns`` columns, consecutive lines are averaged into bands (the
    axis label says how many per band).

    NMF leaves the scale of each component free (``W[:, k] * c`` and
    ``H[k] / c`` give the same ``W H``), so by default each column of ``W``
    and each row of ``H`` is divided by its maximum: every component is
    visible whatever its scale, and its weight is in its label.

    Parameters
    ----------
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
    sample_names, feature_names : sequence of str, default=None
        Tick labels, drawn when at most 40 rows (60 columns) are shown.
    max_rows, max_columns : int, default=150, 400
    scale : {"component", "none"}, default="component"
        ``"component"``: each component divided by its maximum (colours in
        [0, 1]); ``"none"``: the entries as they are.
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
        Axes: W, H, then their colour bars. ``fig.component_order``,
        ``fig.row_order`` and ``fig.column_order`` give the drawn order
        (indices into the original factors).

    Raises
    ------
    ValueError
        If ``scale`` is not ``"component"`` or ``"none"``.

    See Also
    --------
    component_order : The order of the components drawn.
    plot_components : The dictionary as images.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.plotting import plot_factor_heatmaps
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_factor_heatmaps(rng.random((12, 3)), rng.random((3, 8)))
    >>> fig.component_order.shape
    (3,)
    """
    W, H = as_factor_pair(W, H)
    max_rows = check_positive_int(max_rows, "max_rows")
    max_columns = check_positive_int(max_columns, "max_columns")
    _check_names(sample_names, W.shape[0], "sample")
    _check_names(feature_names, H.shape[1], "feature")
    if scale not in ("component", "none"):
        raise ValueError(f"scale={scale!r} is not valid; choose 'component' or 'none'.")
    shares = component_shares(W, H)
    components = np.argsort(-shares, kind="stable")
    W, H = W[:, components], H[components]
    if scale == "component":
        W = W / np.where(W.max(axis=0) > 0, W.max(axis=0), 1.0)
        H = H / np.where(H.max(axis=1) > 0, H.max(axis=1), 1.0)[:, None]
    W_drawn, rows, row_band = _grouped(W, 0, max_rows)
    H_drawn, columns, column_band = _grouped(H, 1, max_columns)
    k = len(components)
    fig = new_figure(11.0, max(3.6, min(8.0, 0.22 * W_drawn.shape[0] + 1.6)))
    grid = fig.add_gridspec(1, 2, width_ratios=(max(1.2, 0.3 * k), 4.0))
    ax_W, ax_H = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    component_labels = [
        f"{c} · {format_number(100 * shares[c], 2)}%" for c in components
    ]
    for ax, M, name in ((ax_W, W_drawn, "W"), (ax_H, H_drawn, "H")):
        limits = dict(vmin=0.0, vmax=1.0) if scale == "component" else {}
        image = ax.imshow(
            M, aspect="auto", cmap="viridis", interpolation="nearest", **limits
        )
        bar = fig.colorbar(image, ax=ax, shrink=0.9, pad=0.02)
        bar.set_label(
            f"entry of {name} / its component's maximum"
            if scale == "component"
            else f"entry of {name}",
            fontsize=9,
        )
        bar.ax.tick_params(labelsize=8)
        number_ticks(bar.ax.yaxis, n_ticks=5)
    ax_W.set_xticks(range(k), component_labels, fontsize=8, rotation=90)
    ax_W.set_xlabel("component · share (heaviest first)", fontsize=9)
    ax_H.set_yticks(range(k), component_labels, fontsize=8)
    ax_H.set_ylabel("component · share", fontsize=9)
    if row_band > 1:
        ax_W.set_yticks([])
        ax_W.set_ylabel(
            f"{W.shape[0]} samples by heaviest component\n(means of {row_band} a row)",
            fontsize=9,
        )
    else:
        _names_ticks(ax_W, "y", sample_names, rows, 40)
        ax_W.set_ylabel(f"{W.shape[0]} samples, by heaviest component", fontsize=9)
    if column_band > 1:
        ax_H.set_xticks([])
        ax_H.set_xlabel(
            f"{H.shape[1]} features, by heaviest component (means of "
            f"{column_band} a column)",
            fontsize=9,
        )
    else:
        _names_ticks(ax_H, "x", feature_names, columns, 60)
        ax_H.set_xlabel(f"{H.shape[1]} features, by heaviest component", fontsize=9)
    ax_W.set_title("W (codes)", fontsize=10)
    ax_H.set_title("H (dictionary)", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.component_order, fig.row_order, fig.column_order = components, rows, columns
    return fig
