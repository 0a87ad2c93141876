"""Every problem is solved at unit scale: data, factors and penalties rescaled.

The solvers' arithmetic has fixed floors (scikit-learn's ``EPSILON`` for
model values and denominators, the data entries it treats as zeros) and
forms products of up to four factors of the data's scale. Data far from
unit scale (a power spectrogram at 1e-10, counts at 1e12) would meet those
floors or overflow, and return zero factors or NaN. So every fit solves the
equivalent problem on ``X' = X / s``:

    X = s X',   W = a W',   H = b H',   a b = s,

whose beta-divergence is ``D_beta(X | W H) = s^beta D_beta(X' | W' H')``
(the divergence is homogeneous of degree beta in (X, WH)), with penalty
weights rescaled so that the whole objective is ``s^beta`` times the
internal one:

    l1_W' = l1_W a / s^beta,    l2_W' = l2_W a^2 / s^beta,
    l1_H' = l1_H b / s^beta,    l2_H' = l2_H b^2 / s^beta.

The minimizers correspond one to one, and so do the iterates of every
solver, whose updates are all equivariant under this change of units. ``s``
is the geometric mean of the positive entries of X (their typical
magnitude, which one dominant entry barely moves), and ``a = b = sqrt(s)``
for a fit. ``X / s`` is then the same matrix, to rounding, for ``X`` and for
``c X``: a fit of ``c X`` equals ``c`` times the fit of ``X`` to rounding,
for any ``c > 0`` that keeps the data finite, whatever the start rule. (The
NNDSVDA and NNDSVDAR starts fill zeros with the mean of the data, which is
not equivariant by itself; at unit scale it is: for data whose typical
magnitude is 1 this is scikit-learn's start exactly, otherwise the fill is
``mean(X) / sqrt(s)`` in the user's units.) With ``H`` fixed
(``transform``), ``b`` is H's typical magnitude and ``a = s / b``.

Cost: one pass over X for its typical magnitude and one rescaled copy of X
for the fit (of the stored values only, for sparse X).

A user who rescales the data by ``c`` and wants the same minimizer (up to
the scale) must rescale the penalties as above with ``s = c`` and
``a = b = sqrt(c)``: ``l1 -> l1 c^(beta - 1/2)``, ``l2 -> l2 c^(beta - 1)``
(for the Frobenius loss, ``l1 * c^1.5`` and ``l2 * c``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._array_api import get_namespace, is_numpy
from ._observed import ObservedEntries

__all__ = ["Rescaling", "typical_magnitude"]


def _positive_log2_sum(values):
    """``(sum of log2 of the positive entries, their count)`` in float64."""
    positive = values[values > 0]
    if positive.size == 0:
        return 0.0, 0
    return float(np.log2(positive, dtype=np.float64).sum()), int(positive.size)


#: Arrays with more entries are summarized by an evenly strided sample of
#: about this many (the same entries for ``A`` and ``c A``, so the scale
#: stays equivariant), if it holds enough positive entries.
_SAMPLE_SIZE = 1 << 18
_SAMPLE_MIN_POSITIVE = 1 << 12


def _strided_sample(values):
    """Every k-th entry of a contiguous array larger than ``_SAMPLE_SIZE``
    (a view), or None."""
    if values.size <= 2 * _SAMPLE_SIZE or not values.flags.c_contiguous:
        return None
    return values.reshape(-1)[:: values.size // _SAMPLE_SIZE]


def typical_magnitude(A):
    """Geometric mean of the positive entries of ``A`` (1.0 when there are none).

    For more than ``2 ** 19`` entries (C-contiguous), the geometric mean of an
    evenly strided sample of about ``2 ** 18`` of them, when it holds at
    least ``2 ** 12`` positive entries (otherwise all entries are used): the
    scale only needs to be typical, and the same entries are sampled for
    ``c A``.

    Parameters
    ----------
    A : ndarray, sparse matrix, ObservedEntries or array-API array
        Non-negative values: for a sparse matrix its stored entries, for
        partially observed data its observed values.

    Returns
    -------
    magnitude : float
    """
    if isinstance(A, ObservedEntries):
        values = A.values
    else:
        values = A.data if sp.issparse(A) else A
    xp = get_namespace(values)
    if not is_numpy(xp):
        from ._array_api import to_numpy

        values = to_numpy(values)
    values = np.asarray(values)
    sampled = _strided_sample(values)
    if sampled is not None:
        total, count = _positive_log2_sum(sampled)
        if count >= _SAMPLE_MIN_POSITIVE:
            return float(2.0 ** (total / count))
    if values.ndim < 2:
        total, count = _positive_log2_sum(values.ravel())
    else:
        total, count = 0.0, 0
        step = max(1, (1 << 20) // max(1, values.shape[1]))
        for start in range(0, values.shape[0], step):
            block_total, block_count = _positive_log2_sum(values[start : start + step])
            total += block_total
            count += block_count
    if count == 0:
        return 1.0
    return float(2.0 ** (total / count))


@dataclass(frozen=True)
class Rescaling:
    """``X = data X'``, ``W = W_scale W'``, ``H = H_scale H'`` (module text).

    Attributes
    ----------
    data, W_scale, H_scale : float
        Positive, ``W_scale * H_scale == data``.
    beta : float
        The beta-divergence, which fixes how the objective scales.
    """

    data: float = 1.0
    W_scale: float = 1.0
    H_scale: float = 1.0
    beta: float = 2.0

    @classmethod
    def for_fit(cls, X, beta):
        """Scales for fitting both factors of ``X``."""
        s = typical_magnitude(X)
        root = math.sqrt(s)
        return cls(data=s, W_scale=root, H_scale=root, beta=float(beta))

    @classmethod
    def for_codes(cls, X, H, beta):
        """Scales for fitting the codes of ``X`` under a fixed dictionary ``H``."""
        s = typical_magnitude(X)
        b = typical_magnitude(H)
        return cls(data=s, W_scale=s / b, H_scale=b, beta=float(beta))

    @property
    def is_identity(self):
        return self.data == 1.0 and self.W_scale == 1.0 and self.H_scale == 1.0

    @property
    def objective_factor(self):
        """``s^beta``: the user's objective is this times the internal one.

        Raises
        ------
        ValueError
            When ``s^beta`` is outside float64's range: the objective of such
            data cannot be represented.
        """
        exponent = self.beta * math.log2(self.data)
        if abs(exponent) > 1000:  # beyond float64's range
            raise ValueError(
                f"the objective of this data (typical magnitude {self.data:.3g}) "
                f"with beta_loss={self.beta:g} scales as {self.data:.3g}^"
                f"{self.beta:g}, outside the range of float64; rescale X (for "
                "example X / X.max()) or choose a beta closer to 0."
            )
        return self.data**self.beta

    # ------------------------------------------------------------ conversions
    def scale_data(self, X):
        """``X / data`` as a new object of the same kind (dense, sparse,
        ObservedEntries, array-API array); X itself when the scale is 1."""
        if self.data == 1.0:
            return X
        factor = 1.0 / self.data
        if isinstance(X, ObservedEntries):
            scaled = X.astype(X.dtype)  # a new object sharing the positions
            scaled.values = X.values * X.values.dtype.type(factor)
            return scaled
        if sp.issparse(X):
            scaled = X.copy()
            scaled.data *= scaled.data.dtype.type(factor)
            return scaled
        xp = get_namespace(X)
        if is_numpy(xp):
            return X * X.dtype.type(factor)
        return X * factor

    def penalties(self, penalties):
        """Penalty weights of the internal problem (module text)."""
        from ._objective import Penalties

        if self.is_identity:
            return penalties
        f = self.objective_factor
        a, b = self.W_scale, self.H_scale
        return Penalties(
            l1_W=penalties.l1_W * a / f,
            l2_W=penalties.l2_W * a * a / f,
            l1_H=penalties.l1_H * b / f,
            l2_H=penalties.l2_H * b * b / f,
        )

    def _divide(self, A, scale):
        if A is None or scale == 1.0:
            return A
        return A * _same_kind(A, 1.0 / scale)

    def _multiply(self, A, scale):
        if A is None or scale == 1.0:
            return A
        return A * _same_kind(A, scale)

    def to_internal(self, W, H):
        """User-scale factors (either may be None) to internal ones."""
        return self._divide(W, self.W_scale), self._divide(H, self.H_scale)

    def to_user(self, W, H):
        """Internal factors to the user's scale (new arrays)."""
        return self._multiply(W, self.W_scale), self._multiply(H, self.H_scale)


def _same_kind(A, value):
    """``value`` as a scalar of A's dtype when A is a NumPy array."""
    dtype = getattr(A, "dtype", None)
    if isinstance(A, np.ndarray) and dtype is not None and dtype.kind == "f":
        return dtype.type(value)
    return value
