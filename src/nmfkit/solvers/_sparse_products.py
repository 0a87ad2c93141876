"""Products of a CSR matrix with dense factors, threaded over row blocks.

SciPy's sparse-times-dense product runs on one thread, while the dense
products of every solver use all the BLAS threads. :class:`RowBlockProduct`
splits a CSR matrix ``A`` into row blocks of about equal stored entries
(views of its arrays: nothing is copied) and multiplies the blocks on a pool
of threads; SciPy releases the GIL inside the product, so the blocks run in
parallel. Two products, both over A's rows:

- ``A @ B`` (*gather*: each stored entry reads a row of B at a random
  position): every output row is computed by SciPy's own loop over that
  row's entries, so the result is bitwise equal to the one-thread product;
- ``A^T @ B`` (*scatter*: each stored entry adds to a row of the output at a
  random position): each block adds into its own partial output, and the
  partials are summed, so the result equals the one-thread product to
  rounding (the same for a given number of threads).

Random access is the costly part (the positions are not in cache order), so
:class:`SparseProducts` keeps the CSR form of X or of X^T, whichever makes
the *shorter* side of X the one accessed at random: one copy of the data,
not two. For X of 50000 x 20000 with 0.5% stored, ``W^T X`` at rank 50 takes
191 ms by a scatter into the 20000-row side and 731 ms by a gather from the
50000-row side (one thread, measured).

The number of threads follows the BLAS thread limit (``threadpoolctl``'s
``threadpool_limits`` sets both), read at every product, and a matrix with
fewer than :data:`MIN_NNZ_PER_THREAD` stored entries per thread runs on the
calling thread.
"""

from __future__ import annotations

import atexit
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["MIN_NNZ_PER_THREAD", "RowBlockProduct", "SparseProducts", "blas_threads"]

#: Fewer stored entries than this per thread: the thread start costs more
#: than the work it takes over.
MIN_NNZ_PER_THREAD = 1 << 16


@lru_cache(maxsize=1)
def _blas_controllers() -> tuple:
    from threadpoolctl import ThreadpoolController

    return tuple(
        lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"
    )


def blas_threads() -> int:
    """The BLAS libraries' current thread count (1 when none is found)."""
    counts = [lib.get_num_threads() for lib in _blas_controllers()]
    counts = [int(c) for c in counts if c]
    return max(1, min(counts)) if counts else 1


