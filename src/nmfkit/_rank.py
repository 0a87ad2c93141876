"""Choosing the rank: cross-validation on held-out entries, consensus, measures.

:func:`select_rank` fits every candidate rank and scores it by one or both
methods:

``"cv"``
    The entries of X are split at random into ``n_folds`` folds. For each fold
    the entries of that fold are hidden, a masked NMF (which fits only the
    observed entries) is fitted to the rest and predicts the hidden ones; the
    score is the root mean squared error on the hidden entries, averaged over
    folds, with its standard error. The chosen rank follows the
    one-standard-error rule: the smallest rank whose mean error is within one
    standard error of the lowest mean error.

``"consensus"``
    ``n_runs`` fits from random initializations; each run assigns every sample
    to its dominant component (``argmax`` of its row of W); the consensus
    matrix is the fraction of runs in which two samples share it. Its
    cophenetic correlation (Brunet et al. 2004) and dispersion (Kim and Park
    2007) measure how stable the clustering is. The chosen rank follows
    Brunet et al.: the last rank before the cophenetic correlation first
    decreases; where two neighbouring ranks have the same cophenetic
    correlation (to within rounding, typically both 1), a decrease of the
    dispersion counts instead.

For every rank it also reports the objective, the explained variance and the
Hoyer sparseness of W and H of its best fit.

The fits of X itself (every rank's best-of-``n_runs`` fits, all ranks
together) share X and run batched, one pass over X per step for all
(:mod:`nmfkit._batched_fits`; the same fits as one after another, to
rounding). The cross-validation fits run one after another: they fit
partially observed matrices, and batching would share nothing of their
passes. Their default solver (masked HALS, :mod:`nmfkit.solvers._masked_hals`)
updates every component from the fit's own residual at the observed entries
and never forms a product with X; masked MU forms one, ``H (M * X)^T``, beside
two products of its own model (``W H`` at the observed entries and its
product with H), so the fits of one fold (every rank) could share at most a
third of their work.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._quality import (
    connectivity_matrix,
    consensus_dispersion,
    cophenetic_correlation,
    explained_variance,
    hoyer_sparseness,
)
from ._typing import MatrixLike, RandomStateLike
from ._validation import check_data, check_finite_output

__all__ = ["RankSelection", "select_rank"]

METHODS = ("cv", "consensus")


@dataclass
class RankSelection:
    """The result of :func:`select_rank`.

    Attributes
    ----------
    ranks : list of int
        The candidate ranks, in increasing order.
    best_rank : int
        The rank chosen by the first method in ``methods``.
    best_rank_by : dict
        The rank chosen by each method.
    scores : dict
        ``scores[rank][name]`` for every measure: ``"objective"``,
        ``"explained_variance"``, ``"sparseness_W"``, ``"sparseness_H"``, and
        with ``"cv"``: ``"cv_rmse"``, ``"cv_se"``, ``"cv_fold_rmse"``; with
        ``"consensus"``: ``"cophenetic"``, ``"dispersion"``.
    consensus : dict
        ``consensus[rank]``: the consensus matrix (with ``"consensus"``).
    methods : tuple of str
    unconverged : dict
        ``unconverged[rank] = (n_stopped, n_fits)``: how many of the rank's
        fits stopped at ``max_iter`` before reaching ``tol`` (their
        ConvergenceWarning is not issued: one summary is enough for many
        fits), for the ranks where some did.

    See Also
    --------
    select_rank : The function that returns it.
    nmfkit.plotting.plot_rank_scores : Plot its scores against the rank.

    Examples
    --------
    Usually returned by :func:`select_rank`; made by hand here:

    >>> from nmfkit import RankSelection
    >>> result = RankSelection(
    ...     ranks=[1, 2],
    ...     best_rank=2,
    ...     best_rank_by={"cv": 2},
    ...     scores={
    ...         1: {"cv_rmse": 0.5, "cv_se": 0.1},
    ...         2: {"cv_rmse": 0.1, "cv_se": 0.02},
    ...     },
    ...     methods=("cv",),
    ... )
    >>> result.best_rank, result.table()[1]
    (2, {'rank': 2, 'cv_rmse': 0.1, 'cv_se': 0.02})
    """

    ranks: list
    best_rank: int
    best_rank_by: dict
    scores: dict
    methods: tuple
    consensus: dict = field(default_factory=dict)
    unconverged: dict = field(default_factory=dict)

    def table(self):
        """One dict per rank with every scalar measure, for display.

        Returns
        -------
        list of dict
            ``{"rank": rank, measure: value, ...}`` for every rank, in order;
            array-valued measures (such as ``"cv_fold_rmse"``) are left out.

        See Also
        --------
        to_markdown : The same table as Markdown.

        Examples
        --------
        >>> from nmfkit import RankSelection
        >>> result = RankSelection(
        ...     ranks=[1, 2],
        ...     best_rank=2,
        ...     best_rank_by={"cv": 2},
        ...     scores={
        ...         1: {"cv_rmse": 0.5, "cv_se": 0.1},
        ...         2: {"cv_rmse": 0.1, "cv_se": 0.02},
        ...     },
        ...     methods=("cv",),
        ... )
        >>> for row in result.table():
        ...     print(row)
        {'rank': 1, 'cv_rmse': 0.5, 'cv_se': 0.1}
        {'rank': 2, 'cv_rmse': 0.1, 'cv_se': 0.02}
        """
        rows = []
        for rank in self.ranks:
            row = {"rank": rank}
            row.update({k: v for k, v in self.scores[rank].items() if np.isscalar(v)})
            rows.append(row)
        return rows

    def to_markdown(self):
        """The table as Markdown, the chosen rank marked with ``*``.

        Returns
        -------
        str
            A Markdown table, one row per rank, values with 4 significant digits.

        See Also
        --------
        table : The same values as dicts.

        Examples
        --------
        >>> from nmfkit import RankSelection
        >>> result = RankSelection(
        ...     ranks=[1, 2],
        ...     best_rank=2,
        ...     best_rank_by={"cv": 2},
        ...     scores={
        ...         1: {"cv_rmse": 0.5, "cv_se": 0.1},
        ...         2: {"cv_rmse": 0.1, "cv_se": 0.02},
        ...     },
        ...     methods=("cv",),
        ... )
        >>> print(result.to_markdown())
        | rank | cv_rmse | cv_se |
        |---:|---:|---:|
        | 1 | 0.5 | 0.1 |
        | 2* | 0.1 | 0.02 |
        """
        rows = self.table()
        columns = list(rows[0])
        lines = [
            "| " + " | ".join(columns) + " |",
            "|" + "---:|" * len(columns),
        ]
        for row in rows:
            cells = []
            for name in columns:
                value = row[name]
                if name == "rank":
                    cells.append(f"{value}*" if value == self.best_rank else str(value))
                else:
                    cells.append(f"{value:.4g}")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def __str__(self):
        return self.to_markdown()


#: Whether the fits of X itself run batched (:func:`_quiet_fit_many`); the
#: sequential loop stays reachable for comparison.
_BATCH_FITS = True

#: Defaults of the fits, overridden by ``**nmf_params``.
FIT_DEFAULTS = dict(init="random", max_iter=500, tol=1e-4)


def _make_nmf(rank, seed, params, **extra):
    from ._nmf import NMF

    settings = dict(FIT_DEFAULTS)
    settings.update(params)
    settings.update(extra)
    return NMF(n_components=rank, random_state=seed, **settings)


def _quiet_fit(model, X, tally=None):
    """Fit without the ConvergenceWarning; ``tally`` counts ``[stopped, fits]``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        W = model.fit_transform(X)
    stopped = False
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            stopped = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if tally is not None:
        tally[0] += stopped
        tally[1] += 1
    return W


