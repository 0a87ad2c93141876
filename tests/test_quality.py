"""Quality measures and consensus statistics against direct computations."""

import numpy as np
import pytest
from scipy.cluster.hierarchy import cophenet, linkage
from scipy.spatial.distance import squareform

from nmfkit._quality import (
    connectivity_matrix,
    consensus_dispersion,
    consensus_order,
    cophenetic_correlation,
    explained_variance,
    hoyer_sparseness,
)


def test_hoyer_sparseness_known_values():
    assert hoyer_sparseness(np.ones((5, 1))) == pytest.approx(0.0)
    assert hoyer_sparseness(np.array([[0.0], [0.0], [3.0], [0.0]])) == pytest.approx(
        1.0
    )
    x = np.array([1.0, 2.0, 0.0, 0.0])
    n = 4
    expected = (np.sqrt(n) - 3.0 / np.sqrt(5.0)) / (np.sqrt(n) - 1)
    assert hoyer_sparseness(x[:, None], axis=0) == pytest.approx(expected)
    assert hoyer_sparseness(x[None, :], axis=1) == pytest.approx(expected)


def test_explained_variance():
    rng = np.random.default_rng(0)
    W, H = rng.random((10, 3)), rng.random((3, 8))
    X = W @ H
    assert explained_variance(X, W, H) == pytest.approx(1.0)
    assert explained_variance(X, 0 * W, H) == pytest.approx(0.0)
    E = rng.random(X.shape)
    expected = 1 - np.sum((X + E - W @ H) ** 2) / np.sum((X + E) ** 2)
    assert explained_variance(X + E, W, H) == pytest.approx(expected, rel=1e-12)


def test_connectivity_and_dispersion():
    W = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 2.0]])
    C = connectivity_matrix(W)
    np.testing.assert_array_equal(C, [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    assert consensus_dispersion(C) == 1.0
    assert consensus_dispersion(np.full((4, 4), 0.5)) == 0.0


def test_cophenetic_correlation_equals_scipy():
    rng = np.random.default_rng(3)
    runs = [connectivity_matrix(rng.random((25, 4))) for _ in range(20)]
    C = np.mean(runs, axis=0)
    distances = squareform(1 - C, checks=False)
    expected, _ = cophenet(linkage(distances, "average"), distances)
    assert cophenetic_correlation(C) == pytest.approx(expected, rel=1e-12)
    assert sorted(consensus_order(C)) == list(range(25))


def test_cophenetic_of_a_perfect_consensus_is_one():
    labels = np.repeat([0, 1, 2], 5)
    C = (labels[:, None] == labels[None, :]).astype(float)
    assert cophenetic_correlation(C) == pytest.approx(1.0)
