"""NMF.score: a held-out objective that model selection can maximize."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score

from nmfkit import NMF


def _low_rank(rank, seed, n=120, p=40, noise=0.05):
    rng = np.random.default_rng(seed)
    X = rng.random((n, rank)) @ rng.random((rank, p))
    return X * np.clip(1 + noise * rng.standard_normal(X.shape), 0, None)


def test_score_is_the_negative_held_out_objective():
    X = _low_rank(3, 0)
    model = NMF(3, solver="mu", max_iter=500, tol=1e-8, l2_W=0.1, l1_H=0.01).fit(X)
    held = np.random.RandomState(0).random_sample(X.shape) < 0.5
    W = model.transform(X, mask=~held)
    H = model.components_
    residual = (X - W @ H)[held]
    expected = (
        0.5 * np.sum(residual**2) * X.size / held.sum()
        + 0.5 * 0.1 * np.sum(W**2)
        + 0.01 * np.sum(H)
    )
    assert model.score(X) == pytest.approx(-expected, rel=1e-10)
    assert model.score(X) == model.score(X)  # a fixed split: deterministic


def test_score_for_kl_is_the_negative_objective():
    X = _low_rank(3, 1) + 0.01
    model = NMF(3, solver="mu", beta_loss="kullback-leibler", max_iter=300).fit(X)
    W = model.transform(X)
    Y = W @ model.components_
    kl = np.sum(X * np.log(X / Y) - X + Y)
    assert model.score(X) == pytest.approx(-kl, rel=1e-8)


@pytest.mark.parametrize("rank", [3, 5])
def test_grid_search_picks_the_true_rank(rank):
    X = _low_rank(rank, rank)
    search = GridSearchCV(
        NMF(solver="mu", init="nndsvda", max_iter=2000, tol=1e-7),
        {"n_components": [rank - 2, rank - 1, rank, rank + 1, rank + 2]},
        cv=3,
    )
    search.fit(X)
    assert search.best_params_["n_components"] == rank
    scores = cross_val_score(NMF(rank, solver="mu", max_iter=300), X, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
