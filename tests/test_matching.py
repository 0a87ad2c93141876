"""Hungarian matching of dictionaries on cosine similarity."""

from __future__ import annotations

import numpy as np
import pytest

from nmfkit.matching import cosine_similarity_matrix, match_components


def test_recovers_a_permutation_and_scaling():
    rng = np.random.default_rng(0)
    A = rng.random((6, 30))
    perm = rng.permutation(6)
    B = A[perm] * rng.uniform(0.5, 3.0, size=(6, 1))
    order, rows, sims = match_components(A, B)
    np.testing.assert_array_equal(rows, np.arange(6))
    np.testing.assert_array_equal(perm[order], np.arange(6))
    np.testing.assert_allclose(sims, 1.0)


def test_total_similarity_is_the_best_of_all_pairings():
    from itertools import permutations

    rng = np.random.default_rng(1)
    for _ in range(5):
        A, B = rng.random((5, 4)), rng.random((6, 4))
        S = cosine_similarity_matrix(A, B)
        best = max(sum(S[i, p[i]] for i in range(5)) for p in permutations(range(6), 5))
        order, rows, sims = match_components(A, B)
        assert sims.sum() == pytest.approx(best)
        assert len(set(order.tolist())) == 5


def test_zero_rows_and_shape_errors():
    S = cosine_similarity_matrix(np.zeros((1, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(S, 0)
    with pytest.raises(ValueError, match="same number of features"):
        cosine_similarity_matrix(np.ones((2, 3)), np.ones((2, 4)))
