"""Masked MU and masked HALS as rules of the alternating driver.

The iterates, the number of iterations and the objective history are
checked against plain NumPy implementations written here from the update
formulas (the mask applied to dense arrays), for each penalty, both update
orders, fixed components, W alone, and data given dense with NaN and as a
sparse matrix of observed entries.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit._observed import ObservedEntries
from nmfkit.solvers import ConvergenceMonitor, fit_masked_hals, fit_masked_mu
from nmfkit.solvers._alternating import fit_alternating
from nmfkit.solvers._masked_hals import MaskedHALSRule
from nmfkit.solvers._masked_mu import MaskedMURule
from test_masked_solvers import PENALTIES, _dense_masked_objective

N_ITER = 12


def _dense_problem(seed=0, n=30, p=20, r=3):
    rng = np.random.default_rng(seed)
    X = rng.random((n, r)) @ rng.random((r, p)) + 0.1 * rng.random((n, p))
    X[rng.random((n, p)) < 0.4] = np.nan
    return X, rng.random((n, r)), rng.random((r, p))


def _sparse_problem(seed=1, n=35, p=25, r=3):
    X = sp.random(n, p, density=0.3, random_state=seed, format="csr")
    X.data *= 3
    rng = np.random.default_rng(seed)
    return X, rng.random((n, r)), rng.random((r, p))


def _observed(X):
    if sp.issparse(X):
        coo = X.tocoo()
        return ObservedEntries(X.shape, coo.row, coo.col, coo.data)
    rows, cols = np.nonzero(~np.isnan(X))
    return ObservedEntries(X.shape, rows, cols, X[rows, cols])


def _mask_and_values(X):
    if sp.issparse(X):
        mask = X.toarray() != 0
        return mask, X.toarray()
    mask = ~np.isnan(X)
    return mask, np.where(mask, X, 0.0)


def _mu_factor(F, P, Q, l1, l2, placement):
    """``F * max(P - l1, 0) / (Q + l2 F)`` (or l1 in the denominator)."""
    if placement == "numerator":
        numerator, denominator = np.maximum(P - l1, 0), Q + l2 * F
    else:
        numerator, denominator = P, Q + l2 * F + l1
    return (
        F
        * numerator
        / np.where(denominator == 0, np.finfo(np.float32).eps, denominator)
    )


def _hals_factor(F, G, M, R, l1, l2, fixed):
    """Exact minimization over each column of the tall F; ``R = M * (X - F G^T)``."""
    F = F.copy()
    for k in range(F.shape[1]):
        if k in fixed:
            continue
        R = R + M * np.outer(F[:, k], G[:, k])
        numerator = np.maximum(R @ G[:, k] - l1, 0)
        denominator = M @ G[:, k] ** 2 + l2
        F[:, k] = np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), 0
        )
        R = R - M * np.outer(F[:, k], G[:, k])
    return F


def _reference(
    solver,
    X,
    W,
    H,
    pen,
    update_order="HW",
    update_H=True,
    fixed_W=(),
    fixed_H=(),
    placement="numerator",
):
    """``(W, H, history)`` of the masked update written with dense arrays."""
    M, X = _mask_and_values(X)
    W, H = W.copy(), H.copy()
    history = [_dense_masked_objective(X, M, W, H, pen)]

    def step_W(W, H):
        if solver == "mu":
            new = _mu_factor(
                W, (M * X) @ H.T, (M * (W @ H)) @ H.T, pen.l1_W, pen.l2_W, placement
            )
            new[:, list(fixed_W)] = W[:, list(fixed_W)]
            return new
        return _hals_factor(W, H.T, M, M * (X - W @ H), pen.l1_W, pen.l2_W, fixed_W)

    def step_H(W, H):
        if solver == "mu":
            new = _mu_factor(
                H.T, (M * X).T @ W, (M * (W @ H)).T @ W, pen.l1_H, pen.l2_H, placement
            )
            new[:, list(fixed_H)] = H.T[:, list(fixed_H)]
            return new.T
        return _hals_factor(
            H.T, W, M.T, (M * (X - W @ H)).T, pen.l1_H, pen.l2_H, fixed_H
        ).T

    for _ in range(N_ITER):
        if not update_H:
            W = step_W(W, H)
        elif update_order == "HW":
            H = step_H(W, H)
            W = step_W(W, H)
        else:
            W = step_W(W, H)
            H = step_H(W, H)
        history.append(_dense_masked_objective(X, M, W, H, pen))
    return W, H, np.array(history)


def _assert_matches(result, reference):
    W, H, history = reference
    assert result.n_iter == N_ITER
    np.testing.assert_allclose(result.W, W, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(result.H, H, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(result.history[:, 2], history, rtol=1e-10)


FITS = {"mu": fit_masked_mu, "hals": fit_masked_hals}


@pytest.mark.parametrize("solver", ["mu", "hals"])
@pytest.mark.parametrize("update_order", ["HW", "WH"])
@pytest.mark.parametrize("pen", PENALTIES, ids=range(len(PENALTIES)))
def test_masked_rules_match_the_formulas_dense_with_nan(solver, update_order, pen):
    X, W, H = _dense_problem()
    monitor = ConvergenceMonitor(tol=0, max_iter=N_ITER)
    result = FITS[solver](
        _observed(X), W, H, pen, monitor=monitor, update_order=update_order
    )
    _assert_matches(result, _reference(solver, X, W, H, pen, update_order))


@pytest.mark.parametrize("solver", ["mu", "hals"])
def test_masked_rules_match_the_formulas_on_sparse_observed(solver):
    X, W, H = _sparse_problem()
    pen = PENALTIES[-1]
    monitor = ConvergenceMonitor(tol=0, max_iter=N_ITER)
    result = FITS[solver](_observed(X), W, H, pen, monitor=monitor)
    _assert_matches(result, _reference(solver, X, W, H, pen))


@pytest.mark.parametrize("solver", ["mu", "hals"])
def test_masked_rules_fixed_components_and_codes_only(solver):
    X, W, H = _dense_problem(seed=3)
    W[:, 0] = 1.0
    pen = PENALTIES[1]
    monitor = ConvergenceMonitor(tol=0, max_iter=N_ITER)
    fixed = FITS[solver](
        _observed(X),
        W,
        H,
        pen,
        monitor=monitor,
        fixed_W_columns=(0,),
        fixed_H_rows=(2,),
    )
    _assert_matches(fixed, _reference(solver, X, W, H, pen, fixed_W=(0,), fixed_H=(2,)))
    np.testing.assert_array_equal(fixed.W[:, 0], 1.0)
    np.testing.assert_array_equal(fixed.H[2], H[2])
    monitor = ConvergenceMonitor(tol=0, max_iter=N_ITER)
    codes = FITS[solver](_observed(X), W, H, pen, monitor=monitor, update_H=False)
    _assert_matches(codes, _reference(solver, X, W, H, pen, update_H=False))
    np.testing.assert_array_equal(codes.H, H)


def test_masked_mu_denominator_placement_matches_the_formula():
    X, W, H = _dense_problem(seed=4)
    pen = PENALTIES[-1]
    monitor = ConvergenceMonitor(tol=0, max_iter=N_ITER)
    result = fit_masked_mu(
        _observed(X), W, H, pen, monitor=monitor, l1_placement="denominator"
    )
    _assert_matches(result, _reference("mu", X, W, H, pen, placement="denominator"))


@pytest.mark.parametrize("rule", [MaskedMURule(), MaskedHALSRule()], ids=["mu", "hals"])
def test_driver_extrapolation_and_inner_loops_on_masked_rules(rule):
    # The driver's accelerations apply to the masked rules unchanged: the
    # accepted objectives never increase, the fixed column stays, and the
    # result is at least as good as the plain run of the same length.
    X, W, H = _dense_problem(seed=5)
    W[:, 1] = 0.5
    observed = _observed(X)
    pen = PENALTIES[2]
    kwargs = dict(rule=rule, fixed_W_columns=(1,))
    plain = fit_alternating(
        observed, W, H, pen, monitor=ConvergenceMonitor(tol=0, max_iter=40), **kwargs
    )
    fast = fit_alternating(
        observed,
        W,
        H,
        pen,
        monitor=ConvergenceMonitor(tol=0, max_iter=40),
        inner_iter=3,
        extrapolate=True,
        **kwargs,
    )
    objectives = fast.history[:, 2]
    assert np.all(np.diff(objectives) <= 1e-12 * objectives[:-1])
    np.testing.assert_array_equal(fast.W[:, 1], 0.5)
    M, values = _mask_and_values(X)
    assert objectives[-1] == pytest.approx(
        _dense_masked_objective(values, M, fast.W, fast.H, pen), rel=1e-10
    )
    assert objectives[-1] <= plain.history[-1, 2] * (1 + 1e-12)
