"""Type aliases of the public API's signatures.

NumPy ships type information, SciPy, scikit-learn, pandas-free paths and the
array libraries mostly do not; where an argument may be any of a NumPy
array, a SciPy sparse matrix, a pandas DataFrame, an array-API tensor or a
Dask array, its alias is :data:`MatrixLike` (``Any`` to the type checker,
documented by name).
"""

from __future__ import annotations

import os
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ArrayLike",
    "Float64Array",
    "IntArray",
    "MatrixLike",
    "PathLike",
    "RandomStateLike",
]

#: Data matrices: array-like, SciPy sparse, DataFrame, array-API or Dask array.
MatrixLike = Any

#: A file-system path.
PathLike = Union[str, "os.PathLike[str]"]

#: ``random_state`` as scikit-learn takes it.
RandomStateLike = Union[int, np.random.RandomState, np.random.Generator, None]

Float64Array = NDArray[np.float64]
IntArray = NDArray[np.intp]
