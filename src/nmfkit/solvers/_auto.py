"""``solver="auto"``: choose the algorithm from the data.

For the Frobenius loss ``auto`` runs HALS with Gillis and Glineur's inner
loops and Ang and Gillis's extrapolation, for dense and sparse X alike. In
``benchmarks/bench_solvers.py`` (two initializations per case, CPU time) it
reached the target first, or tied, on Olivetti faces (ranks 10 and 50), on
the synthetic matrix (ranks 10 and 30) and on 20 Newsgroups at rank 10; on
20 Newsgroups at rank 50 it missed the 1e-5 target in 20 s on both
initializations, where HALS with extrapolation alone reached it (the
solvers there settle on different stationary points). Two initializations
cannot separate those two configurations on sparse data, so the rule stays
one configuration until a longer benchmark does. Options the user sets
explicitly (``inner_iter``, ``extrapolate``) are kept. Other losses use the
multiplicative updates.
"""

from __future__ import annotations

from ._alternating import fit_alternating

__all__ = ["choose_frobenius", "fit_auto"]


def choose_frobenius(X, n_components, *, inner_iter=None, extrapolate=None):
    """The configuration ``solver="auto"`` runs for the Frobenius loss.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    n_components : int
    inner_iter, extrapolate : optional
        Explicit user choices, kept when not None.

    Returns
    -------
    config : dict
        ``rule``, ``inner_iter`` and ``extrapolate`` for
        :func:`~nmfkit.solvers._alternating.fit_alternating`.
    """
    return {
        "rule": "hals",
        "inner_iter": "auto" if inner_iter is None else inner_iter,
        "extrapolate": True if extrapolate is None else bool(extrapolate),
    }


def fit_auto(
    X,
    W,
    H,
    penalties,
    *,
    monitor,
    update_H=True,
    update_order="HW",
    inner_iter=None,
    inner_tol=0.1,
    extrapolate=None,
    shuffle=False,
    random_state=None,
    l1_placement="numerator",
):
    """Run the configuration :func:`choose_frobenius` picks for X.

    Returns
    -------
    result : SolverResult
        ``info["config"]`` names what ran.
    """
    config = choose_frobenius(
        X, H.shape[0], inner_iter=inner_iter, extrapolate=extrapolate
    )
    result = fit_alternating(
        X,
        W,
        H,
        penalties,
        monitor=monitor,
        update_H=update_H,
        update_order=update_order,
        inner_tol=inner_tol,
        shuffle=shuffle,
        random_state=random_state,
        l1_placement=l1_placement,
        **config,
    )
    result.info["config"] = config
    return result
