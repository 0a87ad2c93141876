"""Top words, dominant topics and coherence, against gensim's CoherenceModel."""

from __future__ import annotations

import numpy as np
import pytest

from nmfkit.topics import coherence, dominant_topics, top_words, window_cooccurrence


def test_top_words_orders_by_weight_and_drops_zeros():
    H = np.array([[0.0, 3.0, 1.0, 2.0], [5.0, 0.0, 0.0, 0.0]])
    words, weights = top_words(H, ["a", "b", "c", "d"], n_words=3)
    assert words == [["b", "d", "c"], ["a"]]
    np.testing.assert_array_equal(weights, [[3, 2, 1], [5, 0, 0]])
    with pytest.raises(ValueError, match="do not match a vocabulary of 3"):
        top_words(H, ["a", "b", "c"])


def test_dominant_topics_and_shares():
    W = np.array([[1.0, 3.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 2.0]])
    topics, shares = dominant_topics(W, n_topics=2)
    np.testing.assert_array_equal(topics, [[1, 0], [-1, -1], [0, 2]])
    np.testing.assert_allclose(shares, [[0.75, 0.25], [0, 0], [0.5, 0.5]])


@pytest.mark.parametrize("n_topics", [0, -1, 1.5])
def test_dominant_topics_rejects_a_count_below_one(n_topics):
    # n_topics=-1 used to return all topics but the last, silently
    with pytest.raises(ValueError, match="n_topics=.* give an integer >= 1"):
        dominant_topics(np.array([[1.0, 3.0, 2.0]]), n_topics=n_topics)


def test_window_counts_follow_gensims_sliding_rule():
    # Windows of 3 over a b a c: [a b a] then [b a c]. Sliding clears the
    # token leaving the window ("a") even though "a" is still inside.
    counts, n_windows = window_cooccurrence([["a", "b", "a", "c"]], ["a", "b", "c"], 3)
    assert n_windows == 2
    np.testing.assert_array_equal(counts, [[1, 1, 0], [1, 2, 1], [0, 1, 1]])
    # A short document is one window, an empty one still counts.
    counts, n_windows = window_cooccurrence([["a"], []], ["a"], 3)
    assert (n_windows, counts[0, 0]) == (2, 1)


def _gensim_per_topic(topics, texts, measure, window_size):
    gensim = pytest.importorskip("gensim")
    from gensim.models import CoherenceModel

    dictionary = gensim.corpora.Dictionary(texts)
    model = CoherenceModel(
        topics=topics,
        texts=texts,
        dictionary=dictionary,
        coherence=measure,
        topn=max(len(t) for t in topics),
        window_size=window_size,
        processes=1,
    )
    return np.array(model.get_coherence_per_topic())


@pytest.fixture(scope="module")
def lee_topics():
    pytest.importorskip("gensim")
    from nmfkit import NMF
    from nmfkit.datasets import load_lee_corpus, vectorize_texts

    corpus = vectorize_texts(load_lee_corpus())
    model = NMF(8, init="nndsvda", max_iter=60, tol=0).fit(corpus.data)
    words, _ = top_words(model.components_, corpus.vocabulary, 10)
    # An empty and a one-word document exercise the edge cases of windowing.
    return words, corpus.tokens + [[], [words[0][0]]]


@pytest.mark.parametrize("measure", ["c_npmi", "c_v"])
@pytest.mark.parametrize("window_size", [None, 4, 40])
def test_coherence_equals_gensim(lee_topics, measure, window_size):
    words, texts = lee_topics
    ours = coherence(words, texts, measure, window_size=window_size)
    theirs = _gensim_per_topic(words, texts, measure, window_size)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    assert np.all(np.abs(ours) <= 1.0)


def test_coherence_of_related_words_beats_unrelated(lee_topics):
    _, texts = lee_topics
    related = ["palestinian", "israeli", "arafat", "gaza"]
    unrelated = ["palestinian", "cricket", "qantas", "bushfire"]
    npmi = coherence([related, unrelated], texts, "c_npmi")
    assert npmi[0] > 0.2 > npmi[1]


def test_coherence_errors():
    texts = [["a", "b"], ["b", "c"]]
    with pytest.raises(ValueError, match="measure='u_mass' is not valid"):
        coherence([["a", "b"]], texts, "u_mass")
    with pytest.raises(ValueError, match="at least two"):
        coherence([["a"]], texts)
    with pytest.raises(ValueError, match="never occur in the texts .*'zebra'"):
        coherence([["a", "zebra"]], texts)
