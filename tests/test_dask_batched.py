"""Several fits of one Dask array in one computation (``fit_dask_batched``).

Checked against the same fits run one after another through ``fit_dask``
(the same sums in the same order, so equal to the last bit), and by counting
the reads of X's blocks: a pass of the batch reads each block once, whatever
the number of fits. The default threaded scheduler runs here; the real
``dask.distributed`` cluster is in ``tests/test_distributed.py``.
"""

from __future__ import annotations

import threading
import warnings
from functools import partial

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nmfkit import NMF
from nmfkit._objective import Penalties
from nmfkit.solvers import ConvergenceMonitor

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

from nmfkit.distributed import (  # noqa: E402
    BetaMURule,
    FrobeniusMURule,
    HALSRule,
    fit_dask,
    fit_dask_batched,
    reconstruction_error_dask,
    reconstruction_errors_dask,
)


def _problem(n=180, p=24, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, 5)) @ rng.random((5, p)) + 0.01).astype(dtype)
    return X, rng


def _starts(rng, n, p, ranks, dtype=np.float64):
    return [
        (rng.random((n, r)).astype(dtype), rng.random((r, p)).astype(dtype))
        for r in ranks
    ]


RULES = {
    "mu": FrobeniusMURule,
    "hals": HALSRule,
    "kl": partial(BetaMURule, beta=1.0),
}
CASES = [
    ("mu", "HW", 1, Penalties()),
    ("mu", "WH", 1, Penalties(l1_W=0.3, l2_H=0.2)),
    ("hals", "HW", 1, Penalties(l1_H=0.1, l2_W=0.2)),
    ("hals", "WH", 1, Penalties()),
    ("kl", "HW", 10, Penalties(l1_W=0.1)),
    ("kl", "WH", 10, Penalties()),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "name, order, every, penalties", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_batched_fits_equal_separate_fits(name, order, every, penalties, dtype):
    X, rng = _problem(dtype=dtype)
    Xd = da.from_array(X, chunks=(60, 24))
    # mixed ranks, and tolerances that stop the fits at different iterations
    ranks, tols, max_iter = (2, 4, 3), (1e-2, 0.0, 1e-3), 25
    starts = _starts(rng, *X.shape, ranks, dtype)
    options = dict(
        rule=RULES[name], update_order=order, objective_every=every,
        checkpoint_every=4,
    )  # fmt: skip
    alone = [
        fit_dask(
            Xd, W, H, penalties, monitor=ConvergenceMonitor(tol, max_iter), **options
        )
        for (W, H), tol in zip(starts, tols, strict=True)
    ]
    together = fit_dask_batched(
        Xd,
        starts,
        [penalties] * len(starts),
        monitors=[ConvergenceMonitor(tol, max_iter) for tol in tols],
        **options,
    )
    assert len({result.n_iter for result in alone}) > 1  # they stop apart
    for one, batched in zip(alone, together, strict=True):
        assert batched.n_iter == one.n_iter
        assert batched.converged == one.converged
        assert batched.H.dtype == dtype
        np.testing.assert_array_equal(batched.H, one.H)
        np.testing.assert_array_equal(batched.W.compute(), one.W.compute())
        # the iterations and objectives (column 1 is the seconds)
        np.testing.assert_array_equal(
            batched.history[:, [0, 2]], one.history[:, [0, 2]]
        )


class _CountingReads:
    """X as a Dask array whose blocks are read by a counted function."""

    def __init__(self, X, rows):
        self.X, self.reads, self.lock = X, 0, threading.Lock()
        self.array = da.concatenate(
            [
                da.from_delayed(
                    dask.delayed(self.read, pure=False)(a, min(a + rows, len(X))),
                    shape=(min(a + rows, len(X)) - a, X.shape[1]),
                    dtype=X.dtype,
                )
                for a in range(0, len(X), rows)
            ]
        )
        self.n_blocks = -(-len(X) // rows)

    def read(self, a, b):
        with self.lock:
            self.reads += 1
        return self.X[a:b].copy()


def test_a_pass_reads_each_block_once_for_all_fits():
    X, rng = _problem()
    source = _CountingReads(X, rows=40)
    starts = _starts(rng, *X.shape, (3, 3, 4, 2, 5))
    max_iter = 6
    with dask.config.set(scheduler="threads"):
        fit_dask(
            source.array, *starts[0], Penalties(),
            monitor=ConvergenceMonitor(0, max_iter), checkpoint_every=0,
        )  # fmt: skip
        one_fit = source.reads
        source.reads = 0
        results = fit_dask_batched(
            source.array,
            starts,
            [Penalties()] * len(starts),
            monitors=[ConvergenceMonitor(0, max_iter) for _ in starts],
            checkpoint_every=0,
        )
    # the first pass and one per iteration, each block read once per pass
    assert one_fit == (1 + max_iter) * source.n_blocks
    assert source.reads == one_fit
    assert all(result.n_iter == max_iter for result in results)


def test_stopped_fits_leave_the_passes():
    X, rng = _problem()
    source = _CountingReads(X, rows=60)
    starts = _starts(rng, *X.shape, (3, 3))
    with dask.config.set(scheduler="threads"):
        results = fit_dask_batched(
            source.array,
            starts,
            [Penalties()] * 2,
            monitors=[ConvergenceMonitor(0, 3), ConvergenceMonitor(0, 9)],
        )
        batched = source.reads
        source.reads = 0
        # the longer fit alone: the passes it costs
        long_fit = fit_dask(
            source.array, *starts[1], Penalties(), monitor=ConvergenceMonitor(0, 9)
        )
    assert [result.n_iter for result in results] == [3, 9]
    np.testing.assert_array_equal(results[1].H, long_fit.H)
    # after its third iteration the first fit costs no read of X
    assert batched == source.reads == (1 + 9) * source.n_blocks


def test_batched_driver_errors_name_the_fix():
    X, rng = _problem()
    Xd = da.from_array(X, chunks=(60, 24))
    starts = _starts(rng, *X.shape, (2, 2))
    monitor = ConvergenceMonitor(0, 3)
    with pytest.raises(ValueError, match="one of each per fit"):
        fit_dask_batched(Xd, starts, [Penalties()], monitors=[monitor, monitor])
    with pytest.raises(ValueError, match="its own ConvergenceMonitor"):
        fit_dask_batched(Xd, starts, [Penalties()] * 2, monitors=[monitor, monitor])
    with pytest.raises(ValueError, match="transform_dask"):
        fit_dask_batched(
            Xd, starts, [Penalties()] * 2,
            monitors=[ConvergenceMonitor(0, 3), ConvergenceMonitor(0, 3)],
            update_H=False,
        )  # fmt: skip


def test_reconstruction_errors_of_several_models_in_one_pass():
    X, rng = _problem()
    Xd = da.from_array(X, chunks=(50, 24))
    models = [
        (da.from_array(W, chunks=(50, W.shape[1])), H)
        for W, H in _starts(rng, *X.shape, (2, 5))
    ]
    for beta in (2.0, 1.0):
        errors = reconstruction_errors_dask(Xd, models, beta=beta)
        assert errors == [
            reconstruction_error_dask(Xd, W, H, beta=beta) for W, H in models
        ]
    for (W, H), error in zip(
        models, reconstruction_errors_dask(Xd, models), strict=True
    ):
        assert error == pytest.approx(np.linalg.norm(X - W.compute() @ H), rel=1e-12)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="mu"),
        dict(solver="cd", l1_W=0.2, alpha_H=0.1),
        dict(solver="mu", beta_loss="kullback-leibler"),
    ],
    ids=["mu", "hals", "kl"],
)
def test_n_init_on_dask_runs_batched_with_the_sequential_result(params):
    X, _ = _problem(seed=3)
    Xd = da.from_array(X, chunks=(45, 24))
    kwargs = dict(n_components=3, n_init=4, random_state=5, max_iter=40, tol=1e-3)
    kwargs.update(params)
    with dask.config.set(scheduler="threads"), pytest.warns() as caught:
        batched = NMF(**kwargs)
        W = batched.fit_transform(Xd)
        sequential = NMF(**kwargs)
        W_seq = sequential._fit_best_of_several(Xd, None, None, None, batched=False)
    assert not [w for w in caught if "ConvergenceWarning" not in str(w.category)]
    np.testing.assert_array_equal(batched.n_init_seeds_, sequential.n_init_seeds_)
    np.testing.assert_array_equal(batched.n_init_losses_, sequential.n_init_losses_)
    assert batched.n_iter_ == sequential.n_iter_
    np.testing.assert_array_equal(batched.components_, sequential.components_)
    np.testing.assert_array_equal(W.compute(), W_seq.compute())
    assert batched.reconstruction_err_ == sequential.reconstruction_err_
    # the kept run is the best one, and its error is the error of its factors
    assert batched.loss_ == min(batched.n_init_losses_)
    beta = 1.0 if "beta_loss" in params else 2.0
    assert batched.reconstruction_err_ == pytest.approx(
        reconstruction_error_dask(Xd, W, batched.components_, beta=beta), rel=1e-12
    )


