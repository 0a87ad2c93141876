"""Input validation with messages that name the problem and the fix.

Everything a user hands to nmfkit passes through here before any solver sees
it: the data matrix, custom initial factors and the rank. Solvers assume that
their inputs are valid and never check them again.
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "check_data",
    "check_summarized_values",
    "check_factor",
    "check_finite_output",
    "check_magnitude",
    "check_non_negative_values",
    "check_n_components",
    "describe_negative_entries",
    "empty_message",
    "negative_values_message",
    "not_2d_message",
    "magnitude_range",
    "as_numeric_array",
    "factor_rank",
    "missing_entries_message",
    "non_finite_message",
    "sparse_stores_missing",
    "MarkedMissing",
    "MAX_FULLY_OBSERVED_SPARSE",
    "UnobservedWarning",
    "SPARSE_UNOBSERVED",
    "warn_factors_ignored",
    "warn_max_iter_reached",
]

_SPARSE_FORMATS = ("csr", "csc")


def _entry_location(X, flat_index):
    """Return (row, column) of the ``flat_index``-th stored value of ``X``."""
    if sp.issparse(X):
        coo = X.tocoo()
        return int(coo.row[flat_index]), int(coo.col[flat_index])
    row, col = np.unravel_index(flat_index, X.shape)
    return int(row), int(col)


def _sklearn_whom(what):
    """scikit-learn's name of an input in its messages: ``"NMF (input H)"``."""
    return f"NMF (input {what.split()[-1]})"


def negative_values_message(what, n_negative, smallest, location=None, fix=None):
    """The message of negative data, shared by every data kind.

    Parameters
    ----------
    what : str
        Name of the array (``"X"``, ``"The initial H"``).
    n_negative : int or None
        How many entries are negative (None when unknown, as for Dask).
    smallest : float
        The smallest value.
    location : tuple of int, optional
        ``(row, column)`` of the smallest value, when known.
    fix : str, optional
        The fix; by default shifting or clipping the data.
    """
    if n_negative is None:
        count = "negative entries"
    else:
        count = f"{n_negative} negative {'entry' if n_negative == 1 else 'entries'}"
    at = f" at row {location[0]}, column {location[1]}" if location else ""
    fix = fix or (
        "Shift or clip the data (for example X - X.min() or np.clip(X, 0, None)) "
        "before fitting."
    )
    return (
        f"Negative values in data passed to {_sklearn_whom(what)}. {what} contains "
        f"{count}, the smallest {smallest:.6g}{at}; NMF needs non-negative data. "
        f"{fix}"
    )


def not_2d_message(shape, what="X"):
    """The message of data that is not a matrix, shared by every data kind."""
    shape = tuple(int(s) for s in shape)
    hint = (
        " Reshape your data with X.reshape(-1, 1) for a single feature or "
        "X.reshape(1, -1) for a single sample."
        if len(shape) == 1
        else ""
    )
    return (
        f"{what} must be 2-dimensional (n_samples, n_features), got an array of "
        f"shape {shape}.{hint}"
    )


def empty_message(shape, what="X"):
    """The message of data without samples or features, shared by every kind."""
    shape = tuple(int(s) for s in shape)
    which = "sample" if shape[0] == 0 else "feature"
    return (
        f"{what} is empty: found 0 {which}(s) (shape={shape}) while a minimum of 1 "
        "is required; NMF needs at least one sample and one feature."
    )


