"""Array namespaces: NumPy by default, any array-API library on request.

nmfkit follows scikit-learn's convention: the computation follows the input
array (PyTorch on CPU or CUDA, CuPy, ...) only when
``sklearn.set_config(array_api_dispatch=True)`` (or the
``sklearn.config_context`` of the same name) is on. Otherwise, and always for
SciPy sparse input, the namespace is NumPy's. The namespaces come from
``array-api-compat``, an optional dependency (``pip install nmfkit[array-api]``)
that is only imported when dispatch is on.

The solvers write their math once with the namespace ``xp`` returned here, so
NumPy, PyTorch and CuPy share one code path.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import sklearn

__all__ = [
    "accumulation_dtype",
    "contiguous_copy",
    "device_of",
    "get_namespace",
    "is_numpy",
    "numpy_namespace",
    "to_numpy",
    "convert_like",
    "numpy_dtype",
    "clip_at_zero",
]


def numpy_namespace():
    """The NumPy namespace used when dispatch is off.

    ``array_api_compat.numpy`` when array-api-compat is installed, else the
    copy that scikit-learn (1.6 and later) ships in ``sklearn.externals``, so
    the core install needs nothing more.
    """
    try:
        import array_api_compat.numpy as xp
    except ImportError:  # core install
        import sklearn.externals.array_api_compat.numpy as xp
    return xp


def _dispatch_enabled():
    return bool(sklearn.get_config().get("array_api_dispatch", False))


def get_namespace(*arrays):
    """Return the array namespace for ``arrays`` (``None`` entries are skipped).

    Parameters
    ----------
    *arrays : arrays, sparse matrices or None

    Returns
    -------
    xp : module
        NumPy's namespace unless array-API dispatch is on and the arrays come
        from another library; with dispatch on, every array must come from
        the same library.

    Raises
    ------
    ImportError
        When dispatch is on and array-api-compat is missing.
    """
    arrays = [a for a in arrays if a is not None]
    if not _dispatch_enabled() or any(sp.issparse(a) for a in arrays):
        return numpy_namespace()
    try:
        import array_api_compat
    except ImportError as exc:
        raise ImportError(
            "array_api_dispatch=True needs the package array-api-compat; install "
            "it with pip install 'nmfkit[array-api]'."
        ) from exc
    non_numpy = [
        a
        for a in arrays
        if not isinstance(a, np.ndarray) and array_api_compat.is_array_api_obj(a)
    ]
    if not non_numpy:  # NumPy arrays, lists, DataFrames: NumPy's path
        return numpy_namespace()
    return array_api_compat.array_namespace(*non_numpy)


def is_numpy(xp):
    """Whether ``xp`` is NumPy's namespace (compat wrapper or stand-in)."""
    return getattr(xp, "__name__", "") in (
        "numpy",
        "array_api_compat.numpy",
        "sklearn.externals.array_api_compat.numpy",
    )


def device_of(A):
    """The device of ``A`` (``"cpu"`` for NumPy arrays)."""
    if isinstance(A, np.ndarray) or sp.issparse(A):
        return "cpu"
    import array_api_compat

    return array_api_compat.device(A)


def to_numpy(A):
    """A NumPy copy (or view) of any array, moved to the host if needed."""
    if isinstance(A, np.ndarray) or sp.issparse(A):
        return A
    module = type(A).__module__
    if module.startswith("torch"):
        return A.detach().cpu().numpy()
    if module.startswith("cupy"):
        return A.get()
    return np.asarray(A)


def contiguous_copy(xp, A):
    """A row-major (C-contiguous) copy of ``A``, so solvers may update it in place."""
    if is_numpy(xp):
        return np.array(A, order="C", copy=True)
    if type(A).__module__.startswith("torch"):
        import torch

        return A.clone(memory_format=torch.contiguous_format)
    if type(A).__module__.startswith("cupy"):
        import cupy

        return cupy.array(A, order="C", copy=True)
    return xp.asarray(A, copy=True)


def clip_at_zero(xp, a):
    """``max(a, 0)``, in place where the library allows it (NumPy)."""
    if is_numpy(xp):
        return np.maximum(a, 0, out=a)
    return xp.clip(a, min=0)


def accumulation_dtype(xp, A):
    """The dtype sums over ``A`` accumulate in: float64 where the device has it."""
    if not is_numpy(xp) and "mps" in str(device_of(A)):
        return xp.float32  # Apple GPUs have no float64
    return xp.float64


def numpy_dtype(A):
    """The NumPy dtype matching the dtype of any array."""
    if isinstance(A, np.ndarray) or sp.issparse(A):
        return A.dtype
    return to_numpy(A[(slice(0, 0),) * A.ndim]).dtype


def convert_like(A, X):
    """``A`` (a small factor) in the namespace, device and dtype of ``X``."""
    xp = get_namespace(X)
    if is_numpy(xp):
        return np.asarray(to_numpy(A), dtype=numpy_dtype(X))
    if get_namespace(A) is not xp:
        A = to_numpy(A)
    return xp.asarray(A, dtype=X.dtype, device=device_of(X))
