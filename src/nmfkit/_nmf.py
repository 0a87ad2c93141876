"""The NMF estimator and its functional form.

The estimator validates parameters and data, initializes the factors,
dispatches to a solver from :mod:`nmfkit.solvers` and stores the results. It
does no arithmetic on the factors itself.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from . import solvers
from ._init import INIT_METHODS, initialize_factors, resolve_init
from ._objective import (
    beta_to_float,
    combine_penalties,
    reconstruction_error,
)
from ._validation import check_data_matrix, check_factor, check_n_components

__all__ = ["NMF", "non_negative_factorization"]


def _check_real(name, value, *, low=0.0, high=None, allow=()):
    if value in allow and isinstance(value, str):
        return
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        extra = f" or one of {allow}" if allow else ""
        raise ValueError(
            f"{name}={value!r} is not valid; it must be a finite real number "
            f"{bound}{extra}."
        )


class NMF(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Non-negative matrix factorization with penalties.

    Finds non-negative ``W`` (n_samples x n_components, the codes that
    :meth:`fit_transform` returns) and ``H`` (n_components x n_features, the
    dictionary in ``components_``) minimizing

    .. math::

        L(W, H) = \tfrac12 \|X - WH\|_F^2
                  + \lambda_W \|W\|_1 + \tfrac{\mu_W}{2} \|W\|_F^2
                  + \lambda_H \|H\|_1 + \tfrac{\mu_H}{2} \|H\|_F^2

    with ``lambda_W = l1_W + alpha_W * l1_ratio * n_features``,
    ``mu_W = l2_W + alpha_W * (1 - l1_ratio) * n_features`` and the same for
    H with ``alpha_H`` and ``n_samples`` (scikit-learn's scaling).

    The course's notation writes the data as features by samples,
    ``X_course (p x n) ~ D (p x r) S (r x n)`` with loss
    ``1/2 ||X - DS||^2 + mu/2 ||S||^2 + lambda ||S||_1 + nu/2 ||D||^2``;
    here ``X = X_course^T``, ``W = S^T``, ``H = D^T``, and that loss is
    ``NMF(l1_W=lambda, l2_W=mu, l2_H=nu)``.

    Parameters
    ----------
    n_components : int, "auto" or None, default="auto"
        Rank. ``None`` uses ``n_features``; ``"auto"`` takes it from a custom
        ``H`` (or ``W``), else ``n_features``.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"} or None, \
            default=None
        Initialization, with scikit-learn's semantics: ``None`` is
        ``"nndsvda"`` when ``n_components <= min(n_samples, n_features)``,
        else ``"random"``.
    solver : {"auto", "cd", "hals", "mu"}, default="auto"
        Algorithm. ``"cd"`` (alias ``"hals"``): coordinate descent, i.e.
        hierarchical alternating least squares, one exact sweep over the
        components of a factor at a time (scikit-learn's ``"cd"``).
        ``"mu"``: multiplicative updates. ``"auto"``: for the Frobenius
        loss, HALS with ``inner_iter="auto"`` and ``extrapolate=True`` on
        dense and sparse data (the fastest or tied configuration in 5 of the
        6 cases of ``benchmarks/bench_solvers.py``; on sparse TF-IDF at rank
        50, HALS with extrapolation alone did better); for other losses,
        ``"mu"``. Combinations not implemented raise a ValueError listing
        what is.
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, \
            default="frobenius"
        Divergence between X and WH.
    tol : float, default=1e-4
        Stop when the relative decrease of the objective in one iteration,
        ``(L[k-1] - L[k]) / L[k-1]``, is below ``tol``. ``0`` runs
        ``max_iter`` iterations.
    max_iter : int, default=200
        Largest number of iterations; reaching it with ``tol > 0`` warns with
        :class:`~sklearn.exceptions.ConvergenceWarning`.
    random_state : int, RandomState instance or None, default=None
        Seed for random initializations.
    alpha_W : float, default=0.0
        scikit-learn's scaled penalty weight of W.
    alpha_H : float or "same", default="same"
        scikit-learn's scaled penalty weight of H (``"same"`` copies alpha_W).
    l1_ratio : float, default=0.0
        Share of L1 in scikit-learn's scaled penalties.
    verbose : int, default=0
        Print the objective at every iteration when positive.
    shuffle : bool, default=False
        Visit the components in a random order (seeded by
        ``random_state``) at every HALS sweep; no effect on ``"mu"``.
    l1_W, l2_W, l1_H, l2_H : float, default=0.0
        Unscaled penalties ``lambda_W, mu_W, lambda_H, mu_H`` added to the
        scaled ones.
    l1_placement : {"numerator", "denominator"}, default="numerator"
        Where multiplicative updates place the L1 weight: ``"numerator"``
        (``W * max(XH^T - lambda, 0) / ...``, the course's update, giving exact
        zeros) or ``"denominator"`` (scikit-learn's, never exactly zero).
    update_order : {"HW", "WH"}, default="HW"
        Which factor each iteration updates first (``"WH"`` is
        scikit-learn's order).
    max_time : float or None, default=None
        Stop after this many seconds of solver time.
    inner_iter : int, "auto" or None, default=None
        Largest number of updates of one factor per iteration, reusing the
        products with X (Gillis and Glineur's accelerated MU and HALS).
        ``"auto"``: their budget ``floor(1 + alpha * rho)``, with ``rho`` the
        cost of the products in units of one update (``alpha`` 0.5 for HALS,
        2 for MU). ``None``: 1 for ``"cd"`` and ``"mu"``, ``"auto"`` for
        ``solver="auto"``.
    inner_tol : float, default=0.1
        The inner loop stops when an update changes the factor by less than
        ``inner_tol`` times the change of its first update.
    extrapolate : bool or None, default=None
        Ang and Gillis's extrapolation with restarts: each factor is pushed
        along its last step; a step that raises the objective is undone and
        followed by a plain one, so the recorded objective never increases.
        ``None``: False for ``"cd"`` and ``"mu"``, True for ``"auto"``.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        The dictionary H.
    n_components_ : int
        The rank.
    n_iter_ : int
        Iterations run.
    reconstruction_err_ : float
        ``||X - WH||_F`` (scikit-learn's definition for the Frobenius loss).
    loss_ : float
        The full penalized objective at the end.
    loss_curve_ : ndarray of shape (n_iter_ + 1,)
        The objective before the first and after every iteration.
    history_ : ndarray of shape (n_iter_ + 1, 3)
        Rows ``(iteration, elapsed seconds, objective)``, the same for every
        solver (with extrapolation, the accepted iterates), for plotting
        convergence against iterations or time.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when X has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import NMF
    >>> X = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])
    >>> model = NMF(n_components=2, init="random", random_state=0, max_iter=500)
    >>> W = model.fit_transform(X)
    >>> W.shape, model.components_.shape
    ((6, 2), (2, 2))
    """

    def __init__(
        self,
        n_components="auto",
        *,
        init=None,
        solver="auto",
        beta_loss="frobenius",
        tol=1e-4,
        max_iter=200,
        random_state=None,
        alpha_W=0.0,
        alpha_H="same",
        l1_ratio=0.0,
        verbose=0,
        shuffle=False,
        l1_W=0.0,
        l2_W=0.0,
        l1_H=0.0,
        l2_H=0.0,
        l1_placement="numerator",
        update_order="HW",
        max_time=None,
        inner_iter=None,
        inner_tol=0.1,
        extrapolate=None,
    ):
        self.n_components = n_components
        self.init = init
        self.solver = solver
        self.beta_loss = beta_loss
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.verbose = verbose
        self.shuffle = shuffle
        self.l1_W = l1_W
        self.l2_W = l2_W
        self.l1_H = l1_H
        self.l2_H = l2_H
        self.l1_placement = l1_placement
        self.update_order = update_order
        self.max_time = max_time
        self.inner_iter = inner_iter
        self.inner_tol = inner_tol
        self.extrapolate = extrapolate

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        _check_real("tol", self.tol)
        if (
            isinstance(self.max_iter, (bool, np.bool_))
            or not isinstance(self.max_iter, numbers.Integral)
            or self.max_iter < 1
        ):
            raise ValueError(
                f"max_iter={self.max_iter!r} is not valid; give an integer >= 1."
            )
        for name in ("alpha_W", "l1_W", "l2_W", "l1_H", "l2_H"):
            _check_real(name, getattr(self, name))
        _check_real("alpha_H", self.alpha_H, allow=("same",))
        _check_real("l1_ratio", self.l1_ratio, high=1.0)
        if self.max_time is not None:
            _check_real("max_time", self.max_time)
        _check_real("inner_tol", self.inner_tol)
        if not (
            self.inner_iter is None
            or (isinstance(self.inner_iter, str) and self.inner_iter == "auto")
            or (
                isinstance(self.inner_iter, numbers.Integral)
                and not isinstance(self.inner_iter, (bool, np.bool_))
                and self.inner_iter >= 1
            )
        ):
            raise ValueError(
                f"inner_iter={self.inner_iter!r} is not valid; give an integer "
                ">= 1, 'auto' or None."
            )
        if self.extrapolate not in (None, True, False):
            raise ValueError(
                f"extrapolate={self.extrapolate!r} is not valid; give True, False "
                "or None."
            )
        if self.init is not None and self.init not in INIT_METHODS:
            raise ValueError(
                f"init={self.init!r} is not valid; choose one of {INIT_METHODS} "
                "or None."
            )
        for name, options in (
            ("l1_placement", ("numerator", "denominator")),
            ("update_order", ("HW", "WH")),
        ):
            if getattr(self, name) not in options:
                raise ValueError(
                    f"{name}={getattr(self, name)!r} is not valid; choose one of "
                    f"{options}."
                )
        beta = beta_to_float(self.beta_loss)
        solver_fn = solvers.get_solver(self.solver, beta)
        return beta, solver_fn

    def _validate_X(self, X, *, reset):
        validate_data(self, X, skip_check_array=True, reset=reset)
        X = check_data_matrix(X)
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        return X

    def _penalties(self, X):
        n_samples, n_features = X.shape
        return combine_penalties(
            n_samples=n_samples,
            n_features=n_features,
            alpha_W=self.alpha_W,
            alpha_H=self.alpha_H,
            l1_ratio=self.l1_ratio,
            l1_W=self.l1_W,
            l2_W=self.l2_W,
            l1_H=self.l1_H,
            l2_H=self.l2_H,
        )

    def _initial_factors(self, X, W, H):
        n_samples, n_features = X.shape
        n_components = check_n_components(self.n_components, n_features)
        if self.init == "custom":
            if n_components == "auto":
                source = H if H is not None else W
                if source is None:
                    raise ValueError(
                        "init='custom' needs initial W and H; pass them to "
                        "fit_transform(X, W=..., H=...)."
                    )
                n_components = np.shape(H)[0] if H is not None else np.shape(W)[1]
            H = check_factor(H, (n_components, n_features), X.dtype, "H")
            W = check_factor(W, (n_samples, n_components), X.dtype, "W")
            return W, H
        if W is not None or H is not None:
            warnings.warn(
                "When init!='custom', the given W and H are ignored; set "
                "init='custom' to start from them.",
                RuntimeWarning,
                stacklevel=3,
            )
        if n_components == "auto":
            n_components = n_features
        resolve_init(self.init, n_components, X.shape)
        return initialize_factors(
            X, n_components, self.init, random_state=self.random_state
        )

    def _solver_options(self, callbacks=()):
        """Keyword arguments of the solver: the monitor and its own options."""
        options = dict(
            monitor=solvers.ConvergenceMonitor(
                tol=self.tol,
                max_iter=self.max_iter,
                max_time=self.max_time,
                verbose=self.verbose,
                callbacks=callbacks,
            )
        )
        beta = beta_to_float(self.beta_loss)
        solver = self.solver
        if solver == "auto" and beta != 2.0:
            solver = "mu"
        if solver == "mu":
            options.update(
                l1_placement=self.l1_placement, update_order=self.update_order
            )
            if beta == 2.0 or self.inner_iter is not None or self.extrapolate:
                options.update(
                    inner_iter=1 if self.inner_iter is None else self.inner_iter,
                    inner_tol=self.inner_tol,
                    extrapolate=bool(self.extrapolate),
                )
        elif solver in ("cd", "hals"):
            options.update(
                update_order=self.update_order,
                inner_iter=1 if self.inner_iter is None else self.inner_iter,
                inner_tol=self.inner_tol,
                extrapolate=bool(self.extrapolate),
                shuffle=self.shuffle,
                random_state=self.random_state,
            )
        elif solver == "auto":
            options.update(
                update_order=self.update_order,
                inner_iter=self.inner_iter,
                inner_tol=self.inner_tol,
                extrapolate=self.extrapolate,
                shuffle=self.shuffle,
                random_state=self.random_state,
                l1_placement=self.l1_placement,
            )
        return options

    # --------------------------------------------------------------- fitting
    def fit(self, X, y=None, **params):
        """Learn the factorization of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative data.
        y : Ignored
        **params
            ``W`` and ``H`` for ``init="custom"``.

        Returns
        -------
        self : NMF
        """
        self.fit_transform(X, **params)
        return self

    def fit_transform(self, X, y=None, W=None, H=None):
        """Learn the factorization of X and return the codes W.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative data: NumPy arrays, pandas DataFrames, SciPy sparse
            matrices or arrays (never densified). float32 stays float32.
        y : Ignored
        W : array-like of shape (n_samples, n_components), default=None
            Initial codes for ``init="custom"``.
        H : array-like of shape (n_components, n_features), default=None
            Initial dictionary for ``init="custom"``.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
        """
        beta, solver_fn = self._check_params()
        X = self._validate_X(X, reset=True)
        W0, H0 = self._initial_factors(X, W, H)
        result = solver_fn(
            X, W0, H0, self._penalties(X), update_H=True, **self._solver_options()
        )
        self._warn_if_not_converged(result)
        self.components_ = result.H
        self.n_components_ = result.H.shape[0]
        self.n_iter_ = result.n_iter
        self.history_ = result.history
        self.loss_curve_ = result.history[:, 2].copy()
        self.loss_ = float(self.loss_curve_[-1])
        self.reconstruction_err_ = reconstruction_error(X, result.W, result.H)
        return result.W

    def _warn_if_not_converged(self, result):
        if not result.converged and self.tol > 0 and result.n_iter >= self.max_iter:
            warnings.warn(
                f"Maximum number of iterations {self.max_iter} reached before the "
                f"relative decrease of the objective fell below tol={self.tol}. "
                "Increase max_iter to improve convergence.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def transform(self, X):
        """Codes of new data under the fitted dictionary.

        Solves ``min_{W >= 0} L(W, components_)`` (with the same penalties)
        by the same solver, from a constant start
        ``sqrt(mean(X) / n_components)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)
        """
        check_is_fitted(self)
        beta, solver_fn = self._check_params()
        X = self._validate_X(X, reset=False)
        H = self.components_.astype(X.dtype, copy=False)
        W0 = _constant_codes(X, H.shape[0])
        result = solver_fn(
            X, W0, H, self._penalties(X), update_H=False, **self._solver_options()
        )
        return result.W

    def inverse_transform(self, X):
        """Map codes back to the data space: ``X @ components_``.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        return np.asarray(X @ self.components_)

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _constant_codes(X, n_components):
    """Constant positive codes ``sqrt(mean(X) / n_components)`` (MU-safe start)."""
    mean = X.sum(dtype=np.float64) / (X.shape[0] * X.shape[1])
    value = np.sqrt(mean / n_components)
    if value == 0:
        value = 1.0  # all-zero X: any positive start; the codes go to zero
    return np.full((X.shape[0], n_components), value, dtype=X.dtype)


def non_negative_factorization(
    X,
    W=None,
    H=None,
    n_components="auto",
    *,
    init=None,
    update_H=True,
    solver="auto",
    beta_loss="frobenius",
    tol=1e-4,
    max_iter=200,
    alpha_W=0.0,
    alpha_H="same",
    l1_ratio=0.0,
    random_state=None,
    verbose=0,
    shuffle=False,
    **nmfkit_params,
):
    """Compute a non-negative factorization ``X ~ W H``, as scikit-learn's function.

    Parameters are those of :class:`NMF`; ``nmfkit_params`` takes nmfkit's
    extra ones (``l1_W``, ``l2_W``, ``l1_H``, ``l2_H``, ``l1_placement``,
    ``update_order``, ``max_time``, ``inner_iter``, ``inner_tol``,
    ``extrapolate``). With ``update_H=False``, H is fixed and
    only W is fitted.

    Returns
    -------
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
    n_iter : int
    """
    est = NMF(
        n_components=n_components,
        init=init,
        solver=solver,
        beta_loss=beta_loss,
        tol=tol,
        max_iter=max_iter,
        random_state=random_state,
        alpha_W=alpha_W,
        alpha_H=alpha_H,
        l1_ratio=l1_ratio,
        verbose=verbose,
        shuffle=shuffle,
        **nmfkit_params,
    )
    if update_H:
        W = est.fit_transform(X, W=W, H=H)
        return W, est.components_, est.n_iter_
    if H is None:
        raise ValueError("update_H=False needs H, the fixed dictionary.")
    beta, solver_fn = est._check_params()
    X = est._validate_X(X, reset=True)
    n_components = np.shape(H)[0]
    H = check_factor(H, (n_components, X.shape[1]), X.dtype, "H")
    if W is not None:
        warnings.warn(
            "When update_H=False, the given W is not used.",
            RuntimeWarning,
            stacklevel=2,
        )
    result = solver_fn(
        X,
        _constant_codes(X, n_components),
        H,
        est._penalties(X),
        update_H=False,
        **est._solver_options(),
    )
    est._warn_if_not_converged(result)
    return result.W, H, result.n_iter
