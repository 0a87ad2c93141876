"""Words every command uses alike: the convergence warning and the loss's name."""

from __future__ import annotations

import math

__all__ = [
    "collect_warnings",
    "convergence_note",
    "data_fit",
    "rank_note",
]


def convergence_note(label, n_iter, max_iter, tol, history=None):
    """The one text of every command for a fit stopped by ``--max-iter``.

    Parameters
    ----------
    label : str
        The fit ("nmfkit MU, course penalties", "the fit").
    n_iter, max_iter : int
    tol : float
    history : array of shape (n_iter + 1, 3), optional
        ``(iteration, seconds, objective)`` rows: gives the last decrease.

    Returns
    -------
    note : str or None
        None when the fit stopped before ``max_iter`` or ``tol`` is 0.
    """
    if tol <= 0 or n_iter < max_iter:
        return None
    last = ""
    if history is not None and len(history) >= 2:
        previous, current = float(history[-2][2]), float(history[-1][2])
        if previous > 0 and math.isfinite(previous) and math.isfinite(current):
            last = f" (last relative decrease {(previous - current) / previous:.2g})"
    return (
        f"{label} stopped at --max-iter {max_iter} before the objective's relative "
        f"decrease fell below --tol {tol:g}{last}; raise --max-iter for a converged "
        "fit"
    )


def rank_note(rank, shape):
    """A warning for a rank above ``min(n, p)``, or None."""
    smallest = min(shape)
    if rank <= smallest:
        return None
    return (
        f"--rank {rank} is more than min(rows, columns) = {smallest} of the "
        f"{shape[0]} x {shape[1]} matrix: it can be fitted exactly with "
        f"{smallest} components, the extra ones only split them; give --rank "
        f"{smallest} or less"
    )


def data_fit(beta, reconstruction_err):
    """The data term's name and value for ``beta_loss`` (a float).

    ``reconstruction_err`` is the estimator's ``reconstruction_err_``,
    ``sqrt(2 D_beta(X | WH))``: for the Frobenius loss that is
    ``||X - WH||_F``; for the other losses the divergence itself,
    ``reconstruction_err ** 2 / 2``, is reported under its own name.
    """
    if beta == 2:
        return "||X - WH||_F", float(reconstruction_err)
    if beta == 1:
        name = "KL divergence D(X || WH)"
    elif beta == 0:
        name = "Itakura-Saito divergence D(X || WH)"
    else:
        name = f"beta-divergence D_{beta:g}(X || WH)"
    return name, float(reconstruction_err) ** 2 / 2


def collect_warnings(caught, *, skip=()):
    """First lines of the caught warnings, without repeats or ``skip`` categories."""
    notes = []
    for w in caught:
        if skip and issubclass(w.category, skip):
            continue
        line = str(w.message).splitlines()[0] if str(w.message) else ""
        if line and line not in notes:
            notes.append(line)
    return notes