def _quiet_fit_many(models, X, *, batched=True, max_batch=None):
    """Fit models of one X without their ConvergenceWarning, batched if possible.

    The fits run together where the batched driver applies
    (:func:`~nmfkit._batched_fits.fit_transform_batched`: models that differ
    only in rank and seed, complete data, the Frobenius loss), else, or
    with ``batched=False``, one after another (:func:`_quiet_fit`); the
    results are the same to rounding.

    Returns
    -------
    codes : list of ndarray
        The codes of every model.
    stopped : list of bool
        Whether each fit stopped at ``max_iter`` before reaching ``tol``.
    """
    from ._batched_fits import fit_transform_batched

    if batched:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            codes = fit_transform_batched(models, X, max_batch=max_batch)
        for w in caught:
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if codes is not None:
            # the condition of the ConvergenceWarning (NMF._warn_if_not_converged)
            stopped = [m.tol > 0 and m.n_iter_ >= m.max_iter for m in models]
            return codes, stopped
    codes, stopped = [], []
    for model in models:
        tally = [0, 0]
        codes.append(_quiet_fit(model, X, tally))
        stopped.append(bool(tally[0]))
    return codes, stopped


def _fold_assignment(shape, n_folds, rng):
    """Fold of every entry: each row's entries are spread evenly over the folds.

    Row ``i`` gets the folds ``0, 1, ..., n_folds - 1, 0, 1, ...`` (starting at
    a random fold) in a random order, so every fold hides the same share of
    each row (to within one entry) and no row is hidden whole when it has at
    least ``n_folds`` entries.
    """
    n_rows, n_cols = shape
    start = rng.randint(n_folds, size=(n_rows, 1))
    cycle = (np.arange(n_cols)[None, :] + start) % n_folds
    order = np.argsort(rng.random_sample(shape), axis=1)  # a random order per row
    folds = np.empty(shape, dtype=np.intp)
    np.put_along_axis(folds, order, cycle, axis=1)
    return folds


