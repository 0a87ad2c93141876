"""Every plot renders to a PNG that shows something, and shows the right thing."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from nmfkit import NMF, plotting  # noqa: E402
from nmfkit.report import format_number  # noqa: E402
from nmfkit.sparsity import hoyer_sparsity  # noqa: E402


def _pixels(fig):
    png = plotting.figure_to_png(fig, dpi=50)
    assert png.startswith(b"\x89PNG")
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def _assert_drawn(fig):
    pixels = _pixels(fig)
    assert pixels.std() > 5, "the figure is blank"
    return pixels


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture
def faces():
    rng = np.random.default_rng(0)
    return rng.random((6, 12)), (3, 4)


def test_gallery_reconstructions_and_matched(faces):
    X, shape = faces
    fig = plotting.plot_gallery(X, shape, titles=list("abcdef"), title="t")
    _assert_drawn(fig)
    assert _texts(fig) == list("abcdef")
    _assert_drawn(plotting.plot_reconstructions(X, X * 0.9, shape, n_images=3))
    order, sims = np.array([2, 0, 1]), np.array([0.9, 0.8, 0.7])
    shares = np.array([0.5, 0.3, 0.2])
    fig = plotting.plot_matched_components(
        X[:3], X[3:], shape, order, sims, rows=np.array([1, 0, 2]), shares=shares
    )
    _assert_drawn(fig)
    labels = _texts(fig)
    assert labels[:3] == ["A 1 · 30%", "A 0 · 50%", "A 2 · 20%"]
    assert labels[3:] == ["B 2 · cos 0.900", "B 0 · cos 0.800", "B 1 · cos 0.700"]


def test_components_are_sorted_by_their_share_and_labelled(faces):
    X, shape = faces
    rng = np.random.default_rng(1)
    W, H = rng.random((10, 4)), X[:4]
    W[:, 2] *= 10  # component 2 dominates
    shares = W.sum(axis=0) * H.sum(axis=1)
    shares /= shares.sum()
    np.testing.assert_allclose(plotting.component_shares(W, H), shares)
    expected = np.argsort(-shares)
    fig = plotting.plot_components(W, H, shape)
    _assert_drawn(fig)
    np.testing.assert_array_equal(fig.order, expected)
    assert expected[0] == 2
    assert _texts(fig) == [
        f"component {k} · {format_number(100 * shares[k], 2)}%" for k in expected
    ]


def test_factor_heatmaps_sort_components_and_group_lines():
    rng = np.random.default_rng(2)
    W = rng.random((30, 3)) * [1.0, 5.0, 0.2]
    H = rng.random((3, 50))
    fig = plotting.plot_factor_heatmaps(W, H, max_rows=10, max_columns=20)
    _assert_drawn(fig)
    np.testing.assert_array_equal(fig.component_order, [1, 0, 2])
    ax_W, ax_H = fig.axes[:2]
    drawn_W = ax_W.images[0].get_array()
    drawn_H = ax_H.images[0].get_array()
    assert drawn_W.shape == (10, 3) and drawn_H.shape == (3, 20)
    # Bands are means of consecutive rows in the drawn order.
    W_sorted = W[:, [1, 0, 2]] / W[:, [1, 0, 2]].max(axis=0)
    W_sorted = W_sorted[fig.row_order]
    np.testing.assert_allclose(drawn_W[0], W_sorted[:3].mean(axis=0))
    assert "means of 3 a row" in ax_W.get_ylabel()
    labels = [t.get_text() for t in ax_H.get_yticklabels()]
    assert labels[0].startswith("1 · ") and len(labels) == 3
    # Unscaled: the entries themselves, in the drawn order.
    fig = plotting.plot_factor_heatmaps(W, H, scale="none")
    np.testing.assert_array_equal(
        fig.axes[0].images[0].get_array(), W[:, [1, 0, 2]][fig.row_order]
    )
    np.testing.assert_array_equal(
        fig.axes[1].images[0].get_array(), H[[1, 0, 2]][:, fig.column_order]
    )
    # Small factors are drawn as they are, with names on the ticks.
    fig = plotting.plot_factor_heatmaps(
        W[:5], H[:, :4], sample_names=list("abcde"), feature_names=list("wxyz")
    )
    ticks = sorted(t.get_text() for t in fig.axes[0].get_yticklabels())
    assert ticks == list("abcde")


def test_top_words_from_lists_and_from_H():
    fig = plotting.plot_top_words([["a", "b"], ["c"]], np.array([[2.0, 1.0], [3.0, 0]]))
    _assert_drawn(fig)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]
    assert fig.axes[0].get_xlabel() == "weight in H"
    H = np.array([[0.0, 1.0, 3.0, 2.0], [5.0, 0.0, 0.0, 1.0]])
    vocabulary = ["w", "x", "y", "z"]
    fig = plotting.plot_top_words(H, vocabulary, n_words=3, topics=[1, 0])
    assert [ax.get_title() for ax in fig.axes[:2]] == ["topic 1", "topic 0"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["w", "z"]
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["y", "z", "x"]
    widths = [p.get_width() for p in fig.axes[1].patches]
    assert widths == [3.0, 2.0, 1.0]


def test_topic_coherence_marks_unscored_topics():
    scores = {"c_npmi": [0.1, np.nan, -0.2], "c_v": [0.5, np.nan, 0.7]}
    fig = plotting.plot_topic_coherence(scores, labels=["x", "y", "z"])
    _assert_drawn(fig)
    assert [ax.get_xlabel() for ax in fig.axes[:2]] == [
        "NPMI (window 10)",
        "C_V (window 110)",
    ]
    assert [p.get_width() for p in fig.axes[0].patches] == [0.1, 0.0, -0.2]
    assert " n/a" in _texts(fig)
    legend = fig.axes[0].get_legend().get_texts()[0].get_text()
    assert legend == "mean -0.05"


def test_convergence_takes_histories_curves_and_models():
    history = np.array([[0, 0.0, 10.0], [1, 0.1, 5.0], [2, 0.2, 4.0]])
    fig = plotting.plot_convergence({"x": history})
    _assert_drawn(fig)
    assert [ax.get_xlabel() for ax in fig.axes] == ["iteration", "seconds"]
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_xdata(), [0, 0.1, 0.2])
    assert fig.axes[0].get_legend().get_texts()[0].get_text() == "x: 4"
    # A loss curve has no seconds: one panel against iterations.
    fig = plotting.plot_convergence(np.array([3.0, 2.0, 1.5]))
    assert [ax.get_xlabel() for ax in fig.axes] == ["iteration"]

    rng = np.random.default_rng(0)
    X = rng.random((20, 8))
    model = NMF(3, max_iter=30, tol=0, random_state=0).fit(X)
    fig = plotting.plot_convergence(model, ylabel="objective (loss_)")
    by_iteration, by_time, zoom = fig.axes[:3]
    np.testing.assert_array_equal(
        by_iteration.lines[0].get_xdata(), model.history_[:, 0]
    )
    np.testing.assert_array_equal(
        by_iteration.lines[0].get_ydata(), model.history_[:, 2]
    )
    np.testing.assert_array_equal(by_time.lines[0].get_xdata(), model.history_[:, 1])
    assert by_iteration.get_ylabel() == "objective (loss_)"
    assert zoom.get_xlim() == (15.0, 30.0)
    low, high = zoom.get_ylim()
    tail = model.history_[15:, 2]
    assert low < tail.min() and high > tail.max() and high - low < 1.2 * np.ptp(tail)
    fig = plotting.plot_convergence([model, NMF(3, max_iter=5, tol=0).fit(X)])
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert [label.split(":")[0] for label in labels] == ["NMF 0", "NMF 1"]


def test_code_sparsity_draws_one_panel_per_model_on_shared_axes():
    W = np.array([[1.0, 0, 0], [1.0, 1.0, 1.0]])
    fig = plotting.plot_code_sparsity({"m": W, "n": W + 1.0})
    _assert_drawn(fig)
    first, second = fig.axes
    assert first.get_title() == "m\n33.3% zeros, median 0.5"
    assert second.get_title().startswith("n\n0% zeros")
    assert first.get_shared_y_axes().joined(first, second)
    counts = [p.get_height() for p in first.patches]
    expected, _ = np.histogram(hoyer_sparsity(W), bins=np.linspace(0, 1, 21))
    np.testing.assert_array_equal(counts, expected)
    assert len(plotting.plot_code_sparsity(W).axes) == 1
