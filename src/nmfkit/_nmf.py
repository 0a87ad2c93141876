"""The NMF estimator and its functional form.

The estimator validates parameters and data, initializes the factors,
dispatches to a solver from :mod:`nmfkit.solvers` and stores the results. It
does no arithmetic on the factors itself.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import solvers
from ._array_api import (
    accumulation_dtype,
    convert_like,
    device_of,
    get_namespace,
    is_numpy,
)
from ._batched_fits import fit_transform_batched
from ._init import initialize_factors, resolve_init
from ._objective import (
    Penalties,
    beta_divergence,
    beta_to_float,
    combine_penalties,
    constant_start,
    held_out_entries,
    held_out_features,
    held_out_observed,
    masked_reconstruction_error,
    negative_objective,
    reconstruction_error,
    sampled_product,
)
from ._observed_model import (
    add_bias_components,
    bias_layout,
    constant_codes_observed,
    init_matrix,
    restore_offset_ones,
    with_bias_layout,
)
from ._params import check_parameters
from ._scaling import Rescaling
from ._typing import ArrayLike, MatrixLike, PathLike, RandomStateLike
from ._validation import (
    check_data,
    check_data_for_beta,
    check_factor,
    check_finite_output,
    check_missing_values,
    check_n_components,
    factor_rank,
    sparse_stores_missing,
    warn_factors_ignored,
    warn_max_iter_reached,
)
from .reliability._fit_runner import fit_with_recovery
from .reliability._persistence import PersistenceMixin

__all__ = ["NMF", "non_negative_factorization"]


class _BaseNMF(
    PersistenceMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """What :class:`NMF` and :class:`~nmfkit.MiniBatchNMF` share: input
    validation, initialization, ``inverse_transform`` and the estimator tags."""

    def _validate_X(self, X, *, reset, checked=None):
        """The validated X (``checked``: X already through ``check_data``)."""
        X_checked = check_data(X) if checked is None else checked
        # feature names come from the original object (a DataFrame's columns)
        validate_data(self, X, skip_check_array=True, reset=reset)
        X = X_checked
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        return X

    def _initial_factors(self, X, W, H, rescaling=None):
        """Initial factors of X; custom W and H are checked, then mapped to
        the internal scale of ``rescaling`` (X is already rescaled)."""
        n_samples, n_features = X.shape
        n_components = check_n_components(self.n_components, n_features)
        if self.init == "custom":
            if n_components == "auto":
                if H is None and W is None:
                    raise ValueError(
                        "init='custom' needs initial W and H; pass them to "
                        "fit_transform(X, W=..., H=...)."
                    )
                n_components = (
                    factor_rank(H, "H", n_features)
                    if H is not None
                    else factor_rank(W, "W", n_samples)
                )
            self._n_components = n_components
            if not is_numpy(get_namespace(X)):  # check on the host, then move
                W, H = _custom_factors_like(X, W, H, n_components)
            else:
                H = check_factor(H, (n_components, n_features), X.dtype, "H")
                W = check_factor(W, (n_samples, n_components), X.dtype, "W")
            if rescaling is not None:
                W, H = rescaling.to_internal(W, H)
            return W, H
        if W is not None or H is not None:
            warn_factors_ignored(stacklevel=3)
        if n_components == "auto":
            n_components = n_features
        self._n_components = n_components  # scikit-learn's resolved rank
        resolve_init(self.init, n_components, X.shape)
        return initialize_factors(
            X, n_components, self.init, random_state=self.random_state
        )

    def inverse_transform(self, X: MatrixLike) -> Any:
        """Map codes back to the data space: ``X @ components_``.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)

        See Also
        --------
        transform : The codes of data, which this maps back.
          NMF.predict_entries : Chosen entries of ``W H`` without the full product.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import NMF
        >>> X = np.array([[1.0, 0.0, 2.0], [2.0, 0.0, 4.0], [0.0, 3.0, 1.0]])
        >>> model = NMF(n_components=2, init="nndsvda", max_iter=2000, tol=1e-12)
        >>> W = model.fit_transform(X)
        >>> np.round(model.inverse_transform(W), 2)
        array([[1., 0., 2.],
               [2., 0., 4.],
               [0., 3., 1.]])
        """
        check_is_fitted(self)
        product = X @ self.components_
        product = np.asarray(product) if isinstance(product, np.matrix) else product
        check_finite_output(product, "inverse_transform(X)")
        return product

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class NMF(_BaseNMF):
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
        ``"mu"``. For partially observed data (``missing_values``, a
        ``mask``, ``sparse_unobserved="missing"``) ``"auto"`` and ``"cd"``
        mean the masked ``"hals"`` (``inner_iter`` and ``extrapolate`` apply to
        complete data only). On Dask arrays ``"auto"`` is plain HALS
        (``"cd"``) for the Frobenius loss and ``"mu"`` for KL
        (``docs/scaling.md``); there ``"cd"`` is nmfkit's plain HALS (the
        course's order and the decrease test of ``tol``), not scikit-learn's
        coordinate descent. Combinations not implemented raise a
        ValueError listing what is. Which solver runs on which data with which
        options is declared in one table (:mod:`nmfkit.solvers._table`;
        ``solver_`` and ``solver_options_`` report what ran); an option the
        chosen solver does not use (``l1_placement`` on ``"cd"`` and on
        partially observed ``"hals"``, ``inner_iter`` or
        ``extrapolate`` on partially observed data or Dask arrays,
        ``shuffle`` on ``"mu"``) raises a UserWarning naming the option and
        the solver, and is ignored; values that switch an option off
        (``inner_iter=1``, ``extrapolate=False``, ``shuffle=False``) never
        warn. Solvers registered with
        :func:`nmfkit.solvers.register_solver` are accepted by name
        (``docs/adding_a_solver.md``).
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, \
            default="frobenius"
        Divergence between X and WH: the data term ``1/2 ||X - WH||_F^2`` is
        replaced by scikit-learn's beta-divergence ``D_beta(X | WH)`` (any real
        beta in [-100, 100]; beta <= 0 needs X > 0). Multiplicative updates
        for beta != 2 follow Fevotte and Idier (2011) with the exponent that
        keeps every step monotone, penalties included (:mod:`nmfkit.solvers._mu_beta`);
        the L1 weights then go into the denominator, except for beta > 2
        where ``l1_placement`` applies.
    tol : float, default=1e-4
        Stop when the relative decrease of the objective in one iteration,
        ``(L[k-1] - L[k]) / L[k-1]``, is below ``tol``. ``0`` runs
        ``max_iter`` iterations. Where scikit-learn's solvers run with its
        parameters (``solver="mu"`` or ``"cd"`` named, none of the course's
        penalties; ``"auto"`` keeps the decrease test), its tests are used,
        so that ``n_iter_`` and the factors are scikit-learn's: the
        multiplicative updates (``solver="mu"``) stop every 10th iteration
        when the error ``e = sqrt(2 L)`` has fallen by less than
        ``tol * e[0]`` in the last 10; ``solver="cd"`` (plain sweeps) stops
        when the projected-gradient violation of an iteration is at most
        ``tol`` times the first iteration's and, a safeguard scikit-learn
        lacks, the objective's relative decrease is below ``tol`` too (with
        one dominant entry scikit-learn's test alone stops after two
        iterations, far from the minimum; on ordinary data the violation
        test is the later one), and its code solves (:meth:`transform`)
        start from zero codes, as scikit-learn's do.
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
    l1_placement : {"auto", "numerator", "denominator"}, default="auto"
        Where multiplicative updates place the L1 weight: ``"numerator"``
        (``W * max(XH^T - lambda, 0) / ...``, the course's update, giving exact
        zeros) or ``"denominator"`` (scikit-learn's, never exactly zero).
        ``"auto"``: the course's rule when one of the course's unscaled
        penalties (``l1_W``, ``l2_W``, ``l1_H``, ``l2_H``) is set, else
        scikit-learn's, so that scikit-learn's parameters alone give
        scikit-learn's updates.
    update_order : {"auto", "HW", "WH"}, default="auto"
        Which factor each iteration updates first: ``"HW"`` (the course's D
        then S) or ``"WH"`` (scikit-learn's). ``"auto"``: scikit-learn's order
        for the multiplicative updates (``solver="mu"``, or ``"auto"`` with
        another beta-divergence) unless one of the course's unscaled penalties
        is set, the course's order otherwise (HALS included).
    max_time : float or None, default=None
        Stop after this many seconds of solver time.
    on_interrupt : {"keep", "raise"}, default="keep"
        What Ctrl-C (KeyboardInterrupt) during :meth:`fit` does. ``"keep"``:
        the fit stops at the end of the current iteration and the estimator
        keeps the factors of that iteration (``n_iter_`` and the history stop
        there), with a :class:`~nmfkit.FitInterruptedWarning`; a second Ctrl-C
        interrupts at once and propagates. ``"raise"``: the interrupt
        propagates and no factors are stored.
    checkpoint : str, path-like or None, default=None
        File where the state of the fit is saved during :meth:`fit`
        (atomically, at most every ``checkpoint_every`` seconds, and on
        Ctrl-C). If it exists when :meth:`fit` starts, the fit resumes from
        it; the data and the parameters must be the same (``max_iter``,
        ``tol``, ``max_time``, ``verbose``, ``on_interrupt`` and the
        checkpoint options may change). A finished fit deletes it. A failed
        write warns (:class:`~nmfkit.CheckpointWarning`) and the fit goes on. A
        killed and resumed ``"mu"`` or ``"cd"`` fit (without ``extrapolate``
        or ``shuffle``) ends with the same factors as an uninterrupted one;
        with extrapolation (``"auto"``) the checkpoint holds the factors but
        not the extrapolation's momentum, so the resumed fit restarts it: it
        keeps decreasing the objective, along a different path.
    checkpoint_every : float, default=60.0
        Smallest number of seconds between two checkpoint writes (``0``:
        after every iteration).
    missing_values : float or None, default=None
        Value that marks a missing entry of X, typically ``np.nan``. When
        set, the fit term becomes ``1/2 ||M * (X - WH)||_F^2`` over the
        observed entries M only (see the Notes); the
        masked entries of a :class:`numpy.ma.MaskedArray` and the pd.NA
        cells of a DataFrame are missing too, whatever the value. ``None``:
        NaN, masked entries and pd.NA in X are errors. A sparse X read with
        ``sparse_unobserved="zero"`` that stores no missing value is
        complete data and is fitted as such, without densifying.
    sparse_unobserved : {"zero", "missing"}, default="zero"
        Meaning of the entries that a SciPy sparse X does not store:
        ``"zero"`` (observed zeros, as in a term count matrix) or
        ``"missing"`` (unknown, as in a ratings matrix; explicitly stored
        zeros are then observed zeros).
    bias : bool, default=False
        Partially observed data only. Add two offset components to the
        model: a learned column of W times a fixed row of ones in H (a
        non-negative offset per sample, e.g. a user bias) and a fixed column
        of ones in W times a learned row of H (a non-negative offset per
        feature, e.g. an item bias). They are the last two columns of W (the
        second-last learned, the last all ones) and rows of ``components_``
        (the second-last all ones, the last learned), so ``n_components_`` is
        ``n_components + 2`` and ``inverse_transform(W)`` includes them.
        Both are penalized like the other entries of W and H.
    n_init : int, default=1
        Number of fits from different initializations; the one with the
        lowest objective is kept. Their seeds are drawn from ``random_state``,
        and ``init=None`` means ``"random"`` when ``n_init > 1``. The seeds
        and final objectives of all runs are kept in ``n_init_seeds_`` and
        ``n_init_losses_``. The runs share X: they run together, one pass
        over X per step for all (:func:`nmfkit.solvers.fit_alternating_batched`;
        the same fits as one after another, to rounding), except for
        partially observed data, Dask arrays, other beta-divergences,
        ``max_time`` and ``verbose``, where they run one after another.
        Memory then holds the factors of all the runs at once, about
        ``n_init x (n_samples + n_features) x n_components`` numbers per
        copy, in batches of at most 1 GiB.
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
    solver_ : str
        The solver that ran (``"auto"`` and aliases resolved: ``"hals"`` or
        ``"mu"`` for the built-in solvers).
    solver_options_ : dict
        The options it ran with (the table's defaults, overridden by the
        options set on the estimator).
    reconstruction_err_ : float
        ``sqrt(2 D_beta(X | WH))``, scikit-learn's definition: ``||X - WH||_F``
        for the Frobenius loss.
    loss_ : float
        The full penalized objective at the end.
    loss_curve_ : ndarray of shape (n_rows,)
        The objective before the first and after every iteration
        (``n_rows = n_iter_ + 1``); for the other beta-divergences, whose
        objective costs a pass over every entry, after every 10th iteration
        and the last one (scikit-learn's cadence).
    history_ : ndarray of shape (n_rows, 3)
        Rows ``(iteration, elapsed seconds, objective)``, the same for every
        solver (with extrapolation, the accepted iterates), for plotting
        convergence against iterations or time; the first column says
        which iterations have rows.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Defined when X has string column names.
    n_init_seeds_ : ndarray of shape (n_init,)
        With ``n_init > 1``: the seed of every run.
    n_init_losses_ : ndarray of shape (n_init,)
        With ``n_init > 1``: the final objective of every run (the kept one is
        the smallest).

    See Also
    --------
    MiniBatchNMF : The same model fitted by mini-batches of rows (streams).
    non_negative_factorization : The functional form.
    select_rank : Choose ``n_components`` by cross-validation or consensus.
    sklearn.decomposition.NMF : scikit-learn's estimator, which this one extends.

    Notes
    -----
    Partially observed data: with ``missing_values``,
    ``sparse_unobserved="missing"`` or a ``mask`` passed to :meth:`fit`, the
    model minimizes

    .. math::

        \tfrac12 \|M \odot (X - WH)\|_F^2 + \text{the penalties above},

    with ``M`` the 0/1 mask of observed entries. Solvers touch the observed
    entries only: an iteration costs ``O(|observed| x n_components)``, with no
    n_samples x n_features array. ``inverse_transform(W)`` completes the
    matrix; :meth:`predict_entries` predicts chosen (row, column) pairs
    without the dense product; :meth:`transform` fits the codes of new rows
    from their observed entries only. Rows or columns without any observed
    entry get a zero factor (and an ``UnobservedWarning``). Initialization
    uses the observed values with zeros elsewhere, scaled by
    ``n_samples * n_features / |observed|``.

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Learning the parts of objects by
       non-negative matrix factorization", Nature 401, 788-791, 1999.
    .. [2] D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
       factorization", NIPS 13, 2001.
    .. [3] A. Cichocki and A.-H. Phan, "Fast local algorithms for large scale
       nonnegative matrix and tensor factorizations", IEICE Transactions on
       Fundamentals E92-A(3), 708-721, 2009.
    .. [4] N. Gillis and F. Glineur, "Accelerated multiplicative updates and
       hierarchical ALS algorithms for nonnegative matrix factorization",
       Neural Computation 24(4), 1085-1105, 2012.
    .. [5] C. Fevotte and J. Idier, "Algorithms for nonnegative matrix
       factorization with the beta-divergence", Neural Computation 23(9),
       2421-2456, 2011.
    .. [6] A. M. S. Ang and N. Gillis, "Accelerating nonnegative matrix
       factorization algorithms using extrapolation", Neural Computation
       31(2), 417-439, 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import NMF
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((30, 4)) @ rng.random((4, 20))  # rank 4, non-negative
    >>> X += 0.01 * rng.random(X.shape)  # and a little noise
    >>> model = NMF(n_components=4, init="nndsvda", max_iter=500, tol=1e-8)
    >>> W = model.fit_transform(X)
    >>> W.shape, model.components_.shape
    ((30, 4), (4, 20))
    >>> bool(np.linalg.norm(X - W @ model.components_) < 1e-2 * np.linalg.norm(X))
    True

    The course's penalties (lambda, mu, nu) are ``l1_W``, ``l2_W`` and
    ``l2_H``; the recorded objective never increases:

    >>> model = NMF(4, solver="mu", l1_W=0.1, l2_W=0.01, l2_H=0.01, max_iter=2000)
    >>> W = model.fit_transform(X)
    >>> bool(np.all(np.diff(model.loss_curve_) <= 0))
    True

    Missing entries are left out of the fit and predicted:

    >>> X_missing = X.copy()
    >>> X_missing[0, 0] = np.nan
    >>> model = NMF(4, missing_values=np.nan, max_iter=1000, random_state=0)
    >>> W = model.fit_transform(X_missing)
    >>> bool(abs(model.inverse_transform(W)[0, 0] - X[0, 0]) < 0.1 * X[0, 0])
    True
    """

    def __init__(
        self,
        n_components: int | str | None = "auto",
        *,
        init: str | None = None,
        solver: str = "auto",
        beta_loss: float | str = "frobenius",
        tol: float = 1e-4,
        max_iter: int = 200,
        random_state: RandomStateLike = None,
        alpha_W: float = 0.0,
        alpha_H: float | str = "same",
        l1_ratio: float = 0.0,
        verbose: int = 0,
        shuffle: bool = False,
        l1_W: float = 0.0,
        l2_W: float = 0.0,
        l1_H: float = 0.0,
        l2_H: float = 0.0,
        l1_placement: str = "auto",
        update_order: str = "auto",
        max_time: float | None = None,
        on_interrupt: str = "keep",
        checkpoint: PathLike | None = None,
        checkpoint_every: float = 60.0,
        missing_values: float | None = None,
        sparse_unobserved: str = "zero",
        bias: bool = False,
        n_init: int = 1,
        inner_iter: int | str | None = None,
        inner_tol: float = 0.1,
        extrapolate: bool | None = None,
    ) -> None:
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
        self.on_interrupt = on_interrupt
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.missing_values = missing_values
        self.sparse_unobserved = sparse_unobserved
        self.bias = bias
        self.n_init = n_init
        self.inner_iter = inner_iter
        self.inner_tol = inner_tol
        self.extrapolate = extrapolate

    # ------------------------------------------------------------------ checks
    def _check_params(self, masked=False, X=None):
        check_parameters(self)
        beta = beta_to_float(self.beta_loss)
        if self.solver in ("cd", "hals") and beta != 2.0:
            raise ValueError(
                f"Invalid beta_loss parameter: solver {self.solver!r} does not "
                f"handle beta_loss = {self.beta_loss!r}. Coordinate descent "
                "minimizes the Frobenius loss only; use solver='mu' (or 'auto') "
                "for other beta-divergences."
            )
        beta, spec, _ = self._resolve_solver(X, masked)
        return beta, spec

    # ------------------------------------------------- partially observed data
    def _is_masked(self, X, mask):
        """Whether X is fitted as partially observed data.

        A sparse X whose unstored entries are zeros (``sparse_unobserved=
        "zero"``) and that stores no entry equal to ``missing_values`` has
        every entry observed: it is complete data and goes to the complete-data
        solvers, sparse (unless ``bias=True`` needs the partially observed
        model). Checking costs O(nnz).
        """
        if mask is not None or (sp.issparse(X) and self.sparse_unobserved == "missing"):
            return True
        if self.missing_values is None:
            return False
        if sp.issparse(X) and not self.bias:
            return sparse_stores_missing(X, check_missing_values(self.missing_values))
        return True

    def _validate_observed(self, X, mask, *, reset):
        validate_data(self, X, skip_check_array=True, reset=reset)
        observed = check_data(
            X,
            partially_observed=True,
            missing_values=self.missing_values,
            sparse_unobserved=self.sparse_unobserved,
            mask=mask,
            warn_unobserved=reset,
        )
        n_features = observed.shape[1]
        if reset:
            self.n_features_in_ = n_features
        elif n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        return observed

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

    def _resolve_solver(self, X=None, masked=False, *, warn=True):
        """The row of the solver table that runs on X, and its options.

        Returns ``(beta, spec, options)``; see
        :func:`nmfkit.solvers.resolve_solver` (``"auto"`` and aliases
        resolved, options the solver does not use warned about).
        """
        beta = beta_to_float(self.beta_loss)
        kind = solvers.data_kind_of(X, masked=masked)
        values = {name: getattr(self, name) for name in solvers.NEUTRAL_OPTIONS}
        rules = {"update_order", "l1_placement"}
        if any(values[name] == "auto" for name in rules):
            # "auto" follows the solver that runs (see the class docstring)
            spec, _ = solvers.resolve_solver(
                self.solver,
                beta,
                kind,
                warn=False,
                **{k: v for k, v in values.items() if k not in rules},
            )
            resolved = {
                "update_order": self._update_order_rule(spec.name, kind),
                "l1_placement": self._l1_placement_rule(),
            }
            for name in rules:
                if values[name] == "auto":
                    if name in spec.options:
                        values[name] = resolved[name]
                    else:
                        del values[name]
        spec, options = solvers.resolve_solver(
            self.solver,
            beta,
            kind,
            warn=warn,
            random_state=self.random_state,
            **values,
        )
        return beta, spec, options

    def _monitor(self, callbacks=(), history=None, solver="hals", kind="dense"):
        return solvers.ConvergenceMonitor(
            tol=self.tol,
            max_iter=self.max_iter,
            max_time=self.max_time,
            verbose=self.verbose,
            callbacks=callbacks,
            history=history,
            rule=self._stopping_rule(solver, kind),
        )

    def _stopping_rule(self, solver, kind="dense"):
        """scikit-learn's tests where its parameters are used (its
        multiplicative updates, ``solver="mu"``; its coordinate descent,
        ``solver="cd"``), the decrease of each iteration otherwise, with
        ``solver="auto"`` included (see ``tol`` in the class docstring)."""
        if self._uses_course_penalties():
            return "decrease"
        if solver == "mu" and self.solver == "mu":
            return "scikit-learn"
        return "violation" if self._is_sklearn_cd(solver, kind) else "decrease"

    def _is_sklearn_cd(self, solver, kind):
        """``solver="cd"`` as scikit-learn runs it: plain sweeps, no inner
        loops or extrapolation, on complete data in memory (NumPy, sparse or
        arrays of other array-API libraries; not Dask)."""
        plain = self.inner_iter in (None, 1) and not self.extrapolate
        in_memory = kind in ("dense", "sparse", "array_api")
        return self.solver == "cd" and solver == "hals" and plain and in_memory

    def _uses_course_penalties(self):
        names = ("l1_W", "l2_W", "l1_H", "l2_H")
        return any(getattr(self, name) != 0 for name in names)

    def _update_order_rule(self, solver="mu", kind="dense"):
        """``update_order`` with ``"auto"`` resolved for the solver that runs
        (see the class docstring): scikit-learn's order for the multiplicative
        updates, whose iterates are scikit-learn's, unless the course's
        penalties are set; the course's order otherwise (HALS is not
        scikit-learn's coordinate descent, and ending each iteration with W
        keeps ``fit_transform`` consistent with ``transform``)."""
        if self.update_order != "auto":
            return self.update_order
        if self._uses_course_penalties():
            return "HW"
        return "WH" if solver == "mu" or self._is_sklearn_cd(solver, kind) else "HW"

    def _l1_placement_rule(self):
        """``l1_placement`` with ``"auto"`` resolved (see the class docstring)."""
        if self.l1_placement != "auto":
            return self.l1_placement
        return "numerator" if self._uses_course_penalties() else "denominator"

    def _solver_options(self, callbacks=(), history=None, masked=False, X=None):
        """Keyword arguments of the solver: the monitor and its own options.

        ``history`` continues the history of a resumed checkpoint; ``masked``
        selects the options of the solvers for partially observed data.
        """
        _, spec, options = self._resolve_solver(X, masked, warn=False)
        kind = solvers.data_kind_of(X, masked=masked)
        monitor = self._monitor(callbacks, history, spec.name, kind)
        return dict(monitor=monitor, **options)

    def _store_solver(self, spec, X=None, masked=False):
        """The fitted ``solver_`` and ``solver_options_``."""
        self.solver_ = spec.name
        self.solver_options_ = self._resolve_solver(X, masked, warn=False)[2]

    # --------------------------------------------------------------- fitting
    def fit(self, X: MatrixLike, y: object = None, **params: Any) -> NMF:
        """Learn the factorization of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative data.
        y : Ignored
        **params
            ``W`` and ``H`` for ``init="custom"``; ``mask`` (see
            :meth:`fit_transform`).

        Returns
        -------
        self : NMF

        Raises
        ------
        ValueError
            If X is negative, not finite (without ``missing_values``), not
            2-dimensional, or a parameter is invalid; the message says which and
            how to fix it.

        See Also
        --------
        fit_transform : Fit and return the codes W as well.
        partial_fit : MiniBatchNMF's update from one chunk of rows.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import NMF
        >>> X = np.array([[1.0, 0.0, 2.0], [2.0, 0.0, 4.0], [0.0, 3.0, 1.0]])
        >>> model = NMF(n_components=2, init="nndsvda", max_iter=2000, tol=1e-12).fit(X)
        >>> model.components_.shape, model.n_components_
        ((2, 3), 2)
        >>> round(model.reconstruction_err_, 4)
        0.0
        """
        self.fit_transform(X, **params)
        return self

    def fit_transform(
        self,
        X: MatrixLike,
        y: object = None,
        W: ArrayLike | None = None,
        H: ArrayLike | None = None,
        mask: MatrixLike = None,
    ) -> Any:
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
        mask : {array-like, sparse matrix} of bool, shape (n_samples, \
                n_features), default=None
            True where X is observed: only those entries enter the fit (see
            the Notes of :class:`NMF`).

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)

        Raises
        ------
        ValueError
            If X is negative, not finite (without ``missing_values``), not
            2-dimensional, or a parameter is invalid; the message says which and
            how to fix it.
            Also when a custom W or H has the wrong shape or negative entries.

        See Also
        --------
        fit : Fit without returning the codes.
        transform : Codes of new data under the fitted dictionary.
        non_negative_factorization : The same fit as a function.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import NMF
        >>> X = np.array([[1.0, 0.0, 2.0], [2.0, 0.0, 4.0], [0.0, 3.0, 1.0]])
        >>> model = NMF(n_components=2, init="nndsvda", max_iter=2000, tol=1e-12)
        >>> W = model.fit_transform(X)
        >>> W.shape
        (3, 2)
        >>> bool(np.allclose(W @ model.components_, X, atol=1e-3))
        True

        A custom start, and a mask that leaves one entry out of the fit:

        >>> W0 = np.ones((3, 2))
        >>> H0 = np.array([[1.0, 0.1, 2.0], [0.1, 3.0, 1.0]])
        >>> model = NMF(n_components=2, init="custom", max_iter=2000, tol=1e-12)
        >>> W = model.fit_transform(X, W=W0, H=H0)
        >>> mask = np.ones_like(X, dtype=bool)
        >>> mask[0, 0] = False
        >>> model = NMF(n_components=2, max_iter=2000, random_state=0)
        >>> W = model.fit_transform(X, mask=mask)
        >>> W.shape
        (3, 2)
        """
        if self.n_init != 1:
            return self._fit_best_of_several(X, W, H, mask)
        if _is_dask_array(X):  # before validation, which would load X
            from .distributed import fit_transform_dask

            return fit_transform_dask(self, X, W, H)
        if self._is_masked(X, mask):
            return self._fit_transform_observed(X, W, H, mask)
        self._check_bias_needs_masked()
        beta, spec = self._check_params(X=X)
        X = self._validate_X(X, reset=True)
        check_data_for_beta(X, beta)
        result = fit_with_recovery(
            self,
            X,
            spec.solver(beta),
            lambda X_internal, scale: self._initial_factors(X_internal, W, H, scale),
            self._penalties(X),
        )
        self._store_result(result)
        self._store_solver(spec, X)
        self.reconstruction_err_ = reconstruction_error(
            X, result.W, result.H, beta=beta
        )
        return result.W

    def _fit_best_of_several(self, X, W, H, mask, *, batched=True):
        """``n_init`` fits from seeds drawn from ``random_state``; keep the best.

        The fits share X: where the batched driver applies they run together
        (:func:`~nmfkit._batched_fits.fit_transform_batched`), otherwise, or
        with ``batched=False``, one after another; the results are the same
        to rounding.
        """
        check_parameters(self, ["n_init"])
        if self.init == "custom" or W is not None or H is not None:
            raise ValueError(
                "n_init > 1 restarts from random initializations; it cannot be "
                "combined with init='custom' or given W and H. Set n_init=1."
            )
        if self.checkpoint is not None:
            raise ValueError(
                "n_init > 1 cannot be combined with checkpoint; checkpoint one "
                "fit at a time (n_init=1)."
            )
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=self.n_init
        )
        init = "random" if self.init is None else self.init

        def run(seed):
            return clone(self).set_params(n_init=1, random_state=int(seed), init=init)

        codes = None
        if batched and mask is None:
            runs = [run(seed) for seed in seeds]
            codes = fit_transform_batched(runs, X)
        if codes is None:  # one after another, keeping only the best codes
            runs, codes = iter(run(seed) for seed in seeds), None
        best_W, best, losses = None, None, []
        for i, run_i in enumerate(runs):
            W_run = run_i.fit_transform(X, mask=mask) if codes is None else codes[i]
            losses.append(run_i.loss_)
            if best is None or run_i.loss_ < best.loss_:
                best_W, best = W_run, run_i
        for name, value in vars(best).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(self, name, value)
        self.n_init_seeds_ = seeds
        self.n_init_losses_ = np.array(losses)
        return best_W

    def _fit_transform_observed(self, X, W, H, mask):
        beta, spec = self._check_params(masked=True)
        solver_fn = spec.solver(beta)
        observed = self._validate_observed(X, mask, reset=True)
        penalties = self._penalties(observed)

        def initial_factors(observed_internal, scale):
            W0, H0 = self._initial_factors(init_matrix(observed_internal), W, H, scale)
            if self.bias:
                W0, H0 = add_bias_components(observed_internal, W0, H0)
            return W0, H0

        result = fit_with_recovery(
            self,
            observed,
            with_bias_layout(solver_fn) if self.bias else solver_fn,
            initial_factors,
            penalties,
            masked=True,
            # offsets are fixed ones: with penalties the rescaled problem
            # would weigh them differently, so it is solved as given
            rescale=not (self.bias and penalties != Penalties()),
        )
        if self.bias:
            restore_offset_ones(result.W, result.H)
        self._store_result(result)
        self._store_solver(spec, masked=True)
        self.reconstruction_err_ = masked_reconstruction_error(
            observed, result.W, result.H
        )
        return result.W

    def _check_bias_needs_masked(self):
        if self.bias:
            raise ValueError(
                "bias=True is available for partially observed data only (with "
                "missing_values, a mask, or sparse_unobserved='missing'); for "
                "complete data set bias=False."
            )

    def _store_result(self, result):
        if not result.info.get("interrupted", False):
            self._warn_if_not_converged(result)
        self.components_ = result.H
        self.n_components_ = result.H.shape[0]
        self.n_iter_ = result.n_iter
        self.history_ = result.history
        self.loss_curve_ = result.history[:, 2].copy()
        self.loss_ = float(self.loss_curve_[-1])

    def _warn_if_not_converged(self, result):
        # scikit-learn's rule: every run that used all max_iter iterations
        # (with tol > 0) warns, even when its last iteration met tol
        if self.tol > 0 and result.n_iter >= self.max_iter:
            warn_max_iter_reached(self.max_iter, self.tol, stacklevel=3)

    def transform(self, X: MatrixLike, mask: MatrixLike = None) -> Any:
        """Codes of new data under the fitted dictionary.

        Solves ``min_{W >= 0} L(W, components_)`` (with the same penalties)
        by the same solver, from a constant start
        ``sqrt(mean(X) / n_components)``. For partially observed data only
        the observed entries of each new row enter its fit, and a row with no
        observed entry gets zero codes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        mask : {array-like, sparse matrix} of bool, default=None
            True where X is observed.

        Returns
        -------
        W : ndarray of shape (n_samples, n_components)

        Raises
        ------
        ValueError
            If X is negative, not finite, or has another number of features than
            the data of :meth:`fit`.

        See Also
        --------
        fit_transform : The codes of the training data.
        inverse_transform : Map codes back to the data space.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import NMF
        >>> X = np.array([[1.0, 0.0, 2.0], [2.0, 0.0, 4.0], [0.0, 3.0, 1.0]])
        >>> model = NMF(n_components=2, init="nndsvda", max_iter=2000, tol=1e-12).fit(X)
        >>> W_new = model.transform(np.array([[3.0, 0.0, 6.0]]))
        >>> np.round(model.inverse_transform(W_new), 2)
        array([[3., 0., 6.]])
        """
        check_is_fitted(self)
        if _is_dask_array(X):  # a lazy Dask array chunked like X
            from .distributed import transform_dask

            return transform_dask(self, X)
        if self._is_masked(X, mask):
            beta, spec = self._check_params(masked=True)
            observed = self._validate_observed(X, mask, reset=False)
            H = self.components_.astype(observed.dtype, copy=False)
            return self._fit_codes(observed, H, spec.solver(beta), masked=True).W
        self._check_bias_needs_masked()
        beta, spec = self._check_params(X=X)
        X = self._validate_X(X, reset=False)
        H = convert_like(self.components_, X)
        return self._fit_codes(X, H, spec.solver(beta)).W

    def _fit_codes(self, X, H, solver_fn, *, masked=False):
        """Solve for the codes of validated X under the fixed dictionary H.

        The one path of :meth:`transform` and of
        ``non_negative_factorization(update_H=False)``: solved at unit scale
        (:class:`~nmfkit._scaling.Rescaling`) from constant codes, with the
        estimator's penalties and solver options.

        Returns
        -------
        result : SolverResult
            With ``W`` at the user's scale, checked finite.
        """
        beta = beta_to_float(self.beta_loss)
        if not masked:
            check_data_for_beta(X, beta)
        penalties = self._penalties(X)
        # the offset components' fixed ones must stay ones: solved as given
        scale = (
            Rescaling(beta=beta) if self.bias else Rescaling.for_codes(X, H, beta)
        )
        n_components = H.shape[0]
        fixed = {}
        # scikit-learn's start sqrt(mean(X) / n_components), in the user's units
        if masked:
            W0 = constant_codes_observed(X, n_components)
            if self.bias:
                W0[:, -1] = 1
                fixed = bias_layout(n_components - 2)
        else:
            W0 = _constant_codes(X, n_components)
        X_internal = scale.scale_data(X)
        W0, H_internal = scale.to_internal(W0, H)
        if not _UNIT_START_RANGE[0] <= float(W0[0, 0]) <= _UNIT_START_RANGE[1]:
            # that start is far off this dictionary's scale (H of 1e200):
            # start from the same rule at unit scale instead
            if masked:
                W0 = constant_codes_observed(X_internal, n_components)
                if self.bias:
                    W0[:, -1] = 1
            else:
                W0 = _constant_codes(X_internal, n_components)
        options = self._solver_options(masked=masked, X=X_internal)
        options["monitor"].objective_scale = scale.objective_factor
        if options["monitor"].rule == "violation" and not self.bias:
            W0 = W0 * 0  # scikit-learn's coordinate descent starts at 0
        result = solver_fn(
            X_internal,
            W0,
            H_internal,
            scale.penalties(penalties),
            update_H=False,
            **options,
            **fixed,
        )
        result.W, _ = scale.to_user(result.W, None)
        check_finite_output(result.W, "the codes W")
        return result

    def predict_entries(
        self,
        W: ArrayLike,
        rows: ArrayLike,
        cols: ArrayLike,
    ) -> np.ndarray:
        """Predict chosen entries ``(W H)[rows[t], cols[t]]`` of the completed matrix.

        The same values as ``inverse_transform(W)[rows, cols]`` without the
        n_samples x n_features product: O(len(rows) x n_components).

        Parameters
        ----------
        W : ndarray of shape (n_samples, n_components)
            Codes, for example those returned by :meth:`fit_transform`.
        rows : array-like of int, shape (m,)
            Row (sample) of each requested entry.
        cols : array-like of int, shape (m,)
            Column (feature) of each requested entry.

        Returns
        -------
        values : ndarray of shape (m,)

        Raises
        ------
        ValueError
            If W does not have ``n_components_`` columns, or ``rows`` and ``cols``
            are not 1-dimensional of the same length.
        TypeError
            If ``rows`` or ``cols`` do not hold integers.
        IndexError
            If a position is outside W's rows or the features.

        See Also
        --------
        inverse_transform : The whole completed matrix ``W H``.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import NMF
        >>> X = np.array([[1.0, 0.0, 2.0], [2.0, 0.0, 4.0], [0.0, 3.0, 1.0]])
        >>> model = NMF(n_components=2, init="nndsvda", max_iter=2000, tol=1e-12)
        >>> W = model.fit_transform(X)
        >>> np.round(model.predict_entries(W, rows=[0, 2], cols=[2, 1]), 2)
        array([2., 3.])
        """
        check_is_fitted(self)
        W = np.asarray(W)
        H = self.components_
        if W.ndim != 2 or W.shape[1] != H.shape[0]:
            raise ValueError(
                f"W has shape {W.shape}; expected (n_samples, {H.shape[0]}), the "
                "codes returned by fit_transform or transform."
            )
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        if rows.shape != cols.shape or rows.ndim != 1:
            raise ValueError(
                f"rows and cols must be 1-dimensional of the same length, got "
                f"shapes {rows.shape} and {cols.shape}."
            )
        if rows.size and (rows.dtype.kind not in "iu" or cols.dtype.kind not in "iu"):
            raise TypeError(
                f"rows and cols must hold integer positions, got dtypes "
                f"{rows.dtype} and {cols.dtype}."
            )
        for name, index, size in (
            ("rows", rows, W.shape[0]),
            ("cols", cols, H.shape[1]),
        ):
            if index.size and (index.min() < 0 or index.max() >= size):
                raise IndexError(
                    f"{name} holds positions outside [0, {size}); the largest is "
                    f"{index.max()}, the smallest {index.min()}."
                )
        rows = rows.astype(np.int64, copy=False)
        cols = cols.astype(np.int64, copy=False)
        values = sampled_product(W, H.T, rows, cols)
        check_finite_output(values, "the predicted entries")
        return values

    def score(self, X: MatrixLike, y: object = None, mask: MatrixLike = None) -> float:
        """Negative objective of X under the fitted dictionary (higher is better).

        So that :class:`~sklearn.model_selection.GridSearchCV` and
        :func:`~sklearn.model_selection.cross_val_score` can compare models
        (for example ranks) on held-out rows, the codes must not see the
        entries they are judged on: for the Frobenius loss the codes of each
        row are fitted (:meth:`transform`, with the same penalties) to a fixed
        random half of its entries, and the data-fit term is measured on the
        other half and scaled to all entries,

            score = -( n_entries / n_held * 1/2 ||X - W H||^2 over the held
                      half + penalties of W and H ).

        Without the split a larger rank would always fit new rows better. The
        split is fixed (seed 0), so the score of the same data is always the
        same:

        - dense X: each entry is held with probability 1/2 (the draws of
          ``np.random.RandomState(0).random_sample(X.shape) < 0.5``, made a
          block of rows at a time);
        - sparse X: a fixed random half of the features (columns) is held for
          every row, so that the score costs O(nnz + (n + p) x rank) and X is
          never densified (an entrywise split would visit all n x p entries);
        - partially observed data (``missing_values``, ``mask``,
          ``sparse_unobserved="missing"``): the split is among the observed
          entries only (``random_sample(n_observed) < 0.5`` in row-major
          order), and ``n_entries`` is the number of observed entries.

        For other beta-divergences (where no masked solver exists yet) the
        codes are fitted to all entries and the score is the negative
        penalized objective.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative data, partially observed as for :meth:`fit`.
        y : Ignored
        mask : {array-like, sparse matrix} of bool, default=None
            True where X is observed (as for :meth:`fit`).

        Returns
        -------
        score : float

        Raises
        ------
        ValueError
            If X is negative, not finite (without ``missing_values``), or has
            another number of features than the data of :meth:`fit`.

        See Also
        --------
        select_rank : Rank selection, which compares held-out scores.
        sklearn.model_selection.cross_val_score : Scores models on held-out rows.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit import NMF
        >>> X = np.array([[1.0, 0.0, 2.0], [2.0, 0.0, 4.0], [0.0, 3.0, 1.0]])
        >>> model = NMF(n_components=2, init="nndsvda", max_iter=2000, tol=1e-12).fit(X)
        >>> score = model.score(X)
        >>> bool(score <= 0), round(score, 3)
        (True, -0.0)
        """
        check_is_fitted(self)
        if self._is_masked(X, mask):
            observed = self._validate_observed(X, mask, reset=False)
            H = self.components_.astype(observed.dtype, copy=False)
            with _internal_arrays():
                W, fit = held_out_observed(observed, H, self._masked_codes)
            return negative_objective(fit, self._penalties(observed), W, H)
        beta = beta_to_float(self.beta_loss)
        X = self._validate_X(X, reset=False)
        H = self.components_.astype(X.dtype, copy=False)
        with _internal_arrays():
            if beta != 2:
                W = self.transform(X)
                fit = beta_divergence(X, W, H, beta)
            elif sp.issparse(X) and X.shape[1] > 1:
                W, fit = held_out_features(X, H, self._codes_under)
            else:
                W, fit = held_out_entries(X, H, self._masked_codes)
        return negative_objective(fit, self._penalties(X), W, H)

    def _masked_codes(self, X, mask):
        """Codes of X fitted to its entries where ``mask`` is True."""
        return self.transform(X, mask=mask)

    def _codes_under(self, X, H):
        """Codes of X under the dictionary H (same estimator otherwise)."""
        proxy = copy.copy(self)
        proxy.components_ = H
        return proxy.transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing_values is not None
        return tags


#: Internal codes starts outside this range are replaced by the unit-scale one.
_UNIT_START_RANGE = (2.0**-40, 2.0**40)


@contextlib.contextmanager
def _internal_arrays():
    """Calls on arrays that nmfkit derived from the user's validated X.

    Their feature names were checked on the user's X; the derived NumPy or
    SciPy arrays have none, which scikit-learn would otherwise warn about.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="X does not have valid feature names",
            category=UserWarning,
        )
        yield


