"""Every plot renders to a PNG that shows something."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")

from nmfkit import plotting  # noqa: E402


def _pixels(fig):
    png = plotting.figure_to_png(fig, dpi=50)
    assert png.startswith(b"\x89PNG")
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)


def _assert_drawn(fig):
    pixels = _pixels(fig)
    assert pixels.std() > 5, "the figure is blank"
    return pixels


@pytest.fixture
def faces():
    rng = np.random.default_rng(0)
    return rng.random((6, 12)), (3, 4)


def test_gallery_reconstructions_and_matched(faces):
    X, shape = faces
    _assert_drawn(plotting.plot_gallery(X, shape, titles=list("abcdef"), title="t"))
    _assert_drawn(plotting.plot_reconstructions(X, X * 0.9, shape, n_images=3))
    order, sims = np.array([2, 0, 1]), np.array([0.9, 0.8, 0.7])
    fig = plotting.plot_matched_components(X[:3], X[3:], shape, order, sims)
    _assert_drawn(fig)
    labels = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert labels[:2] == ["A 0", "A 1"] and "B 2: 0.900" in labels
    with pytest.raises(ValueError, match="cannot be shown as 5 x 5 images"):
        plotting.plot_gallery(X, (5, 5))


def test_top_words_convergence_and_sparsity():
    fig = plotting.plot_top_words([["a", "b"], ["c"]], np.array([[2.0, 1.0], [3.0, 0]]))
    _assert_drawn(fig)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a", "b"]
    history = np.array([[0, 0.0, 10.0], [1, 0.1, 5.0], [2, 0.2, 4.0]])
    fig = plotting.plot_convergence({"x": history})
    _assert_drawn(fig)
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_xdata(), [0, 0.1, 0.2])
    W = np.array([[1.0, 0, 0], [1.0, 1.0, 1.0]])
    fig = plotting.plot_code_sparsity({"m": W})
    _assert_drawn(fig)
    assert "33.3% zeros" in fig.axes[0].get_legend().get_texts()[0].get_text()
