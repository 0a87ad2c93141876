"""Hierarchical alternating least squares (HALS), i.e. exact coordinate descent.

For one factor ``F`` (held component-major: row ``k`` is component ``k``,
shape ``(r, m)``), with the other factor fixed, the objective is

    1/2 <F F^T, G> - <P, F> + l1 sum(F) + l2/2 ||F||_F^2   (+ constant)

where ``G`` is the Gram matrix of the other factor and ``P`` its product with
the data (``H X^T`` for ``W^T``, ``W^T X`` for ``H``). Row ``k`` enters it
through a separable quadratic in its entries, which is minimized exactly over
the non-negative orthant:

    F[k] <- max(0, F[k] + (P[k] - l1 - (G + l2 I)[k] F) / (G[k, k] + l2))

One sweep does this for ``k = 0 .. r-1`` (Gauss-Seidel: each row sees the
rows already updated), so the objective never increases. This is the update
of scikit-learn's ``solver="cd"`` (Cichocki and Phan 2009; Hsieh and Dhillon
2011), applied to all entries of a component at once: a Python loop over the
``r`` components, each step a matrix-vector product and a few vector
operations over ``m`` contiguous entries.

The sweep is written once with array-API operations (``xp``): NumPy arrays
and, with scikit-learn's ``array_api_dispatch`` on, PyTorch tensors or CuPy
arrays on their own device run the same code. On NumPy arrays a compiled
sweep (:mod:`~nmfkit.solvers._kernels`, when numba is installed) replaces
the Python loop over the components; its iterates equal this code's to
rounding. The diagonal of ``G + l2 I``
is read to the host once per sweep and the change is summed on the device,
so a sweep synchronizes with a GPU once, not once per component.
"""

from __future__ import annotations

import numpy as np

from .._array_api import clip_at_zero, device_of, get_namespace, is_numpy, to_numpy
from . import _kernels
from ._kernels import compiled_hals_sweep, sweep_inputs
from ._rule import FactorRule

__all__ = ["HALSRule", "hals_sweep", "prepare_hals"]


def prepare_hals(P, G, l1, l2, *, xp=None):
    """Fold the penalties into the data product and the Gram matrix.

    Returns ``(P - l1, G + l2 I)`` as new arrays, computed once per factor
    update and shared by all its sweeps.
    """
    if xp is None:
        xp = get_namespace(P, G)
    Q = P - l1 if l1 else P
    if l2:
        G = G + l2 * xp.eye(G.shape[0], dtype=G.dtype, device=device_of(G))
    return Q, G


def hals_sweep(
    F,
    Q,
    G2,
    order=None,
    *,
    l1_positive=False,
    xp=None,
    violation=None,
    compiled=True,
    inputs=None,
):
    """One HALS sweep over the components of ``F``, in place.

    Parameters
    ----------
    F : array of shape (r, m), C-contiguous
        The factor, component-major; updated in place (NumPy, or an array of
        another array-API library).
    Q : array of shape (r, m)
        ``P - l1`` (see :func:`prepare_hals`).
    G2 : array of shape (r, r)
        ``G + l2 I``, symmetric.
    order : sequence of int or None
        Order of the components (``None``: ``0 .. r-1``).
    l1_positive : bool
        Whether the L1 weight is positive: a component whose curvature is zero
        or below the smallest normal number of the dtype (the other factor's
        component is all zero, or underflowed) then goes to zero, its
        exact minimizer; otherwise it is left as it is (any value is optimal).
    xp : namespace or None
        The array namespace of ``F``; found from the arrays when None.
    violation : list of one float or None
        When given, ``violation[0]`` is increased by scikit-learn's
        projected-gradient violation of the sweep: ``sum |g|`` over the
        entries, each gradient ``g`` taken just before its entry's update,
        and only its negative part where the entry is zero (the stopping test
        of scikit-learn's coordinate descent).

    compiled : bool
        Whether the compiled sweep (:mod:`~nmfkit.solvers._kernels`) may run
        on NumPy arrays; Dask workers pass False (numba costs them memory).
    inputs : tuple or None
        What the compiled sweep derives from ``(Q, G2)``
        (:func:`~nmfkit.solvers._kernels.sweep_inputs`), when already derived
        for the sweeps of one update; None: derived at this sweep.

    Returns
    -------
    change : float
        ``||F_new - F_old||_F^2`` (float64), for the inner-loop stopping rule.
    """
    if compiled and _compiled(F):  # the same sweep, in one pass over F (see _kernels)
        return compiled_hals_sweep(F, Q, G2, order, l1_positive, violation, inputs)
    if xp is None:
        xp = get_namespace(F, Q, G2)
    r = F.shape[0]
    numpy = is_numpy(xp)
    if not numpy:  # one read of the diagonal per sweep
        hess_all = np.asarray(to_numpy(xp.linalg.diagonal(G2)), dtype=np.float64)
    change = 0.0 if numpy else xp.zeros((), dtype=F.dtype, device=device_of(F))
    # A curvature below the smallest normal number of F's dtype is zero for
    # this update: its reciprocal would overflow to infinity.
    smallest = float(xp.finfo(F.dtype).tiny)
    for k in range(r) if order is None else order:
        k = int(k)
        hess = G2[k, k] if numpy else hess_all[k]
        row = F[k, ...]
        if hess < smallest:
            if l1_positive:
                change = change + _sq(xp, row)
                F[k, ...] = 0
            continue
        new = G2[k, ...] @ F  # (G + l2 I)[k] F, including the current row
        new = Q[k, ...] - new  # minus the gradient of row k
        if violation is not None:
            violation[0] = violation[0] + _projected_gradient_norm1(xp, new, row)
        new *= F.dtype.type(1.0 / hess) if numpy else 1.0 / hess
        new += row
        new = clip_at_zero(xp, new)
        change = change + _sq(xp, new - row)
        F[k, ...] = new
    return float(change)


