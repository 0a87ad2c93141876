"""Set-up of a fit to partially observed data, beside the observed entries.

What :class:`~nmfkit.NMF` needs before and after a masked solver runs: the
stand-in for X that initializes the factors, the constant start of the codes,
and ``bias=True``'s two offset components (a column of ones in W whose row of
H is a per-feature offset, and a row of ones in H whose column of W is a
per-sample offset), kept fixed by the solvers and restored after a fit at unit
scale. The observed entries themselves are :mod:`nmfkit._observed`.
"""

from __future__ import annotations

import numpy as np

from ._objective import constant_start

__all__ = [
    "add_bias_components",
    "bias_layout",
    "constant_codes_observed",
    "init_matrix",
    "restore_offset_ones",
    "with_bias_layout",
]


def init_matrix(observed):
    """Stand-in for X when initializing from partially observed data.

    The observed values with zeros elsewhere, scaled by
    ``n_samples * n_features / |observed|`` so that its mean is the mean of
    the observed values (sparse; never densified).
    """
    n_samples, n_features = observed.shape
    filled = observed.zero_filled()
    if observed.nnz == n_samples * n_features:
        return filled
    scale = (n_samples * n_features) / observed.nnz
    return filled * filled.dtype.type(scale)


def constant_codes_observed(observed, n_components):
    """``sqrt(mean(observed values) / n_components)`` everywhere (MU-safe start)."""
    value = constant_start(np.mean(observed.values, dtype=np.float64), n_components)
    return np.full((observed.shape[0], n_components), value, dtype=observed.dtype)


def bias_layout(n_components):
    """Solver options keeping the ones of the offset components fixed, for
    ``n_components`` components plus the two offsets."""
    return dict(fixed_W_columns=(n_components + 1,), fixed_H_rows=(n_components,))


def add_bias_components(observed, W0, H0):
    """Append the two offset components to initial factors.

    Returns
    -------
    W0, H0 : ndarray
        With two more columns (W) and rows (H): a start of a quarter of the
        mean observed value, and the fixed ones.
    """
    start = W0.dtype.type(0.25 * float(np.mean(observed.values)))
    n_samples, n_features = observed.shape
    W0 = np.hstack(
        [
            W0,
            np.full((n_samples, 1), start, W0.dtype),
            np.ones((n_samples, 1), W0.dtype),
        ]
    )
    H0 = np.vstack(
        [
            H0,
            np.ones((1, n_features), H0.dtype),
            np.full((1, n_features), start, H0.dtype),
        ]
    )
    return W0, H0


def with_bias_layout(solver_fn):
    """``solver_fn`` keeping the ones of the two offset components (the last
    two) fixed, whatever the rank (known only from the initial factors)."""

    def solve(X, W, H, penalties, **options):
        return solver_fn(X, W, H, penalties, **bias_layout(W.shape[1] - 2), **options)

    return solve


def restore_offset_ones(W, H):
    """Make the fixed columns of the offset components ones again, in place.

    A fit solved at unit scale returns them multiplied by the factor scale
    (a power of two, so the exchange below is exact and keeps ``W H``).
    """
    for column, row in ((-1, -1), (-2, -2)):
        fixed = W[:, column] if column == -1 else H[row]
        scale = fixed.dtype.type(fixed.flat[0]) if fixed.size else 1
        if scale in (0, 1):
            continue
        if column == -1:
            W[:, -1] /= scale
            H[-1] *= scale
        else:
            H[-2] /= scale
            W[:, -2] *= scale
