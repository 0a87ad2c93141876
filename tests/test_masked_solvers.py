"""Masked solvers and the masked objective, against dense NumPy references."""

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit._objective import (
    Penalties,
    masked_penalized_objective,
    masked_reconstruction_error,
    sampled_product,
)
from nmfkit._observed import ObservedEntries
from nmfkit.solvers import (
    ConvergenceMonitor,
    fit_masked_hals,
    fit_masked_mu,
    fit_mu,
    resolve_solver,
)

PENALTIES = [
    Penalties(),
    Penalties(l1_W=0.3),
    Penalties(l2_W=0.5),
    Penalties(l1_H=0.2),
    Penalties(l2_H=0.7),
    Penalties(l1_W=0.1, l2_W=0.2, l1_H=0.3, l2_H=0.4),
]


def _problem(n=40, p=30, r=4, fraction=0.5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, r)) @ rng.random((r, p)) + 0.1 * rng.random((n, p))
    mask = rng.random((n, p)) < fraction
    W0 = rng.random((n, r))
    H0 = rng.random((r, p))
    return X, mask, W0, H0


def _dense_masked_objective(X, mask, W, H, pen):
    residual = np.where(mask, X - W @ H, 0.0)
    return (
        0.5 * np.sum(residual**2)
        + pen.l1_W * W.sum()
        + 0.5 * pen.l2_W * np.sum(W**2)
        + pen.l1_H * H.sum()
        + 0.5 * pen.l2_H * np.sum(H**2)
    )


def test_sampled_product_and_objective_match_dense_reference():
    X, mask, W, H = _problem()
    observed = ObservedEntries.from_dense(X, mask)
    rows, cols = np.nonzero(mask)
    np.testing.assert_allclose(
        sampled_product(W, H.T, observed.rows, observed.cols), (W @ H)[rows, cols]
    )
    pen = PENALTIES[-1]
    assert masked_penalized_objective(observed, W, H, pen) == pytest.approx(
        _dense_masked_objective(X, mask, W, H, pen), rel=1e-12
    )
    expected = np.linalg.norm(np.where(mask, X - W @ H, 0.0))
    assert masked_reconstruction_error(observed, W, H) == pytest.approx(expected)


def test_observed_entries_transposed_pattern():
    X, mask, _, _ = _problem()
    observed = ObservedEntries.from_dense(X, mask)
    np.testing.assert_array_equal(
        observed.zero_filled().toarray(), np.where(mask, X, 0.0)
    )
    np.testing.assert_array_equal(
        observed.with_values_transposed(observed.values).toarray(),
        np.where(mask, X, 0.0).T,
    )
    np.testing.assert_array_equal(observed.count_per_row(), mask.sum(axis=1))
    np.testing.assert_array_equal(observed.count_per_column(), mask.sum(axis=0))


@pytest.mark.parametrize("solver", [fit_masked_mu, fit_masked_hals])
@pytest.mark.parametrize("pen", PENALTIES)
def test_masked_objective_never_increases(solver, pen):
    X, mask, W0, H0 = _problem(seed=1)
    observed = ObservedEntries.from_dense(X, mask)
    result = solver(
        observed, W0, H0, pen, monitor=ConvergenceMonitor(tol=0, max_iter=60)
    )
    curve = result.history[:, 2]
    assert np.all(np.diff(curve) <= 1e-12 * curve[:-1])
    assert curve[-1] < 0.5 * curve[0]
    # The recorded objective is the true masked objective of the result.
    assert curve[-1] == pytest.approx(
        _dense_masked_objective(X, mask, result.W, result.H, pen), rel=1e-10
    )
    assert np.all(result.W >= 0) and np.all(result.H >= 0)


def test_masked_mu_denominator_placement_never_increases():
    X, mask, W0, H0 = _problem(seed=2)
    observed = ObservedEntries.from_dense(X, mask)
    result = fit_masked_mu(
        observed,
        W0,
        H0,
        PENALTIES[-1],
        monitor=ConvergenceMonitor(tol=0, max_iter=60),
        l1_placement="denominator",
        update_order="WH",
    )
    assert np.all(np.diff(result.history[:, 2]) <= 0)