def describe_negative_entries(X, what="X"):
    """Return a message describing the negative entries of ``X``, or None.

    The message begins with scikit-learn's sentence, "Negative values in data
    passed to NMF (input X).", then names the entries and the fix.

    Parameters
    ----------
    X : ndarray or sparse matrix
        Numeric, finite array.
    what : str
        Name of the array in the message (``"X"``, ``"The initial H"``).

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
    return negative_values_message(
        what, n_negative, float(values[argmin]), _entry_location(X, argmin)
    )


def check_non_negative_values(X, what="X"):
    """Raise a ValueError naming the negative entries of ``X``, if any.

    The message starts with scikit-learn's sentence, "Negative values in
    data passed to NMF (input X).", which its tests and estimator checks
    expect (:func:`describe_negative_entries` writes it once).
    """
    message = describe_negative_entries(X, what)
    if message is not None:
        raise ValueError(message)


def non_finite_message(what, n_nan, n_inf, location=None):
    """The message of NaN or infinite data, shared by every data kind.

    Parameters
    ----------
    what : str
        Name of the array.
    n_nan, n_inf : int
        How many entries are NaN (not declared missing) and infinite.
    location : tuple of int, optional
        ``(row, column)`` of the first of them, when known.
    """
    parts = []
    if n_nan:
        parts.append(f"{n_nan} NaN")
    if n_inf:
        parts.append(f"{n_inf} infinite")
    at = f" (the first at row {location[0]}, column {location[1]})" if location else ""
    return (
        f"{what} contains {' and '.join(parts)} "
        f"{'value' if n_nan + n_inf == 1 else 'values'}{at}; NMF needs finite "
        "data. Remove or impute them, or pass missing_values=np.nan to fit only "
        "the observed entries."
    )


def _check_finite(X, what, positions=None):
    """Raise :func:`non_finite_message` when ``X`` (an array, the stored
    values of a sparse matrix, or observed values at ``positions``, a pair
    ``(rows, cols)``) has a NaN or infinite entry."""
    values = X.data if sp.issparse(X) else X
    finite = np.isfinite(values)
    if finite.all():
        return
    n_nan = int(np.count_nonzero(np.isnan(values)))
    n_inf = int(values.size - np.count_nonzero(finite) - n_nan)
    first = int(np.flatnonzero(~finite.ravel())[0])
    if positions is None:
        location = _entry_location(X, first)
    else:
        location = (int(positions[0][first]), int(positions[1][first]))
    raise ValueError(non_finite_message(what, n_nan, n_inf, location))


def _as_float_dtype(dtype):
    if dtype == np.float32:
        return np.float32
    return np.float64


class MarkedMissing(NamedTuple):
    """Entries that the input's container itself marks missing.

    Attributes
    ----------
    cells : ndarray of bool
        True where the entry is missing, same shape as the data.
    source : str
        What marked them, for messages (``"masked"`` for a NumPy masked
        array, ``"pd.NA"`` for pandas' missing-value marker).
    """

    cells: np.ndarray
    source: str


def _is_dataframe(X):
    return hasattr(X, "dtypes") and hasattr(X, "to_numpy") and hasattr(X, "isna")


def _pandas_na():
    """pandas' ``pd.NA`` when pandas is loaded (else None: nothing can hold it)."""
    pandas = sys.modules.get("pandas")
    return getattr(pandas, "NA", None)


def _frame_values(frame):
    """A DataFrame's values, with the cells pandas marks missing (pd.NA, None).

    Columns of NumPy float dtype keep their NaN as values (NaN is data, the
    same as in a NumPy array); in nullable (``Float64``, ``Int64``,
    ``boolean``), string and object columns every missing cell is marked.
    Returns ``(values, missing_cells or None)``; the values are an object
    array when any column is not a plain NumPy number column.
    """
    dtypes = list(frame.dtypes)
    plain = [isinstance(d, np.dtype) and d.kind in "biuf" for d in dtypes]
    if all(plain):
        return frame.to_numpy(), None
    cells = np.asarray(frame.isna().to_numpy(), dtype=bool)
    cells[:, np.asarray(plain, dtype=bool)] = False
    values = frame.to_numpy(dtype=object)
    if cells.any():
        values[cells] = np.nan
        return values, cells
    return values, None


def _first_non_number(X):
    """``(row, column, cell)`` of the first cell of X that float() refuses."""
    for index, cell in np.ndenumerate(X):
        try:
            float(cell)
        except (TypeError, ValueError):
            return (*index, cell.item() if isinstance(cell, np.generic) else cell)
    return (0, 0, None)  # pragma: no cover - only called after a failure


def _numbers_from_cells(X, what, columns=None):
    """Convert an object or string array to float64, naming any bad cell.

    Text (a cell that is a string and not a number, ``float()`` decides)
    is a ValueError, any other non-number (a dict, None, a list) a
    TypeError that keeps Python's own message.
    """
    try:
        return X.astype(np.float64)
    except OverflowError as exc:
        raise ValueError(
            f"{what} has dtype object and holds a number too large for "
            f"float64 ({exc}); rescale it before fitting."
        ) from exc
    except (TypeError, ValueError) as exc:
        *index, cell = _first_non_number(X)
        where = f"at row {index[0]}, column {index[1]}" if len(index) == 2 else ""
        if columns is not None and len(index) == 2:
            where += f" ({columns[index[1]]!r})"
        if isinstance(cell, (str, bytes)):
            raise ValueError(
                f"{what} holds text, {cell!r} {where}; NMF needs numbers. Convert "
                "or drop the text entries before fitting (for example "
                "pd.to_numeric, or select the numeric columns)."
            ) from exc
        raise TypeError(
            f"{what} has dtype object and holds a value that is not a number, "
            f"{type(cell).__name__} {where} ({exc}); NMF needs real non-negative "
            "numbers."
        ) from exc


def as_numeric_array(X, what="X"):
    """Convert dense input to a NumPy array of numbers and find its marked cells.

    Parameters
    ----------
    X : array-like
        NumPy array or masked array, pandas DataFrame, nested sequence.
    what : str
        Name of the data in messages.

    Returns
    -------
    X : ndarray
        The values (any numeric dtype, not yet checked for shape, sign or
        finiteness). Under a mask or pd.NA the value is meaningless.
    missing : MarkedMissing or None
        The cells that ``X``'s container marks missing: the masked entries
        of a :class:`numpy.ma.MaskedArray`, the pd.NA (or None) cells of a
        DataFrame or of an object array. None when there is none.

    Raises
    ------
    ValueError
        For text cells, numbers too large for float64, ragged sequences.
    TypeError
        For other non-number cells (dicts, lists, None in an array).
    """
    missing, columns = None, None
    if isinstance(X, np.ma.MaskedArray):
        cells = np.ma.getmaskarray(X)
        if cells.any():
            missing = MarkedMissing(cells, "masked")
        X = X.data
    elif _is_dataframe(X):
        columns = list(X.columns)
        all_float32 = all(str(d).lower() == "float32" for d in X.dtypes)
        X, cells = _frame_values(X)
        if cells is not None:
            missing = MarkedMissing(cells, "pd.NA")
        if X.dtype == object:
            X = _numbers_from_cells(X, what, columns)
            if all_float32:
                X = X.astype(np.float32)
    try:
        X = np.asarray(X)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{what} could not be converted to a 2-dimensional numeric array ({exc})."
        ) from exc
    if X.dtype == object:
        na = _pandas_na()
        if na is not None and X.size:
            cells = np.frompyfunc(lambda v: v is na, 1, 1)(X).astype(bool)
            if cells.any():
                X = X.copy()
                X[cells] = np.nan
                missing = MarkedMissing(cells, "pd.NA")
        X = _numbers_from_cells(X, what, columns)
    elif X.dtype.kind in "US":
        X = _numbers_from_cells(X, what, columns)
    return X, missing


