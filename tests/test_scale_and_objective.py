"""Never silently wrong: exact objectives, scale-safe fits, finite outputs.

Regression tests for the reproductions of the robustness sweep, and a
hypothesis property test over shape, scale (1e-12..1e12), one dominant
entry, exact low rank, beta, solver, dtype and data path. The reference
objective is computed from the returned factors in extended precision
(``np.longdouble``), independently of the library's evaluation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from nmfkit import NMF, MiniBatchNMF, non_negative_factorization

BETAS = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}


def _reference_fit(X, W, H, beta):
    """D_beta(X | W H) in extended precision: scikit-learn's definition, its
    floors at float32 eps taken relative to the data's typical magnitude (the
    geometric mean of the positive entries), as nmfkit defines it."""
    Xl = (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.longdouble)
    Y = W.astype(np.longdouble) @ H.astype(np.longdouble)
    if beta == 2:
        return float(0.5 * np.sum((Xl - Y) ** 2))
    typical = np.exp(np.mean(np.log(Xl[Xl > 0])))
    eps = np.longdouble(np.finfo(np.float32).eps) * typical
    keep = Xl > eps
    Yc = np.maximum(Y, eps)
    if beta == 1:
        x, y = Xl[keep], Yc[keep]
        return float(np.sum(x * np.log(x / y)) - x.sum() + Y.sum())
    if beta == 0:
        ratio = Xl[keep] / Yc[keep]
        return float(np.sum(ratio - np.log(ratio) - 1))
    raise ValueError(beta)


def _fit(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        W = estimator.fit_transform(X)
    return W, estimator.components_


def _precision(X, W, H, fit_value):
    """What the data itself can say of the objective: rounding of each entry
    (eps |x|) moves the fit term by at most ``eps ||X|| ||X - WH||``."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    eps = np.finfo(Xd.dtype).eps
    return 4 * eps * np.linalg.norm(Xd.astype(np.float64)) * np.sqrt(2 * fit_value)


# ------------------------------------------------------------ reproductions
def test_dominant_entry_objective_is_exact_and_the_fit_runs():
    rng = np.random.default_rng(0)
    X = rng.random((20, 10))
    X[2, 3] = 1e10
    model = NMF(3, solver="cd", random_state=0)
    W, H = _fit(model, X)
    true = _reference_fit(X, W, H, 2.0)
    assert model.n_iter_ > 1
    assert model.loss_ == pytest.approx(true, rel=1e-9)
    # the reported curve is the objective of the iterates: never rises
    assert np.all(np.diff(model.loss_curve_) <= 1e-9 * model.loss_curve_[:-1])
    # the full run gets the residual a good fit gets (2.85), not 16.74
    assert np.linalg.norm(X - W @ H) < 3.0


def test_exact_low_rank_objective_to_its_precision():
    rng = np.random.default_rng(1)
    X = rng.random((30, 4)) @ rng.random((4, 20))
    for solver in ("cd", "mu", "auto"):
        model = NMF(4, solver=solver, random_state=0, max_iter=300, tol=1e-10)
        W, H = _fit(model, X)
        true = _reference_fit(X, W, H, 2.0)
        assert abs(model.loss_ - true) <= 1e-9 * true + _precision(X, W, H, true)


@pytest.mark.parametrize("beta_loss", ["kullback-leibler", 0.5, 1.5, 3])
@pytest.mark.parametrize("estimator", [NMF, MiniBatchNMF])
def test_small_scale_divergences_give_scaled_fits_not_zeros(beta_loss, estimator):
    X = np.random.default_rng(2).random((20, 10)) + 1e-3
    kw = dict(n_components=3, beta_loss=beta_loss, random_state=0, max_iter=30)
    if estimator is NMF:
        kw.update(solver="mu", tol=0)
    W1, H1 = _fit(estimator(**kw), X)
    W2, H2 = _fit(estimator(**kw), X * 1e-7)
    assert W2.max() > 0 and H2.max() > 0
    np.testing.assert_allclose(W2 @ H2, 1e-7 * (W1 @ H1), rtol=1e-6)


