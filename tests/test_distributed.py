"""NMF on Dask arrays, on real ``dask.distributed`` LocalClusters.

Checked against the in-memory NumPy fit from the same start: equality to
1e-8 relative, a fit of a matrix on disk larger than each worker's memory
limit, and a worker killed in the middle of a fit.
"""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from nmfkit import NMF
from nmfkit._objective import Penalties
from nmfkit.solvers import ConvergenceMonitor, fit_mu

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from nmfkit.distributed import fit_dask  # noqa: E402

# real clusters and worker memory limits: run alone, not beside other tests
pytestmark = pytest.mark.serial

RTOL = 1e-8


def _rel(a, b):
    return float(np.abs(np.asarray(a) - b).max() / np.abs(b).max())


def _problem(n=240, p=30, k=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, k + 2)) @ rng.random((k + 2, p))
    return X, rng.random((n, k)), rng.random((k, p))


@pytest.fixture(scope="module")
def thread_client():
    """Two workers with one thread each, in this process (fast to start)."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


MEMORY_LIMIT = 250e6


@pytest.fixture(scope="module")
def process_client():
    """Two worker processes under a nanny, each limited to 250 MB.

    The nanny kills a worker whose memory passes 95% of the limit; pausing
    and spilling are off, so the limit is the only memory policy in play.
    """
    config = {
        "distributed.worker.memory.pause": False,
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.target": False,
        # one chunk read in flight per worker thread (see docs/scaling.md)
        "distributed.scheduler.worker-saturation": 1.0,
    }
    # the configuration stays set for the cluster's whole life: a worker that
    # a test kills is restarted by its nanny with the configuration of that
    # moment (set only at creation, a restarted worker paused at 80% memory
    # and the out-of-core fit waited on it forever)
    with (
        dask.config.set(config),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit=MEMORY_LIMIT,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


CASES = [
    dict(update_order="HW", max_iter=10, tol=0),
    dict(update_order="WH", l1_W=0.5, l2_H=0.3, max_iter=10, tol=0),
    dict(l1_H=0.2, l2_W=0.1, l1_placement="denominator", max_iter=200, tol=1e-2),
]


@pytest.mark.parametrize("params", CASES, ids=lambda d: "-".join(map(str, d.values())))
def test_fit_equals_in_memory_fit(thread_client, params):
    X, W0, H0 = _problem()
    kwargs = dict(n_components=4, init="custom", solver="mu", **params)
    ref = NMF(**kwargs)
    W_ref = ref.fit_transform(X, W=W0, H=H0)
    model = NMF(**kwargs)
    Xd = da.from_array(X, chunks=(50, 30))
    W = model.fit_transform(Xd, W=W0, H=H0)

    assert isinstance(W, da.Array) and W.chunks[0] == Xd.chunks[0]
    assert isinstance(model.components_, np.ndarray)
    assert _rel(W.compute(), W_ref) < RTOL
    assert _rel(model.components_, ref.components_) < RTOL
    np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=RTOL)
    assert model.reconstruction_err_ == pytest.approx(ref.reconstruction_err_, rel=RTOL)
    assert model.n_iter_ == ref.n_iter_ <= 10 + 190 * (params["tol"] > 0)
    assert model.n_iter_ < 200  # the tolerance stopped both fits at the same point

    codes = model.transform(Xd)
    assert isinstance(codes, da.Array)
    assert codes.chunks == (Xd.chunks[0], (4,))
    if params["tol"] == 0:  # blocks stop on their own objective otherwise
        assert _rel(codes.compute(), ref.transform(X)) < RTOL


# HALS (in memory: solver="cd", one sweep per factor) and KL (in memory: the
# beta-divergence MU); "auto" on Dask is HALS for Frobenius and MU for KL.
OTHER_SOLVER_CASES = [
    # solver="cd" in memory is scikit-learn's coordinate descent (its stopping
    # test and zero code start); on Dask it is nmfkit's plain HALS
    (dict(solver="cd", update_order="HW", max_iter=10, tol=0), "hals"),
    (
        dict(solver="cd", update_order="WH", l1_W=0.5, l2_H=0.3, max_iter=10, tol=0),
        "hals",
    ),
    (dict(solver="auto", l1_H=0.2, l2_W=0.1, max_iter=10, tol=0), "cd"),
    (dict(solver="hals", max_iter=100, tol=1e-2), "hals"),
    (dict(solver="mu", beta_loss="kullback-leibler", max_iter=10, tol=0), "mu"),
    (
        dict(
            solver="mu",
            beta_loss="kullback-leibler",
            update_order="WH",
            l1_H=0.2,
            l2_W=0.1,
            max_iter=10,
            tol=0,
        ),
        "mu",
    ),
    (dict(solver="auto", beta_loss=1.0, l1_W=0.3, max_iter=100, tol=1e-2), "mu"),
]


@pytest.mark.parametrize(
    "params, in_memory", OTHER_SOLVER_CASES, ids=lambda c: str(c)[:60]
)
def test_hals_and_kl_fits_equal_in_memory_fits(thread_client, params, in_memory):
    X, W0, H0 = _problem(seed=6)
    kwargs = dict(n_components=4, init="custom", **params)
    ref = NMF(**dict(kwargs, solver=in_memory))
    W_ref = ref.fit_transform(X, W=W0, H=H0)
    model = NMF(**kwargs)
    Xd = da.from_array(X, chunks=(50, 30))
    W = model.fit_transform(Xd, W=W0, H=H0)

    assert isinstance(W, da.Array) and W.chunks[0] == Xd.chunks[0]
    assert _rel(W.compute(), W_ref) < RTOL
    assert _rel(model.components_, ref.components_) < RTOL
    np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=RTOL)
    assert np.all(np.diff(model.loss_curve_) <= 1e-12 * model.loss_curve_[:-1])
    assert model.reconstruction_err_ == pytest.approx(ref.reconstruction_err_, rel=RTOL)
    assert model.n_iter_ == ref.n_iter_
    if params["tol"] > 0:  # the tolerance, not max_iter, stopped both fits
        assert 10 < model.n_iter_ < 100
    if params["tol"] == 0 and params["solver"] != "auto":
        # auto's in-memory transform accelerates HALS: another path to the codes
        assert _rel(model.transform(Xd).compute(), ref.transform(X)) < RTOL


@pytest.mark.parametrize(
    "params",
    [dict(solver="cd"), dict(solver="mu", beta_loss="kullback-leibler")],
    ids=["hals", "kl"],
)
def test_hals_and_kl_float32(thread_client, params):
    X, W0, H0 = _problem(seed=7)
    X, W0, H0 = (A.astype(np.float32) for A in (X, W0, H0))
    kwargs = dict(n_components=4, init="custom", tol=0, max_iter=10, **params)
    # on Dask "cd" is nmfkit's plain HALS (in memory: scikit-learn's order)
    ref = NMF(**dict(kwargs, solver="hals" if params["solver"] == "cd" else "mu"))
    W_ref = ref.fit_transform(X, W=W0, H=H0)
    model = NMF(**kwargs)
    W = model.fit_transform(da.from_array(X, chunks=(70, 10)), W=W0, H=H0)
    assert W.dtype == np.float32 and model.components_.dtype == np.float32
    assert _rel(W.compute(), W_ref) < 1e-4
    assert _rel(model.components_, ref.components_) < 1e-4
    np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=1e-4)


def test_consecutive_fits_from_one_start_share_no_state(thread_client):
    # The first H is handed to the scheduler under a key made from its
    # values; a later fit from the same start gets the same key, so H must
    # never be changed in place after it was handed over.
    X, W0, H0 = _problem(seed=8)
    Xd = da.from_array(X, chunks=(50, 30))
    for params in (dict(update_order="HW"), dict(update_order="WH", l1_W=0.3)):
        kwargs = dict(n_components=4, init="custom", solver="cd", max_iter=5, tol=0)
        kwargs.update(params)
        ref = NMF(**kwargs).fit(X, W=W0, H=H0)
        model = NMF(**kwargs).fit(Xd, W=W0, H=H0)
        assert _rel(model.components_, ref.components_) < RTOL


def test_unavailable_dask_combinations_name_the_available_ones(thread_client):
    X, _, _ = _problem()
    Xd = da.from_array(X + 0.1, chunks=(50, 30))
    with pytest.raises(ValueError, match="not available on Dask.*solver='hals'"):
        NMF(4, solver="mu", beta_loss="itakura-saito").fit(Xd)
    # options the Dask solvers do not use warn, naming the option and solver
    match = "shuffle=True has no effect with solver 'hals' on Dask arrays"
    with pytest.warns(UserWarning, match=match):
        NMF(4, solver="cd", shuffle=True, max_iter=2).fit(Xd)
    match = "extrapolate=True has no effect with solver 'mu'"
    with pytest.warns(UserWarning, match=match):
        NMF(4, solver="mu", extrapolate=True, max_iter=2).fit(Xd)


def test_column_chunks_and_float32(thread_client):
    X, W0, H0 = _problem(seed=1)
    X, W0, H0 = (A.astype(np.float32) for A in (X, W0, H0))
    ref = NMF(4, solver="mu", init="custom", tol=0, max_iter=10).fit(X, W=W0, H=H0)
    model = NMF(4, solver="mu", init="custom", tol=0, max_iter=10)
    W = model.fit_transform(da.from_array(X, chunks=(70, 10)), W=W0, H=H0)
    assert W.chunks[0] == (70, 70, 70, 30)
    assert W.dtype == np.float32 and model.components_.dtype == np.float32
    assert _rel(model.components_, ref.components_) < 1e-4


def test_random_init_equals_in_memory(thread_client):
    X, _, _ = _problem(seed=2)
    kwargs = dict(
        n_components=3, init="random", random_state=7, max_iter=15, tol=0, solver="mu"
    )
    ref = NMF(**kwargs).fit(X)
    model = NMF(**kwargs).fit(da.from_array(X, chunks=(60, 30)))
    assert _rel(model.components_, ref.components_) < RTOL


def test_nndsvda_init_on_dask_decreases_the_loss(thread_client):
    X, _, _ = _problem(seed=3)
    model = NMF(4, solver="mu", random_state=0, max_iter=20, tol=0).fit(
        da.from_array(X, chunks=(60, 30))
    )
    assert np.all(np.isfinite(model.components_))
    assert np.all(np.diff(model.loss_curve_) <= 1e-12 * model.loss_curve_[:-1])
    in_memory = NMF(4, solver="mu", random_state=0, max_iter=20, tol=0).fit(X)
    # a different SVD, so not equal, but as good a start
    assert model.loss_ == pytest.approx(in_memory.loss_, rel=0.05)


def test_default_scheduler_without_client():
    X, W0, H0 = _problem(seed=4)
    kwargs = dict(
        n_components=4, init="custom", max_iter=20, tol=0, l1_W=0.1, solver="mu"
    )
    ref = NMF(**kwargs).fit(X, W=W0, H=H0)
    with dask.config.set(scheduler="threads"):
        model = NMF(**kwargs).fit(da.from_array(X, chunks=(50, 30)), W=W0, H=H0)
    assert _rel(model.components_, ref.components_) < RTOL


def test_negative_dask_data_error(thread_client):
    X, W0, H0 = _problem()
    X[5, 3] = -2.0
    with pytest.raises(ValueError, match="1 negative entry, the smallest -2"):
        NMF(4, solver="mu").fit(da.from_array(X, chunks=(50, 30)))


def _reset_peak_memory():
    """Reset this process's peak resident size (Linux ``VmHWM``)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _peak_memory_bytes():
    """Peak resident size since the reset.

    (``getrusage``'s ``ru_maxrss`` would not do: Linux keeps it across the
    ``exec`` that starts a worker, so it starts at the parent's size.)
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _kill_one_worker(client):
    pids = client.run(os.getpid)
    address = sorted(pids)[0]
    os.kill(pids[address], signal.SIGKILL)
    return address


def test_worker_killed_mid_fit_gives_the_same_result(process_client):
    client = process_client
    X, W0, H0 = _problem(n=400, p=40, seed=5)
    pen = Penalties(l1_W=0.2, l2_H=0.1)
    ref = fit_mu(X, W0, H0, pen, monitor=ConvergenceMonitor(tol=0, max_iter=8))
    killed = []

    def kill_at_iteration_4(monitor):
        if monitor.n_iter == 4:
            killed.append(_kill_one_worker(client))

    before = set(client.scheduler_info()["workers"])
    result = fit_dask(
        da.from_array(X, chunks=(50, 40)),
        W0,
        H0,
        pen,
        monitor=ConvergenceMonitor(tol=0, max_iter=8, callbacks=[kill_at_iteration_4]),
        checkpoint_every=3,
    )
    assert killed and killed[0] in before
    assert killed[0] not in client.scheduler_info()["workers"]
    assert result.n_iter == 8
    assert _rel(result.W.compute(), ref.W) < RTOL
    assert _rel(result.H, ref.H) < RTOL
    np.testing.assert_allclose(result.history[:, 2], ref.history[:, 2], rtol=RTOL)


def test_out_of_core_fit_under_the_worker_memory_limit(process_client, tmp_path):
    client = process_client
    # 320 MB of float64 on disk, in 80 files of 4 MB: more than either
    # worker's whole limit (250 MB, of which the idle process already uses
    # about 170 MB), and more than both workers can hold besides their own
    # code. Each block is read from disk when a task needs it. (Blocks of
    # 8 MB peaked at 233 to 240 MB per worker, against the 237.5 MB of the
    # assertion below; blocks of 4 MB at 222 to 226 MB.)
    n, p, rows = 40_000, 1_000, 500
    source = da.random.RandomState(0).random((n, p), chunks=(rows, p))
    da.to_npy_stack(tmp_path, source, axis=0)
    X = da.from_npy_stack(tmp_path, mmap_mode=None)
    assert X.nbytes > MEMORY_LIMIT

    rng = np.random.default_rng(0)
    W0, H0 = rng.random((n, 5)), rng.random((5, p))
    if not all(client.run(_reset_peak_memory).values()):
        pytest.skip("cannot reset the peak memory of a process on this system")
    model = NMF(5, solver="mu", init="custom", max_iter=2, tol=0)
    model.fit(X, W=W0, H=H0)

    peaks = client.run(_peak_memory_bytes)
    assert len(peaks) == 2
    for peak in peaks.values():  # the nanny would have killed a worker past 95%
        assert peak < 0.95 * MEMORY_LIMIT, peaks

    files = sorted(tmp_path.glob("*.npy"), key=lambda f: int(f.stem))
    X_np = np.concatenate([np.load(f) for f in files])
    ref = NMF(5, solver="mu", init="custom", max_iter=2, tol=0).fit(X_np, W=W0, H=H0)
    assert _rel(model.components_, ref.components_) < RTOL
    np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=RTOL)


def test_n_init_on_a_cluster_shares_the_passes_and_equals_sequential_fits(
    thread_client,
):
    X, _, _ = _problem(seed=9)
    Xd = da.from_array(X, chunks=(60, 30))
    kwargs = dict(n_components=3, n_init=3, random_state=2, max_iter=30, tol=1e-3)
    batched = NMF(solver="mu", **kwargs)
    W = batched.fit_transform(Xd)
    sequential = NMF(solver="mu", **kwargs)
    W_seq = sequential._fit_best_of_several(Xd, None, None, None, batched=False)
    np.testing.assert_array_equal(batched.n_init_losses_, sequential.n_init_losses_)
    np.testing.assert_array_equal(batched.components_, sequential.components_)
    np.testing.assert_array_equal(W.compute(), W_seq.compute())
    assert batched.n_iter_ == sequential.n_iter_
