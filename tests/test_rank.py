"""select_rank: cross-validation finds the true rank, consensus finds the clusters."""

import numpy as np
import pytest
from scipy.cluster.hierarchy import cophenet, linkage
from scipy.spatial.distance import squareform

import nmfkit
from nmfkit import RankSelection, select_rank


def _low_rank(rank, seed, n, p, noise=0.05):
    """W H with W, H uniform on [0, 1], times 1 + 5% Gaussian noise."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, rank)) @ rng.random((rank, p))
    return X * np.clip(1 + noise * rng.standard_normal(X.shape), 0, None)


def _clustered(seed, n_clusters=3, per_cluster=10, n_features=30, noise=0.05):
    """Samples in clusters on disjoint feature blocks.

    Within a cluster each sample mixes two random profiles in random
    proportions, so an NMF with one component too many splits some cluster,
    a different one from run to run.
    """
    rng = np.random.default_rng(seed)
    block = n_features // n_clusters
    X = np.zeros((n_clusters * per_cluster, n_features))
    labels = np.repeat(np.arange(n_clusters), per_cluster)
    for c in range(n_clusters):
        profiles = rng.random((2, block))
        share = rng.random((per_cluster, 1))
        rows = slice(c * per_cluster, (c + 1) * per_cluster)
        X[rows, c * block : (c + 1) * block] = (
            share * profiles[0] + (1 - share) * profiles[1]
        )
    return X + noise * rng.random(X.shape), labels


# Shapes keep the test fast and give every rank enough entries per parameter.
@pytest.mark.parametrize("rank, shape", [(3, (30, 24)), (5, (50, 30)), (8, (100, 40))])
def test_cv_finds_the_true_rank_for_nine_of_ten_seeds(rank, shape):
    chosen = []
    for seed in range(10):
        X = _low_rank(rank, 100 * rank + seed, *shape)
        result = select_rank(
            X,
            range(rank - 2, rank + 3),
            method="cv",
            n_folds=4,
            random_state=seed,
            tol=1e-3,
        )
        chosen.append(result.best_rank)
    assert sum(c == rank for c in chosen) >= 9, chosen


def test_cv_scores_follow_the_noise_and_the_one_standard_error_rule():
    X = _low_rank(4, 0, 40, 30)
    result = select_rank(X, [2, 3, 4, 5, 6], n_folds=5, random_state=0, tol=1e-3)
    noise_rmse = np.sqrt(np.mean((0.05 * X) ** 2))  # about the noise's size
    scores = result.scores
    assert scores[4]["cv_rmse"] < 1.3 * noise_rmse
    assert scores[2]["cv_rmse"] > 2 * noise_rmse  # too few components
    assert scores[6]["cv_rmse"] > scores[4]["cv_rmse"]  # too many: fits the noise
    for rank in result.ranks:
        folds = scores[rank]["cv_fold_rmse"]
        assert folds.shape == (5,)
        assert scores[rank]["cv_rmse"] == pytest.approx(folds.mean())
        assert scores[rank]["cv_se"] == pytest.approx(folds.std(ddof=1) / np.sqrt(5))
    # The rule, recomputed from the table.
    means = np.array([scores[r]["cv_rmse"] for r in result.ranks])
    best = result.ranks[int(np.argmin(means))]
    threshold = means.min() + scores[best]["cv_se"]
    within = [r for r, m in zip(result.ranks, means, strict=True) if m <= threshold]
    assert result.best_rank == result.best_rank_by["cv"] == within[0] == 4
    # No penalty: the objective is 1/2 ||X - WH||^2, so it fixes the explained
    # variance.
    for rank in result.ranks:
        expected = 1 - 2 * scores[rank]["objective"] / np.sum(X**2)
        assert scores[rank]["explained_variance"] == pytest.approx(expected, rel=1e-9)
        assert 0 <= scores[rank]["sparseness_W"] <= 1
        assert 0 <= scores[rank]["sparseness_H"] <= 1


@pytest.mark.parametrize("seed", range(5))
def test_consensus_finds_the_clusters(seed):
    X, labels = _clustered(seed)
    result = select_rank(
        X, [2, 3, 4, 5], method="consensus", n_runs=10, random_state=seed
    )
    assert result.best_rank == result.best_rank_by["consensus"] == 3
    truth = (labels[:, None] == labels[None, :]).astype(float)
    np.testing.assert_array_equal(result.consensus[3], truth)
    assert result.scores[3]["cophenetic"] == pytest.approx(1.0)
    assert result.scores[3]["dispersion"] == pytest.approx(1.0)
    assert result.scores[4]["dispersion"] < 0.95  # one cluster split, not always
    for C in result.consensus.values():
        np.testing.assert_array_equal(C, C.T)
        np.testing.assert_array_equal(np.diag(C), 1.0)
        np.testing.assert_allclose(C * 10, np.round(C * 10), atol=1e-12)


def test_cophenetic_equals_scipy_on_the_consensus_of_select_rank():
    X, _ = _clustered(1)
    result = select_rank(X, [2, 4, 5], method="consensus", n_runs=8, random_state=1)
    fractional = 0
    for rank in result.ranks:
        C = result.consensus[rank]
        fractional += np.any((C > 0) & (C < 1))
        distances = squareform(1 - C, checks=False)
        expected, _ = cophenet(linkage(distances, method="average"), distances)
        assert result.scores[rank]["cophenetic"] == pytest.approx(expected, rel=1e-12)
        assert result.scores[rank]["dispersion"] == pytest.approx(
            np.mean(4 * (C - 0.5) ** 2), rel=1e-12
        )
    assert fractional >= 2  # not only perfect consensus matrices


def test_both_methods_table_markdown_and_callback():
    X, _ = _clustered(0)
    seen = []
    result = select_rank(
        X,
        (4, 2, 3, 3),
        method=("consensus", "cv"),
        n_folds=3,
        n_runs=4,
        random_state=0,
        callback=lambda rank, scores: seen.append((rank, sorted(scores))),
    )
    assert isinstance(result, RankSelection)
    assert result.ranks == [2, 3, 4] and [r for r, _ in seen] == [2, 3, 4]
    assert result.methods == ("consensus", "cv")
    assert result.best_rank == result.best_rank_by["consensus"]
    assert set(result.best_rank_by) == {"consensus", "cv"}
    rows = result.table()
    assert [row["rank"] for row in rows] == [2, 3, 4]
    assert set(rows[0]) == {
        "rank", "objective", "explained_variance", "sparseness_W", "sparseness_H",
        "cophenetic", "dispersion", "cv_rmse", "cv_se",
    }  # fmt: skip
    assert seen[0][1] == sorted(result.scores[2])
    lines = result.to_markdown().splitlines()
    assert lines[0].startswith("| rank | objective |") and len(lines) == 5
    starred = [line for line in lines if "*" in line]
    assert len(starred) == 1 and starred[0].startswith(f"| {result.best_rank}* |")
    assert str(result) == result.to_markdown()


def test_select_rank_is_exported_and_reproducible():
    assert nmfkit.select_rank is select_rank and "select_rank" in nmfkit.__all__
    X = _low_rank(2, 0, 20, 12)
    a = select_rank(X, [1, 2, 3], n_folds=3, random_state=5, tol=1e-3)
    b = select_rank(X, [1, 2, 3], n_folds=3, random_state=5, tol=1e-3)
    assert a.table() == b.table()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(ranks=[2, 0]), "rank 0 is not valid"),
        (dict(ranks=[2, 2.5]), "rank 2.5 is not valid"),
        (dict(ranks=[]), "ranks is empty"),
        (dict(ranks=[2, 13]), "rank 13 is larger than X allows"),
        (dict(ranks=[2], method="bic"), "method='bic' is not valid"),
        (dict(ranks=[2], method=()), "method is empty"),
        (dict(ranks=[2], n_folds=1), "n_folds=1 is not valid"),
        (dict(ranks=[2], n_folds=13), "n_folds=13 is larger than the number"),
        (dict(ranks=[2], method="consensus", n_runs=0), "n_runs=0 is not valid"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, message):
    X = _low_rank(2, 0, 20, 12)
    with pytest.raises(ValueError, match=message):
        select_rank(X, **kwargs)


def test_negative_data_is_refused():
    X = _low_rank(2, 0, 20, 12)
    X[3, 4] = -1.0
    with pytest.raises(ValueError, match="negative"):
        select_rank(X, [1, 2])


def test_folds_spread_every_row_evenly():
    from nmfkit._rank import _fold_assignment

    folds = _fold_assignment((50, 13), 4, np.random.RandomState(0))
    for row in folds:
        counts = np.bincount(row, minlength=4)
        assert counts.max() - counts.min() <= 1  # 13 entries: 4, 3, 3, 3 in some order
    totals = np.bincount(folds.ravel(), minlength=4)
    assert totals.sum() == 50 * 13 and totals.min() > 0.2 * 50 * 13
    # Different rows get different patterns.
    assert len({tuple(row) for row in folds}) == 50
