"""nmfkit's multiplicative updates against the course's formulas.

The reference below is an independent transcription of the course's update
rules in the course's own notation: the data are features by samples,
``X (p x n) ~ D (p x r) S (r x n)``, and the loss is

    L(D, S) = 1/2 ||X - D S||_F^2 + mu/2 ||S||_F^2 + lambda ||S||_1
              + nu/2 ||D||_F^2,

    D <- D * (X S^T) / (D (S S^T + nu I))
    S <- S * max(D^T X - lambda, 0) / ((D^T D + mu I) S).

nmfkit works in scikit-learn's notation (``X_sk = X^T``, ``W = S^T``,
``H = D^T``), so agreement here checks the notation mapping as well as the
arithmetic.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit import NMF


def course_loss(X, D, S, lam, mu, nu):
    R = X - D @ S
    return (
        0.5 * np.sum(R**2)
        + 0.5 * mu * np.sum(S**2)
        + lam * np.sum(np.abs(S))
        + 0.5 * nu * np.sum(D**2)
    )


def course_iterations(X, D, S, lam, mu, nu, n_iter):
    """Run the course's updates; return the iterates and the loss after each."""
    r = D.shape[1]
    I = np.eye(r)
    iterates, losses = [], [course_loss(X, D, S, lam, mu, nu)]
    for _ in range(n_iter):
        D = D * (X @ S.T) / (D @ (S @ S.T + nu * I))
        S = S * np.maximum(D.T @ X - lam, 0) / ((D.T @ D + mu * I) @ S)
        iterates.append((D.copy(), S.copy()))
        losses.append(course_loss(X, D, S, lam, mu, nu))
    return iterates, np.array(losses)


def _problem(seed, p=30, n=25, r=4):
    rng = np.random.default_rng(seed)
    X = rng.random((p, n))  # course notation: features x samples
    D0 = rng.random((p, r)) + 0.1
    S0 = rng.random((r, n)) + 0.1
    return X, D0, S0


def _fit_nmfkit(X_course, D0, S0, lam, mu, nu, n_iter, sparse=False):
    X = X_course.T
    if sparse:
        X = sp.csr_matrix(X)
    model = NMF(
        n_components=D0.shape[1],
        init="custom",
        solver="mu",
        tol=0,
        max_iter=n_iter,
        l1_W=lam,
        l2_W=mu,
        l2_H=nu,
        update_order="HW",  # the course's order, also without its penalties
    )
    W = model.fit_transform(X, W=S0.T.copy(), H=D0.T.copy())
    return model, W


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "lam, mu, nu", [(0.3, 0.2, 0.1), (0.05, 1.0, 0.5), (0.0, 0.0, 0.0)]
)
def test_iterates_match_course_formulas(lam, mu, nu, sparse):
    X, D0, S0 = _problem(0)
    n_iter = 15
    iterates, losses = course_iterations(X, D0, S0, lam, mu, nu, n_iter)
    for k in (1, 2, 3, 7, n_iter):
        model, W = _fit_nmfkit(X, D0, S0, lam, mu, nu, k, sparse)
        D_ref, S_ref = iterates[k - 1]
        np.testing.assert_allclose(model.components_, D_ref.T, rtol=1e-10, atol=0)
        np.testing.assert_allclose(W, S_ref.T, rtol=1e-10, atol=1e-300)
    # the objective the estimator records is the course's loss, iteration by
    # iteration (it is computed by the trace identity, hence the tolerance)
    np.testing.assert_allclose(model.loss_curve_, losses, rtol=1e-10)
    assert model.n_iter_ == n_iter


def test_l1_in_numerator_gives_exact_zeros_that_stay_zero():
    X, D0, S0 = _problem(1)
    lam = 2.0
    iterates, _ = course_iterations(X, D0, S0, lam, 0.1, 0.1, 30)
    model, W = _fit_nmfkit(X, D0, S0, lam, 0.1, 0.1, 30)
    np.testing.assert_allclose(W, iterates[-1][1].T, rtol=1e-10, atol=1e-300)
    zeros_after_10 = _fit_nmfkit(X, D0, S0, lam, 0.1, 0.1, 10)[1] == 0
    assert zeros_after_10.any()
    # entries set to zero by the max(., 0) stay zero
    assert np.all(W[zeros_after_10] == 0)


def test_course_loss_equals_estimator_objective():
    X, D0, S0 = _problem(2)
    lam, mu, nu = 0.2, 0.3, 0.4
    model, W = _fit_nmfkit(X, D0, S0, lam, mu, nu, 5)
    expected = course_loss(X, model.components_.T, W.T, lam, mu, nu)
    assert model.loss_ == pytest.approx(expected, rel=1e-12)
    assert model.reconstruction_err_ == pytest.approx(
        np.linalg.norm(X - model.components_.T @ W.T), rel=1e-12
    )
