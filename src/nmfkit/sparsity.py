"""Sparsity of codes and components."""

from __future__ import annotations

import numpy as np

from ._typing import ArrayLike

__all__ = ["hoyer_sparsity", "zero_share"]


def hoyer_sparsity(A: ArrayLike, axis: int = 1) -> np.ndarray:
    r"""Hoyer's sparsity of each row (or column) of ``A``, in [0, 1].

    .. math:: s(a) = \frac{\sqrt{n} - \|a\|_1 / \|a\|_2}{\sqrt{n} - 1}

    1 for a vector with one non-zero entry, 0 for a constant vector
    (Hoyer, "Non-negative matrix factorization with sparseness
    constraints", JMLR 2004). A zero vector gets 1 (nothing is active), and a
    vector of length 1 gets 0.

    Parameters
    ----------
    A : ndarray of shape (n, m)
    axis : int, default=1
        1: one value per row; 0: one per column.

    Returns
    -------
    s : ndarray

    See Also
    --------
    zero_share : The share of exact zeros.
    nmfkit.plotting.plot_code_sparsity : Plot the sparsity of codes.

    References
    ----------
    .. [1] P. O. Hoyer, "Non-negative matrix factorization with sparseness
       constraints", Journal of Machine Learning Research 5, 1457-1469, 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.sparsity import hoyer_sparsity
    >>> A = np.array([[0.0, 0.0, 5.0, 0.0], [1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 0.0, 0.0]])
    >>> np.round(hoyer_sparsity(A), 3)
    array([1.   , 0.   , 0.658])
    """
    A = np.abs(np.asarray(A, dtype=np.float64))
    n = A.shape[axis]
    if n <= 1:
        return np.zeros(A.shape[1 - axis])
    l1 = A.sum(axis=axis)
    l2 = np.sqrt((A * A).sum(axis=axis))
    ratio = np.divide(l1, l2, out=np.ones_like(l1), where=l2 > 0)
    return np.clip((np.sqrt(n) - ratio) / (np.sqrt(n) - 1), 0.0, 1.0)


def zero_share(A: ArrayLike) -> float:
    """Share of the entries of ``A`` that are exactly zero.

    Parameters
    ----------
    A : array-like
        Any shape; an empty array has share 0.

    Returns
    -------
    share : float
        In [0, 1].

    See Also
    --------
    hoyer_sparsity : A graded measure, also for entries close to zero.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.sparsity import zero_share
    >>> zero_share(np.array([[0.0, 1.0], [0.0, 2.0]]))
    0.5
    """
    A = np.asarray(A)
    return float(np.count_nonzero(A == 0)) / max(A.size, 1)