def test_itakura_saito_on_a_power_spectrogram_scale():
    rng = np.random.default_rng(3)
    S = (rng.random((40, 12)) @ rng.random((12, 30)) + 0.01) ** 2 * 1e-10
    model = NMF(4, beta_loss="itakura-saito", solver="mu", random_state=0, max_iter=50)
    W, H = _fit(model, S)
    assert model.n_iter_ > 1 and model.loss_ > 0
    assert model.loss_ == pytest.approx(_reference_fit(S, W, H, 0.0), rel=1e-6)
    reference = NMF(4, beta_loss="itakura-saito", solver="mu", random_state=0,
                    max_iter=50)  # fmt: skip
    W1, H1 = _fit(reference, S * 1e10)
    np.testing.assert_allclose(W @ H, 1e-10 * (W1 @ H1), rtol=1e-6)


def test_nndsvda_start_works_at_the_top_of_the_range():
    X = np.random.default_rng(4).random((20, 10)) * 1.1e77
    model = NMF(3, init="nndsvda", random_state=0, max_iter=20)
    W, H = _fit(model, X)
    assert np.isfinite(W).all() and np.isfinite(H).all() and np.isfinite(model.loss_)


def test_minibatch_beta3_at_1e70_is_finite_and_scaled():
    X = np.random.default_rng(5).random((20, 10)) + 1e-3
    W1, H1 = _fit(MiniBatchNMF(3, beta_loss=3, max_iter=20, random_state=0), X)
    W2, H2 = _fit(MiniBatchNMF(3, beta_loss=3, max_iter=20, random_state=0), X * 1e70)
    assert np.isfinite(W2).all() and np.isfinite(H2).all()
    np.testing.assert_allclose(W2 @ H2, 1e70 * (W1 @ H1), rtol=1e-6)


