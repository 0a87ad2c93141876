"""Optional dependencies, imported only when a feature needs them.

The core of nmfkit needs NumPy, SciPy and scikit-learn alone. The
applications (image and text loaders, plots, progress bars, coherence checks
against gensim) use heavier packages that the ``apps`` extra installs:
``pip install "nmfkit[apps]"``.
"""

from __future__ import annotations

import importlib

__all__ = ["MissingDependencyError", "import_optional"]

#: The pip distribution of each importable module, where the names differ.
_DISTRIBUTIONS = {"PIL": "pillow", "skimage": "scikit-image"}


class MissingDependencyError(ImportError):
    """An optional package that a feature needs is not installed."""


def import_optional(module, *, purpose, extra="apps"):
    """Import ``module`` or raise an error that says how to install it.

    Parameters
    ----------
    module : str
        Dotted module name, for example ``"matplotlib.figure"``.
    purpose : str
        What needs it, for the message ("plots", "reading images").
    extra : str, default="apps"
        The nmfkit extra that installs it.

    Returns
    -------
    module : module

    Raises
    ------
    MissingDependencyError
        The package is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        dist = _DISTRIBUTIONS.get(top, top)
        raise MissingDependencyError(
            f"{purpose} needs the package '{dist}', which is not installed; "
            f'install it with: pip install "nmfkit[{extra}]" (or pip install {dist}).'
        ) from exc
