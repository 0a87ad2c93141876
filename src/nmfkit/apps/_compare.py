"""nmfkit against scikit-learn on the same data, from the same initialization.

Three fits share one initial ``(W0, H0)``:

- ``nmfkit``: nmfkit's multiplicative updates with the course's penalties
  (``l1_W`` = lambda, ``l2_W`` = mu, ``l2_H`` = nu);
- ``scikit-learn``: ``sklearn.decomposition.NMF(solver="mu")`` without
  penalties (scikit-learn's single ``l1_ratio`` cannot express them);
- ``nmfkit check``: nmfkit with scikit-learn's exact settings (no penalty,
  W updated first), which must reproduce scikit-learn's dictionary.

Dictionaries are paired by :func:`nmfkit.matching.match_components`, and
every model is scored on the same penalized objective, the one nmfkit's fit
minimizes (:func:`nmfkit._objective.penalized_objective` with the course's
penalties): the final values in the table and every point of every
convergence curve.

Only nmfkit's penalized fit records that objective as it runs (its
``history_``). scikit-learn records nothing per iteration, and the
``check`` fit records its own, unpenalized objective. Their curves are
recomputed by :func:`objective_path`: the fit is replayed from the same
``(W0, H0)`` in warm-started chunks (``init="custom"`` with the previous
chunk's factors, ``tol=0`` so that no chunk stops early), and the shared
objective is evaluated on the factors after each chunk. A multiplicative
update depends on the current factors only, so the chunks retrace the
uninterrupted run, iterate for iterate; the replay's final factors are
checked against the fit's before the curve is used. This costs one extra
run plus one objective per point, and needs no callback from scikit-learn,
which offers none.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from .._init import initialize_factors
from .._objective import Penalties, penalized_objective, reconstruction_error
from ..matching import match_components
from ..sparsity import zero_share

__all__ = [
    "Comparison",
    "FitRecord",
    "compare_with_sklearn",
    "objective_path",
    "replay_points",
]

#: Largest relative difference between a replay's final factors and the fit's.
REPLAY_RTOL = 1e-7


@dataclass
class FitRecord:
    """One fitted model and how it did.

    Built by :func:`compare_with_sklearn`, one per fit.

    Attributes
    ----------
    label : str
        The model's name in tables and legends.
    W : ndarray of shape (n_samples, n_components)
        The fitted codes.
    H : ndarray of shape (n_components, n_features)
        The fitted dictionary.
    seconds : float
        Wall-clock time of the fit.
    n_iter : int
        Iterations the fit ran.
    reconstruction_error : float
        ``||X - W H||_F``.
    objective : float
        The comparison's shared penalized objective at ``(W, H)``.
    history : ndarray or None
        What the estimator recorded (its own objective; None for
        scikit-learn).
    curve : ndarray of shape (n_points, 3) or None
        Rows ``(iteration, seconds, objective)`` on the shared objective;
        None when it could not be recomputed.
    curve_note : str
        How ``curve`` was obtained, or why it is missing.
    model : estimator
        The fitted estimator itself (nmfkit's saves as ``model.npz``).

    See Also
    --------
    Comparison : Holds the records of one comparison.
    compare_with_sklearn : Makes them.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.apps import compare_with_sklearn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((12, 3)) @ rng.random((3, 8))
    >>> settings = dict(n_components=3, max_iter=30, curves=False)
    >>> comparison = compare_with_sklearn(X, **settings)
    >>> record = comparison.fits["sklearn"]
    >>> record.label, record.n_iter, record.curve is None
    ('scikit-learn MU', 30, True)
    >>> residual = np.linalg.norm(X - record.W @ record.H)
    >>> bool(np.isclose(record.reconstruction_error, residual))
    True
    """

    label: str
    W: np.ndarray
    H: np.ndarray
    seconds: float
    n_iter: int
    reconstruction_error: float
    objective: float
    history: np.ndarray | None = None
    curve: np.ndarray | None = None
    curve_note: str = ""
    model: object = None

    @property
    def zero_share(self):
        """Share of the entries of W that are exactly zero (in [0, 1])."""
        return zero_share(self.W)


@dataclass
class Comparison:
    """The fits of :func:`compare_with_sklearn` and their matchings.

    Attributes
    ----------
    settings : dict
        What every fit shared (``n_components``, ``init``, ``max_iter``,
        ``tol``, ``random_state``, ``solver``).
    penalties : Penalties
        The penalties of the shared objective (those of nmfkit's fit).
    fits : dict of str to FitRecord
        Keyed ``"nmfkit"``, ``"sklearn"`` and (with ``check``) ``"check"``.
    matches : dict of str to tuple
        ``matches[key] = (order, rows, similarities)`` of
        :func:`nmfkit.matching.match_components`: fit ``key``'s dictionary
        against scikit-learn's.

    See Also
    --------
    FitRecord : One fit.
    compare_with_sklearn : Makes a comparison.

    Examples
    --------
    nmfkit with scikit-learn's settings finds scikit-learn's dictionary:

    >>> import numpy as np
    >>> from nmfkit.apps import compare_with_sklearn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((12, 3)) @ rng.random((3, 8))
    >>> settings = dict(n_components=3, max_iter=30, curves=False)
    >>> comparison = compare_with_sklearn(X, **settings)
    >>> sorted(comparison.fits)
    ['check', 'nmfkit', 'sklearn']
    >>> order, rows, similarities = comparison.matches["check"]
    >>> bool(np.allclose(similarities, 1.0))
    True
    """

    settings: dict
    penalties: Penalties
    fits: dict = field(default_factory=dict)
    matches: dict = field(default_factory=dict)

    def summary_rows(self):
        """``(model, ||X - WH||_F, objective, seconds, iterations, zeros in W %)``.

        Returns
        -------
        rows : list of tuple
            One row per fit, in the order of ``fits``.

        See Also
        --------
        format_summary : Formats such rows for the terminal.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit.apps import compare_with_sklearn
        >>> rng = np.random.default_rng(0)
        >>> X = rng.random((12, 3)) @ rng.random((3, 8))
        >>> settings = dict(n_components=3, max_iter=30, curves=False)
        >>> comparison = compare_with_sklearn(X, **settings)
        >>> for row in comparison.summary_rows():
        ...     print(row[0], row[4])
        nmfkit MU, course penalties 30
        scikit-learn MU 30
        nmfkit MU, scikit-learn's settings 30
        """
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


def replay_points(n_iter, n_points=30):
    """Iterations at which a replayed curve is evaluated.

    About ``n_points`` integers from 0 to ``n_iter``: half evenly spaced,
    half geometrically (dense where the objective falls fastest), always
    with 0, 1 and ``n_iter``.

    Parameters
    ----------
    n_iter : int
        Iterations of the fit (at least 0).
    n_points : int, default=30
        About how many points to return.

    Returns
    -------
    points : ndarray of int
        Sorted, without repeats.

    Raises
    ------
    ValueError
        ``n_iter`` is negative.

    See Also
    --------
    objective_path : Evaluates a replayed fit at these points.

    Examples
    --------
    >>> from nmfkit.apps import replay_points
    >>> replay_points(10, n_points=6)
    array([ 0,  1,  3,  5, 10])
    >>> replay_points(0)
    array([0])
    """
    n_iter = int(n_iter)
    if n_iter < 0:
        raise ValueError(f"n_iter={n_iter} is not valid; give an integer >= 0.")
    if n_iter == 0:
        return np.array([0])
    half = max(2, n_points // 2)
    points = np.concatenate(
        (
            [0, 1, n_iter],
            np.linspace(0, n_iter, half),
            np.geomspace(1, n_iter, half),
        )
    )
    return np.unique(np.round(points).astype(int))


def objective_path(model, X, W0, H0, penalties=None, *, n_iter, points=None):
    """Replay a fit in warm-started chunks and score it on one objective.

    For an estimator whose iterations depend on the current factors only
    (multiplicative updates and plain HALS, in scikit-learn as in nmfkit),
    fitting ``m`` iterations from ``(W_k, H_k)`` gives the iterate
    ``k + m`` of the uninterrupted run. The path is made of such chunks,
    with ``tol=0`` so none stops early.

    Parameters
    ----------
    model : estimator
        With ``init="custom"``, ``max_iter`` and ``tol``; cloned for each
        chunk (it is not changed).
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    W0, H0 : ndarray
        The initial factors of the fit being replayed.
    penalties : Penalties, default=None
        The objective is :func:`~nmfkit._objective.penalized_objective` with
        these penalties (none when None).
    n_iter : int
        Iterations of the fit being replayed.
    points : sequence of int, default=None
        Iterations to evaluate (:func:`replay_points` when None).

    Returns
    -------
    rows : ndarray of shape (n_points, 2)
        ``(iteration, objective)``.
    W, H : ndarray
        The factors after ``n_iter`` iterations, to check against the fit.

    Raises
    ------
    ValueError
        ``model`` does not have ``init="custom"``, or a point lies outside
        ``[0, n_iter]``.
    RuntimeError
        A chunk ran fewer iterations than asked: the estimator cannot be
        replayed in chunks.

    See Also
    --------
    replay_points : The default points.
    compare_with_sklearn : Draws the curves of the fits it compares.

    Examples
    --------
    Replaying scikit-learn's multiplicative updates in chunks ends at the
    factors of the uninterrupted fit:

    >>> import numpy as np
    >>> from sklearn.decomposition import NMF
    >>> from nmfkit.apps import objective_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((12, 3)) @ rng.random((3, 8))
    >>> W0, H0 = rng.random((12, 2)), rng.random((2, 8))
    >>> model = NMF(n_components=2, init="custom", solver="mu", max_iter=20, tol=0)
    >>> W = model.fit_transform(X, W=W0.copy(), H=H0.copy())
    >>> rows, W_replay, H_replay = objective_path(model, X, W0, H0, n_iter=20,
    ...                                           points=[0, 5, 20])
    >>> rows[:, 0]
    array([ 0.,  5., 20.])
    >>> bool(np.allclose(W_replay, W)), bool(np.allclose(H_replay, model.components_))
    (True, True)
    >>> objective = 0.5 * np.linalg.norm(X - W @ model.components_) ** 2
    >>> bool(np.isclose(rows[-1, 1], objective))
    True
    """
    if model.get_params().get("init") != "custom":
        raise ValueError(
            "objective_path replays a fit from given factors; build the model "
            "with init='custom'."
        )
    points = replay_points(n_iter) if points is None else np.unique(points)
    if points.size == 0 or points[0] < 0 or points[-1] > n_iter:
        raise ValueError(f"points must lie in [0, {n_iter}], got {points}.")
    W, H = np.array(W0), np.array(H0)
    rows, done = [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # ConvergenceWarning
        for k in np.unique(np.append(points, n_iter)):
            if k > done:
                chunk = clone(model).set_params(max_iter=int(k - done), tol=0.0)
                W = chunk.fit_transform(X, W=W.copy(), H=H.copy())
                H = chunk.components_
                if chunk.n_iter_ != k - done:
                    raise RuntimeError(
                        f"a replayed chunk ran {chunk.n_iter_} of {k - done} "
                        "iterations; the estimator cannot be replayed in chunks."
                    )
                done = int(k)
            if k in points:
                rows.append((k, float(penalized_objective(X, W, H, penalties))))
    return np.array(rows, dtype=np.float64), W, H


def _relative_gap(A, B):
    """``||A - B||_F / ||B||_F`` (0 when both are zero)."""
    scale = float(np.linalg.norm(B))
    diff = float(np.linalg.norm(np.asarray(A) - np.asarray(B)))
    return diff / scale if scale > 0 else diff


def _curve(record, model, X, W0, H0, penalties, *, records_shared, replay=True):
    """``(curve, note)`` of a fitted record on the shared objective."""
    if records_shared and record.history is not None:
        recorded = record.history[-1, 2]
        if abs(recorded - record.objective) <= REPLAY_RTOL * abs(record.objective):
            return record.history, "recorded by nmfkit at every iteration"
    if not replay:
        return None, "not shown: its curve was not recomputed (curves=False)"
    try:
        rows, W, H = objective_path(model, X, W0, H0, penalties, n_iter=record.n_iter)
    except (RuntimeError, ValueError) as error:
        return None, f"not shown: {error}"
    gap = max(_relative_gap(W, record.W), _relative_gap(H, record.H))
    if gap > REPLAY_RTOL:
        return None, (
            f"not shown: replaying the fit ended at objective {rows[-1, 1]:.6g}, "
            f"not at the fit's {record.objective:.6g} (factors differ by "
            f"{gap:.2g} relative)"
        )
    iterations = rows[:, 0].astype(int)
    if record.history is not None:  # nmfkit timed every iteration
        seconds = record.history[iterations, 1]
        note = "recomputed from the replayed factors at the points shown"
    else:
        seconds = iterations * (record.seconds / max(record.n_iter, 1))
        note = (
            "recomputed from the replayed factors at the points shown; seconds "
            "spread the run's time evenly over its iterations (scikit-learn "
            "records no time per iteration)"
        )
    return np.column_stack([rows[:, 0], seconds, rows[:, 1]]), note


def _fit(
    label, model, X, W0, H0, penalties, *, records_shared=False, replay=True,
    progress=None,
):  # fmt: skip
    """Fit from ``(W0, H0)`` and score on the shared penalized objective.

    ``records_shared``: the model minimizes exactly ``penalties``, so its own
    ``history_`` is already on the shared objective. ``progress``: its
    per-iteration bar shows nmfkit's fits (:meth:`Progress.watch`).

    The fits' ConvergenceWarning is left to the callers (they word it as
    every command does, from ``n_iter``); a fit interrupted by Ctrl-C (which
    would keep its factors, :class:`~nmfkit._fit_runner.FitInterruptedWarning`)
    raises :class:`KeyboardInterrupt`: an interrupted fit is never compared
    as if it had finished. Other warnings are issued again.
    """
    from sklearn.exceptions import ConvergenceWarning

    from .._fit_runner import FitInterruptedWarning

    unfitted = clone(model)
    watch = progress.watch(model, label) if progress is not None else _no_progress()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        with watch:
            W = model.fit_transform(X, W=W0.copy(), H=H0.copy())
        seconds = time.perf_counter() - start
    if any(issubclass(w.category, FitInterruptedWarning) for w in caught):
        raise KeyboardInterrupt(f"{label} was interrupted")
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    H = model.components_
    record = FitRecord(
        label=label,
        W=W,
        H=H,
        seconds=seconds,
        n_iter=int(model.n_iter_),
        reconstruction_error=float(reconstruction_error(X, W, H)),
        objective=float(penalized_objective(X, W, H, penalties)),
        history=getattr(model, "history_", None),
        model=model,
    )
    record.curve, record.curve_note = _curve(
        record,
        unfitted,
        X,
        W0,
        H0,
        penalties,
        records_shared=records_shared,
        replay=replay,
    )
    return record


@contextlib.contextmanager
def _no_progress():
    yield


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
    curves=True,
    progress=None,
):
    """Fit nmfkit and scikit-learn from one initialization and compare them.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The non-negative data.
    n_components : int
        The rank of every fit.
    l1_W, l2_W, l2_H : float
        The course's lambda, mu and nu for nmfkit's fit.
    init : str, default="nndsvda"
        How the shared ``(W0, H0)`` is made.
    max_iter, tol : int, float
        Shared by all fits.
    random_state : int, default=0
        Seed of the shared initialization.
    check : bool, default=True
        Also fit nmfkit with scikit-learn's settings.
    curves : bool, default=True
        Recompute the convergence curves of the fits that do not record the
        shared objective (:func:`objective_path`: about one more run of each
        and one objective per point). When False, only nmfkit's penalized fit
        has a curve.
    progress : Progress, default=None
        Shows each fit as a stage and its iterations (nothing when None).

    Returns
    -------
    comparison : Comparison
        ``fits`` keyed ``"nmfkit"``, ``"sklearn"``, ``"check"``, each with
        its ``curve`` on the shared penalized objective;
        ``matches[name] = (order, rows, similarities)`` of that fit's
        dictionary against scikit-learn's.

    Raises
    ------
    KeyboardInterrupt
        A fit was interrupted (an interrupted fit is never compared).

    See Also
    --------
    objective_path : How the curves of scikit-learn's fit are recomputed.
    nmfkit.matching.match_components : How the dictionaries are paired.
    run_faces : The faces command built on it.
    run_topics : The topics command built on it.

    Examples
    --------
    On a penalty-free comparison every fit reaches the same objective:

    >>> import numpy as np
    >>> from nmfkit.apps import compare_with_sklearn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((12, 3)) @ rng.random((3, 8))
    >>> settings = dict(n_components=3, max_iter=30, curves=False)
    >>> comparison = compare_with_sklearn(X, **settings)
    >>> objectives = [record.objective for record in comparison.fits.values()]
    >>> bool(np.allclose(objectives, objectives[0]))
    True
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
    records_shared = {"nmfkit"}  # minimizes exactly the shared objective
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
        comparison.fits[key] = _fit(
            label,
            model,
            X,
            W0,
            H0,
            penalties,
            records_shared=key in records_shared,
            replay=curves,
            progress=progress,
        )
    reference = comparison.fits["sklearn"].H
    for key in comparison.fits:
        if key != "sklearn":
            comparison.matches[key] = match_components(
                comparison.fits[key].H, reference
            )
    return comparison