_POOL: dict[int, ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    pool = _POOL.get(threads)
    if pool is None:
        pool = _POOL[threads] = ThreadPoolExecutor(
            threads, thread_name_prefix="nmfkit-sparse"
        )
    return pool


@atexit.register
def _shutdown_pools() -> None:
    for pool in _POOL.values():
        pool.shutdown(wait=False)


class RowBlockProduct:
    """``A @ B`` for a fixed CSR matrix ``A`` and dense ``B``, on all BLAS threads.

    Parameters
    ----------
    A : scipy.sparse.csr_matrix or csr_array of shape (n, p)
        Kept by reference; its row blocks are views of its arrays.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> A = sp.random(300, 200, density=0.1, format="csr", random_state=0)
    >>> B = np.random.default_rng(0).random((200, 4))
    >>> [AB] = RowBlockProduct(A).dot_transposed([B.T])
    >>> bool(np.array_equal(AB, (A @ B).T))
    True
    """

    def __init__(self, A: Any) -> None:
        self.A = A
        self._blocks: dict[int, list] = {}

    def _row_blocks(self, threads: int) -> list:
        """``(start, stop, block)`` of ``threads`` blocks of about equal nnz."""
        blocks = self._blocks.get(threads)
        if blocks is None:
            A = self.A
            indptr = A.indptr
            targets = np.linspace(0, A.nnz, threads + 1)
            cuts = np.searchsorted(indptr, targets, side="left")
            cuts[0], cuts[-1] = 0, A.shape[0]
            cuts = np.unique(cuts)
            blocks = []
            for start, stop in zip(cuts[:-1], cuts[1:], strict=True):
                blocks.append((int(start), int(stop), _row_view(A, start, stop)))
            self._blocks[threads] = blocks
        return blocks

    def _threads(self) -> int:
        return min(blas_threads(), max(1, self.A.nnz // MIN_NNZ_PER_THREAD))

    def dot_transposed(self, factors: Sequence[Any]) -> list[np.ndarray]:
        """``(A @ Bt.T).T``, C-contiguous of shape (r, n), for every ``Bt``
        (r, p) of ``factors``, from one product with the factors side by side."""
        A = self.A
        B, bounds = _side_by_side(factors)
        threads = self._threads()
        if threads == 1:
            return _split_transposed(A @ B, bounds)
        out = np.empty((B.shape[1], A.shape[0]), dtype=np.result_type(A.dtype, B))

        def run(item):
            start, stop, block = item
            out[:, start:stop] = (block @ B).T

        self._map(run, threads)
        if len(factors) == 1:
            return [out]
        # copies, not views: a reduction over a view that starts inside the
        # stacked product (the objective) may sum in another order (alignment)
        return [out[a:b].copy() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def transposed_dot_transposed(self, factors: Sequence[Any]) -> list[np.ndarray]:
        """``(A^T @ Bt.T).T``, C-contiguous of shape (r, p), for every ``Bt``
        (r, n) of ``factors``, from one product with the factors side by side."""
        A = self.A
        B, bounds = _side_by_side(factors)
        threads = self._threads()
        if threads == 1:
            return _split_transposed(A.T @ B, bounds)
        partials: dict = {}

        def run(item):
            start, stop, block = item
            partials[start] = block.T @ B[start:stop]

        self._map(run, threads)
        parts = [partials[start] for start in sorted(partials)]  # a fixed order
        total = parts[0]
        for part in parts[1:]:
            total += part
        return _split_transposed(total, bounds)

    def _map(self, run, threads):
        pool = _pool(threads)
        for done in [pool.submit(run, item) for item in self._row_blocks(threads)]:
            done.result()


def _row_view(A, start, stop):
    """Rows ``start:stop`` of the CSR matrix ``A`` as a CSR matrix whose data
    and indices are views of A's (SciPy's slicing and constructor copy)."""
    lo, hi = A.indptr[start], A.indptr[stop]
    block = sp.csr_matrix((int(stop - start), A.shape[1]), dtype=A.dtype)
    block.data = A.data[lo:hi]
    block.indices = A.indices[lo:hi]
    block.indptr = (A.indptr[start : stop + 1] - lo).astype(A.indices.dtype)
    return block


def _side_by_side(factors):
    """The transposes of ``factors`` (each ``r_i x m``) side by side in one
    C-contiguous ``m x sum r_i`` array, and the column bounds of each: one
    copy of every factor (the product's stacked operand), none for a single
    factor that is a transposed view already."""
    bounds = np.cumsum([0] + [int(f.shape[0]) for f in factors])
    if len(factors) == 1:
        return np.ascontiguousarray(factors[0].T), bounds
    B = np.empty((factors[0].shape[1], bounds[-1]), dtype=np.result_type(*factors))
    for factor, a, b in zip(factors, bounds[:-1], bounds[1:], strict=True):
        B[:, a:b] = factor.T
    return B, bounds


def _split_transposed(C, bounds):
    """``C[:, a:b].T`` of every column range, each a C-contiguous copy."""
    return [
        np.ascontiguousarray(C[:, a:b].T)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]


class SparseProducts:
    """The two data products of the alternating solvers for a sparse X.

    Parameters
    ----------
    X : sparse matrix of shape (n, p)
        Converted to CSR (of X when ``p <= n``, else of X^T) once.

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.sparse as sp
    >>> X = sp.random(300, 200, density=0.1, format="csr", random_state=0)
    >>> rng = np.random.default_rng(0)
    >>> H, Wt = rng.random((4, 200)), rng.random((4, 300))
    >>> products = SparseProducts(X)
    >>> bool(np.allclose(products.product(H, True), H @ X.T.toarray()))
    True
    >>> bool(np.allclose(products.product(Wt, False), Wt @ X.toarray()))
    True
    """

    def __init__(self, X: Any) -> None:
        n, p = X.shape
        self.transposed = p > n
        #: the side of X whose factor rows the products access at random
        self.short_side = min(n, p)
        self.rows = RowBlockProduct((X.T if self.transposed else X).tocsr())

    def product(self, other: Any, is_W: bool) -> np.ndarray:
        """``H X^T`` (``r x n``) when ``is_W`` (``other`` is H), else ``W^T X``."""
        return self.products([other], is_W)[0]

    def products(self, others: Sequence[Any], is_W: bool) -> list[np.ndarray]:
        """:meth:`product` of every factor of ``others``, from one product.

        The factors go side by side into one operand and each result is
        copied out of the one product: two copies of the stacked numbers,
        as many as a single product makes. Every entry of a result is the
        sum that the single product computes, in the same order, so the
        results are bitwise those of the separate products.
        """
        if is_W != self.transposed:  # a gather from the short side
            return self.rows.dot_transposed(others)
        return self.rows.transposed_dot_transposed(others)  # a scatter into it
