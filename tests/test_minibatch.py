"""MiniBatchNMF: against scikit-learn's, partial_fit against fit, estimator checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import MiniBatchNMF as SklearnMiniBatchNMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from nmfkit import MiniBatchNMF
from nmfkit._objective import beta_divergence
from nmfkit._scaling import typical_magnitude


def _problem(seed, beta, n=90, p=20, r=3, batch=25):
    rng = np.random.default_rng(seed)
    X = rng.random((n, p)) * 2
    if beta > 0:
        X[X < 0.7] = 0
    else:
        X += 0.05
    # nmfkit solves at the first batch's scale; at typical magnitude 1 that
    # is scikit-learn's problem exactly
    X /= typical_magnitude(X[:batch])
    return X, rng.random((n, r)) + 0.1, rng.random((r, p)) + 0.1


def _relative(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


BETAS = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0, 0.5: 0.5}


@pytest.mark.parametrize("beta_loss", list(BETAS))
@pytest.mark.parametrize("fresh_restarts", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_matches_scikit_learn(beta_loss, fresh_restarts, sparse):
    beta = BETAS[beta_loss]
    if sparse and beta <= 0:
        sparse = False  # beta <= 0 needs X > 0
    X, W0, H0 = _problem(0, beta)
    Xi = sp.csr_matrix(X) if sparse else X
    l1_ratio = 0.5 if beta >= 2 else 1.0  # the penalties scikit-learn's rule shares
    kw = dict(n_components=3, init="custom", batch_size=25, beta_loss=beta_loss,
              max_iter=3, tol=0, max_no_improvement=None, alpha_W=0.01,
              alpha_H=0.02, l1_ratio=l1_ratio, forget_factor=0.6,
              fresh_restarts=fresh_restarts, fresh_restarts_max_iter=5,
              transform_max_iter=7)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SklearnMiniBatchNMF(**kw)
        W_ref = ref.fit_transform(Xi, W=W0.copy(), H=H0.copy())
        ours = MiniBatchNMF(**kw)
        W = ours.fit_transform(Xi, W=W0, H=H0)
    assert _relative(ours.components_, ref.components_) < 1e-8
    assert _relative(W, W_ref) < 1e-8
    assert ours.n_steps_ == ref.n_steps_ == 12
    assert ours.n_iter_ == ref.n_iter_ == 3
    assert ours.reconstruction_err_ == pytest.approx(ref.reconstruction_err_, rel=1e-9)
    assert _relative(ours.transform(Xi), ref.transform(Xi)) < 1e-8


def test_early_stopping_matches_scikit_learn():
    X, W0, H0 = _problem(1, 1.0, batch=10)
    kw = dict(n_components=3, init="custom", batch_size=10,
              beta_loss="kullback-leibler", max_iter=50, tol=1e-3,
              max_no_improvement=3)  # fmt: skip
    ref = SklearnMiniBatchNMF(**kw).fit(X, W=W0.copy(), H=H0.copy())
    ours = MiniBatchNMF(**kw).fit(X, W=W0, H=H0)
    assert ours.n_steps_ == ref.n_steps_ < 50 * 9
    assert _relative(ours.components_, ref.components_) < 1e-8


@pytest.mark.parametrize("beta", [2.0, 1.0, 0.0, 0.5, 3.0])
@pytest.mark.parametrize("sparse", [False, True])
def test_partial_fit_over_chunks_equals_fit(beta, sparse):
    """Same batches, same model: fit's batches are partial_fit's chunks (with
    fresh restarts, as partial_fit solves each chunk's codes afresh, and
    forget_factor=1, as scikit-learn's partial_fit fixes rho from its first
    chunk)."""
    if sparse and beta <= 0:
        return
    X, W0, H0 = _problem(2, beta)
    Xi = sp.csr_matrix(X) if sparse else X
    kw = dict(n_components=3, init="custom", batch_size=30, beta_loss=beta,
              forget_factor=1.0, fresh_restarts=True, fresh_restarts_max_iter=4,
              transform_max_iter=6, tol=0, max_no_improvement=None,
              alpha_W=0.01, alpha_H=0.01,
              l1_ratio=0.5, l1_W=0.1, l2_W=0.05, l1_H=0.2, l2_H=0.3)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = MiniBatchNMF(max_iter=1, **kw).fit(Xi, W=W0, H=H0)
    online = MiniBatchNMF(**kw)
    for start in range(0, X.shape[0], 30):
        online.partial_fit(Xi[start : start + 30], W=W0[start : start + 30], H=H0)
    assert online.n_steps_ == whole.n_steps_ == 3
    assert _relative(online.components_, whole.components_) < 1e-12
    assert _relative(online.transform(Xi), whole.transform(Xi)) < 1e-12


def test_partial_fit_matches_scikit_learn():
    X, W0, H0 = _problem(3, 1.0, batch=20)
    kw = dict(n_components=3, init="custom", beta_loss="kullback-leibler",
              batch_size=20, forget_factor=0.8, fresh_restarts_max_iter=6)  # fmt: skip
    ref, ours = SklearnMiniBatchNMF(**kw), MiniBatchNMF(**kw)
    for start in range(0, 90, 20):
        ref.partial_fit(X[start : start + 20], W=W0[start : start + 20], H=H0.copy())
        ours.partial_fit(X[start : start + 20], W=W0[start : start + 20], H=H0)
    assert _relative(ours.components_, ref.components_) < 1e-8
    assert ours.n_steps_ == ref.n_steps_ == 5


def test_unscaled_penalties_change_the_model_and_lower_their_terms():
    X, W0, H0 = _problem(4, 1.0)
    kw = dict(n_components=3, init="custom", batch_size=30, beta_loss=1, max_iter=5,
              tol=0, max_no_improvement=None)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = MiniBatchNMF(**kw).fit(X, W=W0, H=H0)
        sparse_H = MiniBatchNMF(l1_H=20.0, **kw).fit(X, W=W0, H=H0)
    assert sparse_H.components_.sum() < 0.8 * plain.components_.sum()


def test_every_beta_fits_without_nan():
    for beta in (-0.5, 0.0, 0.3, 1.2, 2.5):
        X, _, _ = _problem(5, beta)
        if beta <= 0:
            X = X + 0.1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = MiniBatchNMF(
                n_components=3, beta_loss=beta, batch_size=20, max_iter=5,
                random_state=0, init="random",
            ).fit(X)  # fmt: skip
            W_fit = model.fit_transform(X)
        W = model.transform(X)
        assert np.isfinite(model.components_).all() and np.isfinite(W).all()
        err = np.sqrt(2 * beta_divergence(X, W_fit, model.components_, beta))
        assert model.reconstruction_err_ == pytest.approx(err, rel=1e-12)


def test_zeros_with_itakura_saito_raise():
    X, _, _ = _problem(6, 1.0)
    with pytest.raises(ValueError, match="beta_loss <= 0 and X contains zeros"):
        MiniBatchNMF(n_components=2, beta_loss="itakura-saito").fit(X)
    with pytest.raises(ValueError, match="beta_loss <= 0 and X contains zeros"):
        MiniBatchNMF(n_components=2, beta_loss=0).partial_fit(X)


@pytest.mark.parametrize(
    "param,value",
    [("batch_size", 0), ("forget_factor", 1.5), ("max_no_improvement", 0),
     ("fresh_restarts", "yes"), ("l1_H", -1.0), ("init", "bogus")],
)  # fmt: skip
def test_bad_parameters_are_named(param, value):
    X, _, _ = _problem(7, 1.0)
    with pytest.raises(ValueError, match=param):
        MiniBatchNMF(n_components=2, **{param: value}).fit(X)


# As in scikit-learn's own checks of its MiniBatchNMF: fresh restarts, so that
# fit_transform returns the codes that transform computes.
@parametrize_with_checks(
    [
        MiniBatchNMF(
            n_components=2, max_iter=20, batch_size=10, fresh_restarts=True,
            random_state=0,
        )
    ]
)  # fmt: skip
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