def test_select_rank_refuses_a_dask_array():
    from nmfkit import select_rank

    X, _ = _problem()
    Xd = da.from_array(X, chunks=(60, 24))
    with pytest.raises(
        ValueError, match=r"X is a Dask array.*X\.compute\(\).*consensus_nmf"
    ):
        select_rank(Xd, ranks=[2, 3], method="cv")


def test_consensus_on_a_dask_array_equals_the_in_memory_run():
    """The same replicates (Dask MU equals in-memory MU to rounding), hence
    the same clusters; the usages' refit solves each block to the refit's
    tolerance, so the usages agree to that tolerance; the planted programs
    are recovered (an independent reference)."""
    from nmfkit.consensus import consensus_nmf, make_planted_programs
    from nmfkit.matching import match_components

    planted = make_planted_programs(160, 60, 4, random_state=0)
    Xd = da.from_array(planted.X, chunks=(40, 60))
    kwargs = dict(n_replicates=4, random_state=0, solver="mu", max_iter=400)
    memory = consensus_nmf(planted.X, [3, 4], **kwargs)
    dask_run = consensus_nmf(Xd, [3, 4], **kwargs)
    for rank in (3, 4):
        ours, ref = dask_run[rank], memory[rank]
        assert isinstance(ours.usages, np.ndarray)
        np.testing.assert_array_equal(ours.labels, ref.labels)
        np.testing.assert_allclose(ours.components, ref.components, atol=1e-9)
        np.testing.assert_allclose(ours.spectra, ref.spectra, atol=1e-9)
        assert ours.silhouette == pytest.approx(ref.silhouette, abs=1e-9)
        scale = np.abs(ref.usages).max()
        np.testing.assert_allclose(ours.usages, ref.usages, atol=1e-3 * scale)
        # the error is that of the returned factors, computed in memory
        expected = np.linalg.norm(planted.X - ours.usages @ ours.spectra)
        assert ours.reconstruction_error == pytest.approx(expected, rel=1e-10)
        assert ours.reconstruction_error == pytest.approx(
            ref.reconstruction_error, rel=1e-4
        )
    _, _, cosine = match_components(planted.programs, dask_run[4].spectra)
    assert cosine.min() >= 0.99, cosine
    assert dask_run.best_rank == memory.best_rank


