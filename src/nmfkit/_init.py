"""Initial factors: random, NNDSVD and its variants.

The semantics follow scikit-learn's NMF, so that the same ``random_state``
gives the same starting point in both libraries:

- ``"random"``: ``|N(0, 1)| * sqrt(mean(X) / n_components)``, H drawn first;
- ``"nndsvd"``: non-negative double SVD (Boutsidis and Gallopoulos, "SVD based
  initialization: a head start for nonnegative matrix factorization",
  Pattern Recognition 2008), entries below ``eps`` set to zero;
- ``"nndsvda"``: NNDSVD with its zeros replaced by ``mean(X)``;
- ``"nndsvdar"``: NNDSVD with its zeros replaced by ``|N(0, 1)| * mean(X) / 100``;
- ``None``: ``"nndsvda"`` when ``n_components <= min(n_samples, n_features)``,
  else ``"random"``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.utils import check_random_state
from sklearn.utils.extmath import randomized_svd

from ._array_api import convert_like, get_namespace, is_numpy, numpy_dtype, to_numpy

__all__ = [
    "INIT_METHODS",
    "initialize_factors",
    "initialize_from_summaries",
    "resolve_init",
]

INIT_METHODS = ("random", "nndsvd", "nndsvda", "nndsvdar", "custom")


def _mean(X):
    """Mean over all entries, stored or not, in the dtype of X."""
    if sp.issparse(X):
        return X.dtype.type(X.sum(dtype=np.float64) / (X.shape[0] * X.shape[1]))
    return X.mean()


def resolve_init(init, n_components, shape):
    """Return the concrete init method for ``init=None`` or check the given one.

    Raises
    ------
    ValueError
        For an unknown method, or an SVD-based method with more components than
        ``min(n_samples, n_features)``.
    """
    if init is None:
        return "nndsvda" if n_components <= min(shape) else "random"
    if init not in INIT_METHODS:
        raise ValueError(
            f"init={init!r} is not valid; choose one of {INIT_METHODS} or None."
        )
    if init.startswith("nndsvd") and n_components > min(shape):
        raise ValueError(
            f"init = {init!r} can only be used when n_components <= "
            "min(n_samples, n_features). "
            f"init={init!r} needs n_components <= min(n_samples, n_features) = "
            f"{min(shape)}, got n_components={n_components}; use init='random' "
            "or a smaller rank."
        )
    return init


def _random_factors(shape, dtype, mean, n_components, rng):
    n_samples, n_features = shape
    avg = np.sqrt(dtype.type(mean) / n_components)
    H = avg * rng.standard_normal(size=(n_components, n_features)).astype(
        dtype, copy=False
    )
    W = avg * rng.standard_normal(size=(n_samples, n_components)).astype(
        dtype, copy=False
    )
    np.abs(H, out=H)
    np.abs(W, out=W)
    return W, H


def _numpy_svd(X, n_components, random_state):
    # X is a NumPy array or sparse matrix here: keep scikit-learn's NumPy SVD
    # (and its numbers) even while array-API dispatch is on.
    with sklearn.config_context(array_api_dispatch=False):
        return randomized_svd(X, n_components, random_state=random_state)


def _nndsvd_factors(U, S, V, n_components, eps):
    W = np.zeros_like(U)
    H = np.zeros_like(V)
    # The leading singular pair of a non-negative matrix can be taken
    # non-negative (Perron-Frobenius).
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0, :] = np.sqrt(S[0]) * np.abs(V[0, :])
    for j in range(1, n_components):
        x, y = U[:, j], V[j, :]
        x_p, y_p = np.maximum(x, 0), np.maximum(y, 0)
        x_n, y_n = np.abs(np.minimum(x, 0)), np.abs(np.minimum(y, 0))
        x_p_nrm, y_p_nrm = np.linalg.norm(x_p), np.linalg.norm(y_p)
        x_n_nrm, y_n_nrm = np.linalg.norm(x_n), np.linalg.norm(y_n)
        m_p, m_n = x_p_nrm * y_p_nrm, x_n_nrm * y_n_nrm
        # Keep the sign pattern of the larger part of the rank-one term.
        if m_p > m_n:
            u, v, sigma = x_p / x_p_nrm, y_p / y_p_nrm, m_p
        elif m_n > 0:
            u, v, sigma = x_n / x_n_nrm, y_n / y_n_nrm, m_n
        else:
            continue  # neither sign part is a rank-one term: the column stays 0
        scale = np.sqrt(S[j] * sigma)
        W[:, j] = scale * u
        H[j, :] = scale * v
    W[W < eps] = 0
    H[H < eps] = 0
    return W, H


def initialize_from_summaries(
    shape, dtype, n_components, init, *, mean, svd=None, random_state=None, eps=1e-6
):
    """Initial factors from what they need of X: its shape, mean and leading SVD.

    This is the computation behind :func:`initialize_factors`, for callers
    that hold X elsewhere (on a GPU, or spread over a Dask cluster) and
    reduce it there.

    Parameters
    ----------
    shape : tuple of int
        ``(n_samples, n_features)``.
    dtype : numpy dtype
        The dtype of X, float32 or float64.
    n_components : int
    init : {"random", "nndsvd", "nndsvda", "nndsvdar"}
    mean : float
        Mean of all entries of X.
    svd : callable or None
        ``svd()`` returns ``(U, S, V)``, the leading ``n_components`` singular
        triplets of X as NumPy arrays; needed by the NNDSVD variants.
    random_state : int, RandomState instance or None
    eps : float

    Returns
    -------
    W, H : ndarray
        NumPy factors in ``dtype``.
    """
    dtype = np.dtype(dtype)
    if init == "random":
        return _random_factors(
            shape, dtype, mean, n_components, check_random_state(random_state)
        )
    U, S, V = svd()
    W, H = _nndsvd_factors(U, S, V, n_components, eps)
    avg = dtype.type(mean)
    if init == "nndsvda":
        W[W == 0] = avg
        H[H == 0] = avg
    elif init == "nndsvdar":
        rng = check_random_state(random_state)
        W[W == 0] = abs(avg * rng.standard_normal(size=int(np.sum(W == 0))) / 100)
        H[H == 0] = abs(avg * rng.standard_normal(size=int(np.sum(H == 0))) / 100)
    return W.astype(dtype, copy=False), H.astype(dtype, copy=False)


def initialize_factors(X, n_components, init=None, *, random_state=None, eps=1e-6):
    """Compute initial factors ``W`` and ``H`` for ``X ~ W H``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Validated non-negative data; with array-API dispatch on, also a
        PyTorch tensor or CuPy array (the factors are computed with NumPy, the
        same numbers as for a NumPy X, and moved to the device of X: "random"
        reduces X on its device for its mean, the NNDSVD variants copy X to
        the host once for the SVD).
    n_components : int
        Rank of the factorization.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar"} or None
        Method; see the module docstring.
    random_state : int, RandomState instance or None
        Seed for ``"random"``, ``"nndsvdar"`` and the randomized SVD.
    eps : float
        NNDSVD entries below ``eps`` are set to zero.

    Returns
    -------
    W : array of shape (n_samples, n_components)
    H : array of shape (n_components, n_features)
        Non-negative, in the dtype (and namespace) of ``X``.
    """
    init = resolve_init(init, n_components, X.shape)
    if init == "custom":
        raise ValueError("init='custom' takes W and H from the caller.")
    xp = get_namespace(X)
    if not is_numpy(xp):
        if init == "random":
            mean = float(xp.mean(X))
            W, H = initialize_from_summaries(
                X.shape,
                numpy_dtype(X),
                n_components,
                init,
                mean=mean,
                random_state=random_state,
                eps=eps,
            )
        else:
            W, H = initialize_factors(
                to_numpy(X), n_components, init, random_state=random_state, eps=eps
            )
        return convert_like(W, X), convert_like(H, X)
    return initialize_from_summaries(
        X.shape,
        X.dtype,
        n_components,
        init,
        mean=_mean(X),
        svd=lambda: _numpy_svd(X, n_components, random_state),
        random_state=random_state,
        eps=eps,
    )
