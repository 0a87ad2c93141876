"""A synthetic single-cell-like count matrix with planted gene programs."""

from __future__ import annotations

import numpy as np
from sklearn.utils import Bunch

from .._typing import RandomStateLike

__all__ = ["make_planted_programs"]


def make_planted_programs(
    n_samples: int = 300,
    n_features: int = 200,
    n_programs: int = 5,
    *,
    counts_per_sample: float = 2000.0,
    activity: float = 0.15,
    random_state: RandomStateLike = None,
) -> Bunch:
    """Poisson counts of cells that mix planted, nearly disjoint programs.

    A synthetic stand-in for single-cell RNA-seq (it is not real data): each
    program is a distribution over the features (genes) that puts 95% of its
    weight on its own block of ``n_features // n_programs`` genes (Gamma(2)
    weights) and 5% spread over all genes. Every sample (cell) has one
    identity program with usage 1 and, with probability ``activity`` per
    program, an extra activity of the others (usage uniform in [0.2, 0.6]);
    its usages are scaled to sum 1 and its counts drawn as
    ``Poisson(counts_per_sample * usages @ programs)``.

    Parameters
    ----------
    n_samples : int, default=300
    n_features : int, default=200
        At least ``n_programs``.
    n_programs : int, default=5
    counts_per_sample : float, default=2000.0
        Expected total count of every sample (its library size).
    activity : float, default=0.15
        Probability that a sample also uses a given other program.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    data : Bunch
        ``X`` (float64 counts, n_samples x n_features), ``programs``
        (n_programs x n_features, rows sum to 1) and ``usages`` (n_samples x
        n_programs, rows sum to 1) with ``X ~ Poisson(counts_per_sample *
        usages @ programs)``, and ``identity`` (each sample's identity
        program).

    Raises
    ------
    ValueError
        For sizes below 1, fewer features than programs, ``activity``
        outside [0, 1] or a non-positive ``counts_per_sample``.

    See Also
    --------
    consensus_nmf : Recovers the programs from ``X``.
    nmfkit.matching.match_components : Pairs the recovered and the planted.

    Examples
    --------
    >>> from nmfkit.consensus import make_planted_programs
    >>> data = make_planted_programs(50, 40, 4, random_state=0)
    >>> data.X.shape, data.programs.shape, data.usages.shape
    ((50, 40), (4, 40), (50, 4))
    """
    from sklearn.utils import check_random_state

    for name, value in (
        ("n_samples", n_samples),
        ("n_features", n_features),
        ("n_programs", n_programs),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{name}={value!r} is not valid; give an integer >= 1.")
    if n_features < n_programs:
        raise ValueError(
            f"n_features={n_features} is less than n_programs={n_programs}; every "
            "program needs its own genes."
        )
    if not 0 <= activity <= 1:
        raise ValueError(f"activity={activity!r} is not valid; give a probability.")
    if not counts_per_sample > 0:
        raise ValueError(
            f"counts_per_sample={counts_per_sample!r} is not valid; give a number > 0."
        )
    rng = check_random_state(random_state)
    block = n_features // n_programs
    programs = np.full((n_programs, n_features), 0.05 / n_features)
    for k in range(n_programs):
        genes = slice(k * block, (k + 1) * block)
        weights = rng.gamma(2.0, size=block)
        programs[k, genes] += 0.95 * weights / weights.sum()
    programs /= programs.sum(axis=1, keepdims=True)
    identity = rng.randint(n_programs, size=n_samples)
    usages = np.where(
        rng.random_sample((n_samples, n_programs)) < activity,
        rng.uniform(0.2, 0.6, size=(n_samples, n_programs)),
        0.0,
    )
    usages[np.arange(n_samples), identity] = 1.0
    usages /= usages.sum(axis=1, keepdims=True)
    X = rng.poisson(counts_per_sample * usages @ programs).astype(np.float64)
    return Bunch(X=X, programs=programs, usages=usages, identity=identity)
