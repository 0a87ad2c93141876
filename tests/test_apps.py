"""nmfkit against scikit-learn on real faces, from the same initialization."""

from __future__ import annotations

import numpy as np
import pytest

from nmfkit.apps import compare_with_sklearn
from nmfkit.datasets import load_lfw_subset, load_olivetti_faces


def _check_similarity(X, n_components, max_iter):
    comparison = compare_with_sklearn(
        X,
        n_components=n_components,
        l1_W=2.0,
        l2_W=0.1,
        l2_H=0.1,
        max_iter=max_iter,
        tol=0,
    )
    check, sklearn = comparison.fits["check"], comparison.fits["sklearn"]
    _, _, sims = comparison.matches["check"]
    assert sims.min() >= 0.99
    assert check.n_iter == sklearn.n_iter == max_iter
    np.testing.assert_allclose(
        check.reconstruction_error, sklearn.reconstruction_error, rtol=1e-6
    )
    return comparison


def test_builtin_faces_match_sklearn_dictionary():
    pytest.importorskip("skimage")
    comparison = _check_similarity(load_lfw_subset().data, 16, 120)
    # The penalized dictionary stays close to scikit-learn's, and scores
    # better on the course's objective that it minimizes.
    assert np.mean(comparison.matches["nmfkit"][2]) > 0.8
    assert comparison.fits["nmfkit"].objective < comparison.fits["sklearn"].objective


def test_olivetti_faces_match_sklearn_dictionary(sklearn_data_home):
    X = load_olivetti_faces(data_home=sklearn_data_home, download_if_missing=False).data
    _check_similarity(X, 6, 40)
