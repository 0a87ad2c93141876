"""Pictures of image data: component galleries, reconstructions, matched pairs.

Images are tiled into one mosaic drawn by a single ``imshow`` (each tile
scaled to its own maximum), which keeps even large galleries quick to render.
"""

from __future__ import annotations

import math

import numpy as np

from .._optional import import_optional
from ._figure import new_figure

__all__ = ["plot_gallery", "plot_matched_components", "plot_reconstructions"]


def _as_images(rows, image_shape):
    rows = np.asarray(rows, dtype=np.float64)
    h, w = image_shape
    if rows.ndim != 2 or rows.shape[1] != h * w:
        raise ValueError(
            f"rows of shape {rows.shape} cannot be shown as {h} x {w} images; "
            f"each row needs {h * w} values."
        )
    return rows.reshape(-1, h, w)


def _scaled(image):
    image = np.clip(image, 0.0, None)
    top = image.max()
    return image / top if top > 0 else image


def _tiles_figure(grid, labels, *, title=None, inches=1.3):
    """A figure of ``grid[r][c]`` (an image or None), ``labels[r][c]`` under each."""
    n_rows, n_cols = len(grid), max(len(r) for r in grid)
    h, w = next(im.shape for row in grid for im in row if im is not None)
    pad, label_h = max(1, h // 8), max(2, int(round(h * 0.3)))
    cell_h, cell_w = h + pad + label_h, w + pad
    mosaic = np.full((n_rows * cell_h + pad, n_cols * cell_w + pad), np.nan)
    width = inches * n_cols
    title_h = 0.35 if title else 0.0
    height = width * mosaic.shape[0] / mosaic.shape[1]
    fig = new_figure(width, height + title_h, layout=None)
    ax = fig.add_axes((0.0, 0.0, 1.0, height / (height + title_h)))
    for r, row in enumerate(grid):
        for c, image in enumerate(row):
            if image is None:
                continue
            top, left = r * cell_h + pad, c * cell_w + pad
            mosaic[top : top + h, left : left + w] = _scaled(image)
            label = labels[r][c] if labels else None
            if label:
                ax.text(
                    left + w / 2,
                    top + h + label_h * 0.5,
                    label,
                    ha="center",
                    va="center",
                    fontsize=7,
                )
    cmap = import_optional("matplotlib", purpose="plots").colormaps["gray"]
    cmap = cmap.with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10, y=1.0 - 0.05 * title_h / (height + title_h))
    return fig


def plot_gallery(rows, image_shape, *, titles=None, n_cols=None, title=None):
    """A grid of images, one per row of ``rows`` (components or samples).

    Parameters
    ----------
    rows : ndarray of shape (n_images, height * width)
    image_shape : (int, int)
    titles : list of str, default=None
        A label under each image.
    n_cols : int, default=None
        About square when None.
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    images = _as_images(rows, image_shape)
    n = len(images)
    n_cols = n_cols or max(1, math.ceil(math.sqrt(n)))
    n_rows = max(1, math.ceil(n / n_cols))
    grid = [[None] * n_cols for _ in range(n_rows)]
    labels = [[None] * n_cols for _ in range(n_rows)]
    for i in range(n):
        grid[i // n_cols][i % n_cols] = images[i]
        labels[i // n_cols][i % n_cols] = titles[i] if titles else None
    return _tiles_figure(grid, labels, title=title)


def plot_reconstructions(X, X_hat, image_shape, *, n_images=8, names=None, title=None):
    """Originals (top row) above their reconstructions ``W H`` (bottom row).

    Parameters
    ----------
    X : ndarray of shape (n_samples, height * width)
    X_hat : ndarray of shape (n_samples, height * width)
    image_shape : (int, int)
    n_images : int, default=8
        How many of the first samples to show.
    names : list of str, default=None
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    originals = _as_images(X, image_shape)
    rebuilt = _as_images(X_hat, image_shape)
    n = min(n_images, len(originals))
    grid = [list(originals[:n]), list(rebuilt[:n])]
    labels = [
        [names[i] if names else f"#{i}" for i in range(n)],
        ["rebuilt"] * n,
    ]
    return _tiles_figure(grid, labels, title=title)


def plot_matched_components(
    A, B, image_shape, order, similarities, *, labels=("A", "B"), rows=None, title=None
):
    """Two dictionaries side by side, component against its matched partner.

    Parameters
    ----------
    A, B : ndarray of shape (n_components, height * width)
    image_shape : (int, int)
    order, similarities : ndarray
        From :func:`nmfkit.matching.match_components`: ``B[order[i]]`` is the
        partner of ``A[rows[i]]``.
    labels : (str, str)
    rows : ndarray, default=None
        Rows of ``A`` in the pairs (``range(len(order))`` when None).
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
        Pairs in columns, ``A`` on the top row and ``B`` below, each pair
        labelled with its cosine similarity.
    """
    A = _as_images(A, image_shape)
    B = _as_images(B, image_shape)
    rows = np.arange(len(order)) if rows is None else np.asarray(rows)
    n = len(order)
    n_cols = min(n, 8)
    grid, names = [], []
    for start in range(0, n, n_cols):
        idx = range(start, min(start + n_cols, n))
        grid += [[A[rows[i]] for i in idx], [B[order[i]] for i in idx]]
        names += [
            [f"{labels[0]} {rows[i]}" for i in idx],
            [f"{labels[1]} {order[i]}: {similarities[i]:.3f}" for i in idx],
        ]
    title = title or f"{labels[0]} (top) and matched {labels[1]} (below), cosine"
    return _tiles_figure(grid, names, title=title)
