"""The fused pass (``nmfkit.solvers._fused``) against the two separate products.

One pass over X's row blocks updates W and accumulates ``W^T X``; the
reference is the driver's other path, ``H X^T`` and ``W^T X`` as two whole
products, and for the pass itself NumPy's products written out. The fits
must give the same iterates to rounding, the same ``n_iter_`` and the same
history, for MU and HALS, both update orders, every penalty, float32 and
float64; small block sizes make every X span several blocks, with a last
block shorter than the others.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import nmfkit.solvers._data_terms as data_terms
import nmfkit.solvers._fused as fused
from nmfkit import NMF
from nmfkit._objective import Penalties
from nmfkit.solvers import ConvergenceMonitor, fit_alternating
from nmfkit.solvers._hals import HALSRule
from nmfkit.solvers._mu import MURule


def _problem(n=203, p=37, r=4, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, r)) @ rng.random((r, p)) + 0.05 * rng.random((n, p))).astype(
        dtype
    )
    W0 = (rng.random((n, r)) + 0.1).astype(dtype)
    H0 = (rng.random((r, p)) + 0.1).astype(dtype)
    return X, W0, H0


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 16 rows (37 float64 columns): 203 rows are 13 blocks, the
    last of 11 rows."""
    monkeypatch.setattr(fused, "BLOCK_BYTES", 16 * 37 * 8)
    monkeypatch.setattr(fused, "MODE", "always")


def _counting(monkeypatch):
    calls = []
    original = data_terms.fused_w_pass

    def spy(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(data_terms, "fused_w_pass", spy)
    return calls


@pytest.mark.parametrize("rule", [MURule(), MURule("denominator"), HALSRule()])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_the_pass_equals_the_two_products(small_blocks, rule, dtype, rtol):
    X, W0, H = _problem(dtype=dtype)
    G = H @ H.T
    l1, l2 = 0.3, 0.2

    def update(F, P):
        prepared = rule.prepare(P, G, l1, l2, np)
        rule.update(F, P, G, prepared, l1, l2, np, False)

    Wt = np.ascontiguousarray(W0.T)
    P, WtX = fused.fused_w_pass(X, H, Wt, update)
    expected_P = H @ X.T
    expected_Wt = np.ascontiguousarray(W0.T)
    update(expected_Wt, expected_P)
    np.testing.assert_allclose(P, expected_P, rtol=rtol)
    np.testing.assert_allclose(Wt, expected_Wt, rtol=rtol, atol=rtol * Wt.max())
    np.testing.assert_allclose(WtX, expected_Wt @ X, rtol=rtol)
    assert P.dtype == Wt.dtype == WtX.dtype == dtype


CASES = [
    ("mu", "WH", Penalties()),
    ("mu", "HW", Penalties(l1_W=0.2, l2_H=0.3)),
    ("hals", "HW", Penalties()),
    ("hals", "WH", Penalties(l1_H=0.1, l2_W=0.4, l1_W=0.05)),
]


@pytest.mark.parametrize("rule, order, penalties", CASES)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-9), (np.float32, 2e-3)])
def test_fits_through_the_pass_equal_the_unfused_fits(
    monkeypatch, small_blocks, rule, order, penalties, dtype, rtol
):
    X, W0, H0 = _problem(dtype=dtype, seed=1)

    def fit():
        return fit_alternating(
            X, W0, H0, penalties, rule=rule, update_order=order,
            monitor=ConvergenceMonitor(tol=1e-6, max_iter=60),
        )

    calls = _counting(monkeypatch)
    ours = fit()
    assert len(calls) == ours.n_iter  # one pass per iteration
    monkeypatch.setattr(fused, "MODE", "never")
    ref = fit()
    assert len(calls) == ours.n_iter  # the reference took two products
    assert ours.n_iter == ref.n_iter
    assert ours.info["mean_inner_W"] == ref.info["mean_inner_W"] == 1.0
    np.testing.assert_allclose(ours.W, ref.W, rtol=rtol, atol=rtol * ref.W.max())
    np.testing.assert_allclose(ours.H, ref.H, rtol=rtol, atol=rtol * ref.H.max())
    np.testing.assert_allclose(ours.history[:, 2], ref.history[:, 2], rtol=rtol)
    # the objective is that of the returned factors (an independent check)
    X64 = X.astype(np.float64)
    residual = X64 - ours.W.astype(np.float64) @ ours.H.astype(np.float64)
    fit_term = 0.5 * np.sum(residual**2)
    assert ours.history[-1, 2] >= fit_term * (1 - 10 * rtol)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="mu"),
        dict(solver="cd"),  # scikit-learn's violation test
        dict(solver="hals", alpha_W=0.01, l1_ratio=0.5),
    ],
    ids=["mu", "cd", "hals-penalized"],
)
def test_the_estimator_through_the_pass_equals_the_unfused_estimator(
    monkeypatch, small_blocks, params
):
    X, _, _ = _problem(n=150, seed=2)
    kwargs = dict(n_components=4, init="nndsvda", max_iter=80, tol=1e-5, **params)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = NMF(**kwargs)
            return model, model.fit_transform(X)

    calls = _counting(monkeypatch)
    ours, W = fit()
    assert calls
    monkeypatch.setattr(fused, "MODE", "never")
    ref, W_ref = fit()
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(W, W_ref, rtol=1e-8, atol=1e-10 * W_ref.max())
    np.testing.assert_allclose(ours.components_, ref.components_, rtol=1e-8, atol=1e-10)
    assert ours.reconstruction_err_ == pytest.approx(
        np.linalg.norm(X - W @ ours.components_), rel=1e-10
    )


def test_the_pass_is_taken_only_where_it_applies(monkeypatch):
    X = np.ones((fused.MIN_BYTES // 4 // 64 + 1, 64), dtype=np.float32)
    monkeypatch.setattr(fused, "MODE", "auto")
    assert fused.fusable(X, fused.MAX_RANK)
    assert not fused.fusable(X, fused.MAX_RANK + 1)
    assert not fused.fusable(X.astype(np.float64), 4)  # measured no faster
    assert not fused.fusable(X[:100], 4)  # in cache: two products
    assert not fused.fusable(np.asfortranarray(X), 4)
    assert not fused.fusable(sp.csr_matrix(X[:100]), 4)
    monkeypatch.setattr(fused, "MODE", "never")
    assert not fused.fusable(X, 4)
    monkeypatch.setattr(fused, "MODE", "always")
    assert fused.fusable(X[:100].astype(np.float64), 40)
    assert not fused.fusable(sp.csr_matrix(X[:100]), 4)


def test_shuffled_hals_and_extrapolation_keep_the_two_products(
    monkeypatch, small_blocks
):
    """Where blocks would change the iterates (a new component order per
    call) or the pass cannot serve them (extrapolation, inner loops), the
    driver takes the two products."""
    X, W0, H0 = _problem(seed=3)
    calls = _counting(monkeypatch)
    for options in (
        dict(rule="hals", shuffle=True, random_state=0),
        dict(rule="hals", extrapolate=True),
        dict(rule="mu", inner_iter=3),
    ):
        fit_alternating(
            X, W0, H0, Penalties(), monitor=ConvergenceMonitor(tol=0, max_iter=5),
            **options,
        )
    assert not calls