def test_fixed_dictionary_at_1e200_gives_finite_scaled_codes():
    rng = np.random.default_rng(6)
    X, H = rng.random((20, 10)), rng.random((3, 10))
    kw = dict(n_components=3, update_H=False, max_iter=2000, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        W_big, _, _ = non_negative_factorization(X, H=H * 1e200, **kw)
        W_ref, _, _ = non_negative_factorization(X, H=H, **kw)
    assert np.isfinite(W_big).all()
    # one convex problem from two starts, stopped by the same relative rule
    np.testing.assert_allclose(W_big * 1e200, W_ref, rtol=1e-4, atol=1e-6)


def test_partially_observed_data_at_an_unrepresentable_scale_is_refused():
    X = np.random.default_rng(7).random((20, 10)) * 1e-200
    X[0, 0] = np.nan
    message = r"typical magnitude 3.58e-201.*\^2, outside the range of float64"
    with pytest.raises(ValueError, match=message):
        NMF(3, missing_values=np.nan).fit(X)


def test_partially_observed_fit_is_scale_equivariant():
    rng = np.random.default_rng(8)
    X = rng.random((30, 12))
    X[rng.random(X.shape) < 0.3] = np.nan
    kw = dict(n_components=3, missing_values=np.nan, random_state=0, max_iter=40,
              tol=0, init="random")  # fmt: skip
    W1, H1 = _fit(NMF(**kw), X)
    W2, H2 = _fit(NMF(**kw), X * 1e-9)
    np.testing.assert_allclose(W2 @ H2, 1e-9 * (W1 @ H1), rtol=1e-6)


def test_default_solver_curve_never_rises_with_a_dominant_entry():
    rng = np.random.default_rng(9)
    for X in (
        np.where(np.arange(200).reshape(20, 10) == 23, 1e6, rng.random((20, 10))),
        rng.random((30, 3)) @ rng.random((3, 20)),  # exactly low rank
    ):
        model = NMF(3, random_state=0, max_iter=300, tol=1e-12)
        W, H = _fit(model, X)
        curve = model.loss_curve_
        slack = _precision(X, W, H, curve[-1])
        assert np.all(np.diff(curve) <= 1e-10 * curve[:-1] + slack)


def test_scores_and_rank_selection_are_finite_at_extreme_scales():
    from nmfkit import select_rank

    rng = np.random.default_rng(10)
    X = rng.random((30, 3)) @ rng.random((3, 12))
    for scale in (1e-12, 1e12):
        model = NMF(3, random_state=0, max_iter=100)
        _fit(model, X * scale)
        assert np.isfinite(model.score(X * scale))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = select_rank(X * scale, [2, 3, 4], random_state=0)
        assert result.best_rank == 3


# ------------------------------------------------------------ property test
SOLVERS = {2.0: ["mu", "cd", "auto"], 1.0: ["mu"], 0.0: ["mu"]}


@st.composite
def problems(draw):
    n = draw(st.integers(4, 12))
    p = draw(st.integers(4, 12))
    r = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["noise", "low_rank", "dominant"]))
    beta = draw(st.sampled_from(sorted(SOLVERS)))
    if kind == "low_rank":
        X = rng.random((n, r)) @ rng.random((r, p))
    else:
        X = rng.random((n, p))
    if kind == "dominant":
        X[rng.integers(n), rng.integers(p)] = 10.0 ** draw(st.integers(3, 8))
    if beta == 0:
        X = X + 0.05  # Itakura-Saito needs positive data
    paths = ["dense", "sparse", "observed"] if beta == 2 else ["dense", "sparse"]
    path = draw(st.sampled_from(paths if beta > 0 else ["dense"]))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    scale = 10.0 ** draw(st.integers(-12, 12))
    solver = draw(st.sampled_from(SOLVERS[beta]))
    return X, beta, path, dtype, scale, solver, r


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(problems())
def test_objective_exact_monotone_finite_and_scale_equivariant(problem):
    X, beta, path, dtype, scale, solver, r = problem

    hidden = np.random.default_rng(0).random(X.shape) < 0.2

    def fit(data):
        data = data.astype(dtype)
        extra = {}
        if path == "sparse":
            data = sp.csr_matrix(data)
        elif path == "observed":
            data = np.where(hidden, np.nan, data)
            extra = dict(missing_values=np.nan)
        model = NMF(r, beta_loss=beta, solver=solver, init="random", random_state=0,
                    max_iter=25, tol=0, **extra)  # fmt: skip
        W, H = _fit(model, data)
        return model, data, W, H

    model, data, W, H = fit(X)
    scaled, _, W_s, H_s = fit(X * scale)
    for array in (W, H, W_s, H_s, scaled.history_):
        assert np.isfinite(array).all()
    assert scaled.n_iter_ == model.n_iter_
    # scale equivariance: c times the reconstruction (float32: its precision)
    rtol = 1e-6 if dtype == np.float64 else 2e-3
    np.testing.assert_allclose(
        W_s @ H_s, scale * (W @ H), rtol=rtol, atol=rtol * scale * np.abs(W @ H).max()
    )
    # the recorded objective is the objective of the returned factors
    if path == "observed":  # on the observed entries (the masked objective)
        seen = ~np.isnan(data)
        residual = data[seen].astype(np.longdouble) - (
            W.astype(np.longdouble) @ H.astype(np.longdouble)
        )[seen]
        true = float(0.5 * np.sum(residual**2))
        data = np.where(seen, data, 0)
    else:
        true = _reference_fit(data, W, H, beta)
    own = 1e-9 if dtype == np.float64 else 1e-4
    if beta == 2:
        slack = _precision(data, W, H, true)
    else:
        # divergences are still accumulated from their parts (data, cross and
        # model sums), exact to their rounding, not relative to a tiny value
        dense = data.toarray() if sp.issparse(data) else data
        eps = np.finfo(dense.dtype).eps
        slack = 8 * eps * np.sqrt(dense.size) * (
            np.abs(dense * np.log(np.where(dense > 0, dense, 1))).sum()
            + dense.sum() + (W @ H).sum() + dense.size
        )
    if beta != 2 and dtype == np.float32:
        own = 1e-3  # divergences of float32 data: terms evaluated in float32
    assert abs(model.loss_ - true) <= own * true + slack + 1e-300
    # never rises beyond that precision
    curve = model.loss_curve_
    assert np.all(np.diff(curve) <= own * curve[:-1] + slack)


def _mu_step_and_fit(fit, X, W, H):
    """One MU step of ``(W, H)`` in place, then ``fit`` at the new point from
    the products a solver holds; returns ``(value, P, G)``."""
    H *= (W.T @ X) / (W.T @ W @ H)
    P, G = X @ H.T, H @ H.T
    W *= P / (W @ G)
    return fit(P, W, W.T @ W, G, W, H), P, G


