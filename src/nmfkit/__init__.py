"""nmfkit: non-negative matrix factorization, a faster and complete drop-in
for scikit-learn's NMF."""

from ._checkpoint import CheckpointWarning
from ._fit_runner import FitInterruptedWarning
from ._minibatch import MiniBatchNMF
from ._nmf import NMF, non_negative_factorization
from ._persistence import ModelFileError, load
from ._rank import RankSelection, select_rank

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
