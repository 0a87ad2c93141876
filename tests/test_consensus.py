"""Consensus NMF: planted programs recovered, stability peaks at the planted
rank, outliers dropped by density, every step checked against an independent
computation (SciPy's distances and NNLS, scikit-learn's silhouette, the
formulas), bad parameters refused."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls
from scipy.spatial.distance import cdist
from sklearn.metrics import silhouette_score

from nmfkit.consensus import (
    consensus_nmf,
    default_n_neighbors,
    make_planted_programs,
    stability_rank,
)
from nmfkit.consensus._clustering import cluster_components, local_density
from nmfkit.matching import match_components

PLANTED = 5
RANKS = [3, 4, 5, 6, 7]


@pytest.fixture(scope="module")
def planted():
    return make_planted_programs(200, 100, PLANTED, random_state=0)


@pytest.fixture(scope="module")
def selection(planted):
    return consensus_nmf(planted.X, RANKS, n_replicates=8, random_state=0)


# ------------------------------------------------------------ the method
def test_consensus_spectra_match_the_planted_programs(planted, selection):
    factors = selection[PLANTED]
    order, rows, cosine = match_components(planted.programs, factors.spectra)
    assert cosine.min() >= 0.99, cosine
    np.testing.assert_allclose(factors.spectra.sum(axis=1), 1.0)
    # usages of the samples against the planted ones, as the counts scale them
    W = factors.usages[:, order]
    expected = planted.usages * planted.X.sum(axis=1, keepdims=True)
    corr = [np.corrcoef(W[:, k], expected[:, k])[0, 1] for k in range(PLANTED)]
    assert min(corr) > 0.98, corr


def test_stability_peaks_at_the_planted_rank(selection):
    silhouettes = {r: selection[r].silhouette for r in RANKS}
    assert selection.best_rank == PLANTED
    assert max(silhouettes, key=silhouettes.get) == PLANTED
    assert silhouettes[PLANTED] > 0.95
    # too many components: the extra ones split programs differently each time
    assert silhouettes[6] < silhouettes[PLANTED] - 0.03
    assert silhouettes[7] < silhouettes[6]
    # the error falls steeply up to the planted rank, then barely
    errors = [selection[r].reconstruction_error for r in RANKS]
    assert errors[0] > errors[1] > 2 * errors[2]
    assert errors[2] - errors[4] < 0.05 * errors[2]


def test_every_step_against_an_independent_computation(planted, selection):
    X = planted.X
    factors = selection[PLANTED]
    n_neighbors = default_n_neighbors(8)
    assert selection.n_neighbors == n_neighbors == 2
    unit = factors.components
    assert unit.shape == (8 * PLANTED, X.shape[1])
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0)
    # local density: mean distance to the nearest others (SciPy's distances)
    D = np.sort(cdist(unit, unit), axis=1)[:, 1 : n_neighbors + 1]
    np.testing.assert_allclose(factors.density, D.mean(axis=1), atol=1e-12)
    kept = factors.kept
    assert factors.n_dropped == np.count_nonzero(~kept) == 0
    # silhouette: scikit-learn's on the kept components
    expected = silhouette_score(unit[kept], factors.labels[kept])
    assert factors.silhouette == pytest.approx(expected, abs=1e-12)
    # spectra: the median of each cluster, rescaled to sum 1
    for k in range(PLANTED):
        median = np.median(unit[factors.labels == k], axis=0)
        np.testing.assert_allclose(factors.spectra[k], median / median.sum())
    # usages: the non-negative least squares codes of every row (SciPy's NNLS)
    reference = np.array([nnls(factors.spectra.T, x)[0] for x in X])
    residual = np.linalg.norm(X - factors.usages @ factors.spectra)
    optimum = np.linalg.norm(X - reference @ factors.spectra)
    assert residual == pytest.approx(optimum, rel=1e-6)
    np.testing.assert_allclose(factors.usages, reference, atol=1e-3 * X.max())
    assert factors.reconstruction_error == pytest.approx(residual, rel=1e-10)
    # rows ordered by total usage, heaviest first
    assert np.all(np.diff(factors.usages.sum(axis=0)) <= 0)


def test_table_and_markdown(selection):
    rows = selection.table()
    assert [r["rank"] for r in rows] == RANKS
    assert rows[2]["silhouette"] == selection[5].silhouette
    text = str(selection)
    assert "| 5* |" in text and text.count("\n") == len(RANKS) + 1
    with pytest.raises(KeyError, match="not a candidate"):
        selection[9]


# --------------------------------------------------------------- outliers
def test_a_corrupted_replicate_component_is_dropped(selection):
    factors = selection[PLANTED]
    unit = factors.components.copy()
    rng = np.random.default_rng(1)
    outlier = rng.random(unit.shape[1])
    unit[3] = outlier / np.linalg.norm(outlier)  # replicate 0's 4th component
    clustering = cluster_components(
        unit, PLANTED, n_neighbors=2, density_threshold=0.5
    )
    assert clustering.density[3] > 0.5
    assert np.flatnonzero(clustering.labels < 0).tolist() == [3]
    assert clustering.n_dropped == 1
    _, _, cosine = match_components(factors.spectra, clustering.spectra)
    assert cosine.min() > 0.9999
    # kept, the outlier pulls its cluster's silhouette down
    everything = cluster_components(unit, PLANTED, n_neighbors=2, density_threshold=2)
    assert everything.n_dropped == 0
    assert everything.silhouette < clustering.silhouette


def test_zero_components_are_dropped_and_too_few_kept_is_an_error():
    unit = np.eye(3).repeat(4, axis=0)
    unit[0] = 0.0
    clustering = cluster_components(unit, 3, n_neighbors=2, density_threshold=0.5)
    assert clustering.labels[0] == -1 and clustering.n_dropped == 1
    pairs = np.eye(3).repeat(2, axis=0)  # 2 copies: the 2nd neighbour is far
    with pytest.raises(ValueError, match="only 0 of 6 components"):
        cluster_components(pairs, 3, n_neighbors=2, density_threshold=0.5)


def test_local_density_refuses_impossible_neighbourhoods():
    with pytest.raises(ValueError, match="give 1 to 3"):
        local_density(np.eye(4), 4)


# ------------------------------------------------------------ determinism
def test_a_rank_does_not_depend_on_the_other_ranks(planted):
    X = planted.X[:80, :60]
    alone = consensus_nmf(X, 3, n_replicates=3, random_state=7, max_iter=200)
    along = consensus_nmf(X, [2, 3], n_replicates=3, random_state=7, max_iter=200)
    np.testing.assert_array_equal(alone[3].spectra, along[3].spectra)
    np.testing.assert_array_equal(alone[3].usages, along[3].usages)


# ------------------------------------------------------------------ sparse
def test_sparse_input_gives_the_dense_result(planted):
    X = planted.X[:80, :60]
    dense = consensus_nmf(X, [3], n_replicates=3, random_state=0, max_iter=300)
    sparse = consensus_nmf(
        sp.csr_matrix(X), [3], n_replicates=3, random_state=0, max_iter=300
    )
    _, _, cosine = match_components(dense[3].spectra, sparse[3].spectra)
    assert cosine.min() > 0.9999
    assert sparse[3].reconstruction_error == pytest.approx(
        np.linalg.norm(X - sparse[3].usages @ sparse[3].spectra), rel=1e-8
    )


def test_sparse_input_is_never_densified():
    rng = np.random.default_rng(0)
    X = sp.random(2000, 2500, density=0.002, random_state=0, format="csr")
    X.data = rng.integers(1, 5, X.nnz).astype(float)
    dense_bytes = X.shape[0] * X.shape[1] * 8  # 40 MB
    run = dict(n_replicates=2, density_threshold=2, random_state=0, tol=0)
    # first a short run, so that the modules it imports and the kernels numba
    # compiles (tens of MB of Python objects) are not counted as data
    consensus_nmf(X, [2], max_iter=1, **run)
    tracemalloc.start()
    try:
        consensus_nmf(X, [2], max_iter=5, **run)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < dense_bytes / 4, peak


# ---------------------------------------------------------- other losses
def test_kullback_leibler_error_is_the_divergence(planted):
    X = planted.X[:80, :60]
    result = consensus_nmf(
        X, [3], n_replicates=3, beta_loss="kullback-leibler", random_state=0,
        max_iter=300,
    )
    WH = result[3].usages @ result[3].spectra
    nonzero = X > 0
    divergence = np.sum(X[nonzero] * np.log(X[nonzero] / WH[nonzero])) - X.sum()
    divergence += WH.sum()
    assert result[3].reconstruction_error == pytest.approx(
        np.sqrt(2 * divergence), rel=1e-6
    )


# ------------------------------------------------------------- the choice
def test_stability_rank_takes_the_largest_silhouette_and_ties_to_the_smaller():
    assert stability_rank([3, 4, 5], [0.5, 0.9, 0.8]) == 4
    assert stability_rank([6, 4, 5], [0.9, 0.9, 0.1]) == 4
    with pytest.raises(ValueError, match="no ranks"):
        stability_rank([], [])


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(ranks=[]), "ranks is empty"),
        (dict(ranks=[1, 2]), "rank 1 is not valid"),
        (dict(ranks=[2.5]), "give positive integers"),
        (dict(ranks=[50]), "rank 50 is larger than X allows"),
        (dict(n_replicates=1), "n_replicates=1 is not valid"),
        (dict(n_replicates=True), "n_replicates=True is not valid"),
        (dict(density_threshold=0), r"give a number in \(0, 2\]"),
        (dict(density_threshold=2.5), r"give a number in \(0, 2\]"),
        (dict(density_threshold=float("nan")), r"give a number in \(0, 2\]"),
        (dict(n_neighbors=0), "n_neighbors=0 is not valid"),
        (dict(n_neighbors=8), "n_neighbors=8 is more than the 7 other"),
        (dict(n_components=3), "n_components is not a parameter"),
        (dict(missing_values=np.nan), "fill the missing entries"),
    ],
)
def test_bad_parameters_are_refused(kwargs, message):
    X = np.ones((30, 20))
    arguments = dict(ranks=[2, 3], n_replicates=4)
    arguments.update(kwargs)
    ranks = arguments.pop("ranks")
    with pytest.raises(ValueError, match=message):
        consensus_nmf(X, ranks, **arguments)


def test_bad_data_is_refused_before_any_fit():
    X = np.ones((10, 8))
    X[0, 0] = -1
    with pytest.raises(ValueError, match="negative"):
        consensus_nmf(X, [2], n_replicates=2)


# -------------------------------------------------------- synthetic data
def test_planted_programs_are_distributions_with_their_own_genes():
    data = make_planted_programs(40, 30, 3, random_state=0)
    np.testing.assert_allclose(data.programs.sum(axis=1), 1.0)
    np.testing.assert_allclose(data.usages.sum(axis=1), 1.0)
    block = data.programs[:, :30].reshape(3, 3, 10).sum(axis=2)
    assert np.all(np.diag(block) > 0.95)
    assert np.all(data.X == np.round(data.X)) and data.X.min() >= 0
    with pytest.raises(ValueError, match="n_features=2 is less than"):
        make_planted_programs(10, 2, 3)
    with pytest.raises(ValueError, match="activity"):
        make_planted_programs(10, 20, 3, activity=2)


# ------------------------------------------------------------------ plots
def test_the_stability_plot_draws_the_scores(selection):
    pytest.importorskip("matplotlib")
    from nmfkit.plotting import plot_consensus_stability, plot_local_density

    fig = plot_consensus_stability(selection, title="planted rank 5")
    silhouette, error = fig.axes
    assert [silhouette.get_label(), error.get_label()] == [
        "silhouette",
        "reconstruction_error",
    ]
    x, y = silhouette.lines[0].get_data()
    assert list(x) == RANKS
    np.testing.assert_array_equal(y, [selection[r].silhouette for r in RANKS])
    _, y = error.lines[0].get_data()
    np.testing.assert_array_equal(y, [selection[r].reconstruction_error for r in RANKS])
    assert silhouette.lines[1].get_xdata()[0] == selection.best_rank  # the marker
    fig = plot_local_density(selection[6], selection.density_threshold)
    counts = sum(patch.get_height() for patch in fig.axes[0].patches)
    assert counts == selection[6].density.size
    with pytest.raises(TypeError, match="expected a ConsensusSelection"):
        plot_consensus_stability(selection[5])
    with pytest.raises(TypeError, match="expected a ConsensusFactors"):
        plot_local_density(selection, 0.5)
