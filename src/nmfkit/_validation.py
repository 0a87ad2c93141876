"""Input validation with messages that name the problem and the fix.

Everything a user hands to nmfkit passes through here before any solver sees
it: the data matrix, custom initial factors and the rank. Solvers assume that
their inputs are valid and never check them again.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = [
    "check_data_matrix",
    "check_factor",
    "check_non_negative_values",
    "check_n_components",
    "describe_negative_entries",
]

_SPARSE_FORMATS = ("csr", "csc")


def _entry_location(X, flat_index):
    """Return (row, column) of the ``flat_index``-th stored value of ``X``."""
    if sp.issparse(X):
        coo = X.tocoo()
        return int(coo.row[flat_index]), int(coo.col[flat_index])
    row, col = np.unravel_index(flat_index, X.shape)
    return int(row), int(col)


def describe_negative_entries(X, what="X"):
    """Return a message describing the negative entries of ``X``, or None.

    Parameters
    ----------
    X : ndarray or sparse matrix
        Numeric, finite array.
    what : str
        Name of the array in the message.

    Returns
    -------
    message : str or None
        ``None`` when ``X`` has no negative entry.
    """
    if sp.issparse(X):
        X = X.tocoo()
        values = X.data
    else:
        values = np.asarray(X).ravel()
    if values.size == 0:
        return None
    negative = values < 0
    n_negative = int(np.count_nonzero(negative))
    if n_negative == 0:
        return None
    argmin = int(np.argmin(values))
    row, col = _entry_location(X, argmin)
    plural = "entry" if n_negative == 1 else "entries"
    return (
        f"{what} contains {n_negative} negative {plural}, the smallest "
        f"{values[argmin]:.6g} at row {row}, column {col}; NMF needs "
        "non-negative data. Shift or clip the data (for example "
        "X - X.min() or np.clip(X, 0, None)) before fitting."
    )


def check_non_negative_values(X, what="X"):
    """Raise a ValueError naming the negative entries of ``X``, if any."""
    message = describe_negative_entries(X, what)
    if message is not None:
        if what == "X":  # scikit-learn's wording first, as its checks expect
            message = f"Negative values in data: {message}"
        raise ValueError(message)


def _check_finite(X, what, allow_nan=False):
    values = X.data if sp.issparse(X) else X
    finite = np.isfinite(values)
    if finite.all():
        return
    n_nan = int(np.count_nonzero(np.isnan(values)))
    n_inf = int(values.size - np.count_nonzero(finite) - n_nan)
    if allow_nan and n_inf == 0:
        return
    parts = []
    if n_nan:
        parts.append(f"{n_nan} NaN")
    if n_inf:
        parts.append(f"{n_inf} infinite")
    first = int(np.flatnonzero(~finite.ravel())[0])
    row, col = _entry_location(X, first)
    raise ValueError(
        f"{what} contains {' and '.join(parts)} "
        f"{'value' if n_nan + n_inf == 1 else 'values'} (the first at row {row}, "
        f"column {col}); NMF needs finite data. Remove or impute them, or pass "
        "missing_values=np.nan to fit only the observed entries."
        if not allow_nan
        else f"{what} contains {n_inf} infinite values (the first at row {row}, "
        f"column {col}); NMF needs finite data."
    )


def _as_float_dtype(dtype):
    if dtype == np.float32:
        return np.float32
    return np.float64


def check_data_matrix(X, *, what="X", copy=False, accept_sparse=True):
    """Validate a data matrix and return it as a float array.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        NumPy array, pandas DataFrame, nested sequence, or SciPy sparse
        matrix or array in any format.
    what : str
        Name of the array in messages.
    copy : bool
        Whether to always copy the data.
    accept_sparse : bool
        Whether SciPy sparse input is allowed.

    Returns
    -------
    X : ndarray or sparse matrix
        Two-dimensional float32 (kept when given) or float64 array. Sparse
        input comes back in CSR (or CSC when given CSC) with sorted indices,
        summed duplicates and no explicit zeros, without densifying.

    Raises
    ------
    TypeError
        For object, string or otherwise non-numeric data.
    ValueError
        For complex data, wrong dimensionality, empty data, NaN, infinite or
        negative values.
    """
    if sp.issparse(X):
        if not accept_sparse:
            raise TypeError(
                f"{what} is a sparse matrix, which is not supported here; "
                "convert it with X.toarray()."
            )
        if X.ndim != 2:
            raise ValueError(f"{what} must be 2-dimensional, got {X.ndim} dimensions.")
        fmt = X.format if X.format in _SPARSE_FORMATS else "csr"
        X = X.asformat(fmt, copy=copy)
        _check_dtype_kind(X.dtype, what)
        X = X.astype(_as_float_dtype(X.dtype), copy=False)
        if not X.has_canonical_format or (X.nnz and not X.data.all()):
            X = X.copy()  # never change the caller's matrix in place
            X.sum_duplicates()
            X.eliminate_zeros()
    else:
        if hasattr(X, "dtypes") and hasattr(X, "to_numpy"):  # pandas DataFrame
            X = X.to_numpy()
        try:
            X = np.asarray(X)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{what} could not be converted to a 2-dimensional numeric array "
                f"({exc})."
            ) from exc
        if X.dtype == object:
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{what} has dtype object and holds a value that is not a "
                    f"number ({exc}); NMF needs real non-negative numbers."
                ) from exc
        _check_dtype_kind(X.dtype, what)
        if X.ndim != 2:
            hint = (
                " Reshape it with X.reshape(-1, 1) for a single feature or "
                "X.reshape(1, -1) for a single sample."
                if X.ndim == 1
                else ""
            )
            raise ValueError(
                f"{what} must be 2-dimensional (n_samples, n_features), got an "
                f"array of shape {X.shape}.{hint}"
            )
        dtype = _as_float_dtype(X.dtype)
        X = (
            np.array(X, dtype=dtype, order="C", copy=True)
            if copy
            else (np.ascontiguousarray(X, dtype=dtype))
        )
    n_samples, n_features = X.shape
    if n_samples == 0 or n_features == 0:
        which = "sample" if n_samples == 0 else "feature"
        raise ValueError(
            f"{what} is empty: found 0 {which}(s) (shape={X.shape}) while a "
            "minimum of 1 is required; NMF needs at least one sample and one "
            "feature."
        )
    _check_finite(X, what)
    check_non_negative_values(X, what)
    return X


def _check_dtype_kind(dtype, what):
    kind = np.dtype(dtype).kind
    if kind in "biuf":
        return
    if kind == "c":
        raise ValueError(
            f"{what} has complex dtype {dtype}; NMF needs real non-negative data. "
            "Use np.abs(X) or X.real explicitly."
        )
    raise TypeError(
        f"{what} has dtype {dtype}, which is not numeric; NMF needs real "
        "non-negative numbers. Convert it with X.astype(float) after checking "
        "its contents."
    )


def check_factor(A, shape, dtype, what):
    """Validate a user-given initial factor (``W`` or ``H`` for ``init='custom'``).

    Parameters
    ----------
    A : array-like
        The factor.
    shape : tuple of int
        Expected shape.
    dtype : numpy dtype
        Expected dtype: the dtype of the data matrix.
    what : str
        Name in messages, for example ``"W"``.

    Returns
    -------
    A : ndarray
        C-contiguous copy of the factor (so that solvers can update it in place).
    """
    if A is None:
        raise ValueError(
            f"init='custom' needs an initial {what}; pass {what}= to fit_transform "
            "or choose another init."
        )
    if sp.issparse(A):
        raise TypeError(f"The initial {what} must be a dense array, got sparse.")
    A = np.asarray(A)
    _check_dtype_kind(A.dtype, f"The initial {what}")
    if A.shape != tuple(shape):
        raise ValueError(
            f"The initial {what} has shape {A.shape}, expected {tuple(shape)} "
            "(n_samples, n_components) for W and (n_components, n_features) for H."
        )
    if A.dtype != dtype:
        raise TypeError(
            f"The initial {what} has dtype {A.dtype} but X has dtype "
            f"{np.dtype(dtype)}; give W and H the same dtype as X "
            f"(for example {what}.astype(X.dtype))."
        )
    _check_finite(A, f"The initial {what}")
    check_non_negative_values(A, f"The initial {what}")
    return np.array(A, dtype=dtype, order="C", copy=True)


def check_n_components(n_components, n_features):
    """Validate ``n_components`` and resolve ``None``.

    ``"auto"`` is resolved by the caller (from a custom H, else n_features).
    """
    if n_components is None:
        return n_features
    if isinstance(n_components, str):
        if n_components == "auto":
            return n_components
        raise ValueError(
            f"n_components={n_components!r} is not valid; give a positive integer, "
            "'auto' or None."
        )
    if isinstance(n_components, (bool, np.bool_)) or not isinstance(
        n_components, numbers.Integral
    ):
        raise ValueError(
            f"n_components={n_components!r} is not valid; give a positive integer, "
            "'auto' or None."
        )
    if n_components < 1:
        raise ValueError(
            f"n_components={n_components} is not valid; the rank must be at least 1."
        )
    return int(n_components)
