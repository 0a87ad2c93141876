"""The plotting helpers refuse the wrong input with one clear line, before drawing."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from sklearn.decomposition import NMF as SklearnNMF  # noqa: E402

from nmfkit import NMF, plotting  # noqa: E402
from nmfkit.plotting._figure import new_figure  # noqa: E402

RNG = np.random.default_rng(0)
H = RNG.random((4, 30))
VOCABULARY = [f"w{j}" for j in range(30)]


def _one_line(excinfo):
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_top_words_refuses_a_transposed_H_before_drawing(monkeypatch):
    def no_figure(*args, **kwargs):
        raise AssertionError("a figure was started for invalid input")

    monkeypatch.setattr("nmfkit.plotting._charts.new_figure", no_figure)
    with pytest.raises(ValueError, match=r"transposed; pass H\.T") as excinfo:
        plotting.plot_top_words(H.T, VOCABULARY)
    assert "shape (30, 4)" in _one_line(excinfo)
    with pytest.raises(ValueError, match="does not match a vocabulary of 29 words"):
        plotting.plot_top_words(H, VOCABULARY[:-1])
    with pytest.raises(TypeError, match="second must be the vocabulary"):
        plotting.plot_top_words(H, np.arange(30.0))


def test_top_words_caps_the_number_of_panels():
    many = RNG.random((60, 30))
    with pytest.raises(ValueError, match=r"60 topics is too many .*topics=\[") as e:
        plotting.plot_top_words(many, VOCABULARY)
    _one_line(e)
    fig = plotting.plot_top_words(many, VOCABULARY, topics=[5, 7], n_words=3)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["topic 5", "topic 7"]
    with pytest.raises(ValueError, match=r"indices outside \[0, 60\)"):
        plotting.plot_top_words(many, VOCABULARY, topics=[60])
    with pytest.raises(ValueError, match="n_words"):
        plotting.plot_top_words(H, VOCABULARY, n_words=0)
    with pytest.raises(ValueError, match="2 labels for 4 topics"):
        plotting.plot_top_words(H, VOCABULARY, labels=["a", "b"])


def test_top_words_checks_lists_of_words():
    with pytest.raises(TypeError, match="lists of strings"):
        plotting.plot_top_words([["a", 1]], np.ones((1, 2)))
    with pytest.raises(ValueError, match="do not match 2 topics"):
        plotting.plot_top_words([["a"], ["b"]], np.ones((1, 1)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        plotting.plot_top_words([["a"]], np.array([[np.nan]]))


def test_convergence_accepts_a_fitted_model_and_explains_the_rest():
    X = RNG.random((12, 6))
    with pytest.raises(ValueError, match="not fitted; call fit") as excinfo:
        plotting.plot_convergence(NMF(2))
    _one_line(excinfo)
    sklearn_model = SklearnNMF(2, max_iter=500).fit(X)
    with pytest.raises(ValueError, match="records no objective per iteration"):
        plotting.plot_convergence(sklearn_model)
    with pytest.raises(ValueError, match=r"rows \(iteration, seconds, objective\)"):
        plotting.plot_convergence(np.ones((5, 2)))
    with pytest.raises(ValueError, match="the fit diverged"):
        plotting.plot_convergence({"a": [3.0, np.nan]})
    with pytest.raises(ValueError, match="iterations must increase"):
        plotting.plot_convergence(np.array([[1, 0, 2.0], [0, 0, 1.0]]))
    with pytest.raises(TypeError, match="expected a fitted model"):
        plotting.plot_convergence({"a": "text"})
    with pytest.raises(ValueError, match="13 curves is too many"):
        plotting.plot_convergence({str(i): [1.0, 0.5] for i in range(13)})
    model = NMF(2, max_iter=20, tol=0).fit(X)
    assert len(plotting.plot_convergence(model).axes) == 3


def test_code_sparsity_and_factors_check_their_matrices():
    W = RNG.random((10, 3))
    with pytest.raises(ValueError, match="negative entries") as excinfo:
        plotting.plot_code_sparsity({"a": W - 1})
    _one_line(excinfo)
    with pytest.raises(ValueError, match="non-empty 2-D array"):
        plotting.plot_code_sparsity(np.ones(4))
    with pytest.raises(ValueError, match="13 codes is too many"):
        plotting.plot_code_sparsity({str(i): W for i in range(13)})
    with pytest.raises(TypeError, match="not an array; pass its factor"):
        plotting.plot_code_sparsity({"a": NMF(2)})
    with pytest.raises(ValueError, match=r"H looks transposed: pass H\.T"):
        plotting.plot_factor_heatmaps(W, RNG.random((20, 3)))
    with pytest.raises(ValueError, match=r"W looks transposed: pass W\.T"):
        plotting.component_shares(RNG.random((4, 10)), RNG.random((4, 20)))
    with pytest.raises(ValueError, match="scale='rows' is not valid"):
        plotting.plot_factor_heatmaps(W, H[:3], scale="rows")
    with pytest.raises(ValueError, match="3 sample names for 10 samples"):
        plotting.plot_factor_heatmaps(W, H[:3], sample_names=list("abc"))


def test_images_check_shapes_counts_and_pairs():
    X = RNG.random((6, 12))
    with pytest.raises(ValueError, match=r"rows look like columns here: pass rows\.T"):
        plotting.plot_gallery(X.T, (3, 4))
    with pytest.raises(ValueError, match="300 images is too many"):
        plotting.plot_gallery(np.zeros((300, 4)), (2, 2))
    with pytest.raises(ValueError, match="image_shape"):
        plotting.plot_gallery(X, (3, 4.5))
    with pytest.raises(ValueError, match="2 titles for 6 images"):
        plotting.plot_gallery(X, (3, 4), titles=["a", "b"])
    with pytest.raises(ValueError, match="give the reconstruction W @ H"):
        plotting.plot_reconstructions(X, X[:3], (3, 4))
    with pytest.raises(
        ValueError, match=r"order must hold component indices in \[0, 3\)"
    ):
        plotting.plot_matched_components(X[:3], X[3:], (3, 4), [0, 1, 3], [1, 1, 1])
    with pytest.raises(ValueError, match="1-D of one length"):
        plotting.plot_matched_components(X[:3], X[3:], (3, 4), [0, 1, 2], [1, 1])
    with pytest.raises(ValueError, match="one share per row of A"):
        plotting.plot_matched_components(
            X[:3], X[3:], (3, 4), [0, 1, 2], [1, 1, 1], shares=[1.0]
        )


def test_rank_plots_want_a_rank_selection_and_figures_have_a_size_cap():
    with pytest.raises(TypeError, match="expected a RankSelection"):
        plotting.plot_rank_scores({"ranks": [2]})
    with pytest.raises(ValueError, match="too large to draw"):
        new_figure(130.0, 400.0)
