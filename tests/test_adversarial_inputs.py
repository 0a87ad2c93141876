"""Property-based tests: hostile data gets a finite fit or a clear error.

Every generated input is classified independently of nmfkit by
:func:`_expected_valid` (shape, dtype kind, finiteness, sign, magnitude). A
valid input must give finite factors, objective, reconstruction error and
transform; an invalid one must raise ValueError or TypeError with a message.
Nothing else is allowed: no other exception, no NaN, no RuntimeWarning (the
test configuration turns those into errors), no hang (hypothesis' deadline).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from nmfkit import NMF
from nmfkit._scaling import typical_magnitude
from nmfkit._validation import magnitude_range

SPECIAL = [
    0.0,
    1.0,
    0.5,
    3.0,
    -1.0,
    -1e-12,
    np.nan,
    np.inf,
    -np.inf,
    1e300,
    1e-300,
    5e-324,
    1e77,
    1e-77,
    1e9,
    1e-9,
    1.7e308,
]
ELEMENT = st.one_of(
    st.sampled_from(SPECIAL),
    st.floats(min_value=0, max_value=10, allow_nan=False),
)
NORMAL = st.floats(min_value=0, max_value=10, allow_nan=False)
SCALE = st.sampled_from([1.0, 1.0, 1.0, 1e-300, 1e300, 1.1e77, 1.3e-77, 1e-9, 1e20])
SETTINGS = settings(
    max_examples=120,
    deadline=3000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


def _expected_valid(dense, kind):
    """Whether nmfkit must accept this data (as a float64/float32 dense array)."""
    if kind not in "biuf":
        return False
    if dense.ndim != 2 or 0 in dense.shape:
        return False
    with np.errstate(all="ignore"):
        values = dense.astype(np.float32 if dense.dtype == np.float32 else np.float64)
    if not np.isfinite(values).all() or (values < 0).any():
        return False
    peak = values.max()
    if peak == 0:
        return True
    typical = typical_magnitude(values)
    low, high = magnitude_range(values.dtype)
    # the dynamic range must fit the dtype, and the Frobenius objective (which
    # scales as the square of the typical magnitude) must fit float64
    ratio = np.log2(peak) - np.log2(typical)
    return np.log2(low) <= ratio <= np.log2(high) and abs(2 * np.log2(typical)) <= 1000


def _check_fit(X, dense, kind, n_components, init):
    valid = _expected_valid(dense, kind)
    if valid and init == "nndsvda" and n_components > min(dense.shape):
        valid = False  # NNDSVD needs rank <= min(n_samples, n_features)
    model = NMF(n_components=n_components, init=init, random_state=0, max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            W = model.fit_transform(X)
        except (ValueError, TypeError) as exc:
            event(f"refused: {type(exc).__name__} {str(exc).split(';')[0][:40]}")
            assert not valid, f"valid input refused: {exc}"
            assert len(str(exc)) > 20
            return
        assert valid, "invalid input accepted"
        event("fitted")
        W_new = model.transform(X)
    for array in (W, model.components_, W_new, model.history_):
        assert np.isfinite(array).all()
        assert (array[..., :] >= 0).all() or array is model.history_
    assert np.isfinite(model.loss_) and np.isfinite(model.reconstruction_err_)
    assert W.shape == (dense.shape[0], n_components)


DTYPES = [
    np.float64,
    np.float32,
    np.float16,
    np.longdouble,
    np.int64,
    np.uint8,
    np.bool_,
    np.complex128,
]


@st.composite
def dense_inputs(draw):
    n = draw(st.integers(0, 6))
    p = draw(st.integers(0, 6))
    values = np.array(
        draw(st.lists(NORMAL, min_size=n * p, max_size=n * p)), dtype=np.float64
    ).reshape(n, p)
    if values.size:  # a few hostile entries, often none
        for _ in range(draw(st.integers(0, 2))):
            values.flat[draw(st.integers(0, values.size - 1))] = draw(ELEMENT)
    with np.errstate(all="ignore"):
        values = values * draw(SCALE)
    dtype = draw(st.sampled_from(DTYPES))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if np.dtype(dtype).kind in "iub":
            X = np.nan_to_num(values, nan=0, posinf=1, neginf=-1)
            X = np.clip(X, -5, 200).astype(dtype)
        else:
            X = values.astype(dtype)
    layout = draw(st.sampled_from(["C", "F", "strided", "readonly"]))
    if layout == "F":
        X = np.asfortranarray(X)
    elif layout == "strided":
        big = np.zeros((2 * n, 2 * p), dtype=X.dtype)
        big[::2, ::2] = X
        X = big[::2, ::2]
        assert not X.flags.c_contiguous or X.size <= 1
    elif layout == "readonly":
        X = X.copy()
        X.setflags(write=False)
    return X


@SETTINGS
@given(
    X=dense_inputs(),
    n_components=st.integers(1, 3),
    init=st.sampled_from(["random", "nndsvda", None]),
)
def test_dense_inputs_fit_finite_or_fail_clearly(X, n_components, init):
    before = X.copy()
    _check_fit(X, X, X.dtype.kind, n_components, init)
    np.testing.assert_array_equal(X, before)  # the caller's data is untouched


@st.composite
def sparse_inputs(draw):
    n = draw(st.integers(1, 6))
    p = draw(st.integers(1, 6))
    indptr = [0]
    indices, data = [], []
    for _ in range(n):
        cols = draw(st.lists(st.integers(0, p - 1), max_size=2 * p))  # repeats allowed
        indices += cols
        data += [draw(ELEMENT) for _ in cols]
        indptr.append(len(indices))
    fmt = draw(st.sampled_from(["csr", "csc", "coo"]))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int32]))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = np.array(data, dtype=np.float64)
        if np.dtype(dtype).kind == "i":
            values = np.clip(np.nan_to_num(values, nan=0, posinf=1, neginf=-1), -5, 9)
        values = values.astype(dtype)
    # Unsorted, duplicate indices and explicit zeros, as given.
    X = sp.csr_matrix(
        (values, np.array(indices, dtype=np.int32), np.array(indptr)), shape=(n, p)
    )
    if fmt == "csc":
        X = sp.csc_matrix(
            (values, np.array(indices, dtype=np.int32), np.array(indptr)), shape=(p, n)
        )
    elif fmt == "coo":
        X = X.tocoo()
    return X


@SETTINGS
@given(
    X=sparse_inputs(),
    n_components=st.integers(1, 3),
    init=st.sampled_from(["random", "nndsvda"]),
)
def test_sparse_inputs_fit_finite_or_fail_clearly(X, n_components, init):
    data_before = X.data.copy()
    with np.errstate(all="ignore"):
        dense = X.toarray()  # sums duplicates, as scipy defines the matrix
    _check_fit(X, dense, X.dtype.kind, n_components, init)
    np.testing.assert_array_equal(X.data, data_before)


OBJECT_ELEMENT = st.one_of(
    st.floats(min_value=0, max_value=10),
    st.integers(0, 100),
    st.integers(10**308, 10**400),
    st.sampled_from(["1.5", "abc", None, b"x", [1], complex(1, 1), np.nan]),
)


@SETTINGS
@given(
    values=st.lists(OBJECT_ELEMENT, min_size=4, max_size=4),
)
def test_object_arrays_fit_or_fail_clearly(values):
    X = np.empty((2, 2), dtype=object)
    for i, v in enumerate(values):
        X[i // 2, i % 2] = v
    try:  # Python's own float() decides what is a number ("1.5" is)
        dense = np.array([float(v) for v in values]).reshape(2, 2)
    except (TypeError, ValueError, OverflowError):
        dense = None
    model = NMF(n_components=1, init="random", random_state=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            W = model.fit_transform(X)
        except (ValueError, TypeError) as exc:
            assert dense is None or not _expected_valid(dense, "f"), str(exc)
            return
    assert dense is not None and _expected_valid(dense, "f")
    assert np.isfinite(W).all() and np.isfinite(model.components_).all()


@pytest.mark.parametrize(
    "X, error, message",
    [
        (np.zeros((0, 3)), ValueError, "found 0 sample"),
        (np.zeros((3, 0)), ValueError, "found 0 feature"),
        (np.array([[1.0, np.nan]]), ValueError, "1 NaN value"),
        (np.array([[1.0, np.inf]]), ValueError, "1 infinite value"),
        (np.array([[1.0, -2.0]]), ValueError, "1 negative entry"),
        (np.full((2, 2), 1e300), ValueError, "1e\\+300\\^2, outside the range"),
        (np.full((2, 2), 1e-300), ValueError, "1e-300\\^2, outside the range"),
        (
            np.array([[1e150, 1e-150], [1.0, 1.0]]),
            ValueError,
            "1e\\+150 is 1e\\+150 times its typical magnitude.*overflow",
        ),
        (
            np.array([[1e12, 1e-12], [1.0, 1.0]], np.float32),
            ValueError,
            "times its typical magnitude.*float32.*float64",
        ),
        (np.ones((2, 2), complex), ValueError, "Complex data not supported"),
        (np.array([["a", "b"]]), ValueError, "holds text, 'a' at row 0, column 0"),
        (np.array([[1, "a"]], dtype=object), ValueError, "text, 'a' at row 0, col"),
        (np.array([[1, None]], dtype=object), ValueError, "1 NaN value"),
        (np.array([["2020-01-01"]], dtype="datetime64[D]"), TypeError, "not numeric"),
        (np.array([[1, 10**400]], dtype=object), ValueError, "too large"),
        (np.ones(3), ValueError, "2-dimensional.*reshape"),
    ],
)
def test_named_bad_inputs_get_their_message(X, error, message):
    with pytest.raises(error, match=message):
        NMF(n_components=1, max_iter=5).fit(X)


@pytest.mark.parametrize("scale", [1.3e-77, 1e-40, 1e40, 1.1e77])
def test_extreme_but_accepted_magnitudes_fit_like_unit_data(scale):
    X = np.random.default_rng(0).random((8, 6))
    X /= X.max()
    reference = NMF(n_components=2, init="random", random_state=0, tol=0, max_iter=40)
    reference.fit(X)
    model = NMF(n_components=2, init="random", random_state=0, tol=0, max_iter=40)
    W = model.fit_transform(X * scale)
    assert np.isfinite(W).all() and np.isfinite(model.components_).all()
    # The fit is scale-equivariant: the relative error matches unit data.
    np.testing.assert_allclose(
        model.reconstruction_err_ / scale, reference.reconstruction_err_, rtol=1e-6
    )


@pytest.mark.parametrize("init", ["nndsvd", "nndsvda", "nndsvdar"])
def test_rank_deficient_data_with_nndsvd_gives_finite_factors(init):
    # Found by the property test: singular vectors of zero singular values
    # have no positive or negative part; NNDSVD used to divide 0 by 0 there.
    X = np.zeros((3, 4))
    X[0, 1] = 1.0
    model = NMF(n_components=3, init=init, random_state=0, max_iter=30)
    W = model.fit_transform(X)
    assert np.isfinite(W).all() and np.isfinite(model.components_).all()
    np.testing.assert_allclose(W @ model.components_, X, atol=1e-3)


def _reference_fit(X):
    model = NMF(n_components=2, init="nndsvda", random_state=0, tol=0, max_iter=25)
    return model.fit_transform(X), model.components_


def test_layouts_give_the_fit_of_the_contiguous_array():
    X = np.random.default_rng(2).random((7, 5))
    W, H = _reference_fit(X)
    big = np.zeros((14, 10))
    big[::2, ::2] = X
    readonly = X.copy()
    readonly.setflags(write=False)
    for variant in (np.asfortranarray(X), big[::2, ::2], readonly, X.T.copy().T):
        W2, H2 = _reference_fit(variant)
        np.testing.assert_allclose(W2, W, rtol=1e-12)
        np.testing.assert_allclose(H2, H, rtol=1e-12)
    assert not readonly.flags.writeable


def test_integer_and_boolean_data_fit_as_float64():
    X = np.random.default_rng(3).integers(0, 5, size=(7, 5))
    for variant in (X, X.astype(np.uint8), X.astype(np.int32)):
        W, H = _reference_fit(variant)
        W_ref, H_ref = _reference_fit(X.astype(np.float64))
        assert W.dtype == np.float64
        np.testing.assert_array_equal(W, W_ref)
    B = X > 2
    np.testing.assert_array_equal(_reference_fit(B)[0], _reference_fit(B * 1.0)[0])


def test_sparse_explicit_zeros_duplicates_and_unsorted_indices():
    # Row 0 holds 1.0 at column 2 given as 0.25 + 0.75 (duplicate), an
    # explicit zero at column 0 and unsorted column indices.
    data = np.array([0.25, 0.0, 2.0, 0.75, 3.0, 1.0, 0.5, 4.0])
    indices = np.array([2, 0, 3, 2, 1, 0, 3, 2], dtype=np.int32)
    indptr = np.array([0, 5, 7, 8])
    X = sp.csr_matrix((data, indices, indptr), shape=(3, 4))
    assert not X.has_canonical_format
    dense = np.array([[0, 3, 1, 2], [1, 0, 0, 0.5], [0, 0, 4, 0]], dtype=float)
    W, H = _reference_fit(dense)
    for variant in (X, X.tocoo(), sp.csc_matrix(X), sp.csr_array(X)):
        W2, H2 = _reference_fit(variant)
        np.testing.assert_allclose(W2 @ H2, W @ H, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(X.data, data)  # the caller's matrix is untouched


@settings(
    max_examples=25,
    deadline=3000,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    values=st.lists(ELEMENT, min_size=12, max_size=12),
    hidden=st.lists(st.booleans(), min_size=12, max_size=12),
    container=st.sampled_from(["masked", "pandas"]),
    missing_values=st.sampled_from([None, np.nan, -1.0]),
)
def test_containers_that_mark_missing_are_honoured(
    values, hidden, container, missing_values
):
    """Masked entries and pd.NA are missing under any missing_values (the
    values underneath never read), and an error naming the option without."""
    pd = pytest.importorskip("pandas")
    data = np.array(values, dtype=np.float64).reshape(3, 4)
    hidden = np.array(hidden).reshape(3, 4)
    if container == "masked":
        X = np.ma.masked_array(data, mask=hidden)
    else:
        X = pd.DataFrame(data).astype("Float64").mask(pd.DataFrame(hidden))
        data = np.where(hidden, 0.0, data)  # NaN in a Float64 column is pd.NA
        hidden = hidden | np.isnan(np.array(values).reshape(3, 4))
    settings_ = dict(n_components=1, init="random", random_state=0, max_iter=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unobserved rows, convergence
        if missing_values is None:
            if hidden.any():
                with pytest.raises(ValueError, match=r"missing_values=np\.nan"):
                    NMF(**settings_).fit(X)
            return
        observed = ~hidden & ~(
            np.isnan(data) if np.isnan(missing_values) else data == missing_values
        )
        reference = NMF(**settings_)
        try:
            reference.fit(np.where(observed, data, 0.0), mask=observed)
        except ValueError as exc:
            with pytest.raises(ValueError, match=re.escape(str(exc)[:30])):
                NMF(missing_values=missing_values, **settings_).fit(X)
            return
        model = NMF(missing_values=missing_values, **settings_).fit(X)
    np.testing.assert_array_equal(model.components_, reference.components_)
