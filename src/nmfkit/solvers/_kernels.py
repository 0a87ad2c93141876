"""Compiled inner loops (numba), used where NumPy cannot reach the machine.

One kernel today: the HALS sweep (:func:`compiled_hals_sweep`). NumPy runs a
sweep as a Python loop over the ``r`` components, each a matrix-vector
product that reads the whole factor (``r`` passes over it, plus a few vector
operations and their temporaries per component). The compiled sweep cuts the
factor into column chunks that stay in the L1/L2 cache, runs all ``r``
component updates on a chunk before moving on (one pass over the factor),
and spreads the chunks over the threads. Columns of a component-major factor
are independent given ``G``, so the iterates are those of NumPy's sweep, up
to the order of the sums (rounding); ``tests/test_kernels.py`` checks the
two against each other. Within a chunk, each component's accumulator takes
four rows of the factor per pass (a quarter of its loads and stores, the
same operations in the same order as one row at a time), and the sums of
the squared changes and of the violation are kept per column and added at
the end of the chunk: a running scalar sum kept the update loop from
vectorizing. The factors are those of one row at a time to the last bit
(the sums to 2e-14). ``benchmarks/bench_sweep.py`` times the sweep alone
(one thread): 1.7x to 9.5x faster than NumPy's loop, within 2.4x to 17x of
the flops bound (the docs quote its table).

Inside a fit the sweep runs right after the BLAS products, whose threads
keep spinning for a while after each call: a threaded sweep then competes
with them for the cores, and on the 2-core machine a sweep of 10 x 8192
took 19 ms threaded against 0.5 ms on the calling thread. Measured per
iteration of whole fits on two threads (X of 8192 x 4096 dense and
50000 x 20000 sparse, ranks 10 and 50, ``solver="hals"`` and ``"auto"``),
sweeping every factor below 2^21 entries on the calling thread was 12% to
30% faster in six of the eight cases and within the noise in the other two
(sparse X at rank 50, whose W has 2.5 million entries, which still takes
the threads): hence :data:`_MIN_PARALLEL`.

numba is optional (``pip install "nmfkit[fast]"``). Without it, or with the
environment variable ``NMFKIT_KERNELS=numpy`` (read at import), every caller
runs the NumPy code. The threads follow the BLAS thread limit
(``threadpoolctl``'s ``threadpool_limits``), read at every call on a factor
of at least ``_MIN_PARALLEL`` entries (smaller ones run on the calling
thread, without the query); a call made while another thread runs a
parallel kernel runs on its own thread.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import types
from typing import Any

import numpy as np

from ._sparse_products import blas_threads

__all__ = [
    "KERNELS",
    "compiled_hals_sweep",
    "kernels_available",
    "sweep_inputs",
    "worth_compiling",
]

#: ``"numba"`` when the compiled kernels run, else ``"numpy"``.
KERNELS = "numpy"
_CHUNK = 256  # columns per chunk: r x 256 entries stay in the L2 cache
_PARALLEL = threading.Lock()  # one parallel kernel at a time (see below)
#: Smaller factors run on the calling thread: the threads cost more than
#: they save there, above all right after the BLAS products (module text).
_MIN_PARALLEL = 1 << 21
#: Smaller factors sweep in NumPy: numba compiles a kernel at its first call
#: in a fresh install (seconds; cached on disk afterwards), which a small fit
#: must not wait for, and NumPy sweeps them in well under a millisecond.
MIN_COMPILED = 1 << 10

if os.environ.get("NMFKIT_KERNELS", "numba").lower() != "numpy" and (
    importlib.util.find_spec("numba") is not None
):
    KERNELS = "numba"

_COMPILED: dict = {}


def _kernels() -> dict:
    """The compiled sweeps, built at the first call (numba is imported then,
    not with nmfkit: it costs about 100 MB, which Dask workers under a memory
    limit must not pay for the NumPy-only code they run)."""
    if _COMPILED:
        return _COMPILED
    import numba
    from numba import prange

    def _sweep_body(F, Q, G2, order, inv_diag, dead, clear_dead, want_violation):
        r, m = F.shape
        n_chunks = (m + _CHUNK - 1) // _CHUNK
        changes = np.zeros(n_chunks)
        violations = np.zeros(n_chunks)
        for c in prange(n_chunks):
            j0 = c * _CHUNK
            j1 = min(m, j0 + _CHUNK)
            w = j1 - j0
            acc = np.empty(w, dtype=F.dtype)
            # per-column sums (vectorized; a scalar sum kept the update
            # loop scalar), added up at the end of the chunk
            change_j = np.zeros(w)
            violation_j = np.zeros(w)
            change = 0.0
            for kk in range(r):
                k = order[kk]
                Fk = F[k, j0:j1]
                if dead[k]:
                    if clear_dead:
                        for j in range(w):
                            change += float(Fk[j]) * float(Fk[j])
                            Fk[j] = 0
                    continue
                acc[:] = Q[k, j0:j1]
                # acc -= G2[k, l] F[l] for every l, four rows per pass over
                # acc (the same operations in the same order as one row at a
                # time: the same rounding, a quarter of acc's loads and stores)
                l = 0
                while l + 4 <= r:
                    g0, g1, g2, g3 = G2[k, l], G2[k, l + 1], G2[k, l + 2], G2[k, l + 3]
                    F0, F1 = F[l, j0:j1], F[l + 1, j0:j1]
                    F2, F3 = F[l + 2, j0:j1], F[l + 3, j0:j1]
                    for j in range(w):
                        acc[j] = (
                            ((acc[j] - g0 * F0[j]) - g1 * F1[j]) - g2 * F2[j]
                        ) - g3 * F3[j]
                    l += 4
                while l < r:
                    g = G2[k, l]
                    Fl = F[l, j0:j1]
                    for j in range(w):
                        acc[j] -= g * Fl[j]
                    l += 1
                inv = inv_diag[k]
                if want_violation:  # its own loop: the plain one vectorizes
                    for j in range(w):
                        if Fk[j] == 0:
                            violation_j[j] += max(float(acc[j]), 0.0)
                        else:
                            violation_j[j] += abs(float(acc[j]))
                for j in range(w):
                    old = Fk[j]
                    new = max(old + acc[j] * inv, 0)
                    d = float(new - old)
                    change_j[j] += d * d
                    Fk[j] = new
            changes[c] = change + change_j.sum()
            violations[c] = violation_j.sum()
        return changes.sum(), violations.sum()

    def variant(name):
        # numba's disk cache keys a kernel by its function's name and
        # bytecode, not by its options: compiled from one function, the
        # serial kernel would load the parallel machine code from the cache
        # (and start numba's threads against the BLAS threads, measured 60x
        # slower at 2 threads); each variant is its own function
        fn = types.FunctionType(
            _sweep_body.__code__, _sweep_body.__globals__, name, None,
            _sweep_body.__closure__,
        )
        fn.__qualname__ = f"_kernels.<locals>.{name}"
        return fn

    # numba's default threading layer runs one parallel kernel at a time in
    # a process, so concurrent callers (Dask's threads) take the one-thread
    # version (prange is range there)
    _COMPILED["parallel"] = numba.njit(
        parallel=True, nogil=True, cache=True, fastmath={"contract"}
    )(variant("hals_sweep_parallel"))
    _COMPILED["serial"] = numba.njit(
        parallel=False, nogil=True, cache=True, fastmath={"contract"}
    )(variant("hals_sweep_serial"))
    _COMPILED["numba"] = numba
    return _COMPILED


def kernels_available() -> bool:
    """Whether the compiled kernels run (numba installed, not disabled)."""
    return KERNELS == "numba"


def worth_compiling(size: int) -> bool:
    """Whether a factor of ``size`` entries takes the compiled sweep: numba
    runs (:func:`kernels_available`) and the factor has at least
    :data:`MIN_COMPILED` entries."""
    return kernels_available() and size >= MIN_COMPILED


def sweep_inputs(Q: np.ndarray, G2: np.ndarray, dtype: Any) -> tuple:
    """What the compiled sweep derives from ``(Q, G2)``: contiguous copies in
    ``dtype``, the inverse curvatures and the dead components.

    :class:`~._hals.HALSRule` derives them once per factor update
    (``prepare``), for all the sweeps of its inner loop.
    """
    Qc = np.ascontiguousarray(Q, dtype=dtype)
    G2c = np.ascontiguousarray(G2, dtype=dtype)
    hess = np.diagonal(G2c).astype(np.float64)
    # a curvature below the smallest normal number is zero for this update
    dead = hess < float(np.finfo(dtype).tiny)
    inv_diag = np.where(dead, 0.0, 1.0 / np.where(dead, 1.0, hess)).astype(dtype)
    return Qc, G2c, inv_diag, dead


def compiled_hals_sweep(
    F: np.ndarray,
    Q: np.ndarray,
    G2: np.ndarray,
    order: Any,
    l1_positive: bool,
    violation: list | None,
    inputs: tuple | None = None,
) -> float:
    """One HALS sweep of ``F`` in place (see :func:`~._hals.hals_sweep`).

    Parameters
    ----------
    F : ndarray of shape (r, m), C-contiguous, float32 or float64
    Q, G2 : ndarray
        ``P - l1`` and ``G + l2 I`` (:func:`~._hals.prepare_hals`).
    order : sequence of int or None
    l1_positive : bool
    violation : list of one float or None
        Increased by the sweep's projected-gradient violation when given.
    inputs : tuple or None
        :func:`sweep_inputs` of ``(Q, G2)`` when already derived (in F's
        dtype; derived here otherwise).

    Returns
    -------
    change : float
        ``||F_new - F_old||_F^2``.
    """
    if inputs is None or inputs[0].dtype != F.dtype:
        inputs = sweep_inputs(Q, G2, F.dtype)
    Qc, G2c, inv_diag, dead = inputs
    r = F.shape[0]
    order = np.arange(r) if order is None else np.asarray(order, dtype=np.int64)
    args = (F, Qc, G2c, order, inv_diag, dead, bool(l1_positive), violation is not None)
    compiled = _kernels()
    numba = compiled["numba"]
    # a small factor sweeps on the calling thread, without asking
    # threadpoolctl for the thread limit (the query takes about as long as
    # the sweep of a small factor)
    threads = (
        min(blas_threads(), numba.config.NUMBA_NUM_THREADS)
        if F.size >= _MIN_PARALLEL
        else 1
    )
    if threads > 1 and _PARALLEL.acquire(blocking=False):
        try:
            numba.set_num_threads(threads)
            change, found = compiled["parallel"](*args)
        finally:
            _PARALLEL.release()
    else:
        change, found = compiled["serial"](*args)
    if violation is not None:
        violation[0] = violation[0] + float(found)
    return float(change)
