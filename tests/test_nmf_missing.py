"""NMF on partially observed matrices: the estimator's missing-value API."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from nmfkit import NMF, non_negative_factorization
from nmfkit._validation import UnobservedWarning


def _low_rank(n=60, p=50, r=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, r)) @ rng.random((r, p))


def _hide(X, fraction, seed=1):
    rng = np.random.default_rng(seed)
    hidden = rng.random(X.shape) < fraction
    X_nan = X.copy()
    X_nan[hidden] = np.nan
    return X_nan, hidden


def test_nan_without_missing_values_points_to_the_option():
    X, _ = _hide(_low_rank(), 0.1)
    with pytest.raises(ValueError, match=r"missing_values=np\.nan"):
        NMF(2).fit(X)


def test_rank5_half_hidden_is_recovered():
    X = _low_rank()
    X_nan, hidden = _hide(X, 0.5)
    model = NMF(
        5,
        solver="hals",
        init="random",
        missing_values=np.nan,
        tol=1e-12,
        max_iter=1500,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        W = model.fit_transform(X_nan)
    completed = model.inverse_transform(W)
    error = np.linalg.norm(completed[hidden] - X[hidden]) / np.linalg.norm(X[hidden])
    assert error < 1e-3
    # The observed entries are untouched by "completion" only through the model.
    assert model.reconstruction_err_ < 1e-3 * np.linalg.norm(X[~hidden])


@pytest.mark.parametrize("solver", ["mu", "hals"])
def test_dense_nan_equals_sparse_observed_equals_mask(solver):
    X = _low_rank(seed=2) + 0.05
    X_nan, hidden = _hide(X, 0.4, seed=3)
    settings = dict(n_components=4, solver=solver, max_iter=50, tol=0, random_state=0)
    W_dense = NMF(missing_values=np.nan, **settings).fit_transform(X_nan)
    H_dense = NMF(missing_values=np.nan, **settings).fit(X_nan).components_

    rows, cols = np.nonzero(~hidden)
    X_sparse = sp.csr_matrix((X[rows, cols], (rows, cols)), shape=X.shape)
    sparse_model = NMF(sparse_unobserved="missing", **settings)
    W_sparse = sparse_model.fit_transform(X_sparse)
    np.testing.assert_allclose(W_sparse, W_dense, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        sparse_model.components_, H_dense, rtol=1e-10, atol=1e-12
    )

    mask_model = NMF(**settings)
    W_mask = mask_model.fit_transform(X, mask=~hidden)
    np.testing.assert_allclose(W_mask, W_dense, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("init", ["nndsvda", "random"])
def test_nothing_missing_equals_unmasked_fit(init):
    X = _low_rank(seed=4) + 0.01
    settings = dict(
        n_components=4,
        init=init,
        max_iter=80,
        tol=0,
        random_state=0,
        alpha_W=0.01,
        l1_ratio=0.5,
        solver="mu",  # the masked MU reduces exactly to the unmasked updates
    )
    plain = NMF(**settings)
    W_plain = plain.fit_transform(X)
    masked = NMF(missing_values=np.nan, **settings)
    W_masked = masked.fit_transform(X)
    np.testing.assert_allclose(W_masked, W_plain, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(
        masked.components_, plain.components_, rtol=1e-8, atol=1e-12
    )
    np.testing.assert_allclose(masked.loss_curve_, plain.loss_curve_, rtol=1e-9)
    assert masked.reconstruction_err_ == pytest.approx(plain.reconstruction_err_)


def test_missing_values_number_marks_missing():
    X = _low_rank(seed=5) + 0.1
    X_nan, hidden = _hide(X, 0.3)
    X_minus = np.where(hidden, -1.0, X)
    settings = dict(n_components=3, max_iter=30, tol=0, random_state=0)
    a = NMF(missing_values=np.nan, **settings).fit(X_nan).components_
    b = NMF(missing_values=-1, **settings).fit(X_minus).components_
    np.testing.assert_allclose(a, b)


def test_transform_uses_observed_entries_of_new_rows_only():
    rng = np.random.default_rng(0)  # the factors of _low_rank()
    W_train = rng.random((60, 5))
    H = rng.random((5, 50))
    # New rows in the cone of the training rows: the fitted (not unique)
    # dictionary represents them exactly too.
    mixing = np.random.default_rng(6).random((10, 60))
    W_new = (mixing / mixing.sum(axis=1, keepdims=True)) @ W_train
    X_train, _ = _hide(W_train @ H, 0.5)
    model = NMF(
        5,
        solver="hals",
        init="random",
        missing_values=np.nan,
        tol=0,
        max_iter=1500,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train)
        X_new = W_new @ H
        X_new_nan, hidden = _hide(X_new, 0.4, seed=7)
        codes = model.transform(X_new_nan)
        # The hidden entries' values are ignored: any value gives the same codes.
        X_garbage = np.where(hidden, 1e6, X_new)
        codes_mask = model.transform(X_garbage, mask=~hidden)
    np.testing.assert_allclose(codes_mask, codes)
    completed = model.inverse_transform(codes)
    error = np.linalg.norm(completed[hidden] - X_new[hidden]) / np.linalg.norm(
        X_new[hidden]
    )
    assert error < 1e-3


def test_predict_entries_matches_inverse_transform():
    X_nan, _ = _hide(_low_rank(seed=8), 0.5)
    model = NMF(3, missing_values=np.nan, max_iter=20, tol=0, random_state=0)
    W = model.fit_transform(X_nan)
    rows = np.array([0, 5, 59, 12])
    cols = np.array([3, 49, 0, 12])
    np.testing.assert_allclose(
        model.predict_entries(W, rows, cols), model.inverse_transform(W)[rows, cols]
    )
    with pytest.raises(IndexError, match="outside"):
        model.predict_entries(W, [60], [0])
    with pytest.raises(ValueError, match="same length"):
        model.predict_entries(W, [1, 2], [0])
    with pytest.raises(TypeError, match="integer"):
        model.predict_entries(W, [1.5], [0])
    with pytest.raises(ValueError, match="expected"):
        model.predict_entries(W[:, :2], [1], [0])


def test_validation_messages():
    X = _low_rank(n=10, p=8)
    bad = X.copy()
    bad[2, 3] = -0.5
    bad[0, 0] = np.nan
    # the message of complete data: scikit-learn's sentence, then the entry
    negative = r"passed to NMF \(input X\)\. X contains 1 negative entry.*row 2, col"
    with pytest.raises(ValueError, match=negative):
        NMF(2, missing_values=np.nan).fit(bad)
    inf = X.copy()
    inf[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        NMF(2, missing_values=np.nan).fit(inf)
    with pytest.raises(ValueError, match="no observed entry"):
        NMF(2, missing_values=np.nan).fit(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="mask has shape"):
        NMF(2).fit(X, mask=np.ones((3, 3), dtype=bool))
    with pytest.raises(TypeError, match="boolean"):
        NMF(2).fit(X, mask=np.full(X.shape, 0.5))
    with pytest.raises(ValueError, match="sparse_unobserved"):
        NMF(2, sparse_unobserved="unknown").fit(sp.csr_matrix(X))
    with pytest.raises(ValueError, match="missing_values"):
        NMF(2, missing_values="NA").fit(X)
    with pytest.raises(ValueError, match="not available for partially observed data"):
        NMF(2, missing_values=np.nan, beta_loss=1).fit(X)


def test_unobserved_rows_and_columns_warn_and_get_zero_factors():
    X = _low_rank(n=12, p=9) + 0.1
    X[4] = np.nan
    X[:, 2] = np.nan
    model = NMF(2, missing_values=np.nan, max_iter=10, tol=0, random_state=0)
    with pytest.warns(UnobservedWarning) as record:
        W = model.fit_transform(X)
    messages = " ".join(str(w.message) for w in record)
    assert "1 rows with no observed entry (the first is row 4)" in messages
    assert "1 columns with no observed entry (the first is column 2)" in messages
    assert np.all(W[4] == 0) and np.all(model.components_[:, 2] == 0)


def test_sparse_explicit_zero_is_an_observed_zero():
    rows = np.array([0, 0, 1, 1, 2, 2])
    cols = np.array([0, 1, 1, 2, 0, 2])
    values = np.array([0.0, 1.0, 2.0, 0.0, 3.0, 1.0])
    X = sp.csr_matrix((values, (rows, cols)), shape=(3, 3))
    model = NMF(1, sparse_unobserved="missing", max_iter=10, tol=0, random_state=0)
    model.fit(X)
    # 6 observed entries (two of them zero), while "zero" sees all 9.
    observed_zero = np.array([[0.0, 1, np.nan], [np.nan, 2, 0], [3, np.nan, 1]])
    dense = NMF(1, missing_values=np.nan, max_iter=10, tol=0, random_state=0)
    dense.fit(observed_zero)
    np.testing.assert_allclose(model.components_, dense.components_, rtol=1e-10)


def test_non_negative_factorization_fixed_H_with_missing_values():
    X_nan, _ = _hide(_low_rank(seed=9), 0.3)
    model = NMF(3, missing_values=np.nan, max_iter=30, tol=0, random_state=0)
    model.fit(X_nan)
    W, H, n_iter = non_negative_factorization(
        X_nan,
        H=model.components_,
        n_components=3,
        update_H=False,
        missing_values=np.nan,
        max_iter=30,
        tol=0,
    )
    np.testing.assert_allclose(W, model.transform(X_nan))
    assert n_iter == 30


@pytest.mark.parametrize("solver", ["mu", "hals"])
def test_sparse_observations_never_form_a_dense_matrix(solver):
    # 10^6 x 10^6 in float64 is 8 TB: any dense n x p array (product or mask)
    # would fail on this machine. tracemalloc sees NumPy's allocations.
    n = p = 1_000_000
    rng = np.random.default_rng(0)
    nnz = 3000
    rows = rng.integers(0, n, nnz)
    cols = rng.integers(0, p, nnz)
    X = sp.csr_matrix((rng.random(nnz) + 0.5, (rows, cols)), shape=(n, p))
    model = NMF(
        2,
        solver=solver,
        sparse_unobserved="missing",
        init="random",
        max_iter=3,
        tol=0,
        random_state=0,
    )
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnobservedWarning)
            W = model.fit_transform(X)
        values = model.predict_entries(W, rows[:10], cols[:10])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert W.shape == (n, 2) and model.components_.shape == (2, p)
    assert np.all(np.isfinite(values))
    # Far below one dense n x p float64 array (8e12 bytes): a few O(n x rank)
    # arrays only.
    assert peak < 400e6


@pytest.mark.parametrize("solver", ["mu", "hals"])
def test_bias_components_fit_offsets(solver):
    rng = np.random.default_rng(10)
    n, p = 50, 40
    user = rng.random(n)
    item = rng.random(p)
    X = _low_rank(n, p, r=2, seed=11) + user[:, None] + item[None, :]
    X_nan, hidden = _hide(X, 0.3, seed=12)
    model = NMF(
        4,
        solver=solver,
        init="random",
        bias=True,
        missing_values=np.nan,
        tol=0,
        max_iter=300,
        random_state=0,
    )
    W = model.fit_transform(X_nan)
    H = model.components_
    assert W.shape == (n, 6) and H.shape == (6, p) and model.n_components_ == 6
    np.testing.assert_array_equal(W[:, -1], 1.0)
    np.testing.assert_array_equal(H[-2], 1.0)
    assert np.all(np.diff(model.loss_curve_) <= 1e-12 * model.loss_curve_[:-1])
    completed = model.inverse_transform(W)
    np.testing.assert_allclose(
        completed, W[:, :4] @ H[:4] + W[:, [4]] + H[[5]], rtol=1e-12
    )
    error = np.linalg.norm(completed[hidden] - X[hidden]) / np.linalg.norm(X[hidden])
    assert error < 0.05
    codes = model.transform(X_nan[:5])
    np.testing.assert_array_equal(codes[:, -1], 1.0)


def test_bias_needs_partially_observed_data():
    with pytest.raises(ValueError, match="partially observed data only"):
        NMF(2, bias=True).fit(_low_rank())


# ------------------------------------------------- containers that mark missing
def _masked_objective(X, observed, W, H):
    """1/2 ||M * (X - W H)||^2 computed directly (no penalties)."""
    residual = np.where(observed, X - W @ H, 0.0)
    return 0.5 * float(np.sum(residual**2))


@pytest.mark.parametrize("missing_values", [np.nan, -1.0, 0.0])
def test_masked_array_entries_are_missing_under_missing_values(missing_values):
    X = _low_rank(n=30, p=12, r=3, seed=20) + 0.1
    hidden = np.random.default_rng(21).random(X.shape) < 0.3
    # Under the mask: garbage that must never be read (negative, NaN, huge).
    garbage = np.where(np.arange(X.size).reshape(X.shape) % 3 == 0, np.nan, -5.0)
    X_ma = np.ma.masked_array(np.where(hidden, garbage, X), mask=hidden)
    settings = dict(n_components=3, max_iter=40, tol=0, random_state=0)
    model = NMF(missing_values=missing_values, **settings)
    W = model.fit_transform(X_ma)
    reference = NMF(**settings)
    W_ref = reference.fit_transform(X, mask=~hidden)
    np.testing.assert_array_equal(W, W_ref)
    np.testing.assert_array_equal(model.components_, reference.components_)
    assert model.loss_ == pytest.approx(
        _masked_objective(X, ~hidden, W, model.components_), rel=1e-9
    )
    np.testing.assert_array_equal(
        model.transform(X_ma), reference.transform(X, ~hidden)
    )


def test_masked_array_without_missing_values_is_refused():
    X = _low_rank(n=10, p=8) + 0.1
    mask = np.zeros(X.shape, dtype=bool)
    mask[2, 5] = True
    X_ma = np.ma.masked_array(X, mask=mask)
    message = (
        r"X is a masked array with 1 masked entry \(the first at row 2, column 5\); "
        r"to fit only the observed entries pass missing_values=np\.nan to NMF "
        r"\(or mask=~X\.mask\)"
    )
    with pytest.raises(ValueError, match=message):
        NMF(2).fit(X_ma)
    model = NMF(2, max_iter=10, tol=0, random_state=0).fit(X)
    with pytest.raises(ValueError, match=message):
        model.transform(X_ma)
    # Nothing masked: the data is the data.
    unmasked = NMF(2, max_iter=10, tol=0, random_state=0).fit(np.ma.masked_array(X))
    np.testing.assert_array_equal(unmasked.components_, model.components_)


@pytest.mark.parametrize("dtype", ["Float64", "Int64"])
def test_pandas_na_is_missing_under_missing_values(dtype):
    pd = pytest.importorskip("pandas")
    X = np.round(10 * _low_rank(n=30, p=12, r=3, seed=22)) + 1
    hidden = np.random.default_rng(23).random(X.shape) < 0.25
    frame = pd.DataFrame(X).astype(dtype)
    frame = frame.mask(pd.DataFrame(hidden))  # pd.NA where hidden
    assert frame.isna().to_numpy().sum() == hidden.sum()
    settings = dict(n_components=3, max_iter=40, tol=0, random_state=0)
    model = NMF(missing_values=np.nan, **settings)
    W = model.fit_transform(frame)
    reference = NMF(missing_values=np.nan, **settings)
    W_ref = reference.fit_transform(np.where(hidden, np.nan, X))
    np.testing.assert_array_equal(W, W_ref)
    np.testing.assert_array_equal(model.components_, reference.components_)
    assert model.loss_ == pytest.approx(
        _masked_objective(X, ~hidden, W, model.components_), rel=1e-9
    )
    first = np.argwhere(hidden)[0]
    with pytest.raises(
        ValueError,
        match=rf"X has {hidden.sum()} missing \(pd\.NA\) entries \(the first at "
        rf"row {first[0]}, column {first[1]}\).*missing_values=np\.nan",
    ):
        NMF(3).fit(frame)


def test_pandas_na_in_object_cells_is_missing():
    pd = pytest.importorskip("pandas")
    X = _low_rank(n=8, p=6, r=2, seed=24) + 0.1
    cells = X.astype(object)
    cells[1, 2] = pd.NA
    settings = dict(n_components=2, max_iter=20, tol=0, random_state=0)
    expected = X.copy()
    expected[1, 2] = np.nan
    a = NMF(missing_values=np.nan, **settings).fit(cells.tolist()).components_
    b = NMF(missing_values=np.nan, **settings).fit(expected).components_
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"1 missing \(pd\.NA\) entry"):
        NMF(2).fit(cells)


# ---------------------------------------------- sparse X is never densified
def _huge_sparse(n=1_000_000, p=1_000_000, nnz=3000, seed=0):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, nnz)
    cols = rng.integers(0, p, nnz)
    return sp.csr_matrix((rng.random(nnz) + 0.5, (rows, cols)), shape=(n, p))


def _peak_memory(fit):
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnobservedWarning)
            result = fit()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_missing_values_on_sparse_matrix_without_nan_is_the_complete_fit():
    # Unstored entries are observed zeros (sparse_unobserved="zero"): with no
    # stored NaN every entry is observed, i.e. the complete sparse problem.
    X = _low_rank(n=20, p=15, r=3, seed=27)
    X[X < 0.4 * X.max()] = 0
    # solver="mu": "auto" sizes its inner loops by the storage (dense, sparse)
    settings = dict(n_components=3, solver="mu", max_iter=30, tol=0, random_state=0)
    model = NMF(missing_values=np.nan, **settings)
    W = model.fit_transform(sp.csr_matrix(X))
    complete = NMF(**settings).fit(X)
    np.testing.assert_allclose(model.components_, complete.components_, rtol=1e-10)
    direct = 0.5 * np.sum((X - W @ model.components_) ** 2)
    assert model.loss_ == pytest.approx(direct, rel=1e-9)


def test_missing_values_on_huge_sparse_matrix_stays_sparse():
    # A dense 10^6 x 10^6 array is 8 TB; the fit holds O(nnz + (n + p) r).
    X = _huge_sparse()
    model, peak = _peak_memory(
        lambda: NMF(
            2,
            solver="mu",
            missing_values=np.nan,
            init="random",
            max_iter=2,
            tol=0,
            random_state=0,
        ).fit(X)
    )
    assert peak < 200e6  # a few (n + p) x rank float64 arrays (16 MB each)
    assert np.isfinite(model.loss_) and model.components_.shape == (2, X.shape[1])


def _as_ratings(X, rows, cols):
    """The entries of X at (rows, cols) as a ratings matrix (zeros stored)."""
    values = np.asarray(X[rows, cols]).ravel()
    ratings = sp.csr_matrix((values, (rows, cols)), shape=X.shape)
    assert ratings.nnz == len(rows)  # explicit zeros kept
    return ratings


def test_sparse_mask_on_huge_sparse_matrix_stays_sparse():
    X = _huge_sparse(seed=1)
    extra = _huge_sparse(nnz=500, seed=2).astype(bool)  # observed zeros too
    mask = (X.astype(bool) + extra).astype(bool)
    settings = dict(n_components=2, init="random", max_iter=3, tol=0, random_state=0)
    model, peak = _peak_memory(lambda: NMF(**settings).fit(X, mask=mask))
    assert peak < 200e6
    coo = mask.tocoo()
    reference = NMF(sparse_unobserved="missing", **settings)
    _peak_memory(lambda: reference.fit(_as_ratings(X, coo.row, coo.col)))
    np.testing.assert_allclose(model.components_, reference.components_, rtol=1e-12)


def test_dense_mask_with_sparse_matrix_does_not_densify_it():
    # X dense would be 800 MB; the mask (allocated before tracing) is 100 MB.
    X = _huge_sparse(n=2000, p=50_000, nnz=4000, seed=3)
    mask = np.zeros(X.shape, dtype=bool)
    coo = X.tocoo()
    mask[coo.row, coo.col] = True
    mask[np.arange(100), np.arange(100)] = True  # observed zeros
    settings = dict(n_components=2, init="random", max_iter=3, tol=0, random_state=0)
    model, peak = _peak_memory(lambda: NMF(**settings).fit(X, mask=mask))
    assert peak < 60e6
    rows, cols = np.nonzero(mask)
    reference = NMF(sparse_unobserved="missing", **settings)
    _peak_memory(lambda: reference.fit(_as_ratings(X, rows, cols)))
    np.testing.assert_allclose(model.components_, reference.components_, rtol=1e-12)


def test_sparse_with_stored_missing_values_equals_dense():
    X = _low_rank(n=20, p=15, r=3, seed=25)
    X[X < 0.4 * X.max()] = 0
    X[1, 2] = X[4, 7] = np.nan
    S = sp.csr_matrix(X)  # stores the NaN, not the zeros
    settings = dict(n_components=3, max_iter=30, tol=0, random_state=0)
    sparse = NMF(missing_values=np.nan, **settings).fit(S)
    dense = NMF(missing_values=np.nan, **settings).fit(X)
    np.testing.assert_array_equal(sparse.components_, dense.components_)
    # Every entry but the two NaN is observed: beyond a limit that is refused
    # before anything is allocated, with the fix.
    huge = _huge_sparse(seed=4)
    huge.data[:3] = np.nan

    def refuse():
        with pytest.raises(ValueError, match=r"3 stored missing values.*'missing'"):
            NMF(2, missing_values=np.nan).fit(huge)

    _, peak = _peak_memory(refuse)
    assert peak < 50e6


def test_missing_values_zero_with_sparse_zeros_keeps_the_nonzero_entries():
    X = _low_rank(n=20, p=15, r=3, seed=26)
    X[X < 0.4 * X.max()] = 0
    settings = dict(n_components=3, max_iter=30, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnobservedWarning)  # all-zero rows
        a = NMF(missing_values=0, **settings).fit(sp.csr_matrix(X)).components_
        b = NMF(missing_values=np.nan, **settings).fit(np.where(X == 0, np.nan, X))
    np.testing.assert_array_equal(a, b.components_)
