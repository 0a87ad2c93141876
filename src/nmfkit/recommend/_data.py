"""Ratings in the three forms the ratings model accepts, as observed entries.

- a ratings matrix (users x items): dense with ``missing_values`` (NaN by
  default) where a rating is unknown, or sparse whose stored entries are the
  ratings (an unstored entry is unknown, not 0: ``sparse_unobserved=
  "missing"``; a stored 0 is a rating of 0);
- ``(user, item)`` index pairs ``X`` of shape (n, 2) with the ratings ``y``;
- ``(user, item, rating)`` triples, shape (n, 3), through :func:`split_triples`.

Indices are 0-based non-negative integers (integral floats are accepted).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._observed import ObservedEntries

__all__ = ["as_index_pairs", "observed_ratings", "split_triples"]


def _integer_indices(values, what):
    values = np.asarray(values)
    if values.dtype.kind == "b" or values.dtype.kind not in "iuf":
        raise TypeError(
            f"{what} must hold integer indices, got dtype {values.dtype}; pass "
            "0-based integer user and item indices."
        )
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise ValueError(
                f"{what} holds non-integer or non-finite indices; pass 0-based "
                "integer user and item indices."
            )
    indices = values.astype(np.int64)
    if indices.size and indices.min() < 0:
        raise ValueError(
            f"{what} holds the negative index {int(indices.min())}; indices are "
            "0-based and non-negative."
        )
    return indices


def as_index_pairs(users, items=None):
    """``(users, items)`` as int64 arrays from pairs of shape (n, 2) or two vectors.

    Raises
    ------
    ValueError, TypeError
        For another shape, negative, non-integer or non-numeric indices.
    """
    if items is None:
        pairs = np.asarray(users)
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(
                f"expected (user, item) pairs of shape (n, 2), got shape "
                f"{pairs.shape}; or pass users and items as two vectors."
            )
        users, items = pairs[:, 0], pairs[:, 1]
    users = _integer_indices(np.atleast_1d(users), "users")
    items = _integer_indices(np.atleast_1d(items), "items")
    if users.ndim != 1 or users.shape != items.shape:
        raise ValueError(
            f"users and items must be vectors of the same length, got shapes "
            f"{users.shape} and {items.shape}."
        )
    return users, items


def split_triples(triples):
    """``(pairs, ratings)`` from ``(user, item, rating)`` rows of shape (n, 3).

    Parameters
    ----------
    triples : array-like of shape (n, 3)
        One rating per row: user index, item index, rating.

    Returns
    -------
    pairs : ndarray of shape (n, 2)
        The (user, item) pairs, for :meth:`RatingsNMF.fit` with ``y`` (in
        the array's dtype: a float array keeps float indices, which ``fit``
        accepts when they are whole numbers).
    ratings : ndarray of shape (n,)
        The ratings (float64).

    Raises
    ------
    ValueError
        When the array is not of shape (n, 3).

    See Also
    --------
    RatingsNMF.fit : Takes ``fit(pairs, ratings)``.

    Examples
    --------
    >>> from nmfkit.recommend import split_triples
    >>> pairs, ratings = split_triples([[0, 1, 4.0], [2, 0, 3.5]])
    >>> pairs.astype(int).tolist(), ratings.tolist()
    ([[0, 1], [2, 0]], [4.0, 3.5])
    """
    triples = np.asarray(triples)
    if triples.ndim != 2 or triples.shape[1] != 3:
        raise ValueError(
            f"expected (user, item, rating) triples of shape (n, 3), got shape "
            f"{triples.shape}."
        )
    return triples[:, :2], triples[:, 2].astype(np.float64)


def _check_ratings(values, what):
    values = np.asarray(values)
    if values.dtype.kind not in "iuf" or values.dtype.kind == "b":
        raise TypeError(f"{what} must be numeric, got dtype {values.dtype}.")
    values = values.astype(np.float64)
    if values.size == 0:
        raise ValueError(f"{what} holds no rating; pass at least one rating.")
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"{what} holds NaN or infinite ratings; drop them (a missing rating "
            "is simply not listed)."
        )
    return values


def observed_ratings(X, y=None, *, missing_values=np.nan, shape=(None, None)):
    """The observed ratings of ``X`` (and ``y``), see the module docstring.

    Parameters
    ----------
    X : array-like or sparse matrix
        A ratings matrix (``y`` None) or (user, item) pairs (``y`` given).
    y : array-like of shape (n,), optional
        The ratings of the pairs.
    missing_values : float or None, default=np.nan
        Marks an unknown rating in a dense matrix.
    shape : (int or None, int or None)
        Number of users and items for pairs (None: the largest index + 1).

    Returns
    -------
    observed : ObservedEntries
        float64 values.
    """
    if y is not None:
        users, items = as_index_pairs(X)
        ratings = _check_ratings(y, "y")
        if ratings.shape != users.shape:
            raise ValueError(
                f"y has {ratings.size} ratings for {users.size} (user, item) pairs; "
                "give one rating per pair."
            )
        n_users = int(users.max()) + 1 if shape[0] is None else int(shape[0])
        n_items = int(items.max()) + 1 if shape[1] is None else int(shape[1])
        if users.max() >= n_users or items.max() >= n_items:
            raise ValueError(
                f"an index is beyond n_users={n_users} or n_items={n_items}; raise "
                "them or leave them None."
            )
        key = users * n_items + items
        if np.unique(key).size != key.size:
            raise ValueError(
                "some (user, item) pair is rated more than once; keep one rating "
                "per pair (for example the latest or the mean)."
            )
        return ObservedEntries((n_users, n_items), users, items, ratings)
    if sp.issparse(X):
        coo = sp.coo_matrix(X)
        coo.sum_duplicates()
        rows, cols, values = coo.row, coo.col, np.asarray(coo.data)
    else:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(
                f"a ratings matrix must be 2-dimensional (users x items), got shape "
                f"{X.shape}; for (user, item) pairs pass the ratings as y."
            )
        if X.dtype.kind not in "iuf" or X.dtype.kind == "b":
            raise TypeError(f"the ratings matrix must be numeric, got {X.dtype}.")
        X = X.astype(np.float64)
        rows, cols = np.indices(X.shape).reshape(2, -1)
        values = X.ravel()
    if missing_values is not None:
        if np.isnan(missing_values):
            keep = ~np.isnan(values)
        else:
            keep = values != missing_values
        rows, cols, values = rows[keep], cols[keep], values[keep]
    values = _check_ratings(values, "the ratings matrix")
    return ObservedEntries(X.shape, rows, cols, values)
