"""NMF.score: a held-out objective that model selection can maximize."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score

from nmfkit import NMF
from nmfkit._validation import UnobservedWarning


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


# ------------------------------------------------------- sparse and partial data
def _codes_by_nnls(H, X, kept, l2_W=0.0):
    """Codes of each row fitted to its kept entries by SciPy's NNLS.

    ``min_w 1/2 ||x_kept - w H_kept||^2 + l2_W / 2 ||w||^2``, w >= 0, as a
    least-squares problem augmented by ``sqrt(l2_W) I``.
    """
    n_components = H.shape[0]
    W = np.zeros((X.shape[0], n_components))
    for i in range(X.shape[0]):
        columns = np.flatnonzero(kept[i])
        A = np.vstack([H[:, columns].T, np.sqrt(l2_W) * np.eye(n_components)])
        b = np.concatenate([X[i, columns], np.zeros(n_components)])
        W[i] = nnls(A, b)[0]
    return W


def _sparse_low_rank(n=40, p=30, rank=3, seed=0):
    X = _low_rank(rank, seed, n=n, p=p)
    X[X < np.quantile(X, 0.6)] = 0
    return sp.csr_matrix(X)


def test_sparse_score_holds_out_a_fixed_half_of_the_features():
    X = _sparse_low_rank()
    model = NMF(3, solver="cd", max_iter=3000, tol=1e-14, random_state=0).fit(X)
    H = model.components_
    dense = X.toarray()
    held = np.random.RandomState(0).random_sample(X.shape[1]) < 0.5
    assert 0 < held.sum() < X.shape[1]
    W = _codes_by_nnls(H, dense, np.broadcast_to(~held, X.shape))
    residual = (dense - W @ H)[:, held]
    expected = 0.5 * np.sum(residual**2) * X.shape[1] / held.sum()
    assert model.score(X) == pytest.approx(-expected, rel=1e-6)
    assert model.score(sp.csc_matrix(X)) == pytest.approx(-expected, rel=1e-6)


@pytest.mark.parametrize("sparse_unobserved", ["zero", "missing"])
def test_sparse_score_never_densifies(sparse_unobserved):
    # 2000 x 10^6: one dense float64 copy is 16 GB, a dense split mask 2 GB.
    n, p, nnz = 2000, 1_000_000, 4000
    rng = np.random.default_rng(0)
    rows = rng.integers(0, n, nnz)
    cols = rng.integers(0, p, nnz)
    X = sp.csr_matrix((rng.random(nnz) + 0.5, (rows, cols)), shape=(n, p))
    settings = dict(init="random", max_iter=3, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnobservedWarning)
        model = NMF(2, sparse_unobserved=sparse_unobserved, **settings).fit(X)
        tracemalloc.start()
        try:
            score = model.score(X)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert np.isfinite(score)
    assert peak < 200e6  # a few p x rank arrays (16 MB each) and O(nnz)


def test_score_with_missing_values_holds_out_observed_entries():
    X = _low_rank(3, 4, n=50, p=20)
    X[np.random.default_rng(5).random(X.shape) < 0.2] = np.nan
    observed = ~np.isnan(X)
    rows, cols = np.nonzero(observed)  # the observed entries, row-major
    settings = dict(
        n_components=3, solver="hals", l2_W=0.1, max_iter=100, tol=0, random_state=0
    )
    models = {
        "nan": (NMF(missing_values=np.nan, **settings), X, None),
        "mask": (NMF(**settings), np.nan_to_num(X), observed),
        "ratings": (
            NMF(sparse_unobserved="missing", **settings),
            sp.csr_matrix((X[rows, cols], (rows, cols)), shape=X.shape),
            None,
        ),
    }
    for model, data, mask in models.values():
        model.fit(data, mask=mask)
        # the codes inside score: converged, to compare with NNLS
        model.set_params(max_iter=5000, tol=1e-15)
    H = models["nan"][0].components_
    held = np.random.RandomState(0).random_sample(rows.size) < 0.5
    kept = np.zeros(X.shape, dtype=bool)
    kept[rows[~held], cols[~held]] = True
    W = _codes_by_nnls(H, np.nan_to_num(X), kept, l2_W=0.1)
    residual = X[rows[held], cols[held]] - (W @ H)[rows[held], cols[held]]
    held_fit = 0.5 * np.sum(residual**2) * rows.size / held.sum()
    expected = held_fit + 0.5 * 0.1 * np.sum(W**2)
    for name, (model, data, mask) in models.items():
        np.testing.assert_allclose(model.components_, H, rtol=1e-10, err_msg=name)
        assert model.score(data, mask=mask) == pytest.approx(-expected, rel=1e-6), name


def test_grid_search_with_missing_values_picks_the_true_rank():
    rank = 3
    X = _low_rank(rank, 6, n=60, p=30)
    X[np.random.default_rng(7).random(X.shape) < 0.2] = np.nan
    search = GridSearchCV(
        NMF(missing_values=np.nan, init="nndsvda", max_iter=150, tol=1e-6),
        {"n_components": [rank - 1, rank, rank + 1]},
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    assert search.best_params_["n_components"] == rank
