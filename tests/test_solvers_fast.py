"""HALS, accelerated inner loops, extrapolation and solver="auto"."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls
from sklearn.decomposition import NMF as SklearnNMF

from nmfkit import NMF, non_negative_factorization
from nmfkit._objective import Penalties, combine_penalties, penalized_objective
from nmfkit.solvers import ConvergenceMonitor, get_solver
from nmfkit.solvers._alternating import fit_hals, inner_budget

# Every nmfkit configuration: NMF keyword arguments.
CONFIGS = {
    "mu": {"solver": "mu"},
    "mu+inner": {"solver": "mu", "inner_iter": "auto"},
    "mu+extrapolation": {"solver": "mu", "extrapolate": True},
    "mu+inner+extrapolation": {
        "solver": "mu",
        "inner_iter": "auto",
        "extrapolate": True,
    },
    "cd": {"solver": "cd"},
    "hals+shuffle": {"solver": "hals", "shuffle": True, "random_state": 0},
    "cd+inner": {"solver": "cd", "inner_iter": "auto"},
    "cd+inner3": {"solver": "cd", "inner_iter": 3},
    "cd+extrapolation": {"solver": "cd", "extrapolate": True},
    "auto": {},
}
FOUR_PENALTIES = {"l1_W": 0.05, "l2_W": 0.1, "l1_H": 0.02, "l2_H": 0.2}


def _low_rank(n=40, p=30, rank=4, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    X = (0.5 + rng.random((n, rank))) @ (0.5 + rng.random((rank, p)))
    return X + noise * rng.random((n, p))


def _start(X, rank, seed=1):
    rng = np.random.default_rng(seed)
    scale = np.sqrt(X.mean() / rank)
    return scale * rng.random((X.shape[0], rank)), scale * rng.random(
        (rank, X.shape[1])
    )


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("alpha_W, l1_ratio", [(0.0, 0.0), (0.01, 0.3), (0.005, 1.0)])
def test_cd_follows_scikit_learn_cd(sparse, alpha_W, l1_ratio):
    # Same algorithm (exact coordinate minimization, components in order, W
    # then H) and the same objective: the iterates agree up to rounding, which
    # differs only through the summation order of the BLAS products; 1e-8
    # relative leaves room for its growth over 30 nonconvex iterations.
    X = _low_rank(30, 20, 3, noise=0.2)
    X[X < 1.0] = 0.0
    Xs = sp.csr_matrix(X) if sparse else X
    W0, H0 = _start(X, 3)
    sk = SklearnNMF(
        3,
        init="custom",
        solver="cd",
        tol=0.0,
        max_iter=30,
        alpha_W=alpha_W,
        l1_ratio=l1_ratio,
    )
    W_sk = sk.fit_transform(Xs, W=W0.copy(), H=H0.copy())
    ours = NMF(
        3,
        init="custom",
        solver="cd",
        tol=0.0,
        max_iter=30,
        alpha_W=alpha_W,
        l1_ratio=l1_ratio,
        update_order="WH",
    )
    W = ours.fit_transform(Xs, W=W0, H=H0)
    np.testing.assert_allclose(W, W_sk, rtol=1e-8, atol=1e-8 * np.abs(W_sk).max())
    np.testing.assert_allclose(
        ours.components_,
        sk.components_,
        rtol=1e-8,
        atol=1e-8 * np.abs(sk.components_).max(),
    )
    penalties = combine_penalties(
        n_samples=30, n_features=20, alpha_W=alpha_W, l1_ratio=l1_ratio
    )
    assert ours.loss_ == pytest.approx(
        penalized_objective(X, W_sk, sk.components_, penalties), rel=1e-9
    )


def _nnls_codes(X, H, l1, l2):
    """Exact ``argmin_{W >= 0} 1/2||X - WH||^2 + l1 sum(W) + l2/2 ||W||^2`` by NNLS.

    Row by row, on the stacked system ``A = [H^T; sqrt(l2) I]``; the linear L1
    term is absorbed by shifting the right-hand side by ``A (A^T A)^-1 l1 1``.
    """
    r = H.shape[0]
    A = np.vstack([H.T, np.sqrt(l2) * np.eye(r)])
    shift = A @ np.linalg.solve(A.T @ A, np.full(r, l1))
    rows = []
    for x in X:
        b = np.concatenate([x, np.zeros(r)]) - shift
        rows.append(nnls(A, b, maxiter=1000)[0])
    return np.array(rows)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_transform_gives_the_same_codes_with_every_solver(name, sparse):
    # With l2_W > 0 the codes are the unique minimizer of a strongly convex
    # problem: every solver must find them, to 1e-6 relative, checked against
    # an independent NNLS solution.
    X = _low_rank(25, 30, 4)
    _, H = _start(X, 4, seed=3)
    H += 0.2
    reference = _nnls_codes(X, H, 0.0, 1.0)
    assert reference.min() > 1e-3  # interior: MU converges linearly
    Xs = sp.csr_matrix(X) if sparse else X
    W, _, _ = non_negative_factorization(
        Xs, H=H, update_H=False, tol=0.0, max_iter=4000, l2_W=1.0, **CONFIGS[name]
    )
    assert np.linalg.norm(W - reference) <= 1e-6 * np.linalg.norm(reference)


@pytest.mark.parametrize("name", [n for n in CONFIGS if "mu" not in n])
def test_transform_with_l1_and_exact_zeros(name):
    # Codes with exact zeros (active constraints) under l1_W and l2_W: the
    # HALS family solves them exactly, like NNLS.
    X = _low_rank(20, 15, 3, noise=0.5, seed=5)
    _, H = _start(X, 5, seed=6)
    reference = _nnls_codes(X, H, 5.0, 0.5)
    assert (reference == 0).any()
    W, _, _ = non_negative_factorization(
        X,
        H=H,
        update_H=False,
        tol=0.0,
        max_iter=3000,
        l1_W=5.0,
        l2_W=0.5,
        **CONFIGS[name],
    )
    assert np.linalg.norm(W - reference) <= 1e-6 * np.linalg.norm(reference)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_objective_history_never_increases(name, sparse):
    # Every update is a majorization-minimization or exact block step; with
    # extrapolation the history holds the accepted iterates only.
    X = _low_rank(30, 25, 4, noise=0.3)
    Xs = sp.csr_matrix(X) if sparse else X
    W0, H0 = _start(X, 5)
    model = NMF(
        5, init="custom", tol=0.0, max_iter=150, **FOUR_PENALTIES, **CONFIGS[name]
    )
    W = model.fit_transform(Xs, W=W0, H=H0)
    curve = model.loss_curve_
    assert len(curve) == 151
    assert np.all(np.diff(curve) <= 1e-12 * curve[0])
    assert curve[-1] < curve[0]
    penalties = Penalties(**FOUR_PENALTIES)
    assert model.loss_ == pytest.approx(
        penalized_objective(X, W, model.components_, penalties), rel=1e-9
    )
    assert np.isfinite(W).all() and W.min() >= 0 and model.components_.min() >= 0


def test_extrapolation_restarts_and_reports_them():
    X = _low_rank(40, 30, 4, noise=0.3)
    W0, H0 = _start(X, 6)
    result = fit_hals(
        X,
        W0,
        H0,
        Penalties(),
        monitor=ConvergenceMonitor(tol=0.0, max_iter=300),
        extrapolate=True,
    )
    assert result.info["n_restarts"] > 0
    assert np.all(np.diff(result.history[:, 2]) <= 1e-12 * result.history[0, 2])


@pytest.mark.parametrize(
    "penalties", [{}, {"l2_W": 0.1, "l2_H": 0.2}], ids=["none", "l2"]
)
def test_final_objectives_agree_across_solvers(penalties):
    # Without L1 terms this small problem has one basin from this start: every
    # solver ends within 1e-3 of the best. (With L1 terms solvers can settle
    # in different local minima, several percent apart, so no such claim.)
    X = _low_rank(30, 20, 3, noise=0.1, seed=2)
    W0, H0 = _start(X, 3, seed=4)
    finals = {}
    for name, options in CONFIGS.items():
        max_iter = 2000 if name.startswith("mu") else 500
        model = NMF(
            3, init="custom", tol=0.0, max_iter=max_iter, **penalties, **options
        )
        model.fit(X, W=W0, H=H0)
        finals[name] = model.loss_
    best = min(finals.values())
    gaps = {name: (value - best) / best for name, value in finals.items()}
    assert max(gaps.values()) <= 1e-3, gaps


@pytest.mark.parametrize("name", list(CONFIGS))
def test_float32_stays_float32(name):
    X = _low_rank(20, 15, 3).astype(np.float32)
    options = {"random_state": 0, **CONFIGS[name]}
    model = NMF(3, init="random", max_iter=50, tol=0, **options)
    W = model.fit_transform(X)
    assert W.dtype == np.float32 and model.components_.dtype == np.float32
    assert np.isfinite(W).all() and np.isfinite(model.components_).all()
    assert model.transform(X).dtype == np.float32


@pytest.mark.parametrize("name", ["cd", "cd+inner", "auto", "mu+inner+extrapolation"])
def test_sparse_data_is_never_densified(name):
    # A dense copy of this matrix would need 40 GB.
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 100_000, 10_000)
    cols = rng.integers(0, 50_000, 10_000)
    X = sp.csr_matrix((rng.random(10_000), (rows, cols)), shape=(100_000, 50_000))
    options = {"random_state": 0, **CONFIGS[name]}
    model = NMF(2, init="random", max_iter=3, tol=0, **options)
    W = model.fit_transform(X)
    assert W.shape == (100_000, 2) and np.isfinite(W).all()


def test_inner_budget_follows_gillis_glineur():
    # Olivetti-sized dense X (400 x 4096), rank 10, updating W:
    # rho = 1 + floor((1638400 + 40960) / 4400) = 382, budget floor(1 + 0.5 rho).
    assert inner_budget(400 * 4096, 400, 4096, 10, 0.5) == 192
    assert inner_budget(100, 1000, 10, 5, 0.5) == 1  # products cheap: no inner loop


def test_auto_is_the_default_and_records_a_history():
    model = NMF(3, random_state=0, max_iter=40, tol=0)
    assert model.get_params()["solver"] == "auto"
    X = _low_rank()
    model.fit(X)
    assert model.history_.shape == (41, 3)
    assert np.all(np.diff(model.history_[:, 1]) >= 0)
    # "auto" is HALS with Gillis and Glineur's inner loops and extrapolation
    assert model.solver_ == "hals"
    assert model.solver_options_ == dict(
        update_order="HW", inner_iter="auto", inner_tol=0.1, extrapolate=True,
        shuffle=False, random_state=0,
    )
    auto = get_solver("auto", 2.0)
    assert auto.func is fit_hals
    assert auto.keywords["inner_iter"] == "auto" and auto.keywords["extrapolate"]


def test_max_time_stops_every_solver():
    X = _low_rank(60, 50, 4)
    for options in CONFIGS.values():
        options = {"random_state": 0, **options}
        model = NMF(4, max_iter=10**6, tol=0, max_time=0.0, **options)
        model.fit(X)
        assert model.n_iter_ == 1


@pytest.mark.parametrize(
    "params, message",
    [
        ({"inner_iter": 0}, "inner_iter=0 is not valid"),
        ({"inner_iter": "many"}, "inner_iter='many' is not valid"),
        ({"extrapolate": "yes"}, "extrapolate='yes' is not valid"),
        ({"inner_tol": -1.0}, "inner_tol=-1.0 is not valid"),
        ({"solver": "pg"}, "solver='pg' with beta_loss"),
    ],
)
def test_bad_options_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        NMF(2, **params).fit(_low_rank())


def test_monitor_uses_the_given_clock():
    ticks = iter(range(100))
    monitor = ConvergenceMonitor(tol=0.0, max_iter=3, clock=lambda: float(next(ticks)))
    fit_hals(_low_rank(), *_start(_low_rank(), 3), Penalties(), monitor=monitor)
    np.testing.assert_array_equal(monitor.history()[:, 1], [0.0, 1.0, 2.0, 3.0])
