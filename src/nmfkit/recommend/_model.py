"""The ratings model: global mean, signed biases and non-negative tastes."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._objective import Penalties
from ..reliability._container import ArrayRule
from ..reliability._fit_runner import fit_with_recovery
from ..reliability._persistence import PersistenceMixin
from ..solvers import ConvergenceMonitor
from ..solvers._ratings_bcd import (
    SIGNED_H_ROWS,
    SIGNED_W_COLUMNS,
    fit_ratings_bcd,
    ratings_factors,
    split_ratings_factors,
)
from ._data import as_index_pairs, observed_ratings

__all__ = ["RatingsNMF"]

_WEIGHTINGS = ("none", "count")
_INTERRUPT = ("keep", "raise")


class RatingsNMF(PersistenceMixin, BaseEstimator):
    """Ratings ~ global mean + user bias + item bias + non-negative tastes.

    The predicted rating of user ``i`` for item ``j`` is

        mu + u_i + v_j + sum_k W_ik H_kj,

    with signed biases ``u``, ``v`` shrunk towards 0 by ``l2_bias`` (a user
    or item with few ratings is predicted near the mean, as by a baseline
    predictor) and non-negative taste factors ``W`` (users x components)
    and ``H`` (components x items) with their own penalties: the components
    stay interpretable ("how much user i likes taste k", "how much item j
    has it"). Only the observed ratings enter the fit, by exact block
    coordinate descent at ``O(|observed| x rank)`` per iteration
    (:mod:`nmfkit.solvers._ratings_bcd`); the objective never increases.
    Fitting goes through the same machinery as :class:`nmfkit.NMF`: the
    :class:`~nmfkit.solvers.ConvergenceMonitor` stopping rule and
    ``history_``, checkpoints, Ctrl-C keeping the last iterate, and a solve
    at unit scale (ratings scaled by ``c`` give biases and mean scaled by
    ``c``, tastes by ``sqrt(c)``, for the same penalties).

    **Unseen users and items.** A user (item) without a training rating,
    inside the fitted shape or beyond it, has bias 0 and no taste: its
    predictions fall back to the mean plus the known bias of the other side
    (the mean alone when neither is known).

    Parameters
    ----------
    n_components : int, default=120
        Number of taste components.
    l2_W, l2_H : float, default=0.07
        Weights of ``1/2 ||W||_F^2`` and ``1/2 ||H||_F^2`` (each row of W and
        column of H multiplied by its number of ratings when
        ``penalty_weighting="count"``).
    l1_W, l1_H : float, default=0.0
        Weights of ``||W||_1`` and ``||H||_1`` (weighted likewise).
    l2_bias : float, default=5.0
        Weight of ``1/2 (||u||^2 + ||v||^2)``.
    penalty_weighting : {"count", "none"}, default="count"
        ``"count"``: the taste penalties of a user (item) grow with its number
        of ratings (weighted-lambda regularization); ``"none"``: one weight.
    max_iter : int, default=4
        Iterations (each a pass over every block) at most.
    tol : float, default=0.0
        Relative decrease of the objective below which the fit stops (0:
        run ``max_iter`` iterations).

        The defaults of ``n_components``, ``l2_W``, ``l2_H``, ``l2_bias``,
        ``max_iter`` and ``tol`` are the candidate chosen on a 10% validation
        split of MovieLens 100K's u1.base among settings of about the same
        cost (rank x iterations near 480, so that a fit costs no more than
        Surprise's SVD; ``benchmarks/bench_movielens.py``): many components
        and few iterations predicted the validation ratings better than 40
        components fitted to ``tol=1e-3``. The fit then stops after 4
        iterations, before the objective has converged (a fixed budget, no
        :class:`~sklearn.exceptions.ConvergenceWarning`); for a converged
        fit give ``tol=1e-3`` and ``max_iter=200`` (slower; on that split
        40 iterations of rank 120 predicted better still).
    max_time : float or None, default=None
        Seconds after which the fit stops.
    init_scale : float, default=0.1
        Initial tastes are uniform on ``[0, init_scale)`` at unit scale (the
        biases start at 0, the mean at the mean rating).
    random_state : int, RandomState or None, default=None
    missing_values : float or None, default=np.nan
        Marks an unknown rating in a dense ratings matrix.
    n_users, n_items : int or None, default=None
        Shape for ``(user, item)`` pairs (None: the largest index + 1).
    clip : bool, default=True
        Clip predictions to the range of the training ratings.
    verbose : int, default=0
    checkpoint : str, path-like or None, default=None
        As in :class:`nmfkit.NMF`.
    checkpoint_every : float, default=60.0
    on_interrupt : {"keep", "raise"}, default="keep"

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_users_, n_components)
        ``W``, non-negative.
    components_ : ndarray of shape (n_components, n_features_in_)
        ``H``, non-negative.
    user_bias_ : ndarray of shape (n_users_,)
    item_bias_ : ndarray of shape (n_features_in_,)
    global_mean_ : float
    rating_range_ : ndarray of shape (2,)
        Smallest and largest training rating.
    user_counts_, item_counts_ : ndarray of int64
        Training ratings per user and per item.
    rated_indptr_, rated_items_ : ndarray of int64
        The items each user rated (CSR layout), excluded by :meth:`recommend`.
    n_users_ : int
    n_features_in_ : int
        Number of items.
    n_components_ : int
    n_iter_ : int
    history_ : ndarray of shape (n_iter_ + 1, 3)
        ``(iteration, seconds, objective)``.
    loss_curve_ : ndarray of shape (n_iter_ + 1,)
    loss_ : float

    See Also
    --------
    nmfkit.recommend.select_ratings_model : Rank and penalties chosen on a
        validation split of the training ratings.
    nmfkit.recommend.recommend_with_explanations : Recommendations with the
        taste components that drive them.
    nmfkit.NMF : Non-negative matrix factorization (``missing_values`` for
        partially observed data without the mean and signed biases).

    References
    ----------
    .. [1] Y. Koren, "Factorization meets the neighborhood: a multifaceted
       collaborative filtering model", KDD 2008 (the regularized baseline
       predictor ``mu + u_i + v_j``).
    .. [2] Y. Koren, R. Bell and C. Volinsky, "Matrix factorization techniques
       for recommender systems", IEEE Computer 42(8), 2009 (biased matrix
       factorization).
    .. [3] D. D. Lee and H. S. Seung, "Learning the parts of objects by
       non-negative matrix factorization", Nature 401, 1999 (non-negative,
       parts-based factors).
    .. [4] Y. Zhou, D. Wilkinson, R. Schreiber and R. Pan, "Large-scale
       parallel collaborative filtering for the Netflix prize", AAIM 2008
       (weighted-lambda regularization, ``penalty_weighting="count"``).

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import RatingsNMF
    >>> X = np.array([[5, 4, np.nan], [4, np.nan, 1], [np.nan, 2, 1.0]])
    >>> model = RatingsNMF(n_components=1, random_state=0, max_iter=50).fit(X)
    >>> model.predict([0], [2]).shape
    (1,)
    >>> bool(1 <= model.predict([0], [2])[0] <= 5)  # clipped to the training range
    True
    """

    #: The loss the unit-scale rescaling assumes (Frobenius).
    beta_loss = "frobenius"

    def __init__(
        self,
        n_components=120,
        *,
        l2_W=0.07,
        l2_H=0.07,
        l1_W=0.0,
        l1_H=0.0,
        l2_bias=5.0,
        penalty_weighting="count",
        max_iter=4,
        tol=0.0,
        max_time=None,
        init_scale=0.1,
        random_state=None,
        missing_values=np.nan,
        n_users=None,
        n_items=None,
        clip=True,
        verbose=0,
        checkpoint=None,
        checkpoint_every=60.0,
        on_interrupt="keep",
    ):
        self.n_components = n_components
        self.l2_W = l2_W
        self.l2_H = l2_H
        self.l1_W = l1_W
        self.l1_H = l1_H
        self.l2_bias = l2_bias
        self.penalty_weighting = penalty_weighting
        self.max_iter = max_iter
        self.tol = tol
        self.max_time = max_time
        self.init_scale = init_scale
        self.random_state = random_state
        self.missing_values = missing_values
        self.n_users = n_users
        self.n_items = n_items
        self.clip = clip
        self.verbose = verbose
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.on_interrupt = on_interrupt

    # ------------------------------------------------------------ checks
    def _check_params(self):
        if (
            isinstance(self.n_components, (bool, np.bool_))
            or not isinstance(self.n_components, numbers.Integral)
            or self.n_components < 0
        ):
            raise ValueError(
                f"n_components={self.n_components!r} is not valid; give an "
                "integer >= 0 (0 fits the mean and biases only)."
            )
        for name in ("l2_W", "l2_H", "l1_W", "l1_H", "l2_bias", "init_scale", "tol"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not np.isfinite(value)
                or value < 0
            ):
                raise ValueError(
                    f"{name}={value!r} is not valid; give a finite number >= 0."
                )
        if self.init_scale == 0 and self.n_components:
            raise ValueError(
                "init_scale=0 starts the tastes at 0, where they stay; give "
                "init_scale > 0."
            )
        if self.penalty_weighting not in _WEIGHTINGS:
            raise ValueError(
                f"penalty_weighting={self.penalty_weighting!r} is not valid; choose "
                f"one of {list(_WEIGHTINGS)}."
            )
        if self.on_interrupt not in _INTERRUPT:
            raise ValueError(
                f"on_interrupt={self.on_interrupt!r} is not valid; choose one of "
                f"{list(_INTERRUPT)}."
            )
        if (
            isinstance(self.max_iter, (bool, np.bool_))
            or not isinstance(self.max_iter, numbers.Integral)
            or self.max_iter < 0
        ):
            raise ValueError(
                f"max_iter={self.max_iter!r} is not valid; give an integer >= 0."
            )
        for name in ("n_users", "n_items"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, numbers.Integral)
                or value < 1
            ):
                raise ValueError(
                    f"{name}={value!r} is not valid; give an integer >= 1 or None."
                )

    def _penalties(self):
        return Penalties(
            l1_W=float(self.l1_W),
            l2_W=float(self.l2_W),
            l1_H=float(self.l1_H),
            l2_H=float(self.l2_H),
        )

    def _solver_options(self, callbacks=(), history=None, masked=True, X=None):
        """The monitor and the solver's own options (for fit_with_recovery).

        ``l2_bias`` needs no rescaling: the bias term scales like the data
        fit (module text of :mod:`nmfkit.solvers._ratings_bcd`).
        """
        return dict(
            monitor=ConvergenceMonitor(
                tol=self.tol,
                max_iter=self.max_iter,
                max_time=self.max_time,
                verbose=self.verbose,
                callbacks=callbacks,
                history=history,
            ),
            l2_bias=float(self.l2_bias),
            weighting=self.penalty_weighting,
        )

    @staticmethod
    def _checkpoint_signed_parts():
        """Columns of W and rows of H that may be negative in a checkpoint.

        The user bias column and the item bias and mean rows of the layout
        of :mod:`nmfkit.solvers._ratings_bcd` (negative indices).
        """
        return SIGNED_W_COLUMNS, SIGNED_H_ROWS

    # ------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        """Fit the model to the observed ratings.

        Parameters
        ----------
        X : array-like or sparse matrix
            A ratings matrix (users x items; NaN, or ``missing_values``, where
            unknown; for a sparse matrix the stored entries are the ratings),
            or (user, item) index pairs of shape (n, 2) with ``y``. For
            (user, item, rating) triples ``T`` call ``fit(T[:, :2], T[:, 2])``.
        y : array-like of shape (n,), optional
            The ratings of the pairs.

        Returns
        -------
        self : RatingsNMF

        Raises
        ------
        ValueError
            For a parameter out of range, an empty, non-finite or duplicated
            rating, or a negative or non-integer index (the message names
            the fix).
        TypeError
            For non-numeric ratings or indices.

        See Also
        --------
        predict : Ratings of (user, item) pairs from the fitted model.
        nmfkit.recommend.select_ratings_model : Choose the parameters first.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import RatingsNMF
        >>> X = np.array([[5, 4, np.nan], [4, np.nan, 1], [np.nan, 2, 1.0]])
        >>> model = RatingsNMF(n_components=1, random_state=0, max_iter=50).fit(X)
        >>> model.user_factors_.shape, model.components_.shape
        ((3, 1), (1, 3))
        >>> bool(np.all(model.components_ >= 0))  # the tastes are non-negative
        True
        """
        self._check_params()
        observed = observed_ratings(
            X,
            y,
            missing_values=self.missing_values,
            shape=(self.n_users, self.n_items),
        )
        r = int(self.n_components)
        rng = check_random_state(self.random_state)
        n_users, n_items = observed.shape

        def initial_factors(internal, rescaling):
            W0 = rng.uniform(0.0, self.init_scale, size=(n_users, r))
            H0 = rng.uniform(0.0, self.init_scale, size=(r, n_items))
            return ratings_factors(
                W0,
                H0,
                np.zeros(n_users),
                np.zeros(n_items),
                float(internal.values.mean()),
            )

        result = fit_with_recovery(
            self,
            observed,
            fit_ratings_bcd,
            initial_factors,
            self._penalties(),
            masked=True,
        )
        self._store(observed, result)
        return self

    def _store(self, observed, result):
        if (
            not result.info.get("interrupted", False)
            and not result.converged
            and self.tol > 0
            and result.n_iter >= self.max_iter
        ):
            warnings.warn(
                f"Maximum number of iterations {self.max_iter} reached before the "
                f"relative decrease of the objective fell below tol={self.tol}. "
                "Increase max_iter to improve convergence.",
                ConvergenceWarning,
                stacklevel=3,
            )
        W, H, user_bias, item_bias, mean = split_ratings_factors(result.W, result.H)
        self.user_factors_ = W
        self.components_ = H
        self.user_bias_ = user_bias
        self.item_bias_ = item_bias
        self.global_mean_ = float(mean)
        self.rating_range_ = np.array(
            [observed.values.min(), observed.values.max()], dtype=np.float64
        )
        self.user_counts_ = observed.count_per_row().astype(np.int64)
        self.item_counts_ = observed.count_per_column().astype(np.int64)
        self.rated_indptr_ = observed.indptr.astype(np.int64)
        self.rated_items_ = observed.cols.astype(np.int64)
        self.n_users_ = int(observed.shape[0])
        self.n_features_in_ = int(observed.shape[1])
        self.n_components_ = int(W.shape[1])
        self.n_iter_ = int(result.n_iter)
        self.history_ = result.history
        self.loss_curve_ = result.history[:, 2].copy()
        self.loss_ = float(self.loss_curve_[-1])

    # ------------------------------------------------------------ prediction
    def _known(self, users, items):
        """Per pair: the user and item indices, and whether each is known."""
        known_user = users < self.n_users_
        known_item = items < self.n_features_in_
        return (
            np.where(known_user, users, 0),
            np.where(known_item, items, 0),
            known_user,
            known_item,
        )

    def baseline(self, users, items=None):
        """``mean + user bias + item bias`` (unknown sides contribute 0).

        Parameters
        ----------
        users : array-like of int
            User indices, or (user, item) pairs of shape (n, 2) when ``items``
            is None.
        items : array-like of int, optional
            Item indices, the same length as ``users``.

        Returns
        -------
        ratings : ndarray of shape (n,)
            The ratings without the tastes (not clipped).

        See Also
        --------
        predict : The baseline plus the tastes.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import RatingsNMF
        >>> X = np.array([[5, 4, np.nan], [4, np.nan, 1], [np.nan, 2, 1.0]])
        >>> model = RatingsNMF(n_components=1, random_state=0, max_iter=50).fit(X)
        >>> b = model.baseline([0, 7], [0, 0])  # user 7 was never seen
        >>> bool(np.isclose(b[1], model.global_mean_ + model.item_bias_[0]))
        True
        """
        check_is_fitted(self)
        users, items = as_index_pairs(users, items)
        u, i, known_user, known_item = self._known(users, items)
        return (
            self.global_mean_
            + np.where(known_user, self.user_bias_[u], 0.0)
            + np.where(known_item, self.item_bias_[i], 0.0)
        )

    def predict(self, users, items=None):
        """Predicted ratings of (user, item) pairs.

        Parameters
        ----------
        users : array-like of int
            User indices, or (user, item) pairs of shape (n, 2) when ``items``
            is None (the scikit-learn form ``predict(X)``).
        items : array-like of int, optional
            Item indices, the same length as ``users``.

        Returns
        -------
        ratings : ndarray of shape (n,)
            Clipped to ``rating_range_`` when ``clip``. Unseen users or items
            fall back to the mean plus the known biases (class docstring).

        Raises
        ------
        ValueError
            For negative or non-integer indices, or users and items of
            different lengths.

        See Also
        --------
        baseline : The mean plus the biases alone.
        recommend : The best unseen items of one user.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import RatingsNMF
        >>> X = np.array([[5, 4, np.nan], [4, np.nan, 1], [np.nan, 2, 1.0]])
        >>> model = RatingsNMF(n_components=1, random_state=0, max_iter=50).fit(X)
        >>> model.predict([[0, 2], [2, 0]]).shape  # (user, item) pairs
        (2,)
        """
        check_is_fitted(self)
        users, items = as_index_pairs(users, items)
        u, i, known_user, known_item = self._known(users, items)
        taste = np.einsum("ij,ji->i", self.user_factors_[u], self.components_[:, i]) * (
            known_user & known_item
        )
        ratings = self.baseline(users, items) + taste
        if self.clip:
            ratings = np.clip(ratings, *self.rating_range_)
        return ratings

    def rated_items(self, user):
        """Items the user rated in training (empty for an unseen user).

        Parameters
        ----------
        user : int
            A user index.

        Returns
        -------
        items : ndarray of int64
            In increasing order.

        See Also
        --------
        recommend : Leaves these out by default.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import RatingsNMF
        >>> X = np.array([[5, 4, np.nan], [4, np.nan, 1], [np.nan, 2, 1.0]])
        >>> model = RatingsNMF(n_components=1, random_state=0, max_iter=50).fit(X)
        >>> model.rated_items(1).tolist(), model.rated_items(9).tolist()
        ([0, 2], [])
        """
        check_is_fitted(self)
        user = int(as_index_pairs([user], [0])[0][0])
        if user >= self.n_users_:
            return np.zeros(0, dtype=np.int64)
        return self.rated_items_[
            self.rated_indptr_[user] : self.rated_indptr_[user + 1]
        ]

    def recommend(self, user, n=10, *, exclude_rated=True):
        """The ``n`` items with the highest predicted rating for ``user``.

        Parameters
        ----------
        user : int
            A user index; an unseen one gets the items of highest mean plus
            item bias.
        n : int, default=10
        exclude_rated : bool, default=True
            Leave out the items the user rated in training.

        Returns
        -------
        items : ndarray of int64
            Best first (ties by smaller index).
        ratings : ndarray of float
            Their predicted (unclipped) ratings.

        Raises
        ------
        ValueError
            When ``n`` is not an integer >= 1, or ``user`` not a valid index.

        See Also
        --------
        nmfkit.recommend.recommend_with_explanations : The same, with the
            tastes that drive each item.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import RatingsNMF
        >>> X = np.array([[5, 4, np.nan], [4, np.nan, 1], [np.nan, 2, 1.0]])
        >>> model = RatingsNMF(n_components=1, random_state=0, max_iter=50).fit(X)
        >>> items, ratings = model.recommend(0, n=2)
        >>> items.tolist()  # user 0 rated items 0 and 1
        [2]
        """
        check_is_fitted(self)
        if (
            isinstance(n, (bool, np.bool_))
            or not isinstance(n, numbers.Integral)
            or n < 1
        ):
            raise ValueError(f"n={n!r} is not valid; give an integer >= 1.")
        user = int(as_index_pairs([user], [0])[0][0])
        items = np.arange(self.n_features_in_)
        scores = self.global_mean_ + self.item_bias_.copy()
        if user < self.n_users_:
            scores += (
                self.user_bias_[user] + self.user_factors_[user] @ self.components_
            )
        if exclude_rated:
            scores[self.rated_items(user)] = -np.inf
        order = np.lexsort((items, -scores))
        order = order[np.isfinite(scores[order])][:n]
        return items[order], scores[order]

    def score(self, X, y=None):
        """Negative RMSE of the predictions at the observed ratings of X.

        Greater is better, as scikit-learn's model selection expects.

        Parameters
        ----------
        X : array-like or sparse matrix
            As in :meth:`fit`: a ratings matrix, or (user, item) pairs.
        y : array-like of shape (n,), optional
            The ratings of the pairs.

        Returns
        -------
        score : float
            Minus the root mean squared error.

        Raises
        ------
        ValueError
            For ratings or indices :meth:`fit` would refuse.

        See Also
        --------
        nmfkit.recommend.ratings_rmse_scorer : The same as a scorer.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import RatingsNMF
        >>> X = np.array([[5, 4, np.nan], [4, np.nan, 1], [np.nan, 2, 1.0]])
        >>> model = RatingsNMF(n_components=1, random_state=0, max_iter=50).fit(X)
        >>> bool(-model.score(X) < 0.5)  # RMSE at the training ratings
        True
        """
        observed = observed_ratings(X, y, missing_values=self.missing_values)
        predictions = self.predict(observed.rows, observed.cols)
        return -float(np.sqrt(np.mean((predictions - observed.values) ** 2)))

    # ------------------------------------------------------------ persistence
    _persistence_scalars = {
        "global_mean_": ("a finite real number", None),
        "n_users_": ("an integer", 1),
    }

    @classmethod
    def _persistence_arrays(cls, scalars, params):
        """Arrays of a saved model beyond components_ and the history."""
        n_users = int(scalars.get("n_users_", 1))
        n_items = int(scalars["n_features_in_"])
        n_components = int(scalars["n_components_"])
        floats, ints = ("f4", "f8"), ("i4", "i8")
        return {
            "user_factors_": ArrayRule(floats, (n_users, n_components)),
            "user_bias_": ArrayRule(floats, (n_users,)),
            "item_bias_": ArrayRule(floats, (n_items,)),
            "rating_range_": ArrayRule(floats, (2,)),
            "user_counts_": ArrayRule(ints, (n_users,)),
            "item_counts_": ArrayRule(ints, (n_items,)),
            "rated_indptr_": ArrayRule(ints, (n_users + 1,)),
            "rated_items_": ArrayRule(ints, ((1, n_users * n_items),)),
        }

    _persistence_non_negative = ("user_factors_",)