def missing_entries_message(missing, what="X"):
    """The error for marked missing cells where every entry is needed."""
    n_missing = int(np.count_nonzero(missing.cells))
    row, col = (
        int(i)
        for i in np.unravel_index(
            int(np.flatnonzero(missing.cells.ravel())[0]), missing.cells.shape
        )
    )
    if missing.source == "masked":
        found = f"{what} is a masked array with {n_missing} masked"
        fix = " (or mask=~X.mask), or fill them first (X.filled(value))"
    else:
        found = f"{what} has {n_missing} missing (pd.NA)"
        fix = ", or fill them first (X.fillna(value))"
    plural = "entry" if n_missing == 1 else "entries"
    return (
        f"{found} {plural} (the first at row {row}, column {col}); to fit only the "
        f"observed entries pass missing_values=np.nan to NMF{fix}."
    )


def _check_in_memory(X, *, what="X", copy=False, accept_sparse=True):
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
        For non-numeric data other than text (dicts, lists, None cells;
        datetime or other dtypes).
    ValueError
        For text cells, complex data, wrong dimensionality, empty data, NaN,
        infinite or negative values, and entries that the container marks
        missing (masked entries of a :class:`numpy.ma.MaskedArray`, pd.NA
        cells): those need ``NMF(missing_values=np.nan)``.
    """
    if sp.issparse(X):
        if not accept_sparse:
            raise TypeError(
                f"{what} is a sparse matrix, which is not supported here; "
                "convert it with X.toarray()."
            )
        if X.ndim != 2:
            raise ValueError(not_2d_message(X.shape, what))
        fmt = X.format if X.format in _SPARSE_FORMATS else "csr"
        X = X.asformat(fmt, copy=copy)
        _check_dtype_kind(X.dtype, what)
        X = X.astype(_as_float_dtype(X.dtype), copy=False)
        if not X.has_canonical_format or (X.nnz and not X.data.all()):
            X = X.copy()  # never change the caller's matrix in place
            X.sum_duplicates()
            X.eliminate_zeros()
    else:
        X, missing = as_numeric_array(X, what)
        _check_dtype_kind(X.dtype, what)
        if X.ndim != 2:
            raise ValueError(not_2d_message(X.shape, what))
        if missing is not None:
            raise ValueError(missing_entries_message(missing, what))
        dtype = _as_float_dtype(X.dtype)
        X = (
            np.array(X, dtype=dtype, order="C", copy=True)
            if copy
            else (np.ascontiguousarray(X, dtype=dtype))
        )
    if 0 in X.shape:
        raise ValueError(empty_message(X.shape, what))
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
    # The typical magnitude lies between the smallest positive entry and the
    # peak: when even that smallest entry is within the range, so is the
    # typical magnitude (one cheap pass instead of a logarithm per entry).
    smallest = float(np.min(values, where=values > 0, initial=peak))
    _, high = magnitude_range(X.dtype)
    if math.log2(peak) - math.log2(smallest) <= math.log2(high):
        return
    check_dynamic_range(peak, typical_magnitude(X), X.dtype, what)


def check_dynamic_range(peak, typical, dtype, what="X"):
    """:func:`check_magnitude` from the largest value and the typical magnitude
    (for data whose values live elsewhere: array-API tensors)."""
    if peak == 0:
        return
    dtype = np.dtype(dtype)
    low, high = magnitude_range(dtype)
    ratio = 2.0 ** min(1023.0, math.log2(peak) - math.log2(typical))
    if low <= ratio <= high:
        return
    widen = ""
    if dtype == np.float32:
        low64, high64 = magnitude_range(np.float64)
        widen = (
            f", or convert it to float64 (X.astype(np.float64) accepts ratios up "
            f"to {high64:.3g})"
        )
    raise ValueError(
        f"{what}'s largest value {peak:.6g} is {ratio:.3g} times its typical "
        f"magnitude {typical:.3g} (the geometric mean of its positive entries), "
        f"beyond {high:.3g}, the dynamic range NMF handles in {dtype} (the "
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
    whom = _sklearn_whom(what)
    if A.ndim == 2 and len(shape) == 2:
        for axis, which in enumerate(("first", "second")):
            if A.shape[axis] != shape[axis]:
                raise ValueError(
                    f"Array with wrong {which} dimension passed to {whom}. "
                    f"Expected {shape[axis]}, but got {A.shape[axis]}. "
                    f"The initial {what} has shape {A.shape}, expected "
                    f"{tuple(shape)}: (n_samples, n_components) for W and "
                    "(n_components, n_features) for H."
                )
    if A.shape != tuple(shape):
        raise ValueError(
            f"The initial {what} has shape {A.shape}, expected {tuple(shape)} "
            "(n_samples, n_components) for W and (n_components, n_features) for H."
        )
    if A.dtype != dtype:
        raise TypeError(
            f"{what} should have the same dtype as X. Got {what}.dtype = "
            f"{A.dtype}. The initial {what} has dtype {A.dtype} but X has dtype "
            f"{np.dtype(dtype)}; give W and H the same dtype as X "
            f"(for example {what}.astype(X.dtype))."
        )
    _check_finite(A, f"The initial {what}")
    check_non_negative_values(A, f"The initial {what}")
    if not A.any():
        raise ValueError(
            f"Array passed to {whom} is full of zeros. The updates keep a zero "
            f"factor at zero, so the fit could not move; give an initial {what} "
            "with positive entries (or choose another init)."
        )
    return np.array(A, dtype=dtype, order="C", copy=True)


def warn_max_iter_reached(max_iter, tol, stacklevel=3):
    """scikit-learn's ``ConvergenceWarning`` after ``max_iter`` iterations."""
    warnings.warn(
        f"Maximum number of iterations {max_iter} reached. Increase it to improve "
        f"convergence. nmfkit stops earlier only when its tol={tol} test is met "
        "(the objective's decrease, or scikit-learn's tests for solver='mu' and "
        "'cd'; see tol in NMF's documentation); raise max_iter (or tol), or set "
        "tol=0 "
        "to run exactly max_iter iterations without this warning.",
        ConvergenceWarning,
        stacklevel=stacklevel + 1,
    )


