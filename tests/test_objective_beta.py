"""The beta-divergence: scikit-learn's definition, dense and sparse."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition._nmf import _beta_divergence

from nmfkit._objective import (
    beta_divergence,
    divergence_constant,
    divergence_data_terms,
    divergence_from_parts,
    reconstruction_error,
    sampled_product,
)
from nmfkit._scaling import typical_magnitude


def _problem(seed, n=23, p=17, r=4, density=0.4, positive=False):
    rng = np.random.default_rng(seed)
    X = rng.random((n, p)) * 3
    if positive:
        X += 0.05
    else:
        X[rng.random((n, p)) > density] = 0
    return X, rng.random((n, r)), rng.random((r, p))


@pytest.mark.parametrize("beta", [-0.5, 0, 0.5, 1, 1.5, 2, 3, 4.2])
def test_matches_scikit_learn(beta):
    X, W, H = _problem(0, positive=beta <= 0)
    expected = _beta_divergence(X, W, H, beta)
    assert beta_divergence(X, W, H, beta) == pytest.approx(expected, rel=1e-12)
    assert reconstruction_error(X, W, H, beta=beta) == pytest.approx(
        _beta_divergence(X, W, H, beta, square_root=True), rel=1e-12
    )


def test_names_are_accepted():
    X, W, H = _problem(1, positive=True)
    for name, beta in [("kullback-leibler", 1), ("itakura-saito", 0)]:
        assert beta_divergence(X, W, H, name) == beta_divergence(X, W, H, beta)


def test_tiny_entries_follow_scikit_learn():
    """Entries in (0, eps] count as zeros, model values are floored at eps:
    scikit-learn's rule at unit scale (X over its typical magnitude s, the
    divergence times s^beta)."""
    X, W, H = _problem(2)
    X[0, :3] = 1e-9
    W[1] = 0.0  # a zero row of the model
    s = typical_magnitude(X)
    for beta in (0.5, 1, 1.5, 3):
        reference = s**beta * _beta_divergence(X / s, W / s**0.5, H / s**0.5, beta)
        assert beta_divergence(X, W, H, beta) == pytest.approx(reference, rel=1e-12)


def test_divergence_of_a_near_exact_fit_is_relative_exact():
    """Near an exact fit each entry's divergence is summed without
    cancellation: equal to an extended-precision evaluation to 1e-9."""
    rng = np.random.default_rng(5)
    W, H = rng.random((30, 3)) + 0.1, rng.random((3, 20)) + 0.1
    X = (W @ H) * (1 + 1e-7 * rng.standard_normal((30, 20)))
    Xl, Yl = X.astype(np.longdouble), (W @ H).astype(np.longdouble)
    for beta in (0.0, 0.5, 1.0, 1.5, 3.0):
        if beta == 1:
            ref = np.sum(Xl * np.log(Xl / Yl) - Xl + Yl)
        elif beta == 0:
            ref = np.sum(Xl / Yl - np.log(Xl / Yl) - 1)
        else:
            ref = np.sum(
                (Xl**beta + (beta - 1) * Yl**beta - beta * Xl * Yl ** (beta - 1))
                / (beta * (beta - 1))
            )
        assert beta_divergence(X, W, H, beta) == pytest.approx(float(ref), rel=1e-9)
        assert beta_divergence(sp.csr_matrix(X), W, H, beta) == pytest.approx(
            float(ref), rel=1e-9
        )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    beta=st.sampled_from([0.0, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0]),
    fmt=st.sampled_from(["csr", "csc", "coo"]),
)
def test_sparse_equals_dense(seed, beta, fmt):
    X, W, H = _problem(seed, positive=beta <= 0)
    dense = beta_divergence(X, W, H, beta)
    sparse = beta_divergence(sp.csr_matrix(X).asformat(fmt), W, H, beta)
    assert abs(sparse - dense) <= 1e-10 * abs(dense)


def test_parts_add_up():
    X, W, H = _problem(3)
    Y = W @ H
    for beta in (0.5, 1, 1.5, 3):
        keep = X > 0
        y_hat = np.maximum(Y[keep], np.finfo(np.float32).eps)
        x = X[keep]
        cross = (
            np.dot(x, np.log(y_hat)) if beta == 1 else np.dot(x, y_hat ** (beta - 1))
        )
        model = Y.sum() if beta == 1 else np.sum(Y**beta)
        total = divergence_from_parts(beta, divergence_constant(X, beta), cross, model)
        assert total == pytest.approx(_beta_divergence(X, W, H, beta), rel=1e-12)
        reference = divergence_data_terms(X, Y, beta)
        if beta != 1:
            reference += model / beta
        else:
            reference += model
        assert total == pytest.approx(reference, rel=1e-12)


def test_sampled_product():
    X, W, H = _problem(4)
    rows, cols = np.nonzero(X)
    values = sampled_product(W, np.ascontiguousarray(H.T), rows, cols, chunk=7)
    np.testing.assert_allclose(values, (W @ H)[rows, cols], rtol=1e-14)


def test_itakura_saito_of_sparse_data_with_zeros_equals_dense_and_sklearn():
    # scikit-learn counts "- 1" for every entry, stored or not; the sparse path
    # once left out the unstored zeros' share (found by scikit-learn's suite)
    rng = np.random.default_rng(3)
    X = np.clip(rng.standard_normal((20, 10)), 0, None)
    W, H = rng.random((20, 4)) + 0.1, rng.random((4, 10)) + 0.1
    reference = _beta_divergence(X, W, H, 0.0)
    for data in (X, sp.csr_matrix(X), sp.csc_matrix(X)):
        assert beta_divergence(data, W, H, 0.0) == pytest.approx(reference, rel=1e-12)
