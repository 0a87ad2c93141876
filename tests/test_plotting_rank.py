"""Rank-selection charts show the measures, the chosen rank and ordered consensus."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from nmfkit import RankSelection, plotting, select_rank  # noqa: E402
from nmfkit._quality import consensus_order  # noqa: E402


def _assert_drawn(fig):
    png = plotting.figure_to_png(fig, dpi=50)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    assert pixels.std() > 5, "the figure is blank"


def _selection():
    """A hand-made selection: cv chooses 3, consensus chooses 4."""
    rng = np.random.default_rng(0)
    ranks = [2, 3, 4, 5]
    scores, consensus = {}, {}
    for k, rank in enumerate(ranks):
        labels = rng.integers(0, rank, size=(6, 12))
        C = np.mean([(row[:, None] == row[None, :]) for row in labels], axis=0)
        consensus[rank] = C
        scores[rank] = {
            "objective": 10.0 / rank,
            "explained_variance": 0.9 + 0.02 * k,
            "sparseness_W": 0.1 * k,
            "sparseness_H": 0.2 + 0.05 * k,
            "cv_rmse": [0.5, 0.2, 0.21, 0.3][k],
            "cv_se": [0.05, 0.02, 0.03, 0.04][k],
            "cv_fold_rmse": np.zeros(3),
            "cophenetic": [0.9, 0.95, 0.97, 0.8][k],
            "dispersion": [0.7, 0.8, 0.9, 0.6][k],
        }
    return RankSelection(
        ranks=ranks,
        best_rank=3,
        best_rank_by={"cv": 3, "consensus": 4},
        scores=scores,
        methods=("cv", "consensus"),
        consensus=consensus,
    )


def _vertical_lines(ax):
    return [
        line.get_xdata()[0]
        for line in ax.lines
        if len(set(np.atleast_1d(line.get_xdata()))) == 1 and len(line.get_xdata()) == 2
    ]


def test_rank_scores_panels_error_bars_and_chosen_ranks():
    selection = _selection()
    fig = plotting.plot_rank_scores(selection, title="ranks")
    _assert_drawn(fig)
    axes = {ax.get_label(): ax for ax in fig.axes}
    assert list(axes) == [
        "objective", "explained_variance", "sparseness_W",
        "cv_rmse", "cophenetic", "dispersion",
    ]  # fmt: skip
    np.testing.assert_allclose(axes["objective"].lines[0].get_xdata(), [2, 3, 4, 5])
    np.testing.assert_allclose(
        axes["objective"].lines[0].get_ydata(), [5.0, 10 / 3, 2.5, 2.0]
    )
    # W and H share the sparseness panel.
    legend = [t.get_text() for t in axes["sparseness_W"].get_legend().get_texts()]
    assert legend == ["W", "H"]
    # Error bars span one standard error either side of the mean.
    cv = axes["cv_rmse"]
    np.testing.assert_allclose(cv.lines[0].get_ydata(), [0.5, 0.2, 0.21, 0.3])
    segments = np.array(cv.collections[0].get_segments())
    np.testing.assert_allclose(segments[:, 0, 1], [0.45, 0.18, 0.18, 0.26])
    np.testing.assert_allclose(segments[:, 1, 1], [0.55, 0.22, 0.24, 0.34])
    # Each panel marks the rank chosen by its method.
    assert _vertical_lines(cv) == [3] and "chosen: 3" in cv.get_title()
    assert _vertical_lines(axes["cophenetic"]) == [4]
    assert _vertical_lines(axes["dispersion"]) == [4]
    assert _vertical_lines(axes["objective"]) == [3]
    assert cv.get_yscale() == "linear"
    selection.scores[5]["cv_rmse"] = 100.0  # an over-fitted rank
    fig = plotting.plot_rank_scores(selection)
    assert fig.axes[3].get_label() == "cv_rmse"
    assert fig.axes[3].get_yscale() == "log"


def test_rank_scores_shows_only_the_measures_computed():
    X = np.random.default_rng(0).random((12, 8))
    selection = select_rank(X, [1, 2], n_folds=2, random_state=0, tol=1e-2)
    fig = plotting.plot_rank_scores(selection)
    _assert_drawn(fig)
    labels = [ax.get_label() for ax in fig.axes]
    assert labels == ["objective", "explained_variance", "sparseness_W", "cv_rmse"]


def test_consensus_maps_are_ordered_by_clustering():
    selection = _selection()
    fig = plotting.plot_consensus_maps(selection, n_cols=3, title="consensus")
    _assert_drawn(fig)
    maps = [ax for ax in fig.axes if ax.images]
    assert len(maps) == 4 and len(fig.axes) == 4 + 1  # and the colour bar
    for ax, rank in zip(maps, [2, 3, 4, 5], strict=False):
        C = selection.consensus[rank]
        order = consensus_order(C)
        np.testing.assert_array_equal(ax.images[0].get_array(), C[np.ix_(order, order)])
        assert ax.get_title().startswith(f"rank {rank}\ncophenetic")
    # A clustered order puts equal labels next to each other.
    labels = np.repeat([0, 1, 2], 4)[np.random.default_rng(1).permutation(12)]
    C = (labels[:, None] == labels[None, :]).astype(float)
    ordered = labels[consensus_order(C)]
    assert np.count_nonzero(np.diff(ordered)) == 2
    fig = plotting.plot_consensus_maps(selection, ranks=[4])
    assert len([ax for ax in fig.axes if ax.images]) == 1


def test_consensus_maps_refuse_what_is_not_there():
    selection = _selection()
    with pytest.raises(ValueError, match=r"no consensus matrix for ranks \[7\]"):
        plotting.plot_consensus_maps(selection, ranks=[7])
    selection.consensus = {}
    with pytest.raises(ValueError, match="method='consensus'"):
        plotting.plot_consensus_maps(selection)