def _cv_scores(X, rank, n_folds, folds, seeds, params, tally=None):
    if sp.issparse(X):
        X = X.toarray()
    errors = []
    for fold in range(n_folds):
        hidden = folds == fold
        X_train = X.copy()
        X_train[hidden] = np.nan
        model = _make_nmf(rank, seeds[fold], params, missing_values=np.nan)
        W = _quiet_fit(model, X_train, tally)
        prediction = (W @ model.components_)[hidden]
        errors.append(float(np.sqrt(np.mean((prediction - X[hidden]) ** 2))))
    errors = np.array(errors)
    return {
        "cv_rmse": float(errors.mean()),
        "cv_se": float(errors.std(ddof=1) / np.sqrt(n_folds)) if n_folds > 1 else 0.0,
        "cv_fold_rmse": errors,
    }


def _one_standard_error_rank(ranks, scores):
    means = np.array([scores[r]["cv_rmse"] for r in ranks])
    best = int(np.argmin(means))
    threshold = means[best] + scores[ranks[best]]["cv_se"]
    return ranks[int(np.flatnonzero(means <= threshold)[0])]


#: Two measures closer than this are equal (rounding of the linkage).
_TIE = 1e-9


def _consensus_rank(ranks, scores):
    """Brunet et al.: the last rank before the cophenetic correlation decreases.

    Where the cophenetic correlation cannot tell two neighbouring ranks apart
    (equal to within rounding, typically both 1: the consensus matrix is an
    exact hierarchy, as when a cluster is split the same way in some of the
    runs) the dispersion decides.
    """
    for low, high in zip(ranks[:-1], ranks[1:], strict=True):
        a, b = scores[low], scores[high]
        change = b["cophenetic"] - a["cophenetic"]
        if change < -_TIE or (
            abs(change) <= _TIE and b["dispersion"] < a["dispersion"] - _TIE
        ):
            return low
    return ranks[-1]


def _check_rank(rank):
    if isinstance(rank, (bool, np.bool_)) or not isinstance(rank, numbers.Integral):
        raise ValueError(f"rank {rank!r} is not valid; give positive integers.")
    if rank < 1:
        raise ValueError(f"rank {rank} is not valid; give positive integers.")
    return int(rank)


