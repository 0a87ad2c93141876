"""nmfkit: non-negative matrix factorization, a faster and complete drop-in
for scikit-learn's NMF."""

from ._minibatch import MiniBatchNMF
from ._nmf import NMF, non_negative_factorization
from ._rank import RankSelection, select_rank
from .reliability._checkpoint import CheckpointWarning
from .reliability._fit_runner import FitInterruptedWarning
from .reliability._persistence import ModelFileError, load

__version__ = "0.1.0"

__all__ = [
    "NMF",
    "MiniBatchNMF",
    "CheckpointWarning",
    "FitInterruptedWarning",
    "ModelFileError",
    "load",
    "non_negative_factorization",
    "RankSelection",
    "select_rank",
    "__version__",
]
