"""nmfkit: non-negative matrix factorization, a faster and complete drop-in
for scikit-learn's NMF."""

from ._minibatch import MiniBatchNMF
from ._nmf import NMF, non_negative_factorization

__version__ = "0.1.0"

__all__ = ["NMF", "MiniBatchNMF", "non_negative_factorization", "__version__"]
