"""The compiled kernels against the NumPy code they replace.

The HALS sweep (:mod:`nmfkit.solvers._kernels`) and the threaded sparse
products (:mod:`nmfkit.solvers._sparse_products`) must give the iterates of
the plain NumPy/SciPy code to rounding, for every dtype, penalty, order and
degenerate component, and whole fits must agree.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from nmfkit import NMF
from nmfkit.solvers import _kernels
from nmfkit.solvers._hals import hals_sweep, prepare_hals
from nmfkit.solvers._sparse_products import (
    MIN_NNZ_PER_THREAD,
    RowBlockProduct,
    SparseProducts,
)

needs_numba = pytest.mark.skipif(
    not _kernels.kernels_available(),
    reason="numba not installed (pip install 'nmfkit[fast]') or NMFKIT_KERNELS=numpy",
)


@pytest.fixture(autouse=True)
def compile_small_factors(monkeypatch):
    """Take the compiled sweep at every size (the tests' factors are small)."""
    monkeypatch.setattr(_kernels, "MIN_COMPILED", 0)


def _problem(r, m, dtype, seed=0, l1=0.0, l2=0.0):
    rng = np.random.default_rng(seed)
    other = rng.random((r, 3 * r + 5))
    G = other @ other.T
    P = rng.random((r, m)) * r
    F = rng.random((r, m))
    F[:, ::7] = 0.0  # entries at zero: the violation's other branch
    Q, G2 = prepare_hals(P, G, l1, l2, xp=np)
    return F.astype(dtype), Q.astype(dtype), G2.astype(dtype)


def _numpy_sweep(F, Q, G2, order=None, l1_positive=False, violation=None):
    """The reference: hals_sweep with the compiled kernel switched off."""
    return hals_sweep(
        F, Q, G2, order, l1_positive=l1_positive, xp=np, violation=violation,
        compiled=False,
    )


@needs_numba
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("r, m", [(1, 7), (3, 5), (10, 400), (7, 1000), (50, 300)])
@pytest.mark.parametrize("shuffled", [False, True])
def test_compiled_sweep_equals_numpy(dtype, rtol, r, m, shuffled):
    F, Q, G2 = _problem(r, m, dtype, seed=r + m, l1=0.3, l2=0.1)
    order = np.random.default_rng(1).permutation(r) if shuffled else None
    F_ref = F.copy()
    v, v_ref = [0.0], [0.0]
    for _ in range(3):  # successive sweeps stay together
        change = hals_sweep(F, Q, G2, order, xp=np, violation=v)
        change_ref = _numpy_sweep(F_ref, Q, G2, order, violation=v_ref)
        np.testing.assert_allclose(F, F_ref, rtol=rtol, atol=rtol * F_ref.max())
        # at the minimizer the change is rounding: compare against F's scale
        scale = F.size * (10 * rtol * float(F_ref.max())) ** 2
        assert change == pytest.approx(change_ref, rel=100 * rtol, abs=scale)
    assert v[0] == pytest.approx(v_ref[0], rel=100 * rtol)
    assert F.min() >= 0


@needs_numba
@pytest.mark.parametrize("l1_positive", [False, True])
def test_compiled_sweep_dead_component(l1_positive):
    # a zero column of the other factor: zero curvature; with an L1 weight
    # the component's exact minimizer is zero, without one it stays
    F, Q, G2 = _problem(4, 50, np.float64)
    G2[2, :] = G2[:, 2] = 0.0
    F_ref = F.copy()
    change = hals_sweep(F, Q, G2, l1_positive=l1_positive, xp=np)
    change_ref = _numpy_sweep(F_ref, Q, G2, l1_positive=l1_positive)
    np.testing.assert_allclose(F, F_ref, rtol=1e-12)
    assert change == pytest.approx(change_ref, rel=1e-12)
    assert np.all(F[2] == 0) == l1_positive


@needs_numba
def test_compiled_sweep_rederives_its_inputs_for_new_arrays():
    # a sweep given no prepared inputs derives them from the (Q, G2) it gets;
    # a sweep given inputs of another dtype than F's derives them again
    F, Q, G2 = _problem(6, 300, np.float64, seed=5)
    got, ref = F.copy(), F.copy()
    inputs = _kernels.sweep_inputs(Q, G2, np.float32)
    hals_sweep(got, Q, G2, xp=np, inputs=inputs)
    _numpy_sweep(ref, Q, G2)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    for q, g in ((2 * Q, G2), (Q, 1.5 * G2), (Q, G2)):
        got, ref = F.copy(), F.copy()
        hals_sweep(got, q, g, xp=np)
        _numpy_sweep(ref, q, g)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@needs_numba
def test_compiled_sweep_threads_give_the_same_iterates(monkeypatch):
    import nmfkit.solvers._kernels as kernels

    monkeypatch.setattr(kernels, "_MIN_PARALLEL", 0)  # the threaded kernel
    F, Q, G2 = _problem(12, 5000, np.float64, seed=3)
    outs = []
    for threads in (1, 2):
        Fi = F.copy()
        with threadpool_limits(threads):
            hals_sweep(Fi, Q, G2, xp=np)
        outs.append(Fi)
    # columns are independent: threads split columns, not sums
    np.testing.assert_array_equal(outs[0], outs[1])


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("params", [
    dict(solver="auto"),
    dict(solver="hals", alpha_W=0.01, alpha_H=0.02, l1_ratio=0.5),
    dict(solver="cd", tol=1e-3, max_iter=300),  # scikit-learn's violation test
])
def test_fit_with_compiled_sweep_equals_numpy_fit(monkeypatch, dtype, params):
    rng = np.random.default_rng(0)
    X = (rng.random((60, 6)) @ rng.random((6, 45)) + 0.01).astype(dtype)
    kwargs = dict(n_components=6, init="nndsvda", max_iter=80, tol=0, random_state=0)
    kwargs.update(params)
    with monkeypatch.context() as patch:
        patch.setattr(_kernels, "MIN_COMPILED", X.size + 1)  # NumPy sweeps
        ref = NMF(**kwargs).fit(X)
    got = NMF(**kwargs).fit(X)
    rtol = 1e-9 if dtype == np.float64 else 2e-3
    assert got.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(
        got.components_, ref.components_, rtol=rtol, atol=rtol * ref.components_.max()
    )
    assert got.reconstruction_err_ == pytest.approx(ref.reconstruction_err_, rel=rtol)


# ------------------------------------------------------------ sparse products
def _sparse(n, p, density, dtype=np.float64, seed=0):
    return sp.random(
        n, p, density=density, format="csr", random_state=seed, dtype=dtype
    )


@pytest.mark.parametrize("shape", [(400, 300), (300, 400)])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_products_equal_scipy(shape, threads, dtype):
    n, p = shape
    # enough entries to split over the threads
    density = min(1.0, 3 * MIN_NNZ_PER_THREAD / (n * p))
    X = _sparse(n, p, density, dtype)
    rng = np.random.default_rng(1)
    H = rng.random((5, p)).astype(dtype)
    Wt = rng.random((5, n)).astype(dtype)
    products = SparseProducts(X)
    dense = X.toarray().astype(np.float64)
    with threadpool_limits(threads):
        HXt = products.product(H, True)
        WtX = products.product(Wt, False)
    assert HXt.shape == (5, n) and WtX.shape == (5, p)
    assert HXt.flags.c_contiguous and WtX.flags.c_contiguous
    assert HXt.dtype == WtX.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(HXt, H @ dense.T, rtol=rtol)
    np.testing.assert_allclose(WtX, Wt @ dense, rtol=rtol)


@pytest.mark.parametrize("shape", [(400, 300), (300, 400)])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("is_W", [True, False])
def test_side_by_side_products_are_bitwise_the_separate_products(shape, threads, is_W):
    n, p = shape
    X = _sparse(n, p, min(1.0, 3 * MIN_NNZ_PER_THREAD / (n * p)))
    rng = np.random.default_rng(3)
    m = p if is_W else n
    # ranks 1, 4 and 7, and a transposed view among them
    factors = [rng.random((1, m)), rng.random((m, 4)).T, rng.random((7, m))]
    products = SparseProducts(X)
    with threadpool_limits(threads):
        together = products.products(factors, is_W)
        separate = [products.product(f, is_W) for f in factors]
    reference = X.toarray() if is_W else X.toarray().T
    for a, b, f in zip(together, separate, factors, strict=True):
        assert a.flags.c_contiguous and a.shape == (f.shape[0], reference.shape[0])
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, f @ reference.T, rtol=1e-12)


