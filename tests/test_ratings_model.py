"""The ratings model: mean + signed biases + non-negative tastes on observed ratings."""

from __future__ import annotations

import os
import signal
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils import check_random_state

import nmfkit
from nmfkit import NMF
from nmfkit._checkpoint import Checkpoint
from nmfkit._objective import Penalties
from nmfkit._observed import ObservedEntries
from nmfkit._scaling import Rescaling
from nmfkit._validation import UnobservedWarning
from nmfkit.recommend import (
    RatingsNMF,
    ratings_rmse_scorer,
    recommend_with_explanations,
    select_ratings_model,
    split_triples,
)
from nmfkit.recommend._data import observed_ratings
from nmfkit.solvers import ConvergenceMonitor
from nmfkit.solvers._ratings_bcd import (
    fit_ratings_bcd,
    ratings_factors,
    split_ratings_factors,
)

N_USERS, N_ITEMS, RANK = 90, 60, 3
MEAN = 3.4


def _truth(seed=0, rank=RANK, noise=0.05):
    """Ratings from a known mean + centred biases + non-negative rank-3 model."""
    rng = np.random.default_rng(seed)
    user_bias = rng.normal(0, 0.4, N_USERS)
    item_bias = rng.normal(0, 0.4, N_ITEMS)
    user_bias -= user_bias.mean()
    item_bias -= item_bias.mean()
    W = rng.gamma(1.0, 0.5, (N_USERS, rank)) if rank else np.zeros((N_USERS, 0))
    H = rng.gamma(1.0, 0.5, (rank, N_ITEMS)) if rank else np.zeros((0, N_ITEMS))
    clean = MEAN + user_bias[:, None] + item_bias[None, :] + W @ H
    ratings = clean + rng.normal(0, noise, clean.shape)
    observed = rng.random(clean.shape) < 0.5
    return dict(
        clean=clean,
        ratings=ratings,
        observed=observed,
        user_bias=user_bias,
        item_bias=item_bias,
    )


def _with_nan(truth):
    X = truth["ratings"].copy()
    X[~truth["observed"]] = np.nan
    return X


def _unobserved_rmse(truth, completed):
    held = ~truth["observed"]
    return float(np.sqrt(np.mean((completed[held] - truth["clean"][held]) ** 2)))


def _completed(model):
    users, items = np.indices((N_USERS, N_ITEMS)).reshape(2, -1)
    return model.predict(users, items).reshape(N_USERS, N_ITEMS)


def test_biases_recover_the_truth():
    """Mean + biases data: biases within 0.1 of the truth, mean within 0.05."""
    truth = _truth(rank=0)
    model = RatingsNMF(
        2,
        l2_bias=1e-3,
        l2_W=1.0,
        l2_H=1.0,
        penalty_weighting="none",
        tol=1e-9,
        max_iter=300,
        random_state=0,
        clip=False,
    ).fit(_with_nan(truth))
    assert abs(model.global_mean_ - MEAN) < 0.05
    np.testing.assert_allclose(model.user_bias_, truth["user_bias"], atol=0.1)
    np.testing.assert_allclose(model.item_bias_, truth["item_bias"], atol=0.1)
    assert _unobserved_rmse(truth, _completed(model)) < 0.05


