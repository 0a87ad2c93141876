"""Type aliases of the public API's signatures.

NumPy ships type information, SciPy, scikit-learn and the array libraries
mostly do not; where an argument may be any of a NumPy
array, a SciPy sparse matrix, a pandas DataFrame, an array-API tensor or a
Dask array, its alias is :data:`MatrixLike` (``Any`` to the type checker,
documented by name).
"""

from __future__ import annotations

import os
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ArrayLike",
    "Float64Array",
    "IntArray",
    "MatrixLike",
    "PathLike",
    "RandomStateLike",
]

#: Data matrices: array-like, SciPy sparse, DataFrame, array-API or Dask array.
MatrixLike: TypeAlias = Any

#: Anything ``np.asarray`` takes (arrays, nested sequences). The functions
#: convert it first thing; ``numpy.typing.ArrayLike``'s precise union would
#: flag every use made before the conversion, so the checker sees ``Any``.
ArrayLike: TypeAlias = Any

#: A file-system path.
PathLike: TypeAlias = "str | os.PathLike[str]"

#: ``random_state`` as scikit-learn takes it.
RandomStateLike: TypeAlias = "int | np.random.RandomState | np.random.Generator | None"

Float64Array: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.intp]
