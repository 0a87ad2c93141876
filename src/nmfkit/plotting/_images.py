"""Pictures of image data: component galleries, reconstructions, matched pairs.

Images are tiled into one mosaic drawn by a single ``imshow`` (each tile
scaled to its own maximum), which keeps even large galleries quick to render.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._typing import ArrayLike

if TYPE_CHECKING:
    from matplotlib.figure import Figure

import math

import numpy as np

from .._optional import import_optional
from ..report._format import format_number
from ._factors import component_shares
from ._figure import new_figure
from ._validate import as_factor, as_factor_pair, check_count, check_positive_int

__all__ = [
    "plot_components",
    "plot_gallery",
    "plot_matched_components",
    "plot_reconstructions",
]

#: Largest number of images in one figure.
MAX_IMAGES = 256


def _image_shape(image_shape):
    try:
        h, w = (int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise TypeError(
            f"image_shape={image_shape!r} is not valid; give (height, width)."
        ) from None
    if h < 1 or w < 1 or (h, w) != tuple(image_shape):
        raise ValueError(
            f"image_shape={tuple(image_shape)!r} is not valid; give two integers >= 1."
        )
    return h, w


def _as_images(rows, image_shape, name="rows"):
    h, w = _image_shape(image_shape)
    rows = as_factor(rows, name, nonnegative=False)
    if rows.shape[1] != h * w:
        flipped = (
            f"; rows look like columns here: pass {name}.T"
            if rows.shape[0] == h * w
            else ""
        )
        raise ValueError(
            f"{name} of shape {rows.shape} cannot be shown as {h} x {w} images; "
            f"each row needs {h * w} values{flipped}."
        )
    check_count(rows.shape[0], MAX_IMAGES, "images", "pass a subset of the rows")
    return rows.reshape(-1, h, w)


def _scaled(image):
    image = np.clip(image, 0.0, None)
    top = image.max()
    return image / top if top > 0 else image


def _tiles_figure(grid, labels, *, title=None, inches=1.5):
    """A figure of ``grid[r][c]`` (an image or None), ``labels[r][c]`` under each."""
    n_rows, n_cols = len(grid), max(len(r) for r in grid)
    h, w = next(im.shape for row in grid for im in row if im is not None)
    pad, label_h = max(1, h // 8), max(3, int(round(h * 0.36)))
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
                    fontsize=9,
                )
    cmap = import_optional("matplotlib", purpose="plots").colormaps["gray"]
    cmap = cmap.with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10, y=1.0 - 0.05 * title_h / (height + title_h))
    return fig


def plot_gallery(
    rows: ArrayLike,
    image_shape: tuple[int, int],
    *,
    titles: Sequence[str] | None = None,
    n_cols: int | None = None,
    title: str | None = None,
) -> Figure:
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

    Raises
    ------
    ValueError
        If ``titles`` does not give one title per image.

    See Also
    --------
    plot_components : A model's components, heaviest first.
    plot_reconstructions : Originals above their reconstructions.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.plotting import plot_gallery
    >>> fig = plot_gallery(np.eye(4), (2, 2), titles=["a", "b", "c", "d"])
    >>> [text.get_text() for text in fig.axes[0].texts]  # drawn as one mosaic
    ['a', 'b', 'c', 'd']
    """
    images = _as_images(rows, image_shape)
    n = len(images)
    if titles is not None and len(titles) != n:
        raise ValueError(f"{len(titles)} titles for {n} images; give one per image.")
    if n_cols is None:
        n_cols = max(1, math.ceil(math.sqrt(n)))
    n_cols = min(check_positive_int(n_cols, "n_cols"), n)
    n_rows = max(1, math.ceil(n / n_cols))
    grid: list[list[Any]] = [[None] * n_cols for _ in range(n_rows)]
    labels: list[list[str | None]] = [[None] * n_cols for _ in range(n_rows)]
    for i in range(n):
        grid[i // n_cols][i % n_cols] = images[i]
        labels[i // n_cols][i % n_cols] = titles[i] if titles else None
    return _tiles_figure(grid, labels, title=title)


def plot_reconstructions(
    X: ArrayLike,
    X_hat: ArrayLike,
    image_shape: tuple[int, int],
    *,
    n_images: int = 8,
    names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
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

    Raises
    ------
    ValueError
        If ``X`` and ``X_hat`` differ in shape, or ``names`` does not give one
        name per image.

    See Also
    --------
    plot_gallery : A grid of images.
    nmfkit.NMF.inverse_transform : The reconstructions ``W H``.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.plotting import plot_reconstructions
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((3, 16))
    >>> fig = plot_reconstructions(X, 0.9 * X, (4, 4))
    >>> type(fig).__name__
    'Figure'
    """
    n_images = check_positive_int(n_images, "n_images")
    check_count(n_images, 16, "images per row", "pass n_images <= 16")
    if np.shape(X) != np.shape(X_hat):
        raise ValueError(
            f"X of shape {np.shape(X)} and X_hat of shape {np.shape(X_hat)} differ; "
            "give the reconstruction W @ H of the same rows."
        )
    originals = _as_images(X[:n_images], image_shape, "X")
    rebuilt = _as_images(X_hat[:n_images], image_shape, "X_hat")
    n = len(originals)
    if names is not None and len(names) < n:
        raise ValueError(f"{len(names)} names for {n} images; give one per image.")
    grid = [list(originals[:n]), list(rebuilt[:n])]
    labels = [
        [names[i] if names else f"#{i}" for i in range(n)],
        ["rebuilt"] * n,
    ]
    return _tiles_figure(grid, labels, title=title)


def plot_components(
    W: ArrayLike,
    H: ArrayLike,
    image_shape: tuple[int, int],
    *,
    n_cols: int | None = None,
    title: str | None = None,
    name: str = "component",
) -> Figure:
    """A model's dictionary as images, heaviest component first, labelled.

    Components are sorted by their share of the reconstruction
    (:func:`component_shares`); each is labelled with its index in ``H``
    and that share.

    Parameters
    ----------
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, height * width)
    image_shape : (int, int)
    n_cols : int, default=None
        About square when None.
    title : str, default=None
    name : str, default="component"
        Word in front of each index.

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``fig.order`` holds the rows of ``H`` in the order drawn.

    See Also
    --------
    plot_gallery : Any images in a grid.
    plot_matched_components : Two dictionaries, matched pair by pair.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.plotting import plot_components
    >>> rng = np.random.default_rng(0)
    >>> W, H = rng.random((10, 4)), rng.random((4, 16))
    >>> fig = plot_components(W, H, (4, 4))  # four 4 x 4 images, largest share first
    >>> type(fig).__name__
    'Figure'
    """
    W, H = as_factor_pair(W, H)
    shares = component_shares(W, H)
    order = np.argsort(-shares, kind="stable")
    titles = [f"{name} {k} · {format_number(100 * shares[k], 2)}%" for k in order]
    fig = plot_gallery(H[order], image_shape, titles=titles, n_cols=n_cols, title=title)
    fig.order = order  # type: ignore[attr-defined]
    return fig


def _check_pairs(A, B, order, similarities, rows):
    order = np.asarray(order)
    similarities = np.asarray(similarities, dtype=np.float64)
    rows = np.arange(len(order)) if rows is None else np.asarray(rows)
    if not (order.ndim == similarities.ndim == rows.ndim == 1) or not (
        len(order) == len(similarities) == len(rows)
    ):
        raise ValueError(
            f"order, similarities and rows must be 1-D of one length, got "
            f"{order.shape}, {similarities.shape} and {rows.shape}; pass the "
            "output of nmfkit.matching.match_components."
        )
    for label, idx, n in (("rows", rows, len(A)), ("order", order, len(B))):
        if idx.size and (idx.dtype.kind not in "iu" or idx.min() < 0 or idx.max() >= n):
            raise ValueError(
                f"{label} must hold component indices in [0, {n}); pass the output "
                "of nmfkit.matching.match_components."
            )
    check_count(len(order), 64, "pairs", "pass a subset of the pairs")
    return order, similarities, rows


def plot_matched_components(
    A: ArrayLike,
    B: ArrayLike,
    image_shape: tuple[int, int],
    order: ArrayLike,
    similarities: ArrayLike,
    *,
    labels: tuple[str, str] = ("A", "B"),
    rows: Sequence[int] | None = None,
    shares: ArrayLike | None = None,
    title: str | None = None,
) -> Figure:
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
        Rows of ``A`` in the pairs (``range(len(order))`` when None), in the
        order drawn (for example heaviest first).
    shares : ndarray of shape (n_components,), default=None
        Each row of ``A``'s share of its reconstruction, added to its label.
    title : str, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
        Pairs in columns, ``A`` on the top row and ``B`` below, each pair
        labelled with its cosine similarity.

    Raises
    ------
    ValueError
        If ``shares`` does not give one share per row of ``A``.

    See Also
    --------
    nmfkit.matching.match_components : The pairs and similarities.
    plot_components : One dictionary as images.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.matching import match_components
    >>> from nmfkit.plotting import plot_matched_components
    >>> A = np.eye(4)
    >>> order, rows, similarities = match_components(A, A[::-1])
    >>> fig = plot_matched_components(A, A[::-1], (2, 2), order, similarities)
    >>> order.tolist()
    [3, 2, 1, 0]
    """
    A = _as_images(A, image_shape, "A")
    B = _as_images(B, image_shape, "B")
    order, similarities, rows = _check_pairs(A, B, order, similarities, rows)
    if shares is not None:
        shares = np.asarray(shares, dtype=np.float64)
        if shares.shape != (len(A),):
            raise ValueError(
                f"shares of shape {shares.shape}: give one share per row of A "
                f"({len(A)})."
            )
    n = len(order)
    n_cols = min(n, 8)
    grid, names = [], []
    for start in range(0, n, n_cols):
        idx = range(start, min(start + n_cols, n))
        grid += [[A[rows[i]] for i in idx], [B[order[i]] for i in idx]]
        names += [
            [
                f"{labels[0]} {rows[i]}"
                + (
                    f" · {format_number(100 * shares[rows[i]], 2)}%"
                    if shares is not None
                    else ""
                )
                for i in idx
            ],
            [f"{labels[1]} {order[i]} · cos {similarities[i]:.3f}" for i in idx],
        ]
    title = title or f"{labels[0]} (top) and matched {labels[1]} (below)"
    return _tiles_figure(grid, names, title=title)