def _is_dask_array(X):
    return type(X).__module__.startswith("dask.array") and hasattr(X, "chunks")


def _constant_codes(X, n_components):
    """Constant positive codes ``sqrt(mean(X) / n_components)`` (MU-safe start)."""
    xp = get_namespace(X)
    if is_numpy(xp):
        total = X.sum(dtype=np.float64)
    else:
        total = float(xp.sum(X, dtype=accumulation_dtype(xp, X)))
    value = constant_start(total / (X.shape[0] * X.shape[1]), n_components)
    return xp.full(
        (X.shape[0], n_components), value, dtype=X.dtype, device=device_of(X)
    )


def _custom_factors_like(X, W, H, n_components):
    """Check custom W and H (NumPy or X's library) on the host; return them like X."""
    from ._array_api import numpy_dtype, to_numpy

    dtype = numpy_dtype(X)
    n_samples, n_features = X.shape
    H = check_factor(
        None if H is None else to_numpy(H), (n_components, n_features), dtype, "H"
    )
    W = check_factor(
        None if W is None else to_numpy(W), (n_samples, n_components), dtype, "W"
    )
    return convert_like(W, X), convert_like(H, X)


def non_negative_factorization(
    X: MatrixLike,
    W: ArrayLike | None = None,
    H: ArrayLike | None = None,
    n_components: int | str | None = "auto",
    *,
    init: str | None = None,
    update_H: bool = True,
    solver: str = "auto",
    beta_loss: float | str = "frobenius",
    tol: float = 1e-4,
    max_iter: int = 200,
    alpha_W: float = 0.0,
    alpha_H: float | str = "same",
    l1_ratio: float = 0.0,
    random_state: RandomStateLike = None,
    verbose: int = 0,
    shuffle: bool = False,
    **nmfkit_params: Any,
) -> tuple[Any, Any, int]:
    """Compute a non-negative factorization ``X ~ W H``, as scikit-learn's function.

    Parameters are those of :class:`NMF`; ``nmfkit_params`` takes nmfkit's
    extra ones (``l1_W``, ``l2_W``, ``l1_H``, ``l2_H``, ``l1_placement``,
    ``update_order``, ``max_time``, ``missing_values``, ``sparse_unobserved``,
    ``inner_iter``, ``inner_tol``, ``extrapolate``). With ``update_H=False``,
    H is fixed and only W is fitted (on a Dask array: block by block, as
    ``NMF.transform`` does there, W returned as a Dask array chunked like X's
    rows and ``n_iter`` the most iterations a block ran).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Non-negative data.
    W : array-like of shape (n_samples, n_components), default=None
        Initial codes for ``init="custom"`` (unused when ``update_H=False``).
    H : array-like of shape (n_components, n_features), default=None
        Initial dictionary for ``init="custom"``; the fixed dictionary when
        ``update_H=False``.
    n_components : int, "auto" or None, default="auto"
        Rank, as in :class:`NMF`.
    init : str or None, default=None
        Initialization, as in :class:`NMF`.
    update_H : bool, default=True
        Fit H too (True) or only W under the given H (False).
    solver, beta_loss, tol, max_iter, alpha_W, alpha_H, l1_ratio : optional
        As in :class:`NMF`.
    random_state, verbose, shuffle : optional
        As in :class:`NMF`.
    **nmfkit_params
        nmfkit's other parameters of :class:`NMF` (listed above).

    Returns
    -------
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
    n_iter : int

    Raises
    ------
    ValueError
        If X is negative or not finite (without ``missing_values``), a
        parameter is invalid, or ``update_H=False`` comes without H or with
        ``bias=True``.

    See Also
    --------
    NMF : The estimator, whose parameters these are.
    sklearn.decomposition.non_negative_factorization : scikit-learn's function.

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
       factorization", NIPS 13, 2001.
    .. [2] A. Cichocki and A.-H. Phan, "Fast local algorithms for large scale
       nonnegative matrix and tensor factorizations", IEICE Transactions on
       Fundamentals E92-A(3), 708-721, 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit import non_negative_factorization
    >>> X = np.array([[1, 1], [2, 1], [3, 1.2], [4, 1], [5, 0.8], [6, 1]])
    >>> W, H, n_iter = non_negative_factorization(
    ...     X, n_components=2, init="random", random_state=0, max_iter=500
    ... )
    >>> W.shape, H.shape
    ((6, 2), (2, 2))
    >>> bool(np.all(W >= 0) and np.all(H >= 0))
    True
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
    if est.bias:
        raise ValueError(
            "bias=True is available through NMF(...).fit_transform and transform, "
            "not non_negative_factorization."
        )
    masked = est._is_masked(X, None)
    beta, spec = est._check_params(masked=masked, X=X)
    solver_fn = spec.solver(beta)
    if masked:
        X = est._validate_observed(X, None, reset=True)
    else:
        X = est._validate_X(X, reset=True)
    n_components = factor_rank(H, "H", X.shape[1])
    H = check_factor(H, (n_components, X.shape[1]), X.dtype, "H")
    if W is not None:
        warnings.warn(
            "When update_H=False, the provided initial W is not used. nmfkit "
            "solves for W from a constant start; drop W= to silence this.",
            RuntimeWarning,
            stacklevel=2,
        )
    if _is_dask_array(X):
        # each block of rows solved as NMF.transform solves it on Dask
        import dask.array as da

        from .distributed import codes_dask
        from .solvers import SolverResult

        est.components_ = H
        W, n_iter = codes_dask(est, X)
        est._warn_if_not_converged(
            SolverResult(
                W=W,
                H=H,
                n_iter=n_iter,
                history=np.empty((0, 3)),
                converged=n_iter < est.max_iter,
            )
        )
        return da.from_array(W, chunks=(X.chunks[0], n_components)), H, n_iter
    result = est._fit_codes(X, H, solver_fn, masked=masked)
    est._warn_if_not_converged(result)
    return result.W, H, result.n_iter

