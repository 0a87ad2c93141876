"""nmfkit against scikit-learn on the same data, from the same initialization.

Three fits share one initial ``(W0, H0)``:

- ``nmfkit``: nmfkit's multiplicative updates with the course's penalties
  (``l1_W`` = lambda, ``l2_W`` = mu, ``l2_H`` = nu);
- ``scikit-learn``: ``sklearn.decomposition.NMF(solver="mu")`` without
  penalties (scikit-learn's single ``l1_ratio`` cannot express them);
- ``nmfkit check``: nmfkit with scikit-learn's exact settings (no penalty,
  W updated first), which must reproduce scikit-learn's dictionary.

Dictionaries are paired by :func:`nmfkit.matching.match_components`, and
every model is scored on the same penalized objective.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .._init import initialize_factors
from .._objective import Penalties, penalized_objective, reconstruction_error
from ..matching import match_components
from ..sparsity import zero_share

__all__ = ["Comparison", "FitRecord", "compare_with_sklearn"]


@dataclass
class FitRecord:
    """One fitted model and how it did."""

    label: str
    W: np.ndarray
    H: np.ndarray
    seconds: float
    n_iter: int
    reconstruction_error: float
    objective: float
    history: np.ndarray | None = None

    @property
    def zero_share(self):
        return zero_share(self.W)


@dataclass
class Comparison:
    """The fits of :func:`compare_with_sklearn` and their matchings."""

    settings: dict
    penalties: Penalties
    fits: dict = field(default_factory=dict)
    matches: dict = field(default_factory=dict)

    def summary_rows(self):
        """``(model, ||X - WH||_F, objective, seconds, iterations, zeros in W %)``."""
        return [
            (
                r.label,
                r.reconstruction_error,
                r.objective,
                r.seconds,
                r.n_iter,
                100 * r.zero_share,
            )
            for r in self.fits.values()
        ]


def _fit(label, model, X, W0, H0, penalties):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # ConvergenceWarning
        start = time.perf_counter()
        W = model.fit_transform(X, W=W0.copy(), H=H0.copy())
        seconds = time.perf_counter() - start
    H = model.components_
    return FitRecord(
        label=label,
        W=W,
        H=H,
        seconds=seconds,
        n_iter=int(model.n_iter_),
        reconstruction_error=float(reconstruction_error(X, W, H)),
        objective=float(penalized_objective(X, W, H, penalties)),
        history=getattr(model, "history_", None),
    )


def compare_with_sklearn(
    X,
    *,
    n_components,
    l1_W=0.0,
    l2_W=0.0,
    l2_H=0.0,
    init="nndsvda",
    max_iter=200,
    tol=1e-4,
    random_state=0,
    check=True,
    progress=None,
):
    """Fit nmfkit and scikit-learn from one initialization and compare them.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    n_components : int
    l1_W, l2_W, l2_H : float
        The course's lambda, mu and nu for nmfkit's fit.
    init : str, default="nndsvda"
        How the shared ``(W0, H0)`` is made.
    max_iter, tol : int, float
        Shared by all fits.
    random_state : int, default=0
    check : bool, default=True
        Also fit nmfkit with scikit-learn's settings.
    progress : Progress, default=None

    Returns
    -------
    comparison : Comparison
        ``fits`` keyed ``"nmfkit"``, ``"sklearn"``, ``"check"``;
        ``matches[name] = (order, rows, similarities)`` of that fit's
        dictionary against scikit-learn's.
    """
    from sklearn.decomposition import NMF as SklearnNMF

    from .. import NMF

    penalties = Penalties(l1_W=l1_W, l2_W=l2_W, l2_H=l2_H)
    settings = dict(
        n_components=n_components,
        init=init,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
        solver="mu",
    )
    comparison = Comparison(settings=settings, penalties=penalties)
    W0, H0 = initialize_factors(X, n_components, init, random_state=random_state)
    shared = dict(n_components=n_components, init="custom", max_iter=max_iter, tol=tol)
    runs = [
        (
            "nmfkit",
            "nmfkit MU, course penalties",
            NMF(solver="mu", l1_W=l1_W, l2_W=l2_W, l2_H=l2_H, **shared),
        ),
        ("sklearn", "scikit-learn MU", SklearnNMF(solver="mu", **shared)),
    ]
    if check:
        runs.append(
            (
                "check",
                "nmfkit MU, scikit-learn's settings",
                NMF(
                    solver="mu", update_order="WH", l1_placement="denominator", **shared
                ),
            )
        )
    for key, label, model in runs:
        if progress is not None:
            progress.step(f"fitting {label}")
        comparison.fits[key] = _fit(label, model, X, W0, H0, penalties)
    reference = comparison.fits["sklearn"].H
    for key in comparison.fits:
        if key != "sklearn":
            comparison.matches[key] = match_components(
                comparison.fits[key].H, reference
            )
    return comparison
