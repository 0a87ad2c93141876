"""One pass over a dense X per iteration: the fused W update and ``W^T X``.

An iteration of the plain alternating solvers (W updated once per
iteration, no extrapolation) reads X twice: ``H X^T`` for the update of W,
and ``W^T X`` with the new W for the update of H. Both products are tall and
skinny; on X beyond the last-level cache each streams X from memory. The
rows of W are updated independently of each other given ``H X^T`` and
``H H^T``, so one pass can do all three: for each block of X's rows, while
the block is in cache,

1. ``P_b = H X_b^T`` (the block's columns of ``H X^T``),
2. the rule updates ``W_b^T`` from ``P_b`` and ``H H^T``,
3. ``W_b^T X_b`` is added to ``W^T X``.

The iterates are those of the two separate products up to the order of the
sums (rounding); ``tests/test_fused.py`` checks the two paths against each
other, and ``benchmarks/bench_roofline.py`` measures both.

Measured by ``benchmarks/bench_fused.py`` on this project's 2-core machine
(X of 8192 x 4096, whole fits of ``solver="mu"`` and ``"hals"``, one and two
BLAS threads; the docs quote its table): in float32 the fused pass took
0.85x to 1.03x the time of the two products at rank 10, 0.86x to 1.04x at
rank 20 and 0.95x to 1.05x at rank 50; in float64 0.94x to 1.21x. An
earlier run of the script, on a VM of the same kind with a 32 MiB L3
cache, measured 0.93x to 1.00x at rank 10 but 1.14x at rank 20 on two
threads. Fewer reads of X do not make the iteration faster here, because
OpenBLAS's skinny products are bound by their own packing and arithmetic
rather than by the memory. So :func:`fusable` takes the pass only where
both runs measured it at most 1.03x (and as low as 0.85x): complete NumPy
X, dense, C-contiguous and float32, of at least :data:`MIN_BYTES` (smaller
X stays in the cache between the two products anyway), at ranks up to
:data:`MAX_RANK`. ``NMFKIT_FUSED=0``
(read at import) turns it off, ``NMFKIT_FUSED=always`` takes it wherever it
applies (measurements, tests).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["BLOCK_BYTES", "MAX_RANK", "MIN_BYTES", "fusable", "fused_w_pass"]

#: Smaller X takes the two separate products (see the module text).
MIN_BYTES = 32 << 20
#: Higher ranks take the two separate products (see the module text).
MAX_RANK = 10
#: Rows of X per block: about this many bytes, so that the block stays in
#: the last-level cache between its two products.
BLOCK_BYTES = 8 << 20
#: ``"auto"`` (see :func:`fusable`), ``"always"`` or ``"never"``, from the
#: environment variable ``NMFKIT_FUSED`` (``1``/``0`` are auto/never).
MODE = {"0": "never", "false": "never", "never": "never", "always": "always"}.get(
    os.environ.get("NMFKIT_FUSED", "auto").strip().lower(), "auto"
)


def fusable(X: Any, rank: int) -> bool:
    """Whether :func:`fused_w_pass` serves the iterations on ``X``.

    Parameters
    ----------
    X : any
        The data.
    rank : int
        The number of components.

    Returns
    -------
    fusable : bool
        For a C-contiguous 2-D NumPy array: with :data:`MODE` ``"auto"``,
        whether X is float32, has at least :data:`MIN_BYTES` and
        ``rank <= MAX_RANK``; always with ``"always"``; never with
        ``"never"`` or for other X.
    """
    if MODE == "never" or not (
        type(X) is np.ndarray and X.ndim == 2 and X.flags.c_contiguous
    ):
        return False
    if MODE == "always":
        return True
    return X.dtype == np.float32 and X.nbytes >= MIN_BYTES and rank <= MAX_RANK


def _block_rows(X: np.ndarray) -> int:
    return max(8, BLOCK_BYTES // max(1, X.shape[1] * X.itemsize))


def fused_w_pass(
    X: np.ndarray,
    H: np.ndarray,
    Wt: np.ndarray,
    update_rows: Callable[[np.ndarray, np.ndarray], None],
) -> tuple[np.ndarray, np.ndarray]:
    """``H X^T``, the update of ``W^T`` and the new ``W^T X`` in one pass.

    Parameters
    ----------
    X : ndarray of shape (n, p), C-contiguous
    H : ndarray of shape (r, p)
        The fixed factor of W's update.
    Wt : ndarray of shape (r, n), C-contiguous
        ``W^T``, updated in place: its columns ``s:e`` are replaced by
        ``update_rows(F_b, P_b)``'s in-place update of their contiguous
        copy ``F_b`` from ``P_b = H X[s:e]^T``.
    update_rows : callable
        The rule's update of a block of W's rows (component-major), in
        place.

    Returns
    -------
    P : ndarray of shape (r, n)
        ``H X^T``, the product W's update used.
    WtX : ndarray of shape (r, p)
        ``W_new^T X``.

    Examples
    --------
    The multiplicative update of W fused with the next ``W^T X``:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X, H, Wt = rng.random((50, 7)), rng.random((2, 7)), rng.random((2, 50))
    >>> G = H @ H.T
    >>> def mu(F, P):
    ...     F *= P / (G @ F)
    >>> expected = Wt * (H @ X.T) / (G @ Wt)
    >>> P, WtX = fused_w_pass(X, H, Wt, mu)
    >>> bool(np.allclose(Wt, expected) and np.allclose(WtX, expected @ X))
    True
    """
    n, p = X.shape
    r = H.shape[0]
    dtype = np.result_type(X.dtype, H.dtype)
    P = np.empty((r, n), dtype=dtype)
    WtX = np.zeros((r, p), dtype=dtype)
    rows = _block_rows(X)
    for s in range(0, n, rows):
        e = min(n, s + rows)
        X_b = X[s:e]
        P_b = H @ X_b.T
        P[:, s:e] = P_b
        F_b = np.ascontiguousarray(Wt[:, s:e])
        update_rows(F_b, P_b)
        Wt[:, s:e] = F_b
        WtX += F_b @ X_b
    return P, WtX
