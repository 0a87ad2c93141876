"""Consensus NMF (Kotliar et al. 2019): many fits per rank merged into one.

For every candidate rank, :func:`consensus_nmf` fits ``n_replicates`` NMF
models from random starts (:func:`~nmfkit.consensus._replicates.fit_replicates`),
pools their components, drops the outliers by local density and clusters the
rest by k-means into consensus spectra
(:func:`~nmfkit.consensus._clustering.cluster_components`); the usages are
then refitted with the consensus spectra fixed. The stability of the
clustering (its silhouette) and the reconstruction error of the consensus
model, against the rank, choose the rank.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .._nmf import _is_dask_array as is_dask_array
from .._rank import _TIE, _check_rank
from .._typing import MatrixLike, RandomStateLike
from .._validation import check_data, check_finite_output
from ._anndata import anndata_matrix, is_anndata
from ._clustering import cluster_components, unit_rows
from ._replicates import fit_replicates

__all__ = [
    "ConsensusFactors",
    "ConsensusSelection",
    "consensus_nmf",
    "default_n_neighbors",
    "stability_rank",
]

#: cNMF's neighbourhood: 30% of the replicates.
NEIGHBORHOOD_SHARE = 0.30
#: Largest stopping tolerance of the usages' refit.
REFIT_TOL = 1e-7
#: Parameters of NMF that consensus_nmf sets itself or cannot honour.
_REFUSED = {
    "n_components": "the ranks are given by ranks",
    "missing_values": "consensus NMF fits complete data; fill the missing entries",
    "checkpoint": "checkpoints are for single long fits, not replicates",
    "bias": "the offset components are for partially observed data",
}


@dataclass
class ConsensusFactors:
    """The consensus model of one rank, from :func:`consensus_nmf`.

    Attributes
    ----------
    rank : int
    spectra : ndarray of shape (rank, n_features)
        The consensus spectra (dictionary H): the median of each cluster's
        unit-norm components, rescaled so that every row sums to 1; rows in
        decreasing order of their total usage.
    usages : ndarray of shape (n_samples, rank)
        The codes W refitted with ``spectra`` fixed, ``X ~ usages @ spectra``.
    silhouette : float
        Stability: scikit-learn's silhouette score (Euclidean) of the k-means
        clusters of the kept unit-norm components, from -1 to 1.
    reconstruction_error : float
        ``sqrt(2 D_beta(X | usages @ spectra))``: ``||X - W H||_F`` for the
        Frobenius loss (``NMF.reconstruction_err_``'s definition).
    n_dropped : int
        Pooled components dropped by the density filter (or zero).
    components : ndarray of shape (n_replicates * rank, n_features)
        The pooled components of all replicates scaled to unit norm,
        replicate by replicate (rows ``i * rank`` to ``(i + 1) * rank - 1``
        are replicate ``i``'s).
    density : ndarray of shape (n_replicates * rank,)
        The local density of every pooled component.
    labels : ndarray of int of shape (n_replicates * rank,)
        The consensus spectrum (row of ``spectra``) of every pooled
        component, -1 for the dropped ones.
    replicate_losses : ndarray of shape (n_replicates,)
        The final objective of every replicate fit.
    n_unconverged : int
        Fits (replicates and the usage refit) stopped at ``max_iter``.

    See Also
    --------
    consensus_nmf : Returns one per candidate rank.
    ConsensusSelection : Holds them, with the chosen rank.

    Examples
    --------
    >>> from nmfkit.consensus import consensus_nmf, make_planted_programs
    >>> data = make_planted_programs(60, 30, 2, random_state=0)
    >>> selection = consensus_nmf(data.X, [2, 3], n_replicates=4, random_state=0)
    >>> import numpy as np
    >>> factors = selection[2]
    >>> factors.spectra.shape, factors.usages.shape, factors.components.shape
    ((2, 30), (60, 2), (8, 30))
    >>> bool(np.allclose(factors.spectra.sum(axis=1), 1))
    True
    """

    rank: int
    spectra: np.ndarray
    usages: np.ndarray
    silhouette: float
    reconstruction_error: float
    n_dropped: int
    components: np.ndarray
    density: np.ndarray
    labels: np.ndarray
    replicate_losses: np.ndarray
    n_unconverged: int = 0

    @property
    def kept(self) -> np.ndarray:
        """Mask of the pooled components that passed the density filter."""
        return self.labels >= 0


@dataclass
class ConsensusSelection:
    """The result of :func:`consensus_nmf`: one consensus model per rank.

    Attributes
    ----------
    ranks : list of int
        The candidate ranks, increasing.
    best_rank : int
        The rank of the largest silhouette (:func:`stability_rank`).
    factors : dict
        ``factors[rank]``: the :class:`ConsensusFactors` of the rank (also
        ``selection[rank]``).
    n_replicates : int
        Fits per rank.
    n_neighbors : int
        Neighbours of the local density.
    density_threshold : float
        The density filter's threshold.
    unconverged : dict
        ``unconverged[rank] = (n_stopped, n_fits)`` for the ranks where some
        fits stopped at ``max_iter`` (their ConvergenceWarning is not issued).
    features : ndarray of int or None
        For an AnnData input with ``highly_variable=True``: the indices into
        its ``var_names`` of the genes factorized (the columns of every
        rank's spectra); None when every column of the input was.

    See Also
    --------
    consensus_nmf : Returns it.
    ConsensusFactors : The model of each rank.

    Examples
    --------
    >>> from nmfkit.consensus import consensus_nmf, make_planted_programs
    >>> data = make_planted_programs(60, 30, 2, random_state=0)
    >>> selection = consensus_nmf(data.X, [2, 3], n_replicates=4, random_state=0)
    >>> selection.ranks, selection.best_rank, selection.n_replicates
    ([2, 3], 2, 4)
    >>> selection.best is selection[2]
    True
    """

    ranks: list
    best_rank: int
    factors: dict
    n_replicates: int
    n_neighbors: int
    density_threshold: float
    unconverged: dict = field(default_factory=dict)
    features: np.ndarray | None = None

    def __getitem__(self, rank: int) -> ConsensusFactors:
        try:
            return self.factors[rank]
        except KeyError:
            raise KeyError(
                f"rank {rank!r} was not a candidate; the ranks are {self.ranks}."
            ) from None

    @property
    def best(self) -> ConsensusFactors:
        """The consensus model of the chosen rank."""
        return self.factors[self.best_rank]

    def table(self) -> list[dict]:
        """One dict per rank: rank, silhouette, reconstruction_error, n_dropped.

        Returns
        -------
        rows : list of dict
            In the order of :attr:`ranks`, the fields of each rank's
            :class:`ConsensusFactors`.

        See Also
        --------
        to_markdown : The same table as Markdown.

        Examples
        --------
        >>> from nmfkit.consensus import consensus_nmf, make_planted_programs
        >>> data = make_planted_programs(60, 30, 2, random_state=0)
        >>> selection = consensus_nmf(data.X, [2, 3], n_replicates=4, random_state=0)
        >>> [(row["rank"], row["n_dropped"]) for row in selection.table()]
        [(2, 0), (3, 1)]
        >>> row = selection.table()[0]
        >>> row["silhouette"] == selection[2].silhouette
        True
        """
        return [
            {
                "rank": rank,
                "silhouette": self.factors[rank].silhouette,
                "reconstruction_error": self.factors[rank].reconstruction_error,
                "n_dropped": self.factors[rank].n_dropped,
            }
            for rank in self.ranks
        ]

    def to_markdown(self) -> str:
        """The table as Markdown, the chosen rank marked with ``*``.

        Returns
        -------
        text : str
            A Markdown table of :meth:`table`, numbers to 4 significant
            digits.

        See Also
        --------
        table : The rows as dicts.

        Examples
        --------
        >>> from nmfkit.consensus import consensus_nmf, make_planted_programs
        >>> data = make_planted_programs(60, 30, 2, random_state=0)
        >>> selection = consensus_nmf(data.X, [2, 3], n_replicates=4, random_state=0)
        >>> print(selection.to_markdown())  # doctest: +ELLIPSIS
        | rank | silhouette | reconstruction_error | n_dropped |
        |---:|---:|---:|---:|
        | 2* | ... | ... | 0 |
        | 3 | ... | ... | 1 |
        """
        lines = [
            "| rank | silhouette | reconstruction_error | n_dropped |",
            "|---:|---:|---:|---:|",
        ]
        for row in self.table():
            rank = f"{row['rank']}*" if row["rank"] == self.best_rank else row["rank"]
            lines.append(
                f"| {rank} | {row['silhouette']:.4g} | "
                f"{row['reconstruction_error']:.4g} | {row['n_dropped']} |"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()


def default_n_neighbors(n_replicates: int) -> int:
    """cNMF's neighbourhood of the local density: 30% of the replicates.

    Parameters
    ----------
    n_replicates : int
        Fits per rank.

    Returns
    -------
    n_neighbors : int
        ``int(0.3 * n_replicates)``, at least 1.

    See Also
    --------
    consensus_nmf : Uses it when ``n_neighbors`` is None.

    Examples
    --------
    >>> default_n_neighbors(20), default_n_neighbors(2)
    (6, 1)
    """
    return max(1, int(NEIGHBORHOOD_SHARE * n_replicates))


def stability_rank(ranks: Iterable[int], silhouettes: Iterable[float]) -> int:
    """The rank of the largest silhouette; a tie (to 1e-9) goes to the smaller rank.

    Parameters
    ----------
    ranks : iterable of int
    silhouettes : iterable of float
        The silhouette of each rank.

    Returns
    -------
    rank : int

    Raises
    ------
    ValueError
        When no rank is given.

    See Also
    --------
    consensus_nmf : Applies this rule to its silhouettes.

    Examples
    --------
    >>> stability_rank([3, 4, 5, 6], [0.61, 0.93, 0.93, 0.70])
    4
    """
    pairs = sorted(zip(ranks, silhouettes, strict=True))
    if not pairs:
        raise ValueError("no ranks to choose from; give at least one.")
    top = max(s for _, s in pairs)
    return next(r for r, s in pairs if s >= top - _TIE)


def _check_ranks(ranks):
    candidates = list(ranks) if isinstance(ranks, Iterable) else [ranks]
    checked = sorted({_check_rank(r) for r in candidates})
    if not checked:
        raise ValueError("ranks is empty; give at least one integer >= 2.")
    if checked[0] < 2:
        raise ValueError(
            "rank 1 is not valid for consensus NMF: one cluster has no "
            "silhouette; give ranks >= 2."
        )
    return checked


def _check_count(value, name, minimum):
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        raise ValueError(
            f"{name}={value!r} is not valid; give an integer >= {minimum}."
        )
    return int(value)


def _check_settings(ranks, n_replicates, density_threshold, n_neighbors, nmf_params):
    ranks = _check_ranks(ranks)
    n_replicates = _check_count(n_replicates, "n_replicates", 2)
    if (
        isinstance(density_threshold, (bool, np.bool_))
        or not isinstance(density_threshold, numbers.Real)
        or not 0 < density_threshold <= 2
    ):
        raise ValueError(
            f"density_threshold={density_threshold!r} is not valid; give a number "
            "in (0, 2] (distances of unit vectors are at most 2; 2 keeps all)."
        )
    if n_neighbors is None:
        n_neighbors = default_n_neighbors(n_replicates)
    else:
        largest = n_replicates * ranks[0] - 1
        n_neighbors = _check_count(n_neighbors, "n_neighbors", 1)
        if n_neighbors > largest:
            raise ValueError(
                f"n_neighbors={n_neighbors} is more than the {largest} other "
                f"components of rank {ranks[0]}; give 1 to {largest} (cNMF: "
                f"{default_n_neighbors(n_replicates)}, 30% of n_replicates)."
            )
    for name, reason in _REFUSED.items():
        if nmf_params.get(name) not in (None, False):
            raise ValueError(f"{name} is not a parameter of consensus_nmf: {reason}.")
    return ranks, n_replicates, float(density_threshold), n_neighbors


def _consensus_input(X, layer, highly_variable):
    """The validated matrix, and the genes kept of an AnnData (None: all)."""
    features = None
    if is_anndata(X):
        X, features = anndata_matrix(X, layer=layer, highly_variable=highly_variable)
    elif layer is not None or highly_variable:
        raise ValueError(
            "layer and highly_variable select the matrix of an anndata.AnnData; "
            f"X is a {type(X).__name__}: pass the AnnData, or leave them unset."
        )
    return check_data(X), features


def _refit_usages(X, spectra, nmf_params, tally):
    """Codes of X with the spectra fixed (``update_H=False``); counts unconverged.

    A convex problem, solved to ``tol`` at most :data:`REFIT_TOL` (a cheap
    one next to the replicates) with up to ``10 * max_iter`` iterations.
    """
    from .._nmf import non_negative_factorization

    params = dict(nmf_params)
    if params["tol"] > 0:
        params["tol"] = min(params["tol"], REFIT_TOL)
    params["max_iter"] = 10 * params["max_iter"]
    H = spectra.astype(X.dtype, copy=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        W, _, _ = non_negative_factorization(
            X, H=H, n_components=H.shape[0], update_H=False, **params
        )
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            tally[0] += 1
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    tally[1] += 1
    # a Dask X: the codes come back as a Dask array, held in memory
    return W.compute() if is_dask_array(W) else W


def _reconstruction_error(X, usages, spectra, beta):
    """The error of ``usages @ spectra`` against X, in memory or on Dask."""
    from .._objective import reconstruction_error

    if is_dask_array(X):
        import dask.array as da

        from ..distributed import reconstruction_error_dask

        W = da.from_array(usages, chunks=(X.chunks[0], usages.shape[1]))
        return reconstruction_error_dask(X, W, spectra, beta=beta)
    return reconstruction_error(X, usages, spectra, beta=beta)


def _rank_seed(base, rank):
    """The replicates' seed of one rank: the same whatever the other ranks."""
    return int(np.random.SeedSequence([base, rank]).generate_state(1)[0])


def _consensus_of_rank(X, rank, n_replicates, seed, settings, nmf_params):
    from .._objective import beta_to_float

    n_neighbors, density_threshold = settings
    replicates = fit_replicates(X, rank, n_replicates, seed, **nmf_params)
    unit = unit_rows(replicates.components.reshape(-1, X.shape[1]))
    clustering = cluster_components(
        unit, rank, n_neighbors=n_neighbors, density_threshold=density_threshold
    )
    tally = [replicates.n_unconverged, n_replicates]
    usages = _refit_usages(X, clustering.spectra, nmf_params, tally)
    order = np.argsort(-usages.sum(axis=0), kind="stable")
    clustering.relabel(order)
    usages = np.ascontiguousarray(usages[:, order])
    spectra = clustering.spectra
    beta = beta_to_float(nmf_params.get("beta_loss", "frobenius"))
    error = _reconstruction_error(X, usages, spectra.astype(X.dtype), beta)
    for value, what in (
        (spectra, f"the consensus spectra of rank {rank}"),
        (usages, f"the usages of rank {rank}"),
        (np.array([clustering.silhouette, error]), f"the scores of rank {rank}"),
    ):
        check_finite_output(value, what)
    factors = ConsensusFactors(
        rank=rank,
        spectra=spectra,
        usages=usages,
        silhouette=clustering.silhouette,
        reconstruction_error=float(error),
        n_dropped=clustering.n_dropped,
        components=unit,
        density=clustering.density,
        labels=clustering.labels,
        replicate_losses=replicates.losses,
        n_unconverged=int(tally[0]),
    )
    return factors, tuple(tally)


def consensus_nmf(
    X: MatrixLike,
    ranks: int | Iterable[int],
    *,
    n_replicates: int = 20,
    density_threshold: float = 0.5,
    n_neighbors: int | None = None,
    random_state: RandomStateLike = None,
    beta_loss: float | str = "frobenius",
    max_iter: int = 1000,
    tol: float = 1e-4,
    callback: Callable[[int, ConsensusFactors], Any] | None = None,
    layer: str | None = None,
    highly_variable: bool = False,
    **nmf_params: Any,
) -> ConsensusSelection:
    """Consensus NMF: merge many fits per rank, score its stability, choose a rank.

    The method of cNMF (Kotliar et al. 2019). For every candidate rank k:

    1. ``n_replicates`` NMF fits of X from random starts (seeds drawn from
       ``random_state``; a rank's replicates do not depend on the other ranks);
    2. their ``k * n_replicates`` components (rows of H) pooled and scaled to
       unit Euclidean norm;
    3. the local density of each, its mean Euclidean distance to its
       ``n_neighbors`` nearest other components; the components whose density
       exceeds ``density_threshold`` (found by too few replicates) are
       dropped, and so are zero components;
    4. the rest clustered by scikit-learn's :class:`~sklearn.cluster.KMeans`
       (k clusters, ``n_init=10``, a fixed seed);
    5. the consensus spectra: the element-wise median of each cluster,
       rescaled to sum 1;
    6. the usages refitted with the spectra fixed
       (:func:`nmfkit.non_negative_factorization` with ``update_H=False``,
       the same loss, solver and penalties; a convex problem, solved to a
       ``tol`` of at most 1e-7 with up to ``10 * max_iter`` iterations);
    7. the scores: the silhouette of the clustering
       (:func:`sklearn.metrics.silhouette_score`, Euclidean, on the kept
       unit-norm components) and the reconstruction error of the consensus
       model.

    The chosen rank is the most stable one: the largest silhouette, a tie
    going to the smaller rank (:func:`stability_rank`). Look at the error too
    (:func:`nmfkit.plotting.plot_consensus_stability`): cNMF's authors choose
    among the ranks of high stability one past which the error stops falling
    much.

    Parameters
    ----------
    X : array-like, sparse matrix, Dask array or anndata.AnnData of shape \
            (n_samples, n_features)
        Non-negative data, for example cells x genes. Sparse input stays
        sparse (the fits, the refit and the error never densify it). A Dask
        array chunked by rows stays distributed: the replicates of a rank
        share every pass over its blocks, the usages are refitted block by
        block (as ``NMF.transform`` does on Dask) and returned in memory. An
        AnnData gives its ``X`` (or ``layers[layer]``), optionally only its
        highly variable genes; write the results back into it with
        :func:`store_consensus`.
    ranks : int or iterable of int
        Candidate ranks, each at least 2 and at most ``min(X.shape)``.
    n_replicates : int, default=20
        Fits per rank, at least 2 (cNMF advises 100 or more for a final
        analysis).
    density_threshold : float, default=0.5
        In (0, 2]: components whose local density exceeds it are dropped (2
        keeps every non-zero one; cNMF's default filter is 0.5, with 0.1 for
        a strict final run).
    n_neighbors : int, default=None
        Neighbours of the local density, from 1 to
        ``n_replicates * min(ranks) - 1``; None: 30% of ``n_replicates``
        (cNMF's), at least 1.
    random_state : int, RandomState instance or None, default=None
        Seed of every replicate.
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, \
            default="frobenius"
        Divergence of the fits, the refit and the reported error.
    max_iter : int, default=1000
        Largest number of iterations of each fit.
    tol : float, default=1e-4
        Stopping tolerance of each fit (:class:`nmfkit.NMF`'s).
    callback : callable, default=None
        Called as ``callback(rank, factors)`` after each rank (for progress).
    layer : str, default=None
        AnnData input only: factorize ``X.layers[layer]`` instead of
        ``X.X`` (for example the raw ``"counts"``).
    highly_variable : bool, default=False
        AnnData input only: factorize only the genes marked True in
        ``X.var["highly_variable"]`` (scanpy's
        ``scanpy.pp.highly_variable_genes``); ``selection.features`` then
        holds their indices.
    **nmf_params
        Other parameters of :class:`nmfkit.NMF` for every fit (``solver``,
        penalties, ``init``; default ``init="random"``: the replicates need
        different starts). Not ``n_components``, ``missing_values``,
        ``checkpoint`` nor ``bias``.

    Returns
    -------
    selection : ConsensusSelection
        ``selection[rank]`` is the :class:`ConsensusFactors` of a rank
        (spectra, usages, scores, the pooled components and their density);
        ``selection.best_rank`` the chosen rank; ``print(selection)`` the
        table of scores.

    Raises
    ------
    ValueError
        For empty ranks, a rank below 2 or above ``min(X.shape)``,
        ``n_replicates < 2``, ``density_threshold`` outside (0, 2],
        ``n_neighbors`` out of range, a refused NMF parameter, invalid data
        (negative, NaN, ...), or a rank
        where too few components pass the density filter; for an AnnData,
        an unknown layer or a missing
        ``var["highly_variable"]``; ``layer`` or ``highly_variable`` with
        an input that is not an AnnData.
    TypeError
        For non-numeric data, or a ``highly_variable`` that is not a bool.

    See Also
    --------
    nmfkit.select_rank : Rank selection by cross-validation or by the
        consensus of the samples' clustering (Brunet et al. 2004).
    nmfkit.plotting.plot_consensus_stability : Silhouette and error against
        the rank.
    nmfkit.matching.match_components : Pair the consensus spectra with other
        components.
    store_consensus : Write the usages and spectra into an AnnData.

    Notes
    -----
    Brunet et al. (2004) measure stability by how often samples are clustered
    together over restarts (:func:`nmfkit.select_rank` with
    ``method="consensus"``); Kotliar et al. (2019) cluster the components
    themselves and merge them, which also yields one consensus dictionary
    that no single fit's local minimum decides. The replicates of a rank run
    together, sharing every pass over X (the batched engine,
    :mod:`nmfkit._batched_fits`; complete data with the Frobenius loss and
    HALS or MU, otherwise one after another, with the same results);
    memory holds their components, ``n_replicates * rank * n_features``
    numbers per rank, and the factors of the replicates running together,
    about ``n_replicates * (n_samples + n_features) * rank`` numbers per
    copy, batches bounded to 1 GiB.

    References
    ----------
    .. [1] D. Kotliar, A. Veres, M. A. Nagy, S. Tabrizi, E. Hodis, D. A.
       Melton and P. C. Sabeti, "Identifying gene expression programs of
       cell-type identity and cellular activity with single-cell RNA-Seq",
       eLife 8:e43803, 2019.
    .. [2] J.-P. Brunet, P. Tamayo, T. R. Golub and J. P. Mesirov,
       "Metagenes and molecular pattern discovery using matrix
       factorization", PNAS 101(12):4164-4169, 2004.

    Examples
    --------
    >>> from nmfkit.consensus import consensus_nmf, make_planted_programs
    >>> from nmfkit.matching import match_components
    >>> data = make_planted_programs(120, 60, 3, random_state=0)
    >>> selection = consensus_nmf(data.X, [2, 3, 4], n_replicates=6, random_state=0)
    >>> selection.best_rank
    3
    >>> order, rows, cosine = match_components(data.programs, selection[3].spectra)
    >>> bool(cosine.min() > 0.99)
    True
    """
    checked, n_replicates, density_threshold, n_neighbors = _check_settings(
        ranks, n_replicates, density_threshold, n_neighbors, nmf_params
    )
    ranks = list(checked)
    X, features = _consensus_input(X, layer, highly_variable)
    if ranks[-1] > min(X.shape):
        raise ValueError(
            f"rank {ranks[-1]} is larger than X allows ({X.shape[0]} x "
            f"{X.shape[1]}); give ranks up to {min(X.shape)}."
        )
    params = dict(nmf_params, beta_loss=beta_loss, max_iter=max_iter, tol=tol)
    base = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    factors, unconverged = {}, {}
    for rank in ranks:
        result, tally = _consensus_of_rank(
            X,
            rank,
            n_replicates,
            _rank_seed(base, rank),
            (n_neighbors, density_threshold),
            params,
        )
        factors[rank] = result
        if tally[0]:
            unconverged[rank] = tally
        if callback is not None:
            callback(rank, result)
    best = stability_rank(ranks, [factors[r].silhouette for r in ranks])
    return ConsensusSelection(
        ranks=ranks,
        best_rank=best,
        factors=factors,
        n_replicates=n_replicates,
        n_neighbors=n_neighbors,
        density_threshold=density_threshold,
        unconverged=unconverged,
        features=features,
    )