def test_gather_is_bitwise_the_one_thread_product():
    X = _sparse(600, 500, 3 * MIN_NNZ_PER_THREAD / (600 * 500))
    B = np.random.default_rng(2).random((4, 500))
    rows = RowBlockProduct(X)
    with threadpool_limits(2):
        [threaded] = rows.dot_transposed([B])
    assert len(rows._row_blocks(2)) == 2
    np.testing.assert_array_equal(threaded, (X @ B.T).T)


def test_row_blocks_are_views_and_cover_every_row():
    X = _sparse(1000, 50, 0.2)
    blocks = RowBlockProduct(X)._row_blocks(3)
    assert blocks[0][0] == 0 and blocks[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in zip(blocks[:-1], blocks[1:], strict=True))
    assert sum(block.nnz for *_, block in blocks) == X.nnz
    assert all(np.shares_memory(block.data, X.data) for *_, block in blocks)
    assert all(np.shares_memory(block.indices, X.indices) for *_, block in blocks)
    dense = X.toarray()
    for start, stop, block in blocks:
        np.testing.assert_array_equal(block.toarray(), dense[start:stop])


def test_sparse_fit_threads_agree():
    X = _sparse(3000, 400, 0.2, seed=4)  # 240000 stored: split over 2 threads
    # a random start: the SVD of this random X has nearly equal singular
    # values, so an NNDSVD start itself depends on the BLAS threads
    kwargs = dict(n_components=5, init="random", random_state=0, max_iter=30, tol=0)
    fits = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            fits.append(NMF(**kwargs).fit(X))
    np.testing.assert_allclose(
        fits[0].components_, fits[1].components_, rtol=1e-9, atol=1e-12
    )
    assert fits[0].n_iter_ == fits[1].n_iter_


