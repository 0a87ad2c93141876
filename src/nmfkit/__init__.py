"""nmfkit: non-negative matrix factorization, a faster and complete drop-in
for scikit-learn's NMF."""

from ._nmf import NMF, non_negative_factorization

__version__ = "0.1.0"

__all__ = ["NMF", "non_negative_factorization", "__version__"]
