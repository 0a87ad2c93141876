"""MiniBatchNMF: online NMF for streams and data larger than memory.

A drop-in for :class:`sklearn.decomposition.MiniBatchNMF` (same parameters,
attributes and stopping rules) for every beta-divergence, with nmfkit's
unscaled penalties. The arithmetic lives in :mod:`nmfkit.solvers._online`.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from sklearn.utils import gen_batches
from sklearn.utils.validation import check_is_fitted

from ._nmf import _BaseNMF
from ._objective import (
    ZERO_BELOW,
    beta_divergence,
    beta_to_float,
    combine_penalties,
    constant_start,
)
from ._params import check_parameters
from ._scaling import Rescaling
from ._typing import ArrayLike, MatrixLike, RandomStateLike
from ._validation import (
    check_data_for_beta,
    check_finite_output,
    warn_max_iter_reached,
)
from .solvers._online import (
    _kernel,
    dictionary_products,
    online_dictionary_update,
    solve_codes,
    update_codes,
)

__all__ = ["MiniBatchNMF"]



class MiniBatchNMF(_BaseNMF):
    r"""Mini-batch non-negative matrix factorization for any beta-divergence.

    Minimizes, one mini-batch ``X_b`` of rows at a time,

    .. math::

        L_b(W_b, H) = D_\beta(X_b \| W_b H)
                      + \lambda_W \|W_b\|_1 + \tfrac{\mu_W}{2} \|W_b\|_F^2
                      + \lambda_H \|H\|_1 + \tfrac{\mu_H}{2} \|H\|_F^2,

    where ``D_beta`` is scikit-learn's beta-divergence (half the squared
    Frobenius norm for beta = 2), ``lambda_W = l1_W + alpha_W * l1_ratio *
    n_features``, ``mu_W = l2_W + alpha_W * (1 - l1_ratio) * n_features``,
    ``lambda_H = (l1_H / batch_size + alpha_H * l1_ratio) * m`` and ``mu_H =
    (l2_H / batch_size + alpha_H * (1 - l1_ratio)) * m`` for a batch of ``m``
    rows: scikit-learn's scaled penalties, plus nmfkit's unscaled ones, with
    ``l1_H`` and ``l2_H`` the weights for one full batch of ``batch_size``
    rows. Each step updates the batch's codes (one multiplicative update, or
    a fresh solve), then H by the online majorization-minimization rule of
    Lefevre, Bach and Fevotte (2011) with the forget factor, as scikit-learn
    does. Multiplicative updates use the exponent that keeps them monotone
    with the L2 penalties (see :mod:`nmfkit.solvers._mu_beta`).

    The course's notation (``X_course ~ D S``) maps as in :class:`NMF`:
    ``W = S^T``, ``H = D^T``.

    Parameters
    ----------
    n_components : int, "auto" or None, default="auto"
        Rank (``"auto"`` takes it from a custom H, else ``n_features``).
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"} or None, \
            default=None
        Initialization of H (and W), as in :class:`NMF`.
    batch_size : int, default=1024
        Rows per mini-batch.
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, \
            default="frobenius"
        The divergence; any real beta in [-100, 100]. ``beta_loss <= 0`` needs
        X > 0.
    tol : float, default=1e-4
        Stop when ``||H_new - H|| / ||H_new|| <= tol`` after a step (0
        disables it). Also the tolerance of the codes' solves.
    max_no_improvement : int or None, default=10
        Stop after this many steps without improvement of the smoothed
        batch objective (None disables it).
    max_iter : int, default=200
        Largest number of passes over the data.
    alpha_W, alpha_H, l1_ratio : float
        scikit-learn's scaled penalties.
    forget_factor : float, default=0.7
        Weight of the past batches: ``rho = forget_factor^(batch_size /
        n_samples)`` per step.
    fresh_restarts : bool, default=False
        Solve each batch's codes from scratch instead of one update.
    fresh_restarts_max_iter : int, default=30
        Updates per fresh solve.
    transform_max_iter : int or None, default=None
        Updates in :meth:`transform` (None: ``max_iter``).
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    l1_W, l2_W, l1_H, l2_H : float, default=0.0
        nmfkit's unscaled penalties (see above).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
    n_components_ : int
    reconstruction_err_ : float
        ``sqrt(2 D_beta(X | W H))`` on the training data (scikit-learn's
        definition; ``||X - WH||_F`` for beta = 2). Set by ``fit``.
    n_iter_ : int
        Passes over the data started.
    n_steps_ : int
        Mini-batches processed.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    See Also
    --------
    NMF : The full-batch estimator, with every solver and missing values.
    sklearn.decomposition.MiniBatchNMF : scikit-learn's estimator.

    References
    ----------
    .. [1] A. Lefevre, F. Bach and C. Fevotte, "Online algorithms for
       nonnegative matrix factorization with the Itakura-Saito divergence",
       IEEE WASPAA, 2011.
    .. [2] C. Fevotte and J. Idier, "Algorithms for nonnegative matrix
       factorization with the beta-divergence", Neural Computation 23(9),
       2421-2456, 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import MiniBatchNMF
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((200, 3)) @ rng.random((3, 12))
    >>> model = MiniBatchNMF(n_components=3, batch_size=50, random_state=0)
    >>> for start in range(0, 200, 50):  # one pass, a mini-batch at a time
    ...     model = model.partial_fit(X[start:start + 50])
    >>> model.components_.shape, model.n_steps_
    ((3, 12), 4)
    >>> model.transform(X[:5]).shape
    (5, 3)
    """

    def __init__(
        self,
        n_components: int | str | None = "auto",
        *,
        init: str | None = None,
        batch_size: int = 1024,
        beta_loss: float | str = "frobenius",
        tol: float = 1e-4,
        max_no_improvement: int | None = 10,
        max_iter: int = 200,
        alpha_W: float = 0.0,
        alpha_H: float | str = "same",
        l1_ratio: float = 0.0,
        forget_factor: float = 0.7,
        fresh_restarts: bool = False,
        fresh_restarts_max_iter: int = 30,
        transform_max_iter: int | None = None,
        random_state: RandomStateLike = None,
        verbose: int = 0,
        l1_W: float = 0.0,
        l2_W: float = 0.0,
        l1_H: float = 0.0,
        l2_H: float = 0.0,
    ) -> None:
        self.n_components = n_components
        self.init = init
        self.batch_size = batch_size
        self.beta_loss = beta_loss
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.max_iter = max_iter
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.forget_factor = forget_factor
        self.fresh_restarts = fresh_restarts
        self.fresh_restarts_max_iter = fresh_restarts_max_iter
        self.transform_max_iter = transform_max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.l1_W = l1_W
        self.l2_W = l2_W
        self.l1_H = l1_H
        self.l2_H = l2_H

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        check_parameters(self)
        return beta_to_float(self.beta_loss)

    def _batch_penalties(self, n_rows, n_features, rescaling):
        """Penalties of a batch, for the problem at the scale of ``rescaling``."""
        share = n_rows / self.batch_size
        penalties = combine_penalties(
            n_samples=n_rows,
            n_features=n_features,
            alpha_W=self.alpha_W,
            alpha_H=self.alpha_H,
            l1_ratio=self.l1_ratio,
            l1_W=self.l1_W,
            l2_W=self.l2_W,
            l1_H=self.l1_H * share,
            l2_H=self.l2_H * share,
        )
        return rescaling.penalties(penalties)

    def _transform_iterations(self):
        if self.transform_max_iter is None:
            return self.max_iter
        return self.transform_max_iter

    # ---------------------------------------------------------------- one step
    def _step(self, X, W, Ht, beta):
        """Update the codes of one batch and the dictionary (held transposed);
        return the codes, the new ``H^T`` and the batch's mean objective."""
        pen = self._batch_penalties(X.shape[0], X.shape[1], self._rescaling)
        kernel = _kernel(X, beta, Ht)
        if self.fresh_restarts or W is None:
            W = solve_codes(
                X, Ht, pen, beta, self.fresh_restarts_max_iter, self.tol, kernel
            )
        else:
            W = update_codes(X, W, Ht, pen, beta, kernel)
        if beta < 1:
            W[W < ZERO_BELOW] = 0.0
        num, den, objective = dictionary_products(X, W, Ht, pen, beta, kernel)
        Ht = online_dictionary_update(
            Ht, num, den, self._numerator, self._denominator, self._rho, beta, pen.l2_H
        )
        return W, Ht, objective / X.shape[0]

    def _converged(self, batch_rows, cost, H, H_old, n_samples, step, n_steps):
        step = step + 1
        if step == 1:
            if self.verbose:
                print(f"Minibatch step {step}/{n_steps}: mean batch cost: {cost}")
            return False
        if self._ewa_cost is None:
            self._ewa_cost = cost
        else:
            alpha = min(batch_rows / (n_samples + 1), 1.0)
            self._ewa_cost = self._ewa_cost * (1 - alpha) + cost * alpha
        if self.verbose:
            print(
                f"Minibatch step {step}/{n_steps}: mean batch cost: {cost}, "
                f"ewa cost: {self._ewa_cost}"
            )
        norm = np.linalg.norm(H)
        change = np.linalg.norm(H - H_old) / norm if norm > 0 else 0.0
        if self.tol > 0 and change <= self.tol:
            return True
        if self._ewa_cost_min is None or self._ewa_cost < self._ewa_cost_min:
            self._no_improvement = 0
            self._ewa_cost_min = self._ewa_cost
        else:
            self._no_improvement += 1
        return (
            self.max_no_improvement is not None
            and self._no_improvement >= self.max_no_improvement
        )

    def _start(self, X, W, H):
        """Initial factors of the rescaled X, ``H`` transposed; the running
        majorizer's sums (``A``, ``B``) are held transposed too."""
        W, H = self._initial_factors(X, W, H, self._rescaling)
        Ht = np.ascontiguousarray(H.T)
        self._numerator = Ht.copy()
        self._denominator = np.ones_like(Ht)
        self._batch_rows = min(self.batch_size, X.shape[0])
        self._rho = self.forget_factor ** (self._batch_rows / X.shape[0])
        return W, Ht

    # --------------------------------------------------------------- fitting
    def fit(self, X: MatrixLike, y: object = None, **params: Any) -> MiniBatchNMF:
        """Learn the dictionary from X, visiting it in mini-batches.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        **params
            ``W`` and ``H`` for ``init="custom"``.

        Returns
        -------
        self : MiniBatchNMF

        Raises
        ------
        ValueError
            If X is negative, not finite, not 2-dimensional, or a parameter is
            invalid; the message says which and how to fix it.

        See Also
        --------
        partial_fit : One mini-batch at a time, for streams.
        fit_transform : Fit and return the codes of X.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import MiniBatchNMF
        >>> rng = np.random.default_rng(0)
        >>> X = rng.random((60, 2)) @ rng.random((2, 8))
        >>> model = MiniBatchNMF(2, batch_size=20, tol=1e-3, random_state=0)
        >>> model = model.fit(X)
        >>> model.components_.shape
        (2, 8)
        """
        self.fit_transform(X, **params)
        return self

    def fit_transform(
        self,
        X: MatrixLike,
        y: object = None,
        W: ArrayLike | None = None,
        H: ArrayLike | None = None,
    ) -> np.ndarray:
        """Learn the dictionary from X and return the codes of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative data (positive when ``beta_loss <= 0``).
        y : Ignored
        W : array-like of shape (n_samples, n_components), default=None
            Initial codes for ``init="custom"``.
        H : array-like of shape (n_components, n_features), default=None
            Initial dictionary for ``init="custom"``.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)

        Raises
        ------
        ValueError
            If X is negative, not finite, not 2-dimensional, or a parameter is
            invalid; the message says which and how to fix it.

        See Also
        --------
        fit : Fit without returning the codes.
        transform : Codes of new data.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import MiniBatchNMF
        >>> rng = np.random.default_rng(0)
        >>> X = rng.random((60, 2)) @ rng.random((2, 8))
        >>> model = MiniBatchNMF(2, batch_size=20, tol=1e-3, random_state=0)
        >>> W = model.fit_transform(X)
        >>> W.shape
        (60, 2)
        >>> bool(np.linalg.norm(X - W @ model.components_) < 0.1 * np.linalg.norm(X))
        True
        """
        beta = self._check_params()
        X_user = X = self._validate_X(X, reset=True)
        check_data_for_beta(X, beta)
        # solved at unit scale (nmfkit._scaling), the scale of the first
        # mini-batch, as partial_fit takes it from its first chunk
        self._rescaling = Rescaling.for_fit(X[: min(self.batch_size, X.shape[0])], beta)
        X = self._rescaling.scale_data(X)
        W, Ht = self._start(X, W, H)
        n_samples = X.shape[0]
        self._ewa_cost = self._ewa_cost_min = None
        self._no_improvement = 0
        steps_per_pass = int(np.ceil(n_samples / self._batch_rows))
        n_steps = self.max_iter * steps_per_pass
        batches = itertools.cycle(gen_batches(n_samples, self._batch_rows))
        step = 0
        for step, batch in zip(range(n_steps), batches, strict=False):
            Xb = X[batch]
            W_b, Ht_new, cost = self._step(Xb, W[batch], Ht, beta)
            if not self.fresh_restarts:
                W[batch] = W_b
            Ht_old, Ht = Ht, Ht_new
            if self._converged(Xb.shape[0], cost, Ht, Ht_old, n_samples, step, n_steps):
                break
        if self.fresh_restarts:
            pen = self._batch_penalties(n_samples, X.shape[1], self._rescaling)
            W = solve_codes(X, Ht, pen, beta, self._transform_iterations(), self.tol)
        n_steps_done = step + 1
        self.n_iter_ = int(np.ceil(n_steps_done / steps_per_pass))
        self.n_steps_ = n_steps_done
        if self.n_iter_ == self.max_iter and self.tol > 0:
            warn_max_iter_reached(self.max_iter, self.tol, stacklevel=2)
        W, H = self._rescaling.to_user(W, np.ascontiguousarray(Ht.T))
        check_finite_output(W, "the codes W")
        check_finite_output(H, "components_")
        self.components_ = H
        self.n_components_ = H.shape[0]
        self.reconstruction_err_ = float(
            np.sqrt(2.0 * max(beta_divergence(X_user, W, H, beta), 0.0))
        )
        return W

    def partial_fit(
        self,
        X: MatrixLike,
        y: object = None,
        W: ArrayLike | None = None,
        H: ArrayLike | None = None,
    ) -> MiniBatchNMF:
        """Update the model with one mini-batch ``X``.

        Call it on consecutive chunks of a data set (out of core) or of a
        stream. The first call initializes H from its chunk (or takes the
        custom ``H``) and fixes ``rho = forget_factor^(min(batch_size, m) /
        m)`` for its ``m`` rows, as scikit-learn does; each call solves the
        chunk's codes afresh (``fresh_restarts_max_iter`` updates).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        W, H : array-like, default=None
            Initial factors for ``init="custom"`` (first call only).

        Returns
        -------
        self : MiniBatchNMF

        Raises
        ------
        ValueError
            If X is negative, not finite, not 2-dimensional, or a parameter is
            invalid; the message says which and how to fix it.
            Also when a later chunk has another number of features.

        See Also
        --------
        fit : All of X, in mini-batches of ``batch_size`` rows.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import MiniBatchNMF
        >>> rng = np.random.default_rng(0)
        >>> X = rng.random((60, 2)) @ rng.random((2, 8))
        >>> model = MiniBatchNMF(n_components=2, random_state=0)
        >>> for chunk in np.split(X, 3):  # a stream of three chunks
        ...     model = model.partial_fit(chunk)
        >>> model.n_steps_
        3
        """
        first = not hasattr(self, "components_")
        beta = self._check_params()
        X = self._validate_X(X, reset=first)
        check_data_for_beta(X, beta)
        if first or not hasattr(self, "_rescaling"):  # a loaded model: this batch
            self._rescaling = Rescaling.for_fit(X, beta)
        X = self._rescaling.scale_data(X)
        if first:
            _, Ht = self._start(X, W, H)
            self.n_steps_ = 0
        else:
            _, H_internal = self._rescaling.to_internal(None, self.components_)
            Ht = np.ascontiguousarray(H_internal.T)
        _, Ht, _ = self._step(X, None, Ht, beta)
        _, H = self._rescaling.to_user(None, np.ascontiguousarray(Ht.T))
        check_finite_output(H, "components_")
        self.components_ = H
        self.n_components_ = H.shape[0]
        self.n_steps_ += 1
        return self

    def transform(self, X: MatrixLike) -> np.ndarray:
        """Codes of X under the learned dictionary.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)

        Raises
        ------
        ValueError
            If X is negative, not finite, or has another number of features than
            the data the model was fitted on.

        See Also
        --------
        fit_transform : The codes of the training data.
        inverse_transform : Map codes back to the data space.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import MiniBatchNMF
        >>> rng = np.random.default_rng(0)
        >>> X = rng.random((60, 2)) @ rng.random((2, 8))
        >>> model = MiniBatchNMF(2, batch_size=20, tol=1e-3, random_state=0)
        >>> model = model.fit(X)
        >>> model.transform(X[:4]).shape
        (4, 2)
        """
        check_is_fitted(self)
        beta = self._check_params()
        X = self._validate_X(X, reset=False)
        check_data_for_beta(X, beta)
        H = np.asarray(self.components_, dtype=X.dtype)
        rescaling = Rescaling.for_codes(X, H, beta)
        _, H = rescaling.to_internal(None, H)
        pen = self._batch_penalties(X.shape[0], X.shape[1], rescaling)
        # scikit-learn's start sqrt(mean(X) / n_components), in the user's units
        mean = X.sum(dtype=np.float64) / (X.shape[0] * X.shape[1])
        W = solve_codes(
            rescaling.scale_data(X),
            np.ascontiguousarray(H.T),
            pen,
            beta,
            self._transform_iterations(),
            self.tol,
            start=_codes_start(mean, H.shape[0], rescaling),
        )
        W, _ = rescaling.to_user(W, None)
        check_finite_output(W, "the codes W")
        return W


def _codes_start(mean, n_components, rescaling):
    """scikit-learn's start of the codes at the internal scale, or the unit
    scale's own when that one is far off the dictionary's scale."""
    from ._nmf import _UNIT_START_RANGE

    start = constant_start(mean, n_components, if_zero=0.0) / rescaling.W_scale
    if _UNIT_START_RANGE[0] <= start <= _UNIT_START_RANGE[1]:
        return start
    return constant_start(mean / rescaling.data, n_components, if_zero=0.0)
