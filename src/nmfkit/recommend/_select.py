"""Model selection on the training ratings only, and a scorer for them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, ParameterGrid

from ._data import observed_ratings

__all__ = ["RatingsSelection", "ratings_rmse_scorer", "select_ratings_model"]


def ratings_rmse_scorer(estimator, X, y=None):
    """Negative RMSE of ``estimator`` at the observed ratings of ``X``.

    A scorer for :class:`sklearn.model_selection.GridSearchCV` (``scoring=``):
    with ``X`` the (user, item) pairs and ``y`` the ratings, the split is
    among the observed ratings, so each held-out rating is predicted by a
    model that did not see it. Greater is better.

    Parameters
    ----------
    estimator : RatingsNMF
        A fitted ratings model.
    X : array-like
        (user, item) pairs of shape (n, 2) with ``y``, or a ratings matrix.
    y : array-like of shape (n,), optional
        The ratings of the pairs.

    Returns
    -------
    score : float
        Minus the root mean squared error of the predictions.

    Raises
    ------
    ValueError, TypeError
        For ratings or indices :meth:`RatingsNMF.fit` would refuse.

    See Also
    --------
    select_ratings_model : The same score on one validation split or folds.

    References
    ----------
    .. [1] Y. Koren, R. Bell and C. Volinsky, "Matrix factorization techniques
       for recommender systems", IEEE Computer 42(8), 2009 (RMSE at held-out
       ratings as the measure of a ratings model).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> from nmfkit.recommend import RatingsNMF, ratings_rmse_scorer
    >>> rng = np.random.default_rng(0)
    >>> pairs = np.array([(u, i) for u in range(8) for i in range(6)])
    >>> ratings = 3 + 0.3 * (pairs[:, 0] % 3) + rng.normal(0, 0.1, len(pairs))
    >>> search = GridSearchCV(
    ...     RatingsNMF(max_iter=20, random_state=0, n_users=8, n_items=6),
    ...     {"n_components": [1, 2]},
    ...     scoring=ratings_rmse_scorer,
    ...     cv=KFold(3, shuffle=True, random_state=0),
    ... ).fit(pairs, ratings)
    >>> bool(-search.best_score_ < 0.3)
    True
    """
    return estimator.score(X, y)


@dataclass
class RatingsSelection:
    """What :func:`select_ratings_model` chose, and why.

    Attributes
    ----------
    best_params : dict
    best_rmse : float
        Validation RMSE of ``best_params`` (mean over the folds with ``cv``).
    results : list of dict
        One per candidate: its parameters and ``"rmse"``.
    method : str
        How the candidates were scored (the split), for reports.
    model : RatingsNMF
        ``best_params`` refitted on all the ratings given.

    See Also
    --------
    select_ratings_model : What returns it.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.recommend import RatingsNMF, select_ratings_model
    >>> rng = np.random.default_rng(0)
    >>> pairs = np.array([(u, i) for u in range(8) for i in range(6)])
    >>> ratings = 3 + 0.3 * (pairs[:, 0] % 3) + rng.normal(0, 0.1, len(pairs))
    >>> base = RatingsNMF(max_iter=20, random_state=0, n_users=8, n_items=6)
    >>> selection = select_ratings_model(base, {"n_components": [1, 2]}, pairs, ratings)
    >>> sorted(selection.best_params)
    ['n_components']
    """

    best_params: dict
    best_rmse: float
    results: list = field(repr=False)
    method: str
    model: object = field(repr=False)

    def summary(self):
        """One line: what was chosen, on what split, with what RMSE.

        Returns
        -------
        line : str

        See Also
        --------
        select_ratings_model : What makes the selection.

        Examples
        --------
        >>> from nmfkit.recommend import RatingsSelection
        >>> chosen = RatingsSelection({"n_components": 2}, 0.91, [{}], "split", None)
        >>> chosen.summary()
        'chose n_components=2 (validation RMSE 0.9100, 1 candidates, split)'
        """
        params = ", ".join(f"{k}={v!r}" for k, v in sorted(self.best_params.items()))
        return (
            f"chose {params} (validation RMSE {self.best_rmse:.4f}, "
            f"{len(self.results)} candidates, {self.method})"
        )


def _splits(n, validation_fraction, cv, random_state):
    if cv is not None:
        return list(
            KFold(cv, shuffle=True, random_state=random_state).split(np.arange(n))
        )
    if not 0 < validation_fraction < 1:
        raise ValueError(
            f"validation_fraction={validation_fraction!r} is not valid; give a "
            "number strictly between 0 and 1."
        )
    order = np.random.default_rng(random_state).permutation(n)
    n_validation = max(1, int(round(validation_fraction * n)))
    if n_validation >= n:
        raise ValueError(
            f"{n} ratings are too few for a validation split; give more ratings."
        )
    return [(np.sort(order[n_validation:]), np.sort(order[:n_validation]))]


def select_ratings_model(
    estimator,
    param_grid,
    X,
    y=None,
    *,
    validation_fraction=0.1,
    cv=None,
    random_state=0,
):
    """Choose parameters on a validation split of the training ratings only.

    Every candidate of ``param_grid`` is fitted on the ratings outside a
    held-out part of ``X`` and scored by its RMSE on that part (a random
    ``validation_fraction`` of the ratings, or each fold of a ``cv``-fold
    split of the ratings); no other data is seen, so a test set kept apart
    stays unseen. The best candidate is then refitted on all of ``X``.

    Parameters
    ----------
    estimator : RatingsNMF
        The model whose parameters are chosen (cloned, never modified).
    param_grid : dict or list of dict
        As for :class:`sklearn.model_selection.ParameterGrid`.
    X, y
        The training ratings, as in :meth:`RatingsNMF.fit`.
    validation_fraction : float, default=0.1
        Share of the ratings held out (when ``cv`` is None).
    cv : int or None, default=None
        Number of folds of a cross-validation inside X instead.
    random_state : int, default=0
        Seed of the split.

    Returns
    -------
    selection : RatingsSelection
        What was chosen (``best_params``, ``best_rmse``), every candidate's
        validation RMSE (``results``), the split (``method``) and the chosen
        model refitted on all of ``X`` (``model``).

    Raises
    ------
    ValueError
        For ``validation_fraction`` outside (0, 1), too few ratings to hold
        some out, or ratings :meth:`RatingsNMF.fit` would refuse.

    See Also
    --------
    ratings_rmse_scorer : A scorer for GridSearchCV on the same ratings.
    RatingsNMF : The model.

    References
    ----------
    .. [1] Y. Koren, R. Bell and C. Volinsky, "Matrix factorization techniques
       for recommender systems", IEEE Computer 42(8), 2009 (rank and
       regularization chosen on held-out training ratings).

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.recommend import RatingsNMF, select_ratings_model
    >>> rng = np.random.default_rng(0)
    >>> pairs = np.array([(u, i) for u in range(10) for i in range(8)])
    >>> ratings = 3 + 0.4 * (pairs[:, 1] % 2) + rng.normal(0, 0.1, len(pairs))
    >>> selection = select_ratings_model(
    ...     RatingsNMF(max_iter=20, random_state=0),
    ...     {"n_components": [1, 2], "l2_bias": [0.1, 1.0]},
    ...     pairs,
    ...     ratings,
    ... )
    >>> sorted(selection.best_params)
    ['l2_bias', 'n_components']
    >>> len(selection.results)
    4
    >>> selection.model.n_components_ == selection.best_params["n_components"]
    True
    """
    observed = observed_ratings(
        X,
        y,
        missing_values=estimator.missing_values,
        shape=(estimator.n_users, estimator.n_items),
    )
    pairs = np.column_stack([observed.rows, observed.cols])
    ratings = observed.values
    n_users, n_items = observed.shape
    splits = _splits(ratings.size, validation_fraction, cv, random_state)
    results = []
    for params in ParameterGrid(param_grid):
        errors = []
        for train, validation in splits:
            model = clone(estimator).set_params(
                **params, n_users=n_users, n_items=n_items
            )
            model.fit(pairs[train], ratings[train])
            errors.append(-model.score(pairs[validation], ratings[validation]))
        results.append({**params, "rmse": float(np.mean(errors))})
    best = min(range(len(results)), key=lambda k: results[k]["rmse"])
    best_params = {k: v for k, v in results[best].items() if k != "rmse"}
    method = (
        f"{cv}-fold cross-validation inside the training ratings"
        if cv is not None
        else f"a random {validation_fraction:.0%} of the training ratings held out"
    )
    model = clone(estimator).set_params(**best_params, n_users=n_users, n_items=n_items)
    model.fit(pairs, ratings)
    return RatingsSelection(
        best_params=best_params,
        best_rmse=results[best]["rmse"],
        results=results,
        method=method,
        model=model,
    )