def _compiled(F):
    """Whether the compiled sweep runs on ``F`` (a C-contiguous
    :func:`_compilable` array)."""
    return _compilable(F) and F.flags.c_contiguous


def _compilable(A):
    """Whether ``A`` is a float NumPy array large enough for the compiled
    sweep (:func:`~._kernels.worth_compiling`)."""
    return (
        isinstance(A, np.ndarray)
        and _kernels.worth_compiling(A.size)
        and A.dtype in (np.float32, np.float64)
    )


def _projected_gradient_norm1(xp, minus_gradient, row):
    """``sum |pg|``: the gradient where the entry is positive, its negative
    part where the entry is zero (a float, or a 0-d array on the device)."""
    if is_numpy(xp):
        at_zero = row == 0
        total = float(np.abs(minus_gradient[~at_zero]).sum(dtype=np.float64))
        return total + float(
            np.maximum(minus_gradient[at_zero], 0).sum(dtype=np.float64)
        )
    projected = xp.where(
        row == 0, xp.clip(minus_gradient, min=0), xp.abs(minus_gradient)
    )
    return xp.sum(projected)


def _sq(xp, v):
    """``v . v``: a float (NumPy) or a 0-d array on the device."""
    if is_numpy(xp):
        return float(np.dot(v, v))
    return xp.sum(v * v)


class HALSRule(FactorRule):
    """HALS as a rule of the alternating driver: one sweep per update.

    Parameters
    ----------
    rng : numpy.random.RandomState or None
        When given, the components are visited in a random order at every
        sweep (``shuffle=True``).
    """

    inner_alpha = 0.5
    array_api = True

    def __init__(self, rng=None):
        self.rng = rng
        self._violation = None

    @property
    def rows_independent(self):
        """True unless the components are shuffled (one order per sweep,
        drawn at each call)."""
        return self.rng is None

    def track_violation(self):
        """Accumulate scikit-learn's projected-gradient violation from now on
        (see :func:`hals_sweep`); returns :meth:`take_violation`."""
        self._violation = [0.0]
        return self.take_violation

    def take_violation(self):
        """The violation accumulated since the last call, and reset it."""
        value, self._violation[0] = self._violation[0], 0.0
        return float(value)

    def prepare(self, P, G, l1, l2, xp):
        Q, G2 = prepare_hals(P, G, l1, l2, xp=xp)
        # the compiled sweep's inputs, once for all the sweeps of this update
        inputs = sweep_inputs(Q, G2, Q.dtype) if _compilable(Q) else None
        return Q, G2, inputs

    def update(self, F, P, G, prepared, l1, l2, xp, need_change):
        Q, G2, inputs = prepared
        order = None if self.rng is None else self.rng.permutation(F.shape[0])
        return hals_sweep(
            F, Q, G2, order, l1_positive=l1 > 0, xp=xp, violation=self._violation,
            inputs=inputs,
        )