def select_rank(
    X: MatrixLike,
    ranks: int | Iterable[int],
    method: str | Sequence[str] = "cv",
    *,
    n_folds: int = 5,
    n_runs: int = 10,
    random_state: RandomStateLike = None,
    callback: Callable[..., Any] | None = None,
    **nmf_params: Any,
) -> RankSelection:
    """Score candidate ranks of an NMF of X and choose one.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        Non-negative data.
    ranks : iterable of int
        Candidate ranks.
    method : {"cv", "consensus"} or sequence of them, default="cv"
        Scoring methods (see the module documentation); the first one chooses
        ``best_rank``.
    n_folds : int, default=5
        Folds of entries for ``"cv"``.
    n_runs : int, default=10
        Restarts per rank for ``"consensus"``.
    random_state : int, RandomState instance or None
        Seed of the fold split and of every fit.
    callback : callable, default=None
        Called as ``callback(rank, scores)`` after each rank is scored (for
        progress displays).
    **nmf_params
        Passed to :class:`nmfkit.NMF` (for example ``solver``, ``max_iter``,
        ``tol``, penalties). Defaults: ``init="random", max_iter=500,
        tol=1e-4`` and NMF's ``solver="auto"`` (HALS, also for the masked
        fits of ``"cv"``). A random initialization matters for ``"cv"``: an
        SVD-based one (``"nndsvda"``) of the training entries starts from the
        filled-in hidden entries and biases their prediction.

    Returns
    -------
    RankSelection

    Raises
    ------
    ValueError
        If a method is unknown, ``ranks`` is empty or holds a rank that is not
        a positive integer or exceeds ``min(X.shape)``, ``n_folds`` or
        ``n_runs`` is out of range, or X is not valid NMF data (a Dask array
        is refused: pass ``X.compute()``, or score ranks on Dask with
        :func:`nmfkit.consensus.consensus_nmf`).

    See Also
    --------
    RankSelection : The result.
    nmfkit.plotting.plot_rank_scores : Plot the scores against the rank.
    nmfkit.plotting.plot_consensus_maps : Plot the consensus matrices.
    NMF.score : Held-out score of one model, for scikit-learn's searches.

    References
    ----------
    .. [1] J.-P. Brunet, P. Tamayo, T. R. Golub and J. P. Mesirov,
       "Metagenes and molecular pattern discovery using matrix factorization",
       PNAS 101(12), 4164-4169, 2004 (consensus, cophenetic correlation).
    .. [2] H. Kim and H. Park, "Sparse non-negative matrix factorizations via
       alternating non-negativity-constrained least squares for microarray
       data analysis", Bioinformatics 23(12), 1495-1502, 2007 (dispersion).
    .. [3] P. O. Hoyer, "Non-negative matrix factorization with sparseness
       constraints", JMLR 5, 1457-1469, 2004 (sparseness).

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import select_rank
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((40, 4)) @ rng.random((4, 30))  # rank 4
    >>> X *= np.clip(1 + 0.05 * rng.standard_normal(X.shape), 0, None)  # 5% noise
    >>> result = select_rank(X, range(2, 7), random_state=0)
    >>> result.best_rank, result.best_rank_by
    (4, {'cv': 4})
    """
    methods = (method,) if isinstance(method, str) else tuple(method)
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"method={m!r} is not valid; choose from {METHODS}.")
    if not methods:
        raise ValueError(f"method is empty; choose from {METHODS}.")
    candidates = ranks if isinstance(ranks, Iterable) else [ranks]
    ranks = sorted({_check_rank(r) for r in candidates})
    if not ranks:
        raise ValueError("ranks is empty; give at least one positive integer.")
    if "cv" in methods and n_folds < 2:
        raise ValueError(
            f"n_folds={n_folds} is not valid; cross-validation needs >= 2."
        )
    if "consensus" in methods and n_runs < 1:
        raise ValueError(f"n_runs={n_runs} is not valid; give at least 1.")
    X = check_data(
        X,
        accept_dask=False,
        dask_alternative=(
            "score the ranks with nmfkit.consensus.consensus_nmf, which takes "
            "Dask arrays (select_rank's cross-validation fits hide entries, "
            "which Dask fits do not take, and its consensus matrices are "
            "n_samples x n_samples)"
        ),
    )
    if ranks[-1] > min(X.shape):
        raise ValueError(
            f"rank {ranks[-1]} is larger than X allows ({X.shape[0]} x "
            f"{X.shape[1]}); give ranks up to {min(X.shape)}."
        )
    if "cv" in methods and n_folds > X.shape[1]:
        raise ValueError(
            f"n_folds={n_folds} is larger than the number of features "
            f"({X.shape[1]}); every fold must leave entries of each row observed."
        )
    rng = check_random_state(random_state)
    folds = _fold_assignment(X.shape, n_folds, rng) if "cv" in methods else None

    scores, consensus, unconverged = {}, {}, {}
    runs = n_runs if "consensus" in methods else 1
    # every rank's seeds, drawn in the order of the ranks; the fits of X
    # itself (every rank, every run) share X and run batched
    seeds_of = {
        rank: rng.randint(np.iinfo(np.int32).max, size=max(runs, n_folds))
        for rank in ranks
    }
    models = [
        _make_nmf(rank, int(seed), nmf_params)
        for rank in ranks
        for seed in seeds_of[rank][:runs]
    ]
    codes, stopped = _quiet_fit_many(models, X, batched=_BATCH_FITS)
    for index, rank in enumerate(ranks):
        seeds = seeds_of[rank]
        part = slice(index * runs, (index + 1) * runs)
        fits = list(zip(codes[part], models[part], strict=True))
        tally = [sum(stopped[part]), runs]
        W, best = min(fits, key=lambda fit: fit[1].loss_)
        H = best.components_
        rank_scores = {
            "objective": float(best.loss_),
            "explained_variance": explained_variance(X, W, H),
            "sparseness_W": hoyer_sparseness(W, axis=0),
            "sparseness_H": hoyer_sparseness(H, axis=1),
        }
        if "consensus" in methods:
            C = np.mean([connectivity_matrix(w) for w, _ in fits], axis=0)
            consensus[rank] = C
            rank_scores["cophenetic"] = cophenetic_correlation(C)
            rank_scores["dispersion"] = consensus_dispersion(C)
        if "cv" in methods:
            rank_scores.update(
                _cv_scores(X, rank, n_folds, folds, seeds, nmf_params, tally)
            )
        scores[rank] = rank_scores
        if tally[0]:
            unconverged[rank] = tuple(tally)
        if callback is not None:
            callback(rank, rank_scores)

    for rank, rank_scores in scores.items():
        for name, value in rank_scores.items():
            what = f"{name} at rank {rank}"
            check_finite_output(np.asarray(value, dtype=float), what)
    chooser = {"cv": _one_standard_error_rank, "consensus": _consensus_rank}
    best_by = {m: chooser[m](ranks, scores) for m in methods}
    return RankSelection(
        ranks=ranks,
        best_rank=best_by[methods[0]],
        best_rank_by=best_by,
        scores=scores,
        methods=methods,
        consensus=consensus,
        unconverged=unconverged,
    )