@needs_numba
def test_concurrent_sweeps_from_threads():
    # Dask's threads call the sweep at the same time: one runs over the
    # threads, the others on their own thread; all give NumPy's iterates
    from concurrent.futures import ThreadPoolExecutor

    problems = [_problem(8, 3000, np.float64, seed=s) for s in range(6)]

    def run(problem):
        F, Q, G2 = problem
        F = F.copy()
        for _ in range(5):
            hals_sweep(F, Q, G2, xp=np)
        return F

    with threadpool_limits(2), ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, problems))
    for (F, Q, G2), got in zip(problems, results, strict=True):
        ref = F.copy()
        for _ in range(5):
            _numpy_sweep(ref, Q, G2)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * ref.max())


def test_small_fits_never_wait_for_the_compiler():
    # numba compiles at a kernel's first call (seconds in a fresh install):
    # a fit whose factors are under MIN_COMPILED entries sweeps in NumPy and
    # does not even import numba
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from nmfkit import NMF\n"
        "from nmfkit.solvers import _kernels\n"
        "X = np.random.default_rng(0).random((40, 30))\n"
        "NMF(5, solver='hals', max_iter=20, tol=0).fit(X)\n"
        "assert 40 * 5 < _kernels.MIN_COMPILED\n"
        "assert not _kernels._COMPILED and 'numba' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@needs_numba
def test_serial_and_parallel_sweeps_have_their_own_disk_cache():
    # numba's cache keys a kernel by its function's name and bytecode, not
    # by its options: two kernels of one function would load each other's
    # machine code (the serial one then ran numba's threads against BLAS's)
    compiled = _kernels._kernels()
    index = {name: compiled[name]._cache._cache_file._index_name
             for name in ("serial", "parallel")}  # fmt: skip
    assert index["serial"] != index["parallel"]
    assert not compiled["serial"].targetoptions.get("parallel")
    assert compiled["parallel"].targetoptions.get("parallel")