def warn_factors_ignored(stacklevel=3):
    """scikit-learn's warning when W or H are given but ``init != "custom"``."""
    warnings.warn(
        "When init!='custom', provided W or H are ignored. Set init='custom' to "
        "use them as initialization. nmfkit starts from init's factors instead; "
        "set init='custom' to start from the given W and H.",
        RuntimeWarning,
        stacklevel=stacklevel + 1,
    )


def factor_rank(A, what, size):
    """The rank that a custom initial factor implies (``n_components="auto"``).

    Parameters
    ----------
    A : array-like
        The initial ``W`` (its columns are the components) or ``H`` (its
        rows are).
    what : {"W", "H"}
    size : int
        ``n_samples`` for W, ``n_features`` for H (for the message).

    Returns
    -------
    n_components : int

    Raises
    ------
    ValueError
        When ``A`` is not a 2-dimensional array with at least one component.
    """
    expected = (
        f"(n_samples={size}, n_components)"
        if what == "W"
        else f"(n_components, n_features={size})"
    )
    try:
        shape = tuple(np.shape(A))
    except ValueError as exc:  # a ragged sequence
        raise ValueError(
            f"The initial {what} is not an array ({exc}); give a 2-dimensional "
            f"array of shape {expected}."
        ) from exc
    if len(shape) != 2 or 0 in shape:
        raise ValueError(
            f"The initial {what} has shape {shape}; expected a 2-dimensional "
            f"array of shape {expected} with at least one component."
        )
    return int(shape[1] if what == "W" else shape[0])


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


