"""Multiplicative updates for the beta-divergences, against scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.decomposition import NMF as SklearnNMF
from sklearn.decomposition import non_negative_factorization as sk_nnf
from sklearn.decomposition._nmf import _beta_divergence
from sklearn.exceptions import ConvergenceWarning

from nmfkit import NMF, non_negative_factorization
from nmfkit._objective import Penalties, beta_divergence, combine_penalties
from nmfkit._scaling import typical_magnitude
from nmfkit.solvers import (
    ConvergenceMonitor,
    available,
    fit_mu_accelerated,
    get_solver,
    resolve_solver,
)
from nmfkit.solvers._mu_beta import fit_mu_beta, mm_exponent

BETAS = {"kullback-leibler": 1.0, "itakura-saito": 0.0, 0.5: 0.5}


def _problem(seed, beta, n=40, p=30, r=4):
    rng = np.random.default_rng(seed)
    X = rng.random((n, p)) * 2
    if beta > 0:
        X[X < 0.6] = 0  # zeros, as in counts
    else:
        X += 0.05
    return X, rng.random((n, r)) + 0.1, rng.random((r, p)) + 0.1


def _relative(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize(
    "beta_loss,sparse",
    [(name, sparse) for name in BETAS for sparse in (False, True) if BETAS[name] > 0]
    + [("itakura-saito", False)],
)
@pytest.mark.parametrize("alpha_W,alpha_H", [(0.0, 0.0), (0.02, 0.01)])
@pytest.mark.parametrize("max_iter", [1, 7])
def test_iterates_match_scikit_learn(beta_loss, sparse, alpha_W, alpha_H, max_iter):
    """KL, IS and beta = 0.5 iterates equal scikit-learn's, unpenalized and with
    the L1 penalties (l1_ratio=1) on both factors."""
    beta = BETAS[beta_loss]
    X, W0, H0 = _problem(0, beta)
    Xi = sp.csr_matrix(X) if sparse else X
    common = dict(
        n_components=W0.shape[1],
        init="custom",
        solver="mu",
        beta_loss=beta_loss,
        max_iter=max_iter,
        tol=0,
        alpha_W=alpha_W,
        alpha_H=alpha_H,
        l1_ratio=1.0,
    )
    W_ref, H_ref, _ = sk_nnf(Xi, W0.copy(), H0.copy(), **common)
    W, H, n_iter = non_negative_factorization(
        Xi, W0, H0, update_order="WH", l1_placement="denominator", **common
    )
    assert n_iter == max_iter
    assert _relative(W, W_ref) < 1e-8
    assert _relative(H, H_ref) < 1e-8


@pytest.mark.parametrize("beta", [1.0, 0.0, 0.5])
def test_l2_iterates_match_scikit_learn_rule(beta):
    """With L2 penalties, scikit-learn keeps gamma(beta): gamma_rule="scikit-learn"
    reproduces its iterates (the default rule differs, see the next test)."""
    X, W0, H0 = _problem(1, beta)
    n, p = X.shape
    alpha, l1_ratio = 0.01, 0.3
    W_ref, H_ref, _ = sk_nnf(
        X, W0.copy(), H0.copy(), n_components=W0.shape[1], init="custom",
        solver="mu", beta_loss=beta, max_iter=6, tol=0, alpha_W=alpha,
        l1_ratio=l1_ratio,
    )  # fmt: skip
    pen = combine_penalties(n_samples=n, n_features=p, alpha_W=alpha, l1_ratio=l1_ratio)
    res = fit_mu_beta(
        X, W0, H0, pen, monitor=ConvergenceMonitor(tol=0, max_iter=6), beta=beta,
        update_order="WH", l1_placement="denominator", gamma_rule="scikit-learn",
    )  # fmt: skip
    assert _relative(res.W, W_ref) < 1e-8
    assert _relative(res.H, H_ref) < 1e-8


def test_scikit_learn_l2_rule_can_increase_the_objective():
    """The reason for gamma = 1/(3 - beta) with L2 and beta < 2: the KL
    objective under scikit-learn's exponent goes up on this problem, the MM
    exponent never does."""
    rng = np.random.default_rng(12)
    X = rng.random((6, 5)) * 100 + 0.01
    W0, H0 = rng.random((6, 2)) * 10, rng.random((2, 5)) * 0.01
    pen = Penalties(l2_W=100.0, l2_H=100.0)
    curves = {}
    for rule in ("scikit-learn", "mm"):
        res = fit_mu_beta(
            X, W0, H0, pen, monitor=ConvergenceMonitor(tol=0, max_iter=30), beta=1.0,
            gamma_rule=rule, l1_placement="denominator", update_order="WH",
        )  # fmt: skip
        curves[rule] = res.history[:, 2]
    assert np.max(np.diff(curves["scikit-learn"])) > 0
    assert np.all(np.diff(curves["mm"]) <= 1e-12 * curves["mm"][:-1])


def test_exponents():
    assert mm_exponent(0.0) == 0.5
    assert mm_exponent(0.5) == pytest.approx(1 / 1.5)
    assert mm_exponent(1.0) == mm_exponent(1.7) == 1.0
    assert mm_exponent(3.0) == 0.5
    assert mm_exponent(1.0, l2=1.0) == 0.5
    assert mm_exponent(0.0, l2=1.0) == pytest.approx(1 / 3)
    assert mm_exponent(3.0, l2=1.0) == 0.5
    assert mm_exponent(1.0, l2=1.0, gamma_rule="scikit-learn") == 1.0


def test_table_accepts_any_beta_for_mu():
    assert get_solver("mu", 2.0).func is fit_mu_accelerated
    assert get_solver("mu", 0.7).func is fit_mu_beta
    assert get_solver("mu", 0.7).keywords["beta"] == 0.7
    assert resolve_solver("mu", -1.3)[0].fit is fit_mu_beta
    with pytest.raises(ValueError, match="solver='hals' with beta_loss=1 is not"):
        resolve_solver("hals", 1.0)
    assert resolve_solver("auto", 1.0)[0].name == "mu"
    assert ("mu", None) in available()
    with pytest.raises(ValueError, match="any beta_loss"):
        get_solver("nope", 1.0)


@pytest.mark.parametrize("beta", [0.5, 1.0, 3.0])
def test_estimator_losses_and_error_match_definitions(beta):
    X, W0, H0 = _problem(2, beta)
    model = NMF(
        n_components=4, init="custom", beta_loss=beta, max_iter=20, tol=0,
        alpha_W=0.01, l1_ratio=0.5, l1_W=0.1, l2_H=0.2,
    )  # fmt: skip
    W = model.fit_transform(X, W=W0, H=H0)
    H = model.components_
    n, p = X.shape
    pen = combine_penalties(
        n_samples=n, n_features=p, alpha_W=0.01, l1_ratio=0.5, l1_W=0.1, l2_H=0.2
    )
    expected = beta_divergence(X, W, H, beta) + pen.value_W(W) + pen.value_H(H)
    assert model.loss_ == pytest.approx(expected, rel=1e-12)
    # the objective is evaluated every 10 iterations (objective_every)
    assert model.history_[:, 0].tolist() == [0, 10, 20]
    assert model.loss_curve_.shape == (3,)
    assert np.all(np.diff(model.loss_curve_) <= 1e-12 * model.loss_curve_[:-1])
    assert model.reconstruction_err_ == pytest.approx(
        _beta_divergence(X, W, H, beta, square_root=True), rel=1e-12
    )


def test_reconstruction_error_means_the_same_as_scikit_learn():
    """Same fit in both libraries, same reconstruction_err_."""
    X, W0, H0 = _problem(3, 1.0)
    kw = dict(n_components=4, init="custom", beta_loss="kullback-leibler", tol=0,
              max_iter=15, solver="mu")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = SklearnNMF(**kw).fit(X, W=W0.copy(), H=H0.copy())
    ours = NMF(update_order="WH", **kw).fit(X, W=W0, H=H0)
    assert ours.reconstruction_err_ == pytest.approx(ref.reconstruction_err_, rel=1e-9)


@pytest.mark.parametrize("beta_loss", ["itakura-saito", -0.5, 0])
@pytest.mark.parametrize("sparse", [False, True])
def test_zeros_with_nonpositive_beta_raise(beta_loss, sparse):
    X, _, _ = _problem(4, 1.0)
    Xi = sp.csr_matrix(X) if sparse else X
    with pytest.raises(ValueError, match="beta_loss <= 0 and X contains zeros"):
        NMF(n_components=2, beta_loss=beta_loss).fit(Xi)
    model = NMF(n_components=2, beta_loss=beta_loss, init="random", max_iter=5,
                tol=0, random_state=0).fit(X + 1)  # fmt: skip
    with pytest.raises(ValueError, match="beta_loss <= 0 and X contains zeros"):
        model.transform(Xi)


@pytest.mark.parametrize("beta", [0.0, 1.0, 1.5])
@pytest.mark.parametrize("order", ["HW", "WH"])
def test_transform_solves_codes_for_fixed_dictionary(beta, order):
    X, W0, H0 = _problem(5, beta)
    model = NMF(n_components=4, init="custom", beta_loss=beta, max_iter=50, tol=0,
                update_order=order).fit(X, W=W0, H=H0)  # fmt: skip
    W = model.transform(X)
    H = model.components_
    W_ref, _, _ = sk_nnf(X, H=H, n_components=4, update_H=False, solver="mu",
                         beta_loss=beta, max_iter=50, tol=0)  # fmt: skip
    assert _relative(W, W_ref) < 1e-8


@pytest.mark.parametrize("beta", [0.5, 1.0])
def test_sparse_fit_equals_dense_fit(beta):
    X, W0, H0 = _problem(6, beta)
    kw = dict(n_components=4, init="custom", beta_loss=beta, max_iter=10, tol=0,
              l1_W=0.1, l2_W=0.1, l1_H=0.1, l2_H=0.1)  # fmt: skip
    dense = NMF(**kw).fit(X, W=W0, H=H0)
    sparse = NMF(**kw).fit(sp.csr_matrix(X), W=W0, H=H0)
    assert _relative(sparse.components_, dense.components_) < 1e-10
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-10)


def test_numerator_l1_gives_zeros_for_beta_above_two():
    X, W0, H0 = _problem(7, 3.0)
    model = NMF(n_components=4, init="custom", beta_loss=3.0, max_iter=60, tol=0,
                l1_W=5.0)  # fmt: skip
    W = model.fit_transform(X, W=W0, H=H0)
    assert np.count_nonzero(W == 0) > 0
    assert np.all(np.diff(model.loss_curve_) <= 1e-12 * model.loss_curve_[:-1])


def test_float32_stays_float32():
    X, W0, H0 = _problem(8, 1.0)
    X, W0, H0 = (a.astype(np.float32) for a in (X, W0, H0))
    model = NMF(n_components=4, init="custom", beta_loss=1, max_iter=10, tol=0)
    W = model.fit_transform(X, W=W0, H=H0)
    assert W.dtype == np.float32 and model.components_.dtype == np.float32
    assert np.isfinite(model.loss_curve_).all()


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 1.5, 3.0])
@pytest.mark.parametrize("sparse", [False, True])
def test_objective_with_entries_below_epsilon(beta, sparse):
    """Entries in (0, eps] leave the divergence (scikit-learn's rule); the
    solvers' per-iteration objective follows it."""
    X, W0, H0 = _problem(9, beta)
    X[:3, :5] = 1e-9
    X[5, 5] = 2e-8
    # at typical magnitude 1, where the floors of the solver (given X as it
    # is) and of beta_divergence (at unit scale) are the same
    X /= typical_magnitude(X)
    Xi = sp.csr_matrix(X) if sparse else X
    pen = Penalties(0.1, 0.2, 0.3, 0.4)
    res = fit_mu_beta(
        Xi, W0, H0, pen, monitor=ConvergenceMonitor(tol=0, max_iter=4), beta=beta
    )
    expected = beta_divergence(X, res.W, res.H, beta) + pen.value_W(res.W)
    expected += pen.value_H(res.H)
    assert res.history[-1, 2] == pytest.approx(expected, rel=1e-12)
    assert _beta_divergence(X, res.W, res.H, beta) == pytest.approx(
        beta_divergence(Xi, res.W, res.H, beta), rel=1e-12
    )


@pytest.mark.parametrize("order", ["HW", "WH"])
@pytest.mark.parametrize("sparse", [False, True])
def test_interrupted_and_resumed_kl_fit_equals_uninterrupted(tmp_path, order, sparse):
    """The beta solver reports, at each iteration, the factors its objective
    belongs to: an interruption keeps that iterate and a checkpoint resumes
    from it exactly."""
    from _fit_child import InterruptAt
    from nmfkit import FitInterruptedWarning

    X, _, _ = _problem(10, 1.0)
    Xi = sp.csr_matrix(X) if sparse else X
    params = dict(n_components=3, init="random", random_state=0, tol=0,
                  max_iter=25, beta_loss="kullback-leibler", update_order=order,
                  l1_W=0.01, l2_H=0.1)  # fmt: skip
    path = tmp_path / "kl.ckpt.npz"
    model = InterruptAt(checkpoint=path, checkpoint_every=3600.0, **params)
    # callbacks run where the objective is evaluated (every 10 iterations)
    model.at, model.how = 10, "raise"
    with pytest.warns(FitInterruptedWarning):
        W7 = model.fit_transform(Xi)
    assert model.n_iter_ == 10
    n, p = X.shape
    pen = combine_penalties(n_samples=n, n_features=p, l1_W=0.01, l2_H=0.1)
    H7 = model.components_
    kept = beta_divergence(X, W7, H7, 1.0) + pen.value_W(W7) + pen.value_H(H7)
    assert model.loss_ == pytest.approx(kept, rel=1e-12)
    resumed = NMF(checkpoint=path, **params).fit(Xi)
    reference = NMF(**params).fit(Xi)
    np.testing.assert_allclose(resumed.components_, reference.components_, rtol=1e-12)
    np.testing.assert_allclose(resumed.loss_curve_, reference.loss_curve_, rtol=1e-12)
    W = reference.fit_transform(Xi)
    H = reference.components_
    expected = beta_divergence(X, W, H, 1.0) + pen.value_W(W) + pen.value_H(H)
    assert reference.loss_ == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("beta", [0.0, 1.0, 1.5])
@pytest.mark.parametrize("order", ["HW", "WH"])
@pytest.mark.parametrize("sparse", [False, True])
def test_objective_every_keeps_iterates_and_the_rows_it_records(beta, order, sparse):
    """Evaluating the objective every 10 iterations changes no iterate; the
    rows it records are those of the every-iteration history."""
    X, W0, H0 = _problem(11, beta)
    if sparse and beta == 0:
        pytest.skip("Itakura-Saito needs positive data, sparse X has zeros")
    if not sparse:
        X += 0.01  # positive: KL and IS take the objective from the ratio
    X /= typical_magnitude(X)
    Xi = sp.csr_matrix(X) if sparse else X
    runs = {
        every: fit_mu_beta(
            Xi,
            W0,
            H0,
            Penalties(),
            beta=beta,
            update_order=order,
            monitor=ConvergenceMonitor(tol=0, max_iter=25),
            objective_every=every,
        )  # fmt: skip
        for every in (1, 10)
    }
    np.testing.assert_array_equal(runs[10].W, runs[1].W)
    np.testing.assert_array_equal(runs[10].H, runs[1].H)
    rows = runs[10].history
    assert rows[:, 0].tolist() == [0, 10, 20, 25]
    every_row = runs[1].history[[0, 10, 20, 25], 2]
    np.testing.assert_allclose(rows[:, 2], every_row, rtol=1e-12)
    final = beta_divergence(X, runs[10].W, runs[10].H, beta)
    assert rows[-1, 2] == pytest.approx(final, rel=1e-12)


def test_tol_over_several_iterations_is_the_mean_decrease():
    """A row after m iterations stops when the decrease is below m tol."""
    monitor = ConvergenceMonitor(tol=1e-3, max_iter=100)
    monitor.start(1.0, None, None)
    assert not monitor.update(1.0 - 0.011, None, None, steps=10)  # 1.1e-3 per it
    assert monitor.n_iter == 10
    assert monitor.update(0.989 * (1 - 0.009), None, None, steps=10)  # 0.9e-3
    assert monitor.converged and monitor.n_iter == 20
    with pytest.raises(ValueError, match="steps=0"):
        monitor.update(0.5, None, None, steps=0)


@pytest.mark.parametrize("every", [0, 2.5, True])
def test_objective_every_must_be_a_positive_integer(every):
    X, W0, H0 = _problem(1, 1.0)
    with pytest.raises(ValueError, match="objective_every"):
        fit_mu_beta(X, W0, H0, Penalties(), beta=1.0, objective_every=every,
                    monitor=ConvergenceMonitor(max_iter=3))  # fmt: skip


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_divergence_from_ratio_equals_the_entrywise_divergence(beta):
    from nmfkit._objective import (
        EPSILON,
        divergence_from_ratio,
        pointwise_divergence,
    )

    rng = np.random.default_rng(3)
    x = rng.random(5000) + 0.01
    y = x * np.exp(rng.normal(0, 0.5, x.size))
    y[:3] = 1e-12  # raised to EPSILON, as in the updates
    yc = np.maximum(y, EPSILON)
    value = divergence_from_ratio(x, x / yc, y.sum(), x.sum(), beta)
    assert value == pytest.approx(pointwise_divergence(x, y, beta).sum(), rel=1e-12)
    # near an exact fit the sums cancel: no value rather than a wrong one
    close = x * (1 + 1e-9 * rng.standard_normal(x.size))
    assert divergence_from_ratio(x, x / close, close.sum(), x.sum(), beta) is None
    with pytest.raises(ValueError, match="beta=0.5"):
        divergence_from_ratio(x, x / yc, yc.sum(), x.sum(), 0.5)
