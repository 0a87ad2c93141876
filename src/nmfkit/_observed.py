"""The observed entries of a partially observed matrix.

A partially observed n x p matrix is held as its observed entries only, in
row-major (CSR) order: ``rows``, ``cols`` and ``values``, each of length
``nnz`` (the number of observed entries), plus the CSR row pointer and the
permutation to column-major (CSC) order. Everything built on it costs
O(nnz) or O(nnz x rank) memory and time: no n x p array is ever formed.

An observed zero is an observed entry like any other (a stored value 0), so
it is kept; an unobserved entry has no value at all.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["ObservedEntries"]


class ObservedEntries:
    """Observed entries of an ``n_samples x n_features`` matrix.

    Parameters
    ----------
    shape : tuple of int
        ``(n_samples, n_features)``.
    rows, cols : ndarray of int
        Positions of the observed entries (any order, no duplicates).
    values : ndarray of float
        Their values.

    Attributes
    ----------
    shape : tuple of int
    rows, cols : ndarray of int64
        Positions, sorted by row then column (CSR order).
    values : ndarray
        Values in the same order; float32 or float64.
    indptr : ndarray of int64
        CSR row pointer: the entries of row ``i`` are
        ``indptr[i]:indptr[i + 1]``.
    csc_order : ndarray of int64
        Permutation of the entries into column-major order.
    """

    def __init__(self, shape, rows, cols, values):
        n_samples, n_features = (int(s) for s in shape)
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        values = np.asarray(values)
        order = np.lexsort((cols, rows))
        if not np.all(order[1:] > order[:-1]):  # not already sorted
            rows, cols, values = rows[order], cols[order], values[order]
        self.shape = (n_samples, n_features)
        self.rows = np.ascontiguousarray(rows)
        self.cols = np.ascontiguousarray(cols)
        self.values = np.ascontiguousarray(values)
        self.indptr = np.zeros(n_samples + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.rows, minlength=n_samples), out=self.indptr[1:])
        self.csc_order = np.lexsort((self.rows, self.cols))
        self.indptr_t = np.zeros(n_features + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.cols, minlength=n_features), out=self.indptr_t[1:])

    # ------------------------------------------------------------ builders
    @classmethod
    def from_dense(cls, X, observed):
        """Observed entries of a dense array where ``observed`` is True."""
        rows, cols = np.nonzero(observed)
        return cls(X.shape, rows, cols, X[rows, cols])

    @classmethod
    def from_sparse(cls, X):
        """Stored entries of a sparse matrix (explicit zeros included)."""
        coo = sp.coo_matrix(X)
        return cls(X.shape, coo.row, coo.col, coo.data)

    # ------------------------------------------------------------ queries
    @property
    def nnz(self):
        """Number of observed entries."""
        return int(self.values.size)

    @property
    def dtype(self):
        return self.values.dtype

    def count_per_row(self):
        """Observed entries in each row."""
        return np.diff(self.indptr)

    def count_per_column(self):
        """Observed entries in each column."""
        return np.diff(self.indptr_t)

    def with_values(self, values):
        """CSR matrix with the observed pattern and the given values (no copy).

        ``values`` is in the CSR order of :attr:`rows`; the result is the
        matrix ``M * A`` for the A whose observed entries are ``values``.
        """
        return sp.csr_matrix(
            (values, self.cols, self.indptr), shape=self.shape, copy=False
        )

    def with_values_transposed(self, values):
        """CSR matrix of ``(M * A)^T`` for the observed ``values`` of A."""
        order = self.csc_order
        return sp.csr_matrix(
            (values[order], self.rows[order], self.indptr_t),
            shape=(self.shape[1], self.shape[0]),
            copy=False,
        )

    def zero_filled(self):
        """CSR matrix of the observed values with zeros elsewhere."""
        return self.with_values(self.values)

    def astype(self, dtype):
        """The same entries with values in ``dtype``."""
        other = object.__new__(ObservedEntries)
        other.__dict__.update(self.__dict__)
        other.values = self.values.astype(dtype, copy=False)
        return other

    def __repr__(self):
        n, p = self.shape
        return f"ObservedEntries(shape=({n}, {p}), nnz={self.nnz})"
