"""Input validation with messages that name the problem and the fix.

Everything a user hands to nmfkit passes through here before any solver sees
it: the data matrix, custom initial factors and the rank. Solvers assume that
their inputs are valid and never check them again.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
import scipy.sparse as sp

__all__ = [
    "check_array_api_matrix",
    "check_data_matrix",
    "check_factor",
    "check_finite_output",
    "check_magnitude",
    "check_non_negative_values",
    "check_n_components",
    "describe_negative_entries",
    "magnitude_range",
    "check_partially_observed",
    "UnobservedWarning",
    "SPARSE_UNOBSERVED",
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
        f"Negative values in data: {what} contains {n_negative} negative "
        f"{plural}, the smallest "
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
            except OverflowError as exc:
                raise ValueError(
                    f"{what} has dtype object and holds a number too large for "
                    f"float64 ({exc}); rescale it before fitting."
                ) from exc
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{what} has dtype object and holds a value that is not a "
                    f"number ({exc}); NMF needs real non-negative numbers."
                ) from exc
        _check_dtype_kind(X.dtype, what)
        if X.ndim != 2:
            hint = (
                " Reshape your data with X.reshape(-1, 1) for a single feature "
                "or X.reshape(1, -1) for a single sample."
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
    check_magnitude(X, what)
    return X


def magnitude_range(dtype):
    """The range ``[low, high]`` of values relative to the data's scale that
    NMF accepts.

    The fourth roots of the smallest normal and the largest finite number of
    ``dtype``: every fit is solved at unit scale (:mod:`nmfkit._scaling`), and
    the solvers form products of up to four factors of the rescaled data (for
    example ``W (W^T W) (H H^T)`` for NNDSVDA starts), which then neither
    overflow nor sink into subnormal numbers.
    """
    info = np.finfo(dtype)
    return float(info.tiny) ** 0.25, float(info.max) ** 0.25


def check_magnitude(X, what="X"):
    """Raise a ValueError when X's largest value, relative to its typical
    magnitude (the scale every fit divides out), is outside
    :func:`magnitude_range`: data of any scale is accepted while its dynamic
    range fits the dtype (an all-zero X is accepted)."""
    from ._scaling import typical_magnitude

    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return
    peak = float(values.max())
    if peak == 0:
        return
    typical = typical_magnitude(X)
    low, high = magnitude_range(X.dtype)
    ratio = 2.0 ** min(1023.0, math.log2(peak) - math.log2(typical))
    if low <= ratio <= high:
        return
    widen = ""
    if X.dtype == np.float32:
        low64, high64 = magnitude_range(np.float64)
        widen = (
            f", or convert it to float64 (X.astype(np.float64) accepts ratios up "
            f"to {high64:.3g})"
        )
    raise ValueError(
        f"{what}'s largest value {peak:.6g} is {ratio:.3g} times its typical "
        f"magnitude {typical:.3g} (the geometric mean of its positive entries), "
        f"beyond {high:.3g}, the dynamic range NMF handles in {X.dtype} (the "
        f"products it forms would overflow). Clip or drop the dominant "
        f"entries{widen}."
    )


def check_finite_output(A, what):
    """Raise a ValueError when a result about to be returned is not finite.

    The last guard of every public path: no NaN or Inf ever leaves nmfkit.
    """
    from ._array_api import get_namespace as _namespace

    values = A.data if sp.issparse(A) else A
    xp = _namespace(values)
    if bool(xp.all(xp.isfinite(values))):
        return
    raise ValueError(
        f"{what} would contain non-finite values (an overflow in "
        f"{values.dtype} arithmetic from factors or data of extreme scale); "
        "rescale the data or the factors towards 1, or convert them to float64."
    )


def _check_dtype_kind(dtype, what):
    kind = np.dtype(dtype).kind
    if kind in "biuf":
        return
    if kind == "c":
        raise ValueError(
            f"Complex data not supported: {what} has dtype {dtype}; NMF needs real "
            "non-negative data. "
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


def check_data_for_beta(X, beta):
    """Raise scikit-learn's error when ``beta <= 0`` and X contains zeros.

    The beta-divergences with beta <= 0 (Itakura-Saito among them) are
    infinite at ``x = 0`` (``x^beta`` or ``log x``), and their multiplicative
    updates diverge there. Sparse X has zeros unless every entry is stored.
    """
    if beta > 0:
        return
    if sp.issparse(X):
        has_zero = X.nnz < X.shape[0] * X.shape[1] or not X.data.all()
    else:
        has_zero = not np.all(X)
    if has_zero:
        raise ValueError(
            "When beta_loss <= 0 and X contains zeros, the solver may diverge. "
            "Please add small values to X, or use a positive beta_loss "
            f"(got beta_loss={beta:g})."
        )


# --------------------------------------------------------------------------
# Partially observed data (missing values, masks, ratings).

#: Meanings of the entries a SciPy sparse X does not store.
SPARSE_UNOBSERVED = ("zero", "missing")


class UnobservedWarning(UserWarning):
    """A row or column of the data has no observed entry.

    Nothing in the data constrains its factor: nmfkit sets it to zero, so the
    completed matrix is 0 on that row (column). Drop it before fitting, or
    treat its predictions as unknown.
    """


def _is_missing_value(values, missing_values):
    if isinstance(missing_values, float) and np.isnan(missing_values):
        return np.isnan(values)
    return values == missing_values


def check_missing_values(missing_values):
    """Validate the ``missing_values`` parameter (None, NaN or a finite number)."""
    if missing_values is None:
        return None
    if (
        isinstance(missing_values, (bool, np.bool_))
        or not isinstance(missing_values, numbers.Real)
        or np.isinf(missing_values)
    ):
        raise ValueError(
            f"missing_values={missing_values!r} is not valid; give None (no "
            "missing values), np.nan or the number that marks a missing entry."
        )
    return float(missing_values)


def _check_mask(mask, shape):
    """Return the positions (rows, cols) where ``mask`` is True."""
    if sp.issparse(mask):
        if mask.shape != tuple(shape):
            raise ValueError(
                f"mask has shape {mask.shape} but X has shape {tuple(shape)}; the "
                "mask must mark the observed entries of X, one for one."
            )
        coo = sp.coo_matrix(mask)
        coo.sum_duplicates()
        keep = coo.data != 0
        return coo.row[keep], coo.col[keep]
    mask = np.asarray(mask)
    if mask.shape != tuple(shape):
        raise ValueError(
            f"mask has shape {mask.shape} but X has shape {tuple(shape)}; the "
            "mask must mark the observed entries of X, one for one."
        )
    if mask.dtype != bool:
        if mask.dtype.kind not in "biu" or not np.isin(mask, (0, 1)).all():
            raise TypeError(
                f"mask has dtype {mask.dtype}; give a boolean array (True where "
                "X is observed)."
            )
        mask = mask.astype(bool)
    return np.nonzero(mask)


def check_partially_observed(
    X,
    *,
    missing_values=None,
    sparse_unobserved="zero",
    mask=None,
    what="X",
    warn_unobserved=True,
):
    """Validate partially observed data and return its observed entries.

    The observed entries are those that are (all that apply):

    - marked True in ``mask`` (when given);
    - different from ``missing_values`` (when not None; NaN compares as NaN);
    - stored in a SciPy sparse ``X`` when ``sparse_unobserved="missing"``
      (explicitly stored zeros are observed zeros). With
      ``sparse_unobserved="zero"`` the unstored entries are observed zeros.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
    missing_values : float or None
        Value that marks a missing entry (``np.nan`` for NaN).
    sparse_unobserved : {"zero", "missing"}
        Meaning of the entries that a sparse X does not store.
    mask : array-like or sparse matrix of bool, shape (n_samples, n_features)
        True where X is observed.
    what : str
        Name of the data in messages.
    warn_unobserved : bool
        Warn (:class:`UnobservedWarning`) about rows or columns without any
        observed entry.

    Returns
    -------
    observed : ObservedEntries
        Values in float32 (kept when given) or float64.

    Raises
    ------
    ValueError
        For negative or infinite observed values, NaN that is not declared
        missing, no observed entry at all, or a mask of the wrong shape.
    """
    from ._observed import ObservedEntries

    missing_values = check_missing_values(missing_values)
    if sparse_unobserved not in SPARSE_UNOBSERVED:
        raise ValueError(
            f"sparse_unobserved={sparse_unobserved!r} is not valid; choose "
            f"'zero' (unstored entries of a sparse X are zeros, as for text) or "
            "'missing' (they are unknown, as for ratings)."
        )
    if sp.issparse(X):
        if X.ndim != 2:
            raise ValueError(f"{what} must be 2-dimensional, got {X.ndim} dimensions.")
        _check_dtype_kind(X.dtype, what)
        X = X.astype(_as_float_dtype(X.dtype), copy=False)
        if sparse_unobserved == "zero":
            # Every unstored entry is an observed zero: the observed set is
            # dense anyway, so the dense path is used.
            X = X.toarray()
    if sp.issparse(X):
        coo = sp.coo_matrix(X, copy=True)
        coo.sum_duplicates()
        if mask is not None:
            rows, cols = _check_mask(mask, X.shape)
            values = np.asarray(X.tocsr()[rows, cols]).ravel()
            stored = sp.csr_matrix(
                (np.ones(coo.nnz, dtype=bool), (coo.row, coo.col)), shape=X.shape
            )
            in_X = np.asarray(stored[rows, cols]).ravel()
            rows, cols, values = rows[in_X], cols[in_X], values[in_X]
        else:
            rows, cols, values = coo.row, coo.col, coo.data
        shape = X.shape
    else:
        if hasattr(X, "dtypes") and hasattr(X, "to_numpy"):
            X = X.to_numpy()
        X = np.asarray(X)
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
            raise ValueError(
                f"{what} must be 2-dimensional (n_samples, n_features), got an "
                f"array of shape {X.shape}."
            )
        X = np.asarray(X, dtype=_as_float_dtype(X.dtype))
        if mask is not None:
            rows, cols = _check_mask(mask, X.shape)
        else:
            rows, cols = np.nonzero(np.ones(X.shape, dtype=bool))
        values = X[rows, cols]
        shape = X.shape
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(
            f"{what} is empty (shape={shape}); NMF needs at least one sample and "
            "one feature."
        )
    if missing_values is not None:
        keep = ~_is_missing_value(values, missing_values)
        rows, cols, values = rows[keep], cols[keep], values[keep]
    observed = ObservedEntries(shape, rows, cols, values)
    _check_observed_values(observed, what)
    if warn_unobserved:
        _warn_unobserved(observed, what)
    return observed


def _check_observed_values(observed, what):
    values = observed.values
    if values.size == 0:
        raise ValueError(
            f"{what} has no observed entry; check the mask, missing_values and "
            "sparse_unobserved."
        )
    finite = np.isfinite(values)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        n_bad = int(values.size - np.count_nonzero(finite))
        kind = "NaN" if np.isnan(values[first]) else "infinite"
        hint = (
            " Pass missing_values=np.nan to treat NaN entries as missing."
            if kind == "NaN"
            else ""
        )
        raise ValueError(
            f"{what} has {n_bad} observed non-finite values (the first, {kind}, at "
            f"row {observed.rows[first]}, column {observed.cols[first]}); NMF "
            f"needs finite data.{hint}"
        )
    negative = values < 0
    if negative.any():
        n_negative = int(np.count_nonzero(negative))
        argmin = int(np.argmin(values))
        plural = "entry" if n_negative == 1 else "entries"
        raise ValueError(
            f"{what} contains {n_negative} negative observed {plural}, the smallest "
            f"{values[argmin]:.6g} at row {observed.rows[argmin]}, column "
            f"{observed.cols[argmin]}; NMF needs non-negative data. Shift or clip "
            "the observed values before fitting."
        )


def _warn_unobserved(observed, what):
    for axis, counts in (
        ("rows", observed.count_per_row()),
        ("columns", observed.count_per_column()),
    ):
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            warnings.warn(
                f"{what} has {empty.size} {axis} with no observed entry (the first "
                f"is {axis[:-1]} {empty[0]}); nothing constrains their factors, "
                f"which are set to zero, so the completed matrix is 0 there. Drop "
                f"those {axis} or treat their predictions as unknown.",
                UnobservedWarning,
                stacklevel=4,
            )


def check_array_api_matrix(X, xp, *, what="X"):
    """Validate a data matrix of a non-NumPy array-API library (PyTorch, CuPy).

    The checks of :func:`check_data_matrix` run on the array's own device;
    only when one fails is a host copy made, to name the offending entries.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    xp : namespace
        The array namespace of ``X``.
    what : str
        Name of the array in messages.

    Returns
    -------
    X : array
        ``X`` itself when float32 or float64, else converted to float64 on
        its device.
    """
    from ._array_api import accumulation_dtype, to_numpy

    if X.ndim != 2:
        raise ValueError(
            f"{what} must be 2-dimensional (n_samples, n_features), got an "
            f"array of shape {tuple(X.shape)}."
        )
    if X.dtype not in (xp.float32, xp.float64):
        if xp.isdtype(X.dtype, "complex floating"):
            raise ValueError(
                f"{what} has complex dtype {X.dtype}; NMF needs real non-negative "
                "data. Use abs(X) or X.real explicitly."
            )
        if not xp.isdtype(X.dtype, ("integral", "bool", "real floating")):
            raise TypeError(f"{what} has dtype {X.dtype}, which is not numeric.")
        X = xp.astype(X, accumulation_dtype(xp, X))
    n_samples, n_features = X.shape
    if n_samples == 0 or n_features == 0:
        which = "sample" if n_samples == 0 else "feature"
        raise ValueError(
            f"{what} is empty: found 0 {which}(s) (shape={tuple(X.shape)}) while a "
            "minimum of 1 is required; NMF needs at least one sample and one "
            "feature."
        )
    if not bool(xp.all(xp.isfinite(X))):
        _check_finite(to_numpy(X), what)
    if bool(xp.any(X < 0)):
        check_non_negative_values(to_numpy(X), what)
    return X