def test_completion_recovers_the_truth_and_beats_no_biases():
    """Held-out RMSE below 0.1 (noise 0.05), below NMF without biases by 2x."""
    truth = _truth()
    X = _with_nan(truth)
    model = RatingsNMF(
        RANK,
        l2_bias=0.1,
        l2_W=0.01,
        l2_H=0.01,
        penalty_weighting="none",
        tol=1e-8,
        max_iter=200,
        random_state=0,
        clip=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
        plain = NMF(
            RANK,
            solver="hals",
            missing_values=np.nan,
            l2_W=0.01,
            l2_H=0.01,
            max_iter=500,
            tol=1e-8,
            random_state=0,
            init="random",
        )
        W = plain.fit_transform(X)
    ours = _unobserved_rmse(truth, _completed(model))
    theirs = _unobserved_rmse(truth, W @ plain.components_)
    assert ours < 0.1
    assert ours < theirs / 2
    # the model's row and column effects are the truth's (the part of the
    # tastes that is constant along a row or column is a bias too)
    completed = _completed(model)
    effect = completed.mean(axis=1) - completed.mean()
    true_effect = truth["clean"].mean(axis=1) - truth["clean"].mean()
    np.testing.assert_allclose(effect, true_effect, atol=0.1)


@pytest.mark.parametrize("weighting", ["none", "count"])
def test_objective_never_increases(weighting):
    truth = _truth(seed=1)
    model = RatingsNMF(
        4,
        l2_bias=2.0,
        l2_W=0.3,
        l2_H=0.2,
        l1_W=0.05,
        l1_H=0.02,
        penalty_weighting=weighting,
        tol=0,
        max_iter=60,
        random_state=1,
    ).fit(_with_nan(truth))
    curve = model.loss_curve_
    assert curve.size == 61
    assert np.all(np.diff(curve) <= 1e-12 * curve[:-1])
    assert curve[-1] < 0.5 * curve[0]


def test_history_is_the_objective_of_the_fitted_model():
    """The last recorded objective equals the objective recomputed from scratch."""
    truth = _truth(seed=2)
    l2_W, l2_H, l1_W, l2_bias = 0.3, 0.2, 0.05, 2.0
    X = _with_nan(truth)
    model = RatingsNMF(
        3,
        l2_W=l2_W,
        l2_H=l2_H,
        l1_W=l1_W,
        l2_bias=l2_bias,
        penalty_weighting="none",
        tol=0,
        max_iter=20,
        random_state=0,
        clip=False,
    ).fit(X)
    seen = truth["observed"]
    fit = 0.5 * np.sum((_completed(model)[seen] - X[seen]) ** 2)
    W, H = model.user_factors_, model.components_
    value = (
        fit
        + l1_W * W.sum()
        + 0.5 * l2_W * (W**2).sum()
        + 0.5 * l2_H * (H**2).sum()
        + 0.5 * l2_bias * ((model.user_bias_**2).sum() + (model.item_bias_**2).sum())
    )
    assert model.loss_ == pytest.approx(value, rel=1e-10)


def test_nothing_missing_is_the_complete_data_fit():
    """Complete data, biases only: the closed-form shrunken two-way means."""
    ratings = _truth(rank=0)["ratings"]
    l2 = 3.0
    model = RatingsNMF(0, l2_bias=l2, tol=1e-13, max_iter=500, clip=False).fit(ratings)
    mean = ratings.mean()
    n, p = ratings.shape
    assert model.global_mean_ == pytest.approx(mean, rel=1e-10)
    np.testing.assert_allclose(
        model.user_bias_, p * (ratings.mean(axis=1) - mean) / (p + l2), atol=1e-8
    )
    np.testing.assert_allclose(
        model.item_bias_, n * (ratings.mean(axis=0) - mean) / (n + l2), atol=1e-8
    )


def test_the_three_input_forms_give_the_same_fit():
    truth = _truth(seed=3)
    X = _with_nan(truth)
    params = dict(n_components=2, tol=0, max_iter=15, random_state=0)
    dense = RatingsNMF(**params).fit(X)
    rows, cols = np.nonzero(truth["observed"])
    values = truth["ratings"][rows, cols]
    sparse = RatingsNMF(**params).fit(
        sp.csr_matrix((values, (rows, cols)), shape=X.shape)
    )
    triples = np.column_stack([rows, cols, values])
    pairs, y = split_triples(triples)
    from_pairs = RatingsNMF(**params).fit(pairs, y)
    for other in (sparse, from_pairs):
        np.testing.assert_array_equal(other.user_factors_, dense.user_factors_)
        np.testing.assert_array_equal(other.item_bias_, dense.item_bias_)
        np.testing.assert_array_equal(other.history_[:, 2], dense.history_[:, 2])


def test_unseen_users_and_items_fall_back_to_mean_and_known_biases():
    truth = _truth(seed=4)
    rows, cols = np.nonzero(truth["observed"])
    keep = (rows != 5) & (cols != 7)  # user 5 and item 7 have no rating
    model = RatingsNMF(2, random_state=0, clip=False, max_iter=30, tol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(
            np.column_stack([rows[keep], cols[keep]]),
            truth["ratings"][rows[keep], cols[keep]],
        )
    assert model.user_bias_[5] == 0 and not model.user_factors_[5].any()
    assert model.item_bias_[7] == 0 and not model.components_[:, 7].any()
    mean = model.global_mean_
    # unseen user 5 and a user beyond the fitted shape
    for user in (5, N_USERS + 10):
        np.testing.assert_allclose(
            model.predict([user] * 3, [0, 1, N_ITEMS + 2]),
            mean + np.array([model.item_bias_[0], model.item_bias_[1], 0.0]),
        )
        items, scores = model.recommend(user, 4)
        np.testing.assert_array_equal(items, np.argsort(-model.item_bias_)[:4])
    np.testing.assert_allclose(
        model.predict([0, 1], [7, 7]), mean + model.user_bias_[[0, 1]]
    )


def test_recommend_leaves_out_rated_items_and_is_sorted():
    truth = _truth(seed=5)
    model = RatingsNMF(3, random_state=0, max_iter=40, tol=1e-6).fit(_with_nan(truth))
    items, scores = model.recommend(0, 10)
    rated = set(np.flatnonzero(truth["observed"][0]))
    assert not rated & set(items.tolist())
    assert np.all(np.diff(scores) <= 0)
    unrated = np.array(sorted(set(range(N_ITEMS)) - rated))
    full = model.baseline([0] * unrated.size, unrated) + (
        model.user_factors_[0] @ model.components_[:, unrated]
    )
    np.testing.assert_allclose(scores, np.sort(full)[::-1][:10])


@pytest.mark.parametrize("weighting", ["none", "count"])
@pytest.mark.parametrize("c", [7.3, 1e-3])
def test_scale_equivariance(weighting, c):
    """Ratings x c, l2 x c, l1 x c^1.5, same l2_bias: biases x c, tastes x sqrt c."""
    truth = _truth(seed=6)
    X = _with_nan(truth)
    base = dict(
        n_components=3,
        penalty_weighting=weighting,
        tol=0,
        max_iter=25,
        random_state=0,
        l2_bias=1.5,
    )
    model = RatingsNMF(**base, l2_W=0.2, l2_H=0.3, l1_W=0.05).fit(X)
    scaled = RatingsNMF(**base, l2_W=0.2 * c, l2_H=0.3 * c, l1_W=0.05 * c**1.5).fit(
        X * c
    )
    np.testing.assert_allclose(scaled.global_mean_, c * model.global_mean_, rtol=1e-9)
    np.testing.assert_allclose(
        scaled.user_bias_, c * model.user_bias_, rtol=1e-7, atol=1e-12 * c
    )
    np.testing.assert_allclose(
        scaled.item_bias_, c * model.item_bias_, rtol=1e-7, atol=1e-12 * c
    )
    np.testing.assert_allclose(
        scaled.user_factors_, np.sqrt(c) * model.user_factors_, rtol=1e-7, atol=1e-12
    )
    np.testing.assert_allclose(scaled.loss_curve_, c**2 * model.loss_curve_, rtol=1e-9)
    users, items = np.nonzero(truth["observed"])
    np.testing.assert_allclose(
        scaled.predict(users, items), c * model.predict(users, items), rtol=1e-9
    )


def test_save_and_load_round_trip(tmp_path):
    truth = _truth(seed=7)
    model = RatingsNMF(3, random_state=0, max_iter=30, tol=0).fit(_with_nan(truth))
    path = tmp_path / "ratings.npz"
    model.save(path)
    restored = nmfkit.load(path)
    assert isinstance(restored, RatingsNMF)
    assert restored.get_params() == pytest.approx(model.get_params(), nan_ok=True)
    for name in (
        "user_factors_",
        "components_",
        "user_bias_",
        "item_bias_",
        "history_",
        "rated_items_",
    ):
        np.testing.assert_array_equal(getattr(restored, name), getattr(model, name))
    assert restored.global_mean_ == model.global_mean_
    np.testing.assert_array_equal(restored.recommend(3, 5)[0], model.recommend(3, 5)[0])
    model.user_factors_ = -model.user_factors_  # not a valid model any more
    with pytest.raises(ValueError, match="user_factors_ holds negative"):
        model.save(tmp_path / "bad.npz")


def test_checkpoint_resume_with_signed_biases(tmp_path):
    """A fit resumed from a checkpoint at iteration 5 ends as an unbroken fit."""
    truth = _truth(seed=8)
    X = _with_nan(truth)
    path = tmp_path / "fit.ckpt"
    params = dict(n_components=2, tol=0, random_state=0, checkpoint=path)
    unbroken = RatingsNMF(**params, max_iter=12).fit(X)
    assert not path.exists()  # a finished fit removes its checkpoint
    # write the state of iteration 5 the way a running fit would
    early = RatingsNMF(**params, max_iter=5)
    monitor = ConvergenceMonitor(tol=0, max_iter=5)
    observed = observed_ratings(X)
    rescaling = Rescaling.for_fit(observed, 2.0)
    internal = rescaling.scale_data(observed)
    state = check_random_state(0)  # the start the estimator draws

    W0 = state.uniform(0, 0.1, (N_USERS, 2))
    H0 = state.uniform(0, 0.1, (2, N_ITEMS))
    W0, H0 = ratings_factors(
        W0, H0, np.zeros(N_USERS), np.zeros(N_ITEMS), internal.values.mean()
    )
    result = fit_ratings_bcd(
        internal,
        W0,
        H0,
        rescaling.penalties(early._penalties()),
        monitor=monitor,
        l2_bias=early.l2_bias,
        weighting=early.penalty_weighting,
    )
    assert (result.W[:, -3] < 0).any()  # signed biases in the checkpoint
    monitor.objective_scale = rescaling.objective_factor
    Checkpoint(path, 0, early, internal).write(monitor)
    resumed = RatingsNMF(**params, max_iter=12).fit(X)
    assert resumed.n_iter_ == 12
    np.testing.assert_allclose(resumed.user_bias_, unbroken.user_bias_, rtol=1e-12)
    np.testing.assert_allclose(
        resumed.user_factors_, unbroken.user_factors_, rtol=1e-12, atol=1e-15
    )


def test_grid_search_with_the_scorer_picks_the_true_rank():
    truth = _truth(seed=9)
    rows, cols = np.nonzero(truth["observed"])
    pairs = np.column_stack([rows, cols])
    y = truth["ratings"][rows, cols]
    base = RatingsNMF(
        n_users=N_USERS,
        n_items=N_ITEMS,
        l2_W=0.01,
        l2_H=0.01,
        l2_bias=0.1,
        penalty_weighting="none",
        max_iter=60,
        tol=1e-6,
        random_state=0,
    )
    cv = KFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(
            base, {"n_components": [1, RANK]}, scoring=ratings_rmse_scorer, cv=cv
        ).fit(pairs, y)
        assert search.best_params_ == {"n_components": RANK}
        # the recorded score of one split is minus the RMSE computed directly
        train, test = next(cv.split(pairs))
        model = base.set_params(n_components=RANK).fit(pairs[train], y[train])
    rmse = np.sqrt(np.mean((model.predict(pairs[test]) - y[test]) ** 2))
    assert search.cv_results_["split0_test_score"][1] == pytest.approx(-rmse)


def test_select_ratings_model_on_a_validation_split():
    truth = _truth(seed=10)
    rows, cols = np.nonzero(truth["observed"])
    pairs = np.column_stack([rows, cols])
    y = truth["ratings"][rows, cols]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        selection = select_ratings_model(
            RatingsNMF(
                penalty_weighting="none",
                max_iter=60,
                tol=1e-6,
                random_state=0,
                l2_bias=0.1,
            ),
            {"n_components": [1, RANK], "l2_W": [0.01], "l2_H": [0.01]},
            pairs,
            y,
            validation_fraction=0.2,
            random_state=0,
        )
    assert selection.best_params["n_components"] == RANK
    assert len(selection.results) == 2
    assert "n_components=3" in selection.summary()
    assert "20%" in selection.method
    assert selection.model.n_components_ == RANK
    # the reported RMSE is that of the candidate on the held-out 20%
    order = np.random.default_rng(0).permutation(y.size)
    held, kept = (
        np.sort(order[: round(0.2 * y.size)]),
        np.sort(order[round(0.2 * y.size) :]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check = RatingsNMF(
            RANK,
            penalty_weighting="none",
            max_iter=60,
            tol=1e-6,
            random_state=0,
            l2_bias=0.1,
            l2_W=0.01,
            l2_H=0.01,
            n_users=N_USERS,
            n_items=N_ITEMS,
        ).fit(pairs[kept], y[kept])
    rmse = np.sqrt(np.mean((check.predict(pairs[held]) - y[held]) ** 2))
    assert selection.best_rmse == pytest.approx(rmse)


def test_explanations_are_the_taste_contributions():
    truth = _truth(seed=11)
    model = RatingsNMF(3, random_state=0, max_iter=40, tol=0).fit(_with_nan(truth))
    names = {j: f"item {j}" for j in range(N_ITEMS)}
    out = recommend_with_explanations(model, 2, 4, n_components=3, item_names=names)
    assert [r["item"] for r in out] == model.recommend(2, 4)[0].tolist()
    W, H = model.user_factors_, model.components_
    for rec in out:
        j = rec["item"]
        assert rec["name"] == f"item {j}"
        assert rec["predicted_rating"] == pytest.approx(model.predict([2], [j])[0])
        assert rec["baseline"] + rec["taste"] == pytest.approx(
            model.baseline([2], [j])[0] + W[2] @ H[:, j]
        )
        for component in rec["components"]:
            k = component["component"]
            assert component["contribution"] == pytest.approx(W[2, k] * H[k, j])
            top = [t["item"] for t in component["top_items"]]
            assert top == np.argsort(-H[k], kind="stable")[:3].tolist()
        contributions = [c["contribution"] for c in rec["components"]]
        assert contributions == sorted(contributions, reverse=True)


@pytest.mark.parametrize(
    "kwargs, X, y, match",
    [
        ({}, np.array([[0, 1], [0, 1]]), np.array([3.0, 4.0]), "more than once"),
        ({}, np.array([[0, -1]]), np.array([3.0]), "negative index"),
        ({}, np.array([[0, 1.5]]), np.array([3.0]), "non-integer"),
        ({}, np.array([[0, 1]]), np.array([np.inf]), "NaN or infinite"),
        ({"n_components": -1}, np.array([[0, 1]]), np.array([3.0]), "n_components"),
        ({"penalty_weighting": "x"}, np.array([[0, 1]]), np.array([3.0]), "weighting"),
        ({"l2_bias": -1.0}, np.array([[0, 1]]), np.array([3.0]), "l2_bias"),
    ],
)
def test_bad_input_is_refused(kwargs, X, y, match):
    with pytest.raises(ValueError, match=match):
        RatingsNMF(**kwargs).fit(X, y)


def test_solver_contract_with_update_H_false():
    """Fixed items and mean: only user biases and tastes move; objective falls."""
    truth = _truth(seed=12)
    rows, cols = np.nonzero(truth["observed"])
    X = ObservedEntries(
        truth["ratings"].shape, rows, cols, truth["ratings"][rows, cols]
    )
    rng = np.random.default_rng(0)
    W0, H0 = ratings_factors(
        rng.random((N_USERS, 2)),
        rng.random((2, N_ITEMS)),
        np.zeros(N_USERS),
        rng.normal(0, 0.3, N_ITEMS),
        3.0,
    )
    result = fit_ratings_bcd(
        X,
        W0,
        H0,
        Penalties(l2_W=0.1),
        monitor=ConvergenceMonitor(tol=0, max_iter=10),
        update_H=False,
        l2_bias=1.0,
    )
    np.testing.assert_array_equal(result.H, H0)
    _, _, user_bias, _, mean = split_ratings_factors(result.W, result.H)
    assert mean == 3.0 and np.any(user_bias != 0)
    assert np.all(np.diff(result.history[:, 2]) <= 0)


def test_unrated_users_are_no_warning():
    """A user without ratings is the documented fallback, not an UnobservedWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnobservedWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        RatingsNMF(1, n_users=3, max_iter=3, random_state=0).fit(
            np.array([[0, 0], [0, 1], [1, 1]]), np.array([4.0, 3.0, 2.0])
        )


class _InterruptedRatings(RatingsNMF):
    """RatingsNMF whose fit gets a real SIGINT (Ctrl-C) after iteration 7."""

    def _solver_options(self, callbacks=(), history=None, **kwargs):
        def act(monitor):
            if monitor.n_iter == 7:
                os.kill(os.getpid(), signal.SIGINT)

        callbacks = [*callbacks[:-1], act, *callbacks[-1:]]
        return super()._solver_options(callbacks=callbacks, history=history, **kwargs)


def test_ctrl_c_keeps_the_last_iteration():
    X = _with_nan(_truth(seed=13))
    params = dict(n_components=2, tol=0, random_state=0)
    with pytest.warns(nmfkit.FitInterruptedWarning, match="after iteration 7"):
        model = _InterruptedRatings(**params, max_iter=50).fit(X)
    reference = RatingsNMF(**params, max_iter=7).fit(X)
    assert model.n_iter_ == 7 and model.history_.shape == (8, 3)
    np.testing.assert_array_equal(model.user_bias_, reference.user_bias_)
    np.testing.assert_array_equal(model.components_, reference.components_)
    assert model.global_mean_ == reference.global_mean_
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _reference_iteration(X, observed, W, H, u, v, mu, l2_W, l2_H, l2_bias, count):
    """One iteration of the exact block updates, one scalar at a time (dense).

    The order of :mod:`nmfkit.solvers._ratings_bcd`: the mean, each user
    bias, each column of W; then each item bias, each row of H. Each update
    is the closed-form minimizer of the objective over that one block,
    written from the formula with a Python loop over users and items;
    ``count`` multiplies each taste penalty by the ratings of its user (item).
    """
    W, H, u, v = W.copy(), H.copy(), u.copy(), v.copy()
    M = observed.astype(float)

    def residual():
        return (X - mu - u[:, None] - v[None, :] - W @ H) * M

    mu = mu + residual().sum() / M.sum()
    for i in range(X.shape[0]):
        n_i = M[i].sum()
        u[i] = (residual()[i].sum() + n_i * u[i]) / (n_i + l2_bias)
    for k in range(W.shape[1]):
        for i in range(X.shape[0]):
            R = residual()[i] + W[i, k] * H[k] * M[i]
            weight = M[i].sum() if count else 1.0
            num, den = (R * H[k]).sum(), (M[i] * H[k] ** 2).sum() + l2_W * weight
            W[i, k] = max(num, 0.0) / den if den > 0 else 0.0
    for j in range(X.shape[1]):
        n_j = M[:, j].sum()
        v[j] = (residual()[:, j].sum() + n_j * v[j]) / (n_j + l2_bias)
    for k in range(W.shape[1]):
        for j in range(X.shape[1]):
            R = residual()[:, j] + W[:, k] * H[k, j] * M[:, j]
            weight = M[:, j].sum() if count else 1.0
            num = (R * W[:, k]).sum()
            den = (M[:, j] * W[:, k] ** 2).sum() + l2_H * weight
            H[k, j] = max(num, 0.0) / den if den > 0 else 0.0
    return W, H, u, v, mu


@pytest.mark.parametrize("weighting", ["none", "count"])
def test_one_iteration_is_the_scalar_reference(weighting):
    """The vectorized halves are the scalar exact updates (unrated user and item)."""
    rng = np.random.default_rng(5)
    n, p, r = 7, 6, 2
    X = rng.uniform(1, 5, (n, p))
    observed = rng.random((n, p)) < 0.6
    observed[3] = False  # a user without ratings
    observed[:, 4] = False  # an item without ratings
    rows, cols = np.nonzero(observed)
    entries = ObservedEntries((n, p), rows, cols, X[rows, cols])
    W0, H0 = rng.random((n, r)), rng.random((r, p))
    u0, v0 = rng.normal(0, 0.3, n), rng.normal(0, 0.3, p)
    l2_W, l2_H, l2_bias = 0.3, 0.2, 1.5
    result = fit_ratings_bcd(
        entries,
        *ratings_factors(W0, H0, u0, v0, 2.5),
        Penalties(l2_W=l2_W, l2_H=l2_H),
        monitor=ConvergenceMonitor(tol=0, max_iter=1),
        l2_bias=l2_bias,
        weighting=weighting,
    )
    expected = _reference_iteration(
        X, observed, W0, H0, u0, v0, 2.5, l2_W, l2_H, l2_bias, weighting == "count"
    )
    got = split_ratings_factors(result.W, result.H)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert got[2][3] == 0 and got[3][4] == 0  # the unrated: bias 0
    assert np.all(got[0][3] == 0) and np.all(got[1][:, 4] == 0)  # and no taste
