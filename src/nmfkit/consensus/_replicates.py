"""The replicate fits of one rank: the one place a batched engine replaces.

:func:`fit_replicates` runs ``n_replicates`` independent :class:`nmfkit.NMF`
fits of X at one rank, from random starts whose seeds derive from one seed,
and keeps only their dictionaries (``components_``), their final objectives
and how many stopped at ``max_iter``. Consensus NMF needs nothing else from
the fits, so an engine that runs the replicates together (sharing the
passes over X) can take its place without changing the callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rank import _make_nmf, _quiet_fit

__all__ = ["Replicates", "fit_replicates", "replicate_seeds"]


@dataclass
class Replicates:
    """The dictionaries of the replicate fits of one rank.

    Attributes
    ----------
    components : ndarray of shape (n_replicates, rank, n_features)
        ``components[i]`` is the ``components_`` of replicate ``i``.
    seeds : ndarray of int of shape (n_replicates,)
        The ``random_state`` of every replicate.
    losses : ndarray of shape (n_replicates,)
        The final objective (``loss_``) of every replicate.
    n_unconverged : int
        Replicates stopped at ``max_iter`` before reaching ``tol``.
    """

    components: np.ndarray
    seeds: np.ndarray
    losses: np.ndarray
    n_unconverged: int


def replicate_seeds(random_state: int, n_replicates: int) -> np.ndarray:
    """The seeds of ``n_replicates`` fits, drawn from the integer ``random_state``."""
    rng = np.random.RandomState(random_state)
    return rng.randint(np.iinfo(np.int32).max, size=n_replicates)


def fit_replicates(
    X: Any,
    rank: int,
    n_replicates: int,
    random_state: int,
    **nmf_params: Any,
) -> Replicates:
    """Fit ``n_replicates`` NMF models of rank ``rank`` from random starts.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Validated non-negative data (not copied, not densified).
    rank : int
    n_replicates : int
    random_state : int
        Seed of the replicates' seeds (:func:`replicate_seeds`).
    **nmf_params
        Parameters of :class:`nmfkit.NMF` (``init="random"`` unless given).
        Their ConvergenceWarning is counted in ``n_unconverged``, not issued.

    Returns
    -------
    Replicates
    """
    seeds = replicate_seeds(random_state, n_replicates)
    tally = [0, 0]
    components, losses = [], []
    for seed in seeds:
        model = _make_nmf(rank, int(seed), nmf_params)
        _quiet_fit(model, X, tally)
        components.append(model.components_)
        losses.append(float(model.loss_))
    return Replicates(
        components=np.stack(components),
        seeds=seeds,
        losses=np.asarray(losses),
        n_unconverged=int(tally[0]),
    )
