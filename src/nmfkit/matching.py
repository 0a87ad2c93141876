"""Matching the components of two factorizations.

NMF determines its components only up to order and scale, so two dictionaries
are compared after pairing each component of one with a component of the
other. :func:`match_components` pairs them one to one so that the total
cosine similarity is largest (the Hungarian algorithm, through
:func:`scipy.optimize.linear_sum_assignment`).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._typing import ArrayLike

__all__ = ["cosine_similarity_matrix", "match_components"]


def cosine_similarity_matrix(A: ArrayLike, B: ArrayLike) -> np.ndarray:
    """Cosine similarity of every row of ``A`` with every row of ``B``.

    Parameters
    ----------
    A : ndarray of shape (n_a, n_features)
    B : ndarray of shape (n_b, n_features)

    Returns
    -------
    S : ndarray of shape (n_a, n_b)
        A zero row is similar to nothing (similarity 0).

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not 2-D, or they have different numbers of
        features.

    See Also
    --------
    match_components : Pair the rows by these similarities.
    sklearn.metrics.pairwise.cosine_similarity : scikit-learn's version.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.matching import cosine_similarity_matrix
    >>> A = np.array([[1.0, 0.0], [1.0, 1.0]])
    >>> np.round(cosine_similarity_matrix(A, np.array([[2.0, 0.0], [0.0, 0.0]])), 3)
    array([[1.   , 0.   ],
           [0.707, 0.   ]])
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(
            f"cannot compare components of shapes {A.shape} and {B.shape}; both "
            "must be 2-D with the same number of features."
        )
    na = np.linalg.norm(A, axis=1)
    nb = np.linalg.norm(B, axis=1)
    An = np.divide(A, na[:, None], out=np.zeros_like(A), where=na[:, None] > 0)
    Bn = np.divide(B, nb[:, None], out=np.zeros_like(B), where=nb[:, None] > 0)
    return An @ Bn.T


def match_components(
    A: ArrayLike,
    B: ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair the rows of ``A`` with rows of ``B``, maximizing total cosine similarity.

    Parameters
    ----------
    A : ndarray of shape (n_a, n_features)
        Components of the first model (``components_``).
    B : ndarray of shape (n_b, n_features)
        Components of the second model.

    Returns
    -------
    order : ndarray of int of shape (min(n_a, n_b),)
        ``B[order[i]]`` is the partner of ``A[rows[i]]``.
    rows : ndarray of int of shape (min(n_a, n_b),)
        Rows of ``A`` that have a partner (all of them when ``n_a <= n_b``),
        increasing.
    similarities : ndarray of shape (min(n_a, n_b),)
        Cosine similarity of each pair.

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not 2-D, or they have different numbers of
        features.

    See Also
    --------
    cosine_similarity_matrix : The similarities that are maximized.
    nmfkit.plotting.plot_matched_components : Plot the matched pairs.
    scipy.optimize.linear_sum_assignment : The assignment solver used.

    References
    ----------
    .. [1] H. W. Kuhn, "The Hungarian method for the assignment problem",
       Naval Research Logistics Quarterly 2, 83-97, 1955.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> order, rows, sims = match_components(A, A[::-1] * 3)
    >>> order.tolist(), sims.tolist()
    ([1, 0], [1.0, 1.0])
    """
    S = cosine_similarity_matrix(A, B)
    rows, order = linear_sum_assignment(S, maximize=True)
    return order, rows, S[rows, order]
