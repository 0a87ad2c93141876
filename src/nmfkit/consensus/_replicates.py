"""The replicate fits of one rank: the one place a batched engine replaces.

:func:`fit_replicates` runs ``n_replicates`` independent :class:`nmfkit.NMF`
fits of X at one rank, from random starts whose seeds derive from one seed,
and keeps only their dictionaries (``components_``), their final objectives
and how many stopped at ``max_iter``. Consensus NMF needs nothing else from
the fits. The replicates run together through the batched engine
(:mod:`nmfkit._batched_fits`), which shares every pass over X between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._rank import _make_nmf, _quiet_fit_many

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
    *,
    batched: bool = True,
    max_batch: int | None = None,
    **nmf_params: Any,
) -> Replicates:
    """Fit ``n_replicates`` NMF models of rank ``rank`` from random starts.

    The replicates share X: they run together through the batched driver
    (:func:`~nmfkit._batched_fits.fit_transform_batched`, one pass over X
    per step for all of them) where it applies (complete data, the
    Frobenius loss, HALS or MU; see that module for what is not batched),
    otherwise one after another. The results are the same to rounding.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Validated non-negative data (not copied, not densified).
    rank : int
    n_replicates : int
    random_state : int
        Seed of the replicates' seeds (:func:`replicate_seeds`).
    batched : bool, default=True
        False fits the replicates one after another.
    max_batch : int or None, default=None
        Largest number of replicates run together (memory: about
        ``max_batch x (n_samples + n_features) x rank`` numbers per copy of
        the factors); None: as many as
        :data:`~nmfkit._batched_fits.BATCH_BYTES` allow, and for a sparse X
        as one stacked product takes
        (:func:`~nmfkit._batched_fits.default_max_batch`).
    **nmf_params
        Parameters of :class:`nmfkit.NMF` (``init="random"`` unless given).
        Their ConvergenceWarning is counted in ``n_unconverged``, not issued.

    Returns
    -------
    Replicates
    """
    seeds = replicate_seeds(random_state, n_replicates)
    models = [_make_nmf(rank, int(seed), nmf_params) for seed in seeds]
    _, stopped = _quiet_fit_many(models, X, batched=batched, max_batch=max_batch)
    return Replicates(
        components=np.stack([model.components_ for model in models]),
        seeds=seeds,
        losses=np.asarray([float(model.loss_) for model in models]),
        n_unconverged=int(sum(stopped)),
    )
