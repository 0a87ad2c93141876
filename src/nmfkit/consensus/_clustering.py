"""From the pooled components of many fits to consensus spectra (cNMF's steps).

The components of all replicates of one rank are pooled and scaled to unit
Euclidean norm (:func:`unit_rows`); each gets a local density, the mean
distance to its nearest neighbours among the others (:func:`local_density`);
those whose density exceeds a threshold (components that no other replicate
found) are dropped, and the rest are clustered by k-means into as many
clusters as the rank. Each consensus spectrum is the element-wise median of
its cluster, rescaled to sum 1 (:func:`cluster_components`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = [
    "KMEANS_SEED",
    "Clustering",
    "cluster_components",
    "local_density",
    "unit_rows",
]

#: The fixed seed of k-means (cNMF's), so that one set of components always
#: gives the same clusters.
KMEANS_SEED = 1
#: k-means restarts (cNMF's).
KMEANS_N_INIT = 10


def unit_rows(components: np.ndarray) -> np.ndarray:
    """Rows scaled to unit Euclidean norm (float64); a zero row stays zero."""
    components = np.asarray(components, dtype=np.float64)
    norms = np.linalg.norm(components, axis=1, keepdims=True)
    return np.divide(
        components, norms, out=np.zeros_like(components), where=norms > 0
    )


def local_density(unit: np.ndarray, n_neighbors: int) -> np.ndarray:
    """Mean Euclidean distance of every row to its ``n_neighbors`` nearest others.

    Parameters
    ----------
    unit : ndarray of shape (n_components, n_features)
        Unit-norm components (:func:`unit_rows`).
    n_neighbors : int
        From 1 to ``n_components - 1``; a row is never its own neighbour.

    Returns
    -------
    density : ndarray of shape (n_components,)
        Small for a component that other replicates found too (0 when
        ``n_neighbors`` replicates found it exactly); at most ``sqrt(2)`` for
        non-negative components (orthogonal ones).
    """
    from sklearn.neighbors import NearestNeighbors

    if not 1 <= n_neighbors < unit.shape[0]:
        raise ValueError(
            f"n_neighbors={n_neighbors} is not valid for {unit.shape[0]} "
            f"components; give 1 to {unit.shape[0] - 1}."
        )
    search = NearestNeighbors(n_neighbors=n_neighbors).fit(unit)
    distances, _ = search.kneighbors()  # without the query point itself
    return distances.mean(axis=1)


@dataclass
class Clustering:
    """The consensus of one rank's pooled components.

    Attributes
    ----------
    spectra : ndarray of shape (rank, n_features)
        The median of every cluster's unit-norm components, rescaled to sum 1.
    labels : ndarray of int of shape (n_pooled,)
        Cluster of every pooled component (the row of ``spectra``), -1 for
        the dropped ones.
    density : ndarray of shape (n_pooled,)
        The local density of every pooled component.
    silhouette : float
        scikit-learn's silhouette score of the clusters of the kept
        components (Euclidean, on the unit-norm components).
    """

    spectra: np.ndarray
    labels: np.ndarray
    density: np.ndarray
    silhouette: float

    @property
    def kept(self) -> np.ndarray:
        """Mask of the pooled components that passed the density filter."""
        return self.labels >= 0

    @property
    def n_dropped(self) -> int:
        """How many pooled components the density filter dropped."""
        return int(np.count_nonzero(self.labels < 0))

    def relabel(self, order: np.ndarray) -> None:
        """Reorder the spectra: new row ``i`` is old row ``order[i]``."""
        order = np.asarray(order)
        new_label = np.empty_like(order)
        new_label[order] = np.arange(order.size)
        self.spectra = self.spectra[order]
        self.labels = np.where(self.labels >= 0, new_label[self.labels], -1)


def cluster_components(
    unit: np.ndarray,
    rank: int,
    *,
    n_neighbors: int,
    density_threshold: float,
) -> Clustering:
    """Filter the pooled unit-norm components by density and cluster them.

    Parameters
    ----------
    unit : ndarray of shape (n_pooled, n_features)
        Unit-norm components of all replicates of one rank.
    rank : int
        Number of clusters (at least 2).
    n_neighbors : int
        Neighbours of the local density.
    density_threshold : float
        Components whose local density exceeds it are dropped, and so are
        zero components (unused by their fit).

    Returns
    -------
    Clustering

    Raises
    ------
    ValueError
        When fewer than ``rank + 1`` components pass the filter (k-means and
        the silhouette need more), naming the rank and the fix.
    """
    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import silhouette_score

    density = local_density(unit, n_neighbors)
    # a zero component (a fit that left one unused) has no direction to cluster
    kept = (density <= density_threshold) & unit.any(axis=1)
    n_kept = int(np.count_nonzero(kept))
    if n_kept < rank + 1:
        raise ValueError(
            f"at rank {rank} only {n_kept} of {unit.shape[0]} components are "
            f"non-zero with a local density within density_threshold="
            f"{density_threshold:g}, too few for {rank} clusters; raise "
            "density_threshold (2 keeps every non-zero one) or n_replicates, or "
            "give a lower rank."
        )
    points = unit[kept]
    with warnings.catch_warnings():
        # identical components (exact replicates) make fewer distinct points
        # than clusters: the duplicates simply share a cluster
        warnings.simplefilter("ignore", ConvergenceWarning)
        kmeans = KMeans(rank, n_init=KMEANS_N_INIT, random_state=KMEANS_SEED)
        kept_labels = kmeans.fit_predict(points)
    n_labels = np.unique(kept_labels).size
    if n_labels < 2:
        raise ValueError(
            f"at rank {rank} the kept components form a single cluster (all "
            "replicates found the same component); give a lower rank."
        )
    silhouette = float(silhouette_score(points, kept_labels, metric="euclidean"))
    spectra = np.zeros((rank, unit.shape[1]))
    for k in range(rank):
        members = points[kept_labels == k]
        if members.shape[0] == 0:
            raise ValueError(
                f"at rank {rank} k-means left a cluster empty (fewer distinct "
                "components than clusters); give a lower rank or more replicates."
            )
        spectrum = np.median(members, axis=0)
        if not spectrum.any():  # members share no feature: their mean instead
            spectrum = members.mean(axis=0)
        spectra[k] = spectrum / spectrum.sum()
    labels = np.full(unit.shape[0], -1)
    labels[kept] = kept_labels
    return Clustering(
        spectra=spectra, labels=labels, density=density, silhouette=silhouette
    )