def _exact_fit(X, W, H):
    """``1/2 ||X - W H||^2`` in float64."""
    X64, W64, H64 = (np.asarray(A, dtype=np.float64) for A in (X, W, H))
    return 0.5 * np.sum((X64 - W64 @ H64) ** 2)


@pytest.mark.parametrize("rank", [5, 40])
def test_float32_fit_term_is_within_its_tolerance_and_mostly_by_the_identity(rank):
    """Float32: the measured-error rule keeps every recorded objective within
    FIT_RTOL of the float64 value, and on well-conditioned data uses the
    cheap identity for most evaluations (the a-priori bound alone would
    evaluate directly every time)."""
    from nmfkit._objective import FIT_RTOL, FrobeniusFit

    rng = np.random.default_rng(3)
    X = (rng.random((300, 8)) @ rng.random((8, 500)) + 0.3 * rng.random((300, 500)))
    X = X.astype(np.float32)
    W = rng.random((300, rank), dtype=np.float32)
    H = rng.random((rank, 500), dtype=np.float32)
    fit = FrobeniusFit(X)
    for _ in range(40):
        value, _, _ = _mu_step_and_fit(fit, X, W, H)
        exact = _exact_fit(X, W, H)
        assert abs(value - exact) <= FIT_RTOL[np.dtype(np.float32)] * exact
    assert fit.n_direct <= fit.n_calls // 2


def test_float64_good_fit_is_measured_not_always_evaluated_directly():
    """Float64 dense X near an exact fit: the a-priori bound (4 sqrt(k) eps
    times the terms) rejects the identity at every evaluation; the measured
    rule keeps every value within FIT_RTOL of the direct sum and evaluates
    directly only to measure (the first call and every MEASURE_EVERY-th)."""
    from nmfkit._objective import FIT_RTOL, MEASURE_EVERY, FrobeniusFit

    rng = np.random.default_rng(4)
    W0, H0 = rng.random((400, 6)), rng.random((6, 300))
    X = W0 @ H0 + 0.05 * rng.random((400, 300))
    W, H = W0 * (1 + 1e-3 * rng.random(W0.shape)), H0.copy()
    fit = FrobeniusFit(X)
    rtol = FIT_RTOL[np.dtype(np.float64)]
    growth = 4.0 * np.sqrt(max(X.shape))
    for _ in range(70):
        value, P, G = _mu_step_and_fit(fit, X, W, H)
        cross, gram = float(np.sum(P * W)), float(np.sum((W.T @ W) * G))
        exact = _exact_fit(X, W, H)
        assert abs(value - exact) <= rtol * exact
        a_priori = 0.5 * np.finfo(float).eps * growth * (fit.sq_norm + 2 * cross + gram)
        assert a_priori > rtol * exact  # the old rule: direct every time
    assert fit.n_direct == len(range(0, 70, MEASURE_EVERY))


def test_float32_fit_within_its_precision_goes_to_float64_at_once():
    """Float32 X of rank 8 plus noise at 1e-5 of it, fitted at rank 8: the
    identity cannot be trusted and the float32 blocks of the direct sum
    exceed their rounding bound, so after the first such evaluation the fit
    evaluates in float64 at once; every value stays within FIT_RTOL of the
    float64 sum."""
    from nmfkit._objective import FIT_RTOL, FrobeniusFit

    rng = np.random.default_rng(7)
    W0 = rng.random((600, 8)).astype(np.float32)
    H0 = rng.random((8, 400)).astype(np.float32)
    X = W0 @ H0 + np.float32(1e-5) * rng.random((600, 400), dtype=np.float32)
    W, H = W0 * np.float32(1 + 1e-4), H0.copy()
    fit = FrobeniusFit(X)
    seen = []
    for _ in range(6):
        value, _, _ = _mu_step_and_fit(fit, X, W, H)
        exact = _exact_fit(X, W, H)
        assert abs(value - exact) <= FIT_RTOL[np.dtype(np.float32)] * exact
        seen.append(fit.in_float64)
    assert fit.n_direct == 6 and seen[-1]