def test_codes_with_a_fixed_dictionary_on_dask_equal_the_in_memory_codes():
    from sklearn.exceptions import ConvergenceWarning

    from nmfkit import non_negative_factorization

    X, rng = _problem()
    H = rng.random((3, X.shape[1]))
    Xd = da.from_array(X, chunks=(60, 24))
    kwargs = dict(n_components=3, update_H=False, solver="mu", tol=1e-14, max_iter=40)
    with pytest.warns(ConvergenceWarning):
        W_ref, _, n_ref = non_negative_factorization(X, H=H, **kwargs)
    with pytest.warns(ConvergenceWarning):
        W, H_out, n_iter = non_negative_factorization(Xd, H=H, **kwargs)
    assert isinstance(W, da.Array) and W.chunks[0] == Xd.chunks[0]
    np.testing.assert_array_equal(H_out, H)
    assert n_iter == n_ref == 40
    np.testing.assert_allclose(W.compute(), W_ref, rtol=1e-8, atol=1e-12)


def _fit_pair(X, chunks, **kwargs):
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = NMF(**kwargs)
        W = model.fit_transform(da.from_array(X, chunks=chunks)).compute()
    return model, W


@pytest.mark.parametrize("solver", ["mu", "hals"])
@pytest.mark.parametrize("scale", [1e-12, 1e12])
def test_batched_dask_fits_are_equivariant_to_the_scale_of_x(solver, scale):
    """Restarts batched on Dask at 1e-12 and 1e12: the model of ``s X`` is
    ``s`` times the model of X (the fit runs on the rescaled data), finite,
    and no worse than the in-memory restarts."""
    X, _ = _problem(seed=7)
    kwargs = dict(
        n_components=3, n_init=3, solver=solver, random_state=1, max_iter=60, tol=0
    )
    unit, W1 = _fit_pair(X, (45, 24), **kwargs)
    scaled, Ws = _fit_pair(X * scale, (45, 24), **kwargs)
    assert np.isfinite(Ws).all() and np.isfinite(scaled.components_).all()
    np.testing.assert_array_equal(scaled.n_init_seeds_, unit.n_init_seeds_)
    np.testing.assert_allclose(
        Ws @ scaled.components_ / scale, W1 @ unit.components_, rtol=1e-9, atol=1e-12
    )
    assert scaled.reconstruction_err_ / scale == pytest.approx(
        unit.reconstruction_err_, rel=1e-9
    )
    # the error is the error of the returned factors (NumPy, in memory)
    assert scaled.reconstruction_err_ == pytest.approx(
        np.linalg.norm(X * scale - Ws @ scaled.components_), rel=1e-9
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        memory = NMF(**kwargs).fit(X * scale)
    assert scaled.reconstruction_err_ <= memory.reconstruction_err_ * (1 + 1e-6)


def test_batched_dask_fits_with_one_dominant_entry_match_the_in_memory_fits():
    """One entry 1e9 times the others: the Dask restarts reach the in-memory
    restarts' error (the same iterates up to the order of the sums) with
    finite factors, and the fixed-dictionary codes agree too."""
    from nmfkit import non_negative_factorization

    X, _ = _problem(seed=8)
    X[5, 3] = 1e9 * X.max()
    kwargs = dict(
        n_components=3, n_init=3, solver="hals", random_state=2, max_iter=80, tol=0
    )
    dask_model, W = _fit_pair(X, (45, 24), **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        memory = NMF(**kwargs).fit(X)
    assert np.isfinite(W).all() and np.isfinite(dask_model.components_).all()
    assert dask_model.reconstruction_err_ == pytest.approx(
        memory.reconstruction_err_, rel=1e-6
    )
    assert dask_model.reconstruction_err_ == pytest.approx(
        np.linalg.norm(X - W @ dask_model.components_), rel=1e-9
    )
    H = memory.components_
    codes = dict(n_components=3, update_H=False, solver="hals", max_iter=200, tol=0)
    with dask.config.set(scheduler="threads"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        W_mem = non_negative_factorization(X, H=H, **codes)[0]
        W_dask = non_negative_factorization(
            da.from_array(X, chunks=(45, 24)), H=H, **codes
        )[0].compute()
    np.testing.assert_allclose(W_dask, W_mem, rtol=1e-7, atol=1e-9 * W_mem.max())


@pytest.mark.parametrize("scale", [1e-12, 1e12])
def test_consensus_on_dask_is_equivariant_to_the_scale_of_x(scale):
    from nmfkit.consensus import consensus_nmf, make_planted_programs

    planted = make_planted_programs(120, 40, 3, random_state=1)
    kwargs = dict(n_replicates=3, random_state=0, solver="mu", max_iter=200)
    unit = consensus_nmf(da.from_array(planted.X, chunks=(40, 40)), [3], **kwargs)[3]
    scaled = consensus_nmf(
        da.from_array(planted.X * scale, chunks=(40, 40)), [3], **kwargs
    )[3]
    np.testing.assert_array_equal(scaled.labels, unit.labels)
    assert np.isfinite(scaled.usages).all() and np.isfinite(scaled.spectra).all()
    np.testing.assert_allclose(
        scaled.usages @ scaled.spectra / scale,
        unit.usages @ unit.spectra,
        rtol=1e-6,
        atol=1e-9 * np.abs(planted.X).max(),
    )
    assert scaled.reconstruction_error / scale == pytest.approx(
        unit.reconstruction_error, rel=1e-6
    )