def _check_mask_shape(mask, shape):
    if tuple(mask.shape) != tuple(shape):
        raise ValueError(
            f"mask has shape {tuple(mask.shape)} but X has shape {tuple(shape)}; "
            "the mask must mark the observed entries of X, one for one."
        )


def _check_mask_values(values, dtype):
    kind = np.dtype(dtype).kind
    if kind != "b" and (kind not in "iu" or not np.isin(values, (0, 1)).all()):
        raise TypeError(
            f"mask has dtype {dtype}; give a boolean array (True where X is observed)."
        )


def _check_mask(mask, shape):
    """Return the positions (rows, cols) where ``mask`` is True, row-major.

    A sparse mask costs O(its stored entries), a dense one O(its size).
    """
    if sp.issparse(mask):
        _check_mask_shape(mask, shape)
        csr = sp.csr_matrix(mask)  # sums duplicates, sorts by row
        csr.sum_duplicates()
        _check_mask_values(csr.data, csr.dtype)
        coo = csr.tocoo()
        keep = coo.data != 0
        return coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    mask = np.asarray(mask)
    _check_mask_shape(mask, shape)
    _check_mask_values(mask, mask.dtype)
    return np.nonzero(mask.astype(bool, copy=False))


#: Largest ``n_samples * n_features`` for which a sparse X whose unstored
#: entries are observed zeros (``sparse_unobserved="zero"``) is fitted as
#: partially observed when every entry is observed but a few stored missing
#: ones: the masked solvers then hold every observed entry (about 40 bytes
#: each), as for the same matrix given dense.
MAX_FULLY_OBSERVED_SPARSE = 10**8


