"""nmfkit: non-negative matrix factorization, a faster and complete drop-in
for scikit-learn's NMF.

The public names are imported on first use (PEP 562), so that ``import
nmfkit`` (and ``nmfkit --help``) does not pay for NumPy, SciPy and
scikit-learn; the first access to any of them imports the estimators, the
model files and the rank selection together, as an eager import did.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "CheckpointWarning": ".reliability._checkpoint",
    "FitInterruptedWarning": ".reliability._fit_runner",
    "MiniBatchNMF": "._minibatch",
    "NMF": "._nmf",
    "non_negative_factorization": "._nmf",
    "ModelFileError": ".reliability._persistence",
    "load": ".reliability._persistence",
    "RankSelection": "._rank",
    "select_rank": "._rank",
    "RatingsNMF": ".recommend",
}

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
    "RatingsNMF",
    "__version__",
]


def _import_all():
    # Every module at once: ``load`` needs the estimator classes registered.
    for name, module in _EXPORTS.items():
        globals()[name] = getattr(importlib.import_module(module, __name__), name)


def __getattr__(name):
    if name in _EXPORTS:
        _import_all()
        return globals()[name]
    raise AttributeError(f"module 'nmfkit' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
