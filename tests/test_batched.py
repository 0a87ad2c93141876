"""Batched fits of one X equal the same fits run one after another.

The solver level (:func:`nmfkit.solvers.fit_alternating_batched` against
:func:`nmfkit.solvers.fit_alternating`) and the estimator level
(``NMF(n_init=...)`` batched against its sequential loop).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from _fit_child import InterruptAt
from nmfkit import NMF, FitInterruptedWarning
from nmfkit._batched_fits import batching_refusal, default_max_batch
from nmfkit._objective import Penalties
from nmfkit.solvers import ConvergenceMonitor, fit_alternating, fit_alternating_batched
from nmfkit.solvers._data_terms import CompleteData


def _low_rank(n=50, p=40, rank=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.random((n, rank)) @ rng.random((rank, p)) + 0.01 * rng.random((n, p))
    return X.astype(dtype)


def _sparse(n=60, p=45, seed=0, dtype=np.float64):
    return sp.random(n, p, density=0.3, random_state=seed, format="csr", dtype=dtype)


def _starts(X, ranks, seed=1):
    rng = np.random.default_rng(seed)
    n, p = X.shape
    return [
        (rng.random((n, r)).astype(X.dtype), rng.random((r, p)).astype(X.dtype))
        for r in ranks
    ]


def _both(X, starts, penalties, tol=1e-5, max_iter=300, max_batch=None, **options):
    def monitor():
        return ConvergenceMonitor(tol=tol, max_iter=max_iter)

    batched = fit_alternating_batched(
        X,
        starts,
        penalties,
        monitors=[monitor() for _ in starts],
        max_batch=max_batch,
        **options,
    )
    alone = [
        fit_alternating(X, W0, H0, penalties, monitor=monitor(), **options)
        for W0, H0 in starts
    ]
    return batched, alone


CONFIGS = [
    dict(rule="hals"),
    dict(rule="hals", inner_iter="auto", extrapolate=True),
    dict(rule="hals", shuffle=True, random_state=3, update_order="WH"),
    dict(rule="mu"),
    dict(rule="mu", inner_iter="auto", extrapolate=True),
    dict(rule="mu", l1_placement="denominator", update_order="WH"),
]
PENALTIES = Penalties(l1_W=0.01, l2_W=0.02, l1_H=0.005, l2_H=0.03)


@pytest.mark.parametrize("options", CONFIGS)
@pytest.mark.parametrize("sparse", [False, True])
def test_batched_equals_separate_fits_float64(options, sparse):
    X = _sparse() if sparse else _low_rank()
    starts = _starts(X, (2, 3, 3, 5, 4))  # mixed ranks in one batch
    batched, alone = _both(X, starts, PENALTIES, max_batch=3, **options)
    assert [b.n_iter for b in batched] == [a.n_iter for a in alone]
    for b, a in zip(batched, alone, strict=True):
        assert b.converged == a.converged
        assert b.info["n_restarts"] == a.info["n_restarts"]
        if sparse:  # a row of a sparse product is the same sum: bit for bit
            np.testing.assert_array_equal(b.W, a.W)
            np.testing.assert_array_equal(b.H, a.H)
        else:  # BLAS blocking of a stacked product: the last bits
            np.testing.assert_allclose(b.W, a.W, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(b.H, a.H, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b.history[:, 2], a.history[:, 2], rtol=1e-12)


@pytest.mark.parametrize("options", CONFIGS)
def test_batched_equals_separate_fits_float32(options):
    # sparse: bit for bit, with the stopping rule
    X = _sparse(dtype=np.float32)
    batched, alone = _both(X, _starts(X, (2, 4, 3)), PENALTIES, **options)
    assert [b.n_iter for b in batched] == [a.n_iter for a in alone]
    for b, a in zip(batched, alone, strict=True):
        assert b.W.dtype == np.float32
        np.testing.assert_array_equal(b.W, a.W)
        np.testing.assert_array_equal(b.H, a.H)
    # dense: the stacked product rounds differently in float32's last bits
    # (a fixed number of iterations: a float32 stopping test near tol, and
    # a restart of the extrapolation, follow that rounding)
    X = _low_rank(dtype=np.float32)
    batched, alone = _both(
        X, _starts(X, (2, 4, 3)), PENALTIES, tol=0, max_iter=60, **options
    )
    for b, a in zip(batched, alone, strict=True):
        assert b.W.dtype == b.H.dtype == np.float32
        assert b.n_iter == a.n_iter == 60
        if options.get("extrapolate"):  # restarts may differ: same objective
            np.testing.assert_allclose(b.history[-1, 2], a.history[-1, 2], rtol=1e-2)
        else:  # float32 rounding
            np.testing.assert_allclose(b.W @ b.H, a.W @ a.H, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(b.history[:, 2], a.history[:, 2], rtol=1e-4)


class _ProductSpy:
    """Records the rows of every data product (the real product is computed)."""

    def __init__(self, monkeypatch):
        self.rows = []
        self.stacked = False
        product, products = CompleteData.product, CompleteData.products

        def spy(data, other, is_W):  # a separate fit's product
            if not self.stacked:
                self.rows.append(int(other.shape[0]))
            return product(data, other, is_W)

        def stacked_spy(data, others, is_W):  # one product of batched fits
            self.rows.append(sum(int(other.shape[0]) for other in others))
            self.stacked = True
            try:
                return products(data, others, is_W)
            finally:
                self.stacked = False

        monkeypatch.setattr(CompleteData, "product", spy)
        monkeypatch.setattr(CompleteData, "products", stacked_spy)


def test_a_converged_fit_stops_costing(monkeypatch):
    X = _low_rank()
    # a rank-1 fit converges in a few iterations, the others take longer
    starts = _starts(X, (4, 1, 2, 4))
    spy = _ProductSpy(monkeypatch)
    alone = [
        fit_alternating(
            X, W0, H0, Penalties(), monitor=ConvergenceMonitor(1e-6, 500)
        )
        for W0, H0 in starts
    ]
    separate_rows, separate_calls = sum(spy.rows), len(spy.rows)
    spy.rows.clear()
    counts = [0] * len(starts)

    def counter(i):
        def count(monitor):
            counts[i] += 1

        return count

    monitors = [
        ConvergenceMonitor(1e-6, 500, callbacks=[counter(i)])
        for i in range(len(starts))
    ]
    batched = fit_alternating_batched(X, starts, Penalties(), monitors=monitors)
    n_iter = [b.n_iter for b in batched]
    assert n_iter == [a.n_iter for a in alone]
    assert len(set(n_iter)) > 1  # they stop at different iterations
    # each fit was updated exactly n_iter times, never after it stopped
    assert counts == n_iter
    # the same rows of products in all, in as many products as the longest
    # fit needs alone (two to start, two per iteration but the last)
    assert sum(spy.rows) == separate_rows
    assert len(spy.rows) == 2 * max(n_iter) + 1 < separate_calls
    for b, a in zip(batched, alone, strict=True):
        np.testing.assert_allclose(b.W, a.W, rtol=1e-10, atol=1e-12)


def test_max_batch_bounds_the_stacked_rows(monkeypatch):
    X = _sparse()
    starts = _starts(X, (3, 3, 3, 3, 3))
    spy = _ProductSpy(monkeypatch)
    monitors = [ConvergenceMonitor(0, 10) for _ in starts]
    results = fit_alternating_batched(
        X, starts, Penalties(), monitors=monitors, max_batch=2
    )
    assert max(spy.rows) == 6  # two fits of rank 3 at a time
    assert len(spy.rows) == 3 * (2 * 10 + 1)  # batches of 2, 2 and 1
    alone = [
        fit_alternating(X, W0, H0, Penalties(), monitor=ConvergenceMonitor(0, 10))
        for W0, H0 in starts
    ]
    for b, a in zip(results, alone, strict=True):
        np.testing.assert_array_equal(b.W, a.W)


def test_sparse_stacked_products_keep_the_random_reads_in_cache(monkeypatch):
    X = _sparse()  # 60 x 45: the products read 45-row factors at random
    data = CompleteData(X)
    factor = np.ones((3, 60))
    assert data.max_stacked_rows(factor) == CompleteData.STACK_BYTES // (45 * 8)
    assert CompleteData(X.toarray()).max_stacked_rows(factor) is None
    # a budget of 7 rows of 45 float64: ranks 3, 3 | 5, 2 | 4 | 9 (alone)
    monkeypatch.setattr(CompleteData, "STACK_BYTES", 7 * 45 * 8)
    starts = _starts(X, (3, 3, 5, 2, 4, 9))
    spy = _ProductSpy(monkeypatch)
    monitors = [ConvergenceMonitor(0, 4) for _ in starts]
    results = fit_alternating_batched(X, starts, Penalties(), monitors=monitors)
    assert spy.rows[:4] == [6, 7, 4, 9]
    alone = [
        fit_alternating(X, W0, H0, Penalties(), monitor=ConvergenceMonitor(0, 4))
        for W0, H0 in starts
    ]
    for b, a in zip(results, alone, strict=True):  # the same sums: bit for bit
        np.testing.assert_array_equal(b.W, a.W)
        np.testing.assert_array_equal(b.H, a.H)


def test_partially_observed_data_runs_one_fit_after_another():
    from nmfkit._validation import check_data

    X = _low_rank()
    X[0, 0] = X[3, 5] = np.nan
    observed = check_data(X, partially_observed=True, missing_values=np.nan)
    starts = _starts(X, (2, 3))
    batched, alone = _both(observed, starts, Penalties(), rule="hals")
    for b, a in zip(batched, alone, strict=True):
        assert b.n_iter == a.n_iter
        np.testing.assert_array_equal(b.W, a.W)


def test_bad_arguments_are_refused():
    X = _low_rank()
    starts = _starts(X, (2, 3))
    monitors = [ConvergenceMonitor(), ConvergenceMonitor()]
    with pytest.raises(ValueError, match="monitors has 1 entries for 2 starts"):
        fit_alternating_batched(X, starts, Penalties(), monitors=monitors[:1])
    with pytest.raises(ValueError, match="max_batch=0 is not valid"):
        fit_alternating_batched(X, starts, Penalties(), monitors=monitors, max_batch=0)
    with pytest.raises(ValueError, match="penalties has 3 entries"):
        fit_alternating_batched(X, starts, [Penalties()] * 3, monitors=monitors)
    with pytest.raises(ValueError, match="start 1 has W of shape"):
        bad = [starts[0], (starts[1][0], starts[1][1][:, :5])]
        fit_alternating_batched(X, bad, Penalties(), monitors=monitors)
    with pytest.raises(ValueError, match="different dtypes"):
        mixed = [starts[0], tuple(a.astype(np.float32) for a in starts[1])]
        fit_alternating_batched(X, mixed, Penalties(), monitors=monitors)


# --------------------------------------------------------------- NMF(n_init)


def _n_init_pair(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of some runs
        batched = NMF(n_init=5, random_state=3, **params)
        W_batched = batched.fit_transform(X)
        sequential = NMF(n_init=5, random_state=3, **params)
        W_sequential = sequential._fit_best_of_several(
            X, None, None, None, batched=False
        )
    return batched, W_batched, sequential, W_sequential


def _assert_same_models(a, Wa, b, Wb, rtol):
    np.testing.assert_array_equal(a.n_init_seeds_, b.n_init_seeds_)
    np.testing.assert_allclose(a.n_init_losses_, b.n_init_losses_, rtol=rtol)
    assert a.n_iter_ == b.n_iter_
    assert a.solver_ == b.solver_ and a.solver_options_ == b.solver_options_
    np.testing.assert_allclose(Wa, Wb, rtol=rtol, atol=rtol * abs(Wb).max())
    np.testing.assert_allclose(
        a.components_, b.components_, rtol=rtol, atol=rtol * abs(b.components_).max()
    )
    assert a.reconstruction_err_ == pytest.approx(b.reconstruction_err_, rel=rtol)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)
    assert a.n_features_in_ == b.n_features_in_
    assert Wa.dtype == Wb.dtype == a.components_.dtype


@pytest.mark.parametrize("solver", ["auto", "hals", "mu", "cd"])
@pytest.mark.parametrize("sparse", [False, True])
def test_n_init_batched_equals_sequential(solver, sparse):
    X = _sparse() if sparse else _low_rank(n=60, p=40, rank=5) * 1e3
    params = dict(n_components=4, solver=solver, max_iter=300, tol=1e-5)
    a, Wa, b, Wb = _n_init_pair(X, **params)
    assert batching_refusal([NMF(**params)], X) is None
    _assert_same_models(a, Wa, b, Wb, rtol=0 if sparse else 1e-9)


@pytest.mark.parametrize(
    "penalties",
    [
        dict(alpha_W=0.01),
        dict(alpha_W=0.02, alpha_H=0.01, l1_ratio=0.5),
        dict(alpha_W=0.01, l1_ratio=1.0),
        dict(l1_W=0.05, l2_W=0.01, l1_H=0.02, l2_H=0.03),
    ],
)
@pytest.mark.parametrize("solver", ["auto", "mu", "cd"])
def test_n_init_batched_equals_sequential_with_penalties(penalties, solver):
    X = _sparse()
    params = dict(n_components=3, solver=solver, max_iter=200, **penalties)
    a, Wa, b, Wb = _n_init_pair(X, **params)
    _assert_same_models(a, Wa, b, Wb, rtol=0)
    assert len(set(a.n_init_losses_)) > 1


@pytest.mark.parametrize("solver", ["auto", "mu", "cd"])
def test_n_init_float32(solver):
    # sparse float32: bit for bit
    a, Wa, b, Wb = _n_init_pair(
        _sparse(dtype=np.float32), n_components=3, max_iter=200, solver=solver
    )
    _assert_same_models(a, Wa, b, Wb, rtol=0)
    # dense float32: to its rounding (see the solver-level test)
    X = _low_rank(dtype=np.float32)
    a, Wa, b, Wb = _n_init_pair(X, n_components=4, max_iter=60, tol=0, solver=solver)
    assert Wa.dtype == a.components_.dtype == np.float32
    rtol = 1e-2 if solver == "auto" else 1e-4  # "auto" extrapolates
    np.testing.assert_allclose(a.n_init_losses_, b.n_init_losses_, rtol=rtol)
    if solver != "auto":
        np.testing.assert_allclose(Wa @ a.components_, Wb @ b.components_, rtol=1e-3)


def test_n_init_replicates_stop_at_different_iterations():
    X = _low_rank(n=60, p=40, rank=5)
    runs = [
        NMF(4, init="random", random_state=s, solver="auto", tol=1e-4)
        for s in range(5)
    ]
    from nmfkit._batched_fits import fit_transform_batched

    codes = fit_transform_batched(runs, X, max_batch=2)
    n_iter = [run.n_iter_ for run in runs]
    assert len(set(n_iter)) > 1
    for seed, run, W in zip(range(5), runs, codes, strict=True):
        alone = NMF(
            4, init="random", random_state=seed, solver="auto", tol=1e-4
        )
        W_alone = alone.fit_transform(X)
        assert run.n_iter_ == alone.n_iter_
        assert run.history_.shape == alone.history_.shape
        np.testing.assert_allclose(W, W_alone, rtol=1e-9, atol=1e-12)


def test_what_is_not_batched_falls_back_to_the_sequential_loop():
    X = _low_rank()
    X_missing = X.copy()
    X_missing[0, 0] = np.nan
    cases = [
        (dict(missing_values=np.nan), X_missing, "partially observed"),
        (dict(beta_loss="kullback-leibler"), X, "beta_loss"),
        (dict(max_time=100.0), X, "max_time"),
        (dict(verbose=1), X, "verbose"),
    ]
    for params, data, reason in cases:
        assert reason in batching_refusal([NMF(3, **params)], data)
    differing = [NMF(3, random_state=0), NMF(3, random_state=1, alpha_W=0.1)]
    assert "differ" in batching_refusal(differing, X)
    # the fallback fits as before
    params = dict(missing_values=np.nan, n_components=3, max_iter=50)
    a, Wa, b, Wb = _n_init_pair(X_missing, **params)
    _assert_same_models(a, Wa, b, Wb, rtol=0)


def test_default_max_batch_bounds_the_memory():
    assert default_max_batch((1000, 1000), [10], 8) == (1 << 30) // (8 * 2000 * 80)
    assert default_max_batch((10**7, 10**6), [100], 8) == 1


def test_sparse_batches_hold_what_one_stacked_product_takes(monkeypatch):
    rows = CompleteData.STACK_BYTES // (11314 * 8)  # 20 Newsgroups' shorter side
    assert default_max_batch((11314, 39117), [10], 8, sparse=True) == rows // 10
    assert default_max_batch((11314, 39117), [10], 8) > rows // 10
    assert default_max_batch((10**6, 10**6), [100], 8, sparse=True) == 1
    # NMF(n_init) on sparse X: batches of two rank-3 fits for a budget of 7
    # rows of 45 float64, each batch one stacked product, the models unchanged
    monkeypatch.setattr(CompleteData, "STACK_BYTES", 7 * 45 * 8)
    spy = _ProductSpy(monkeypatch)
    params = dict(n_components=3, init="random", max_iter=20, tol=0)
    a, Wa, b, Wb = _n_init_pair(_sparse(), **params)
    # batches of 2, 2 and 1 one after another: no pair after the single fit
    # (one batch of 5 would interleave products of 6, 6 and 3 rows)
    assert max(spy.rows) == 6
    assert 6 not in spy.rows[spy.rows.index(3) :]
    _assert_same_models(a, Wa, b, Wb, rtol=0)


@pytest.mark.parametrize("case", ["1e-12", "1e12", "dominant entry"])
def test_sparse_batched_restarts_at_extreme_scales(case):
    X = _sparse(seed=5)
    params = dict(n_components=3, init="random", max_iter=30)
    if case == "dominant entry":
        top = X.max()
        X = X.tolil()
        X[4, 7] = 1e8 * top
        X = X.tocsr()
        a, Wa, b, Wb = _n_init_pair(X, **params)
    else:
        scale = float(case)
        a, Wa, b, Wb = _n_init_pair(X * scale, **params)
        unit, W_unit, _, _ = _n_init_pair(X, **params)
        # the fits solve X / s: the same iterates, scaled
        assert a.n_iter_ == unit.n_iter_
        np.testing.assert_allclose(
            Wa @ a.components_, scale * (W_unit @ unit.components_), rtol=1e-9
        )
    assert np.all(np.isfinite(Wa)) and np.all(np.isfinite(a.components_))
    _assert_same_models(a, Wa, b, Wb, rtol=0)


def test_invalid_data_and_parameters_raise_as_for_one_fit():
    with pytest.raises(ValueError, match="Negative values"):
        NMF(3, n_init=3).fit(-_low_rank())
    with pytest.raises(ValueError, match="l1_ratio"):
        NMF(3, n_init=3, l1_ratio=2.0).fit(_low_rank())


@pytest.mark.parametrize("how", ["signal", "raise"])
def test_interrupt_stops_the_batch_and_keeps_each_last_iteration(how):
    X = _low_rank()
    params = dict(n_components=3, init="random", tol=0, l1_W=0.01, solver="mu")
    # the runs are clones: the iteration and the way are class attributes
    at_seven = type("InterruptAtSeven", (InterruptAt,), {"at": 7, "how": how})
    model = at_seven(n_init=3, random_state=0, max_iter=500, **params)
    with pytest.warns(FitInterruptedWarning, match="fits were interrupted"):
        model.fit(X)
    assert model.n_iter_ in (6, 7)
    for seed, loss in zip(model.n_init_seeds_, model.n_init_losses_, strict=True):
        # each run kept an iteration boundary: the fit stopped there
        for n_iter in (6, 7):
            run = NMF(random_state=int(seed), max_iter=n_iter, **params).fit(X)
            if run.loss_ == pytest.approx(loss, rel=1e-12):
                break
        else:
            pytest.fail(f"run {seed} kept no iteration boundary")


# ------------------------------------------------- consensus and select_rank


@pytest.mark.parametrize("sparse", [False, True])
def test_fit_replicates_batched_equals_sequential(sparse):
    from nmfkit.consensus._replicates import fit_replicates

    X = _sparse() if sparse else _low_rank()
    params = dict(max_iter=150, tol=1e-4, alpha_H=0.01)
    from nmfkit._rank import _make_nmf

    assert batching_refusal([_make_nmf(3, 0, params)], X) is None  # it batches
    batched = fit_replicates(X, 3, 6, 0, max_batch=4, **params)
    sequential = fit_replicates(X, 3, 6, 0, batched=False, **params)
    np.testing.assert_array_equal(batched.seeds, sequential.seeds)
    rtol = 0 if sparse else 1e-9
    np.testing.assert_allclose(batched.losses, sequential.losses, rtol=rtol)
    np.testing.assert_allclose(
        batched.components, sequential.components, rtol=rtol, atol=1e-12
    )
    assert batched.n_unconverged == sequential.n_unconverged
    assert len(set(batched.losses)) > 1


def test_consensus_nmf_batched_equals_sequential(monkeypatch):
    from functools import partial

    from nmfkit.consensus import _consensus, consensus_nmf, make_planted_programs
    from nmfkit.consensus._replicates import fit_replicates

    data = make_planted_programs(80, 50, 3, random_state=0)
    kwargs = dict(n_replicates=5, random_state=0, max_iter=200)
    batched = consensus_nmf(data.X, [2, 3], **kwargs)
    monkeypatch.setattr(
        _consensus, "fit_replicates", partial(fit_replicates, batched=False)
    )
    sequential = consensus_nmf(data.X, [2, 3], **kwargs)
    assert batched.best_rank == sequential.best_rank
    for rank in (2, 3):
        a, b = batched[rank], sequential[rank]
        np.testing.assert_allclose(a.replicate_losses, b.replicate_losses, rtol=1e-9)
        np.testing.assert_allclose(a.spectra, b.spectra, rtol=1e-7, atol=1e-12)
        assert a.silhouette == pytest.approx(b.silhouette, rel=1e-9)
        assert a.n_unconverged == b.n_unconverged


def test_select_rank_batched_equals_sequential(monkeypatch):
    import nmfkit._rank as rank_module
    from nmfkit import select_rank

    X = _low_rank(n=30, p=20, rank=3)
    kwargs = dict(
        method=("consensus", "cv"), n_runs=3, n_folds=3, random_state=0, max_iter=80
    )
    fit = rank_module._make_nmf(2, 0, dict(max_iter=80))
    assert batching_refusal([fit], X) is None  # the fits of X batch
    batched = select_rank(X, [2, 3, 4], **kwargs)
    monkeypatch.setattr(rank_module, "_BATCH_FITS", False)
    sequential = select_rank(X, [2, 3, 4], **kwargs)
    assert batched.best_rank_by == sequential.best_rank_by
    assert batched.unconverged == sequential.unconverged
    for rank in (2, 3, 4):
        for name, value in sequential.scores[rank].items():
            np.testing.assert_allclose(
                batched.scores[rank][name], value, rtol=1e-8, err_msg=name
            )
        np.testing.assert_array_equal(
            batched.consensus[rank], sequential.consensus[rank]
        )


def test_n_init_on_torch_tensors_is_batched(monkeypatch):
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    import sklearn

    monkeypatch.setenv("SCIPY_ARRAY_API", "1")  # scikit-learn asks for it
    X = torch.asarray(_low_rank(n=40, p=30))
    params = dict(n_components=3, solver="mu", max_iter=60, tol=0)
    with sklearn.config_context(array_api_dispatch=True):
        assert batching_refusal([NMF(**params)], X) is None
        a, Wa, b, Wb = _n_init_pair(X, **params)
    assert isinstance(Wa, torch.Tensor) and isinstance(a.components_, torch.Tensor)
    np.testing.assert_allclose(a.n_init_losses_, b.n_init_losses_, rtol=1e-10)
    np.testing.assert_allclose(Wa.numpy(), Wb.numpy(), rtol=1e-9, atol=1e-12)