def sparse_stores_missing(X, missing_values):
    """Whether a sparse X has an entry equal to ``missing_values``.

    With the unstored entries read as zeros: ``missing_values=0`` makes
    every unstored entry missing. O(nnz), X unchanged.
    """
    if missing_values is None:
        return False
    if missing_values == 0:
        return X.nnz < X.shape[0] * X.shape[1] or not np.all(X.data)
    if not X.has_canonical_format:  # duplicates are summed before comparing
        X = X.tocsr(copy=True)
        X.sum_duplicates()
    return bool(np.any(_is_missing_value(X.data, missing_values)))


def _canonical_csr(X, what):
    """A validated sparse X as CSR float, duplicates summed, explicit zeros kept."""
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-dimensional, got {X.ndim} dimensions.")
    _check_dtype_kind(X.dtype, what)
    X = sp.csr_matrix(X, dtype=_as_float_dtype(X.dtype))
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def _sparse_values_at(X, rows, cols):
    """Values of the CSR X at the given positions and whether each is stored.

    One binary search per position in its row: O(m log(nnz per row)), X
    never densified. Unstored positions get the value 0.
    """
    if rows.size == 0:
        return np.zeros(0, X.dtype), np.zeros(0, bool)
    where = sp.csr_matrix(
        (np.arange(1, X.nnz + 1, dtype=np.int64), X.indices, X.indptr),
        shape=X.shape,
    )
    position = np.asarray(where[rows, cols]).ravel()
    stored = position > 0
    values = np.zeros(rows.size, dtype=X.dtype)
    values[stored] = X.data[position[stored] - 1]
    return values, stored


def _sparse_observed(X, missing_values, sparse_unobserved, mask, what):
    """Candidate observed entries ``(rows, cols, values)`` of a sparse X.

    Never densifies X: a mask costs O(its entries + nnz), the stored
    entries O(nnz). Only when every unstored entry is an observed zero and no
    mask is given are all ``n x p`` entries observed (``missing_values``
    then removes the stored missing ones); that is refused above
    :data:`MAX_FULLY_OBSERVED_SPARSE` entries.
    """
    X = _canonical_csr(X, what)
    if mask is not None:
        rows, cols = _check_mask(mask, X.shape)
        values, stored = _sparse_values_at(X, rows, cols)
        if sparse_unobserved == "missing":
            rows, cols, values = rows[stored], cols[stored], values[stored]
        return rows, cols, values
    if sparse_unobserved == "missing" or missing_values == 0:
        # the stored entries (with missing_values=0 every unstored entry is a
        # zero, i.e. missing; stored zeros are removed by the caller)
        coo = X.tocoo()
        return coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    n_samples, n_features = X.shape
    if n_samples * n_features > MAX_FULLY_OBSERVED_SPARSE:
        n_missing = int(np.count_nonzero(_is_missing_value(X.data, missing_values)))
        raise ValueError(
            f"{what} is sparse with its unstored entries read as observed zeros "
            f"(sparse_unobserved='zero') and {n_missing} stored missing values, so "
            f"all but {n_missing} of its {n_samples} x {n_features} entries are "
            "observed: too many for the partially observed solvers, which hold "
            "every observed entry. Pass sparse_unobserved='missing' if the "
            "unstored entries are unknown (ratings), or replace the missing "
            "values (for example by 0) to fit the complete sparse matrix."
        )
    return _dense_observed(X.toarray(), None, None)


def _dense_observed(X, missing, mask):
    """Candidate observed entries ``(rows, cols, values)`` of a 2-D array.

    The entries of ``mask`` (all when None) that the container does not
    mark missing (``missing``: masked entries, pd.NA).
    """
    X = np.asarray(X, dtype=_as_float_dtype(X.dtype))
    observed = None if missing is None else ~missing.cells
    if mask is not None:
        rows, cols = _check_mask(mask, X.shape)
        if observed is not None:
            keep = observed[rows, cols]
            rows, cols = rows[keep], cols[keep]
    elif observed is not None:
        rows, cols = np.nonzero(observed)
    else:
        rows, cols = np.nonzero(np.ones(X.shape, dtype=bool))
    return rows, cols, X[rows, cols]


