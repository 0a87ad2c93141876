"""Pictures of image data: component galleries, reconstructions, matched pairs."""

from __future__ import annotations

import math

import numpy as np

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


def _show(ax, image, title=None):
    top = image.max()
    ax.imshow(
        image,
        cmap="gray",
        vmin=0.0,
        vmax=top if top > 0 else 1.0,
        interpolation="nearest",
    )
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def plot_gallery(rows, image_shape, *, titles=None, n_cols=None, title=None, size=1.3):
    """A grid of images, one per row of ``rows`` (components or samples).

    Parameters
    ----------
    rows : ndarray of shape (n_images, height * width)
    image_shape : (int, int)
    titles : list of str, default=None
    n_cols : int, default=None
        About square when None.
    title : str, default=None
    size : float, default=1.3
        Inches per image.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    images = _as_images(rows, image_shape)
    n = len(images)
    n_cols = n_cols or max(1, math.ceil(math.sqrt(n)))
    n_rows = max(1, math.ceil(n / n_cols))
    fig = new_figure(size * n_cols, size * n_rows + (0.4 if title else 0))
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < n:
            _show(ax, images[i], titles[i] if titles else None)
        else:
            ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


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
    fig = new_figure(1.3 * n, 3.0)
    axes = fig.subplots(2, n, squeeze=False)
    for i in range(n):
        label = names[i] if names else f"#{i}"
        _show(axes[0, i], originals[i], label)
        _show(axes[1, i], np.clip(rebuilt[i], 0, None), "rebuilt")
    if title:
        fig.suptitle(title)
    return fig


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
        titled with its cosine similarity.
    """
    A = _as_images(A, image_shape)
    B = _as_images(B, image_shape)
    rows = np.arange(len(order)) if rows is None else np.asarray(rows)
    n = len(order)
    n_cols = min(n, 8)
    n_blocks = math.ceil(n / n_cols)
    fig = new_figure(1.3 * n_cols, 2.7 * n_blocks + 0.4)
    axes = fig.subplots(2 * n_blocks, n_cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        block, col = divmod(i, n_cols)
        top, bottom = axes[2 * block, col], axes[2 * block + 1, col]
        top.axis("on")
        bottom.axis("on")
        _show(top, A[rows[i]], f"{labels[0]} {rows[i]}")
        _show(bottom, B[order[i]], f"{labels[1]} {order[i]}: {similarities[i]:.3f}")
    fig.suptitle(title or f"{labels[0]} (top) and matched {labels[1]} (below), cosine")
    return fig