@pytest.mark.parametrize("order", ["HW", "WH"])
@pytest.mark.parametrize("placement", ["numerator", "denominator"])
@pytest.mark.parametrize("pen", [PENALTIES[0], PENALTIES[-1]])
def test_nothing_missing_equals_unmasked_mu(order, placement, pen):
    X, _, W0, H0 = _problem(seed=3)
    observed = ObservedEntries.from_dense(X, np.ones(X.shape, dtype=bool))
    options = dict(l1_placement=placement, update_order=order)
    a = fit_mu(
        X, W0, H0, pen, monitor=ConvergenceMonitor(tol=0, max_iter=100), **options
    )
    b = fit_masked_mu(
        observed,
        W0,
        H0,
        pen,
        monitor=ConvergenceMonitor(tol=0, max_iter=100),
        **options,
    )
    np.testing.assert_allclose(b.W, a.W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.H, a.H, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.history[:, 2], a.history[:, 2], rtol=1e-9)


def test_hals_update_H_false_solves_each_row_nnls():
    from scipy.optimize import nnls

    X, mask, W0, H0 = _problem(n=8, seed=4)
    observed = ObservedEntries.from_dense(X, mask)
    result = fit_masked_hals(
        observed,
        W0,
        H0,
        Penalties(),
        monitor=ConvergenceMonitor(tol=0, max_iter=3000),
        update_H=False,
    )
    np.testing.assert_array_equal(result.H, H0)
    for i in range(X.shape[0]):
        seen = mask[i]
        expected, _ = nnls(H0[:, seen].T, X[i, seen])
        np.testing.assert_allclose(result.W[i], expected, atol=1e-6)


def test_rows_without_observations_get_zero_factors():
    X, mask, W0, H0 = _problem(seed=5)
    mask[3] = False
    mask[:, 7] = False
    observed = ObservedEntries.from_dense(X, mask)
    for solver in (fit_masked_mu, fit_masked_hals):
        result = solver(
            observed, W0, H0, Penalties(), monitor=ConvergenceMonitor(tol=0, max_iter=5)
        )
        assert np.all(result.W[3] == 0)
        assert np.all(result.H[:, 7] == 0)
        assert np.all(np.isfinite(result.W)) and np.all(np.isfinite(result.H))


def test_float32_stays_float32():
    X, mask, W0, H0 = _problem(seed=6)
    observed = ObservedEntries.from_dense(X.astype(np.float32), mask)
    for solver in (fit_masked_mu, fit_masked_hals):
        result = solver(
            observed,
            W0.astype(np.float32),
            H0.astype(np.float32),
            Penalties(),
            monitor=ConvergenceMonitor(tol=0, max_iter=5),
        )
        assert result.W.dtype == np.float32 and result.H.dtype == np.float32


def test_from_sparse_keeps_explicit_zeros():
    X = sp.csr_matrix(
        (np.array([0.0, 2.0, 3.0]), np.array([0, 2, 1]), np.array([0, 2, 3])),
        shape=(2, 3),
    )
    observed = ObservedEntries.from_sparse(X)
    assert observed.nnz == 3
    np.testing.assert_array_equal(observed.rows, [0, 0, 1])
    np.testing.assert_array_equal(observed.cols, [0, 2, 1])


def test_masked_solvers_in_the_table_list_available():
    assert resolve_solver("hals", 2, "observed")[0].fit is fit_masked_hals
    assert resolve_solver("cd", 2, "observed")[0].fit is fit_masked_hals
    assert resolve_solver("auto", 2, "observed")[0].fit is fit_masked_hals
    assert resolve_solver("mu", 2, "observed")[0].fit is fit_masked_mu
    with pytest.raises(
        ValueError, match="not available for partially observed data.*solver='hals'"
    ):
        resolve_solver("mu", 1.0, "observed")