def _check_observed(
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
    - not masked, for a :class:`numpy.ma.MaskedArray`, and not pd.NA, for a
      pandas DataFrame (whatever ``missing_values`` is);
    - stored in a SciPy sparse ``X`` when ``sparse_unobserved="missing"``
      (explicitly stored zeros are observed zeros). With
      ``sparse_unobserved="zero"`` the unstored entries are observed zeros
      (missing when ``missing_values=0``).

    A sparse X is never densified: the cost is O(nnz) (plus the mask's
    entries), except with ``sparse_unobserved="zero"``, no mask and stored
    missing values, where every other entry is observed; that case is
    refused beyond :data:`MAX_FULLY_OBSERVED_SPARSE` entries.

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
        missing, no observed entry at all, a mask of the wrong shape, text
        cells, or a sparse X that would have too many observed entries.
    TypeError
        For a non-boolean mask or non-numeric data.
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
        shape = tuple(int(s) for s in X.shape)
        if 0 not in shape:
            rows, cols, values = _sparse_observed(
                X, missing_values, sparse_unobserved, mask, what
            )
    else:
        X, missing = as_numeric_array(X, what)
        _check_dtype_kind(X.dtype, what)
        shape = tuple(int(s) for s in X.shape)
        if len(shape) == 2 and 0 not in shape:
            rows, cols, values = _dense_observed(X, missing, mask)
    if len(shape) != 2:
        raise ValueError(not_2d_message(shape, what))
    if 0 in shape:
        raise ValueError(empty_message(shape, what))
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
    _check_finite(values, what, (observed.rows, observed.cols))
    negative = values < 0
    if negative.any():
        argmin = int(np.argmin(values))
        raise ValueError(
            negative_values_message(
                what,
                int(np.count_nonzero(negative)),
                float(values[argmin]),
                (int(observed.rows[argmin]), int(observed.cols[argmin])),
            )
        )
    check_magnitude(values, what)


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


def _check_tensor(X, xp, *, what="X"):
    """Validate a data matrix of a non-NumPy array-API library (PyTorch, CuPy).

    The checks of :func:`_check_in_memory` run on the array's own device;
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
    from ._array_api import accumulation_dtype, numpy_dtype, to_numpy

    if X.ndim != 2:
        raise ValueError(not_2d_message(X.shape, what))
    if X.dtype not in (xp.float32, xp.float64):
        _check_dtype_kind(numpy_dtype(X), what)
        X = xp.astype(X, accumulation_dtype(xp, X))
    if 0 in tuple(X.shape):
        raise ValueError(empty_message(X.shape, what))
    if not bool(xp.all(xp.isfinite(X))):
        _check_finite(to_numpy(X), what)
    if bool(xp.any(X < 0)):
        check_non_negative_values(to_numpy(X), what)
    # the dense path's dynamic-range check, reduced on the device
    positive = X > 0
    n_positive = int(xp.sum(xp.astype(positive, xp.int64)))
    if n_positive:
        logs = xp.where(positive, xp.log2(xp.where(positive, X, 1.0)), 0.0)
        log_sum = float(xp.sum(logs, dtype=accumulation_dtype(xp, X)))
        check_dynamic_range(
            float(xp.max(X)), 2.0 ** (log_sum / n_positive), numpy_dtype(X), what
        )
    return X


def check_summarized_values(
    *, n_nan, n_inf, n_negative, minimum, peak, typical, dtype, what="X"
):
    """The value checks of :func:`check_data` from reductions over X.

    For data whose values are not scanned on the host (Dask arrays, reduced
    where they live): the same checks in the same order with the same
    messages, without the location of the first offending entry.

    Parameters
    ----------
    n_nan, n_inf, n_negative : int
        How many entries are NaN, infinite and negative.
    minimum, peak : float
        The smallest and the largest value.
    typical : float
        The geometric mean of the positive entries.
    dtype : numpy dtype
    what : str
        Name of the data in messages.

    Raises
    ------
    ValueError
        For NaN, infinite or negative entries, or a dynamic range beyond
        :func:`magnitude_range`.
    """
    if n_nan or n_inf:
        raise ValueError(non_finite_message(what, int(n_nan), int(n_inf)))
    if n_negative:
        raise ValueError(negative_values_message(what, int(n_negative), minimum))
    check_dynamic_range(peak, typical, dtype, what)


def _check_dask(X, what):
    """The structural checks of a Dask X (values: :func:`check_summarized_values`)."""
    if X.ndim != 2:
        raise ValueError(not_2d_message(X.shape, what))
    _check_dtype_kind(X.dtype, what)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if any(np.isnan(c) for dim in X.chunks for c in dim):
        raise ValueError(
            f"{what} has unknown chunk sizes; call X.compute_chunk_sizes() first."
        )
    if 0 in X.shape:
        raise ValueError(empty_message(X.shape, what))
    return X


def check_data(
    X,
    *,
    what="X",
    copy=False,
    accept_sparse=True,
    accept_dask=True,
    dask_alternative="fit nmfkit.NMF, which takes Dask arrays",
    partially_observed=False,
    **observed_options,
):
    """Validate a data matrix of any kind: the one entry point.

    Every kind of data passes the same checks, in the same order, with the
    same messages (scikit-learn's sentence first where it has one):

    1. type and shape: a 2-dimensional array (:func:`not_2d_message`);
    2. dtype: real numbers (text, objects, complex refused), converted to
       float32 (kept) or float64;
    3. not empty (:func:`empty_message`);
    4. finite, except entries declared missing (:func:`non_finite_message`);
    5. non-negative (:func:`negative_values_message`);
    6. a dynamic range the dtype can handle (:func:`check_dynamic_range`).

    An all-zero matrix is accepted (its factors are zero). Sparse input stays
    sparse and partially observed input is reduced to its observed entries
    without densifying. A Dask array gets checks 1-3 here and 4-6 from the
    reductions of the fit's first pass over X
    (:func:`check_summarized_values`); an array of another array-API library
    (PyTorch, CuPy; with array-API dispatch on) is reduced on its device and
    copied to the host only to name an offending entry.

    Parameters
    ----------
    X : array-like, sparse matrix, array-API array or Dask array
        Of shape (n_samples, n_features).
    what : str
        Name of the data in messages.
    copy : bool
        In-memory data: whether to always copy.
    accept_sparse : bool
        Whether SciPy sparse input is allowed.
    accept_dask : bool
        Whether a Dask array is allowed (False: a ValueError tells to
        compute it into memory, or what else to do).
    dask_alternative : str
        What else to do with a Dask array that is refused, for the message.
    partially_observed : bool
        Whether X is partially observed: the result is then its observed
        entries, selected by ``observed_options``.
    **observed_options
        ``missing_values``, ``sparse_unobserved``, ``mask`` and
        ``warn_unobserved`` of a partially observed X (see
        :class:`~nmfkit.NMF`).

    Returns
    -------
    X : ndarray, sparse matrix, array-API array, Dask array or ObservedEntries
        The validated data (the observed entries when ``partially_observed``).

    Raises
    ------
    ValueError
        For the failed check, naming the problem and the fix (or a Dask
        array where ``accept_dask`` is False).
    TypeError
        For non-numeric data (or sparse data where ``accept_sparse`` is
        False).
    """
    from ._array_api import get_namespace, is_numpy

    if type(X).__module__.startswith("dask.array") and hasattr(X, "chunks"):
        if not accept_dask:
            raise ValueError(
                f"{what} is a Dask array, and this function needs {what} in "
                f"memory; pass {what}.compute() (NumPy or SciPy sparse), or "
                f"{dask_alternative}."
            )
        return _check_dask(X, what)
    if partially_observed:
        return _check_observed(X, what=what, **observed_options)
    if observed_options:
        raise TypeError(
            f"{sorted(observed_options)} apply to partially observed data only; "
            "pass partially_observed=True."
        )
    xp = get_namespace(X)
    if not is_numpy(xp):
        return _check_tensor(X, xp, what=what)
    return _check_in_memory(X, what=what, copy=copy, accept_sparse=accept_sparse)
