"""
Topics in news texts, scored by coherence
=========================================

The 300 news texts of the Lee corpus ship with gensim (no download). NMF of
their TF-IDF matrix gives topics (rows of ``H``, read through their top
words) and each text's mixture of topics (rows of ``W``). Topics are scored
by NPMI and C_V coherence, computed by :func:`nmfkit.topics.coherence` exactly
as gensim's ``CoherenceModel`` does; we check that here on NPMI.
"""

# %%
import numpy as np

from nmfkit import NMF
from nmfkit.datasets import load_lee_corpus, vectorize_texts
from nmfkit.plotting import plot_top_words, plot_topic_coherence
from nmfkit.topics import coherence, dominant_topics, top_words

corpus = vectorize_texts(load_lee_corpus())  # .data (CSR), .vocabulary, .tokens
print(corpus.data.shape)
model = NMF(n_components=10, init="nndsvda", l1_W=0.05, l2_W=0.01, l2_H=0.01,
            max_iter=300, random_state=0)
W = model.fit_transform(corpus.data)
words, weights = top_words(model.components_, corpus.vocabulary, 10)
for k, topic in enumerate(words):
    print(f"topic {k + 1}: {' '.join(topic)}")

# %%
# Coherence of every topic
# ------------------------
npmi = coherence(words, corpus.tokens, "c_npmi")
c_v = coherence(words, corpus.tokens, "c_v")
print(f"mean NPMI {np.mean(npmi):.3f}, mean C_V {np.mean(c_v):.3f}")

# %%
# The same numbers as gensim
# --------------------------
from gensim.corpora import Dictionary  # noqa: E402
from gensim.models.coherencemodel import CoherenceModel  # noqa: E402

dictionary = Dictionary(corpus.tokens)
reference = CoherenceModel(topics=words, texts=corpus.tokens,
                           dictionary=dictionary, coherence="c_npmi")
gensim_npmi = np.array(reference.get_coherence_per_topic())
print(f"largest difference from gensim's NPMI: {np.abs(gensim_npmi - npmi).max():.1e}")
assert np.allclose(gensim_npmi, npmi, atol=1e-6)

# %%
# Top words and coherence
# -----------------------
fig_words = plot_top_words(words, weights)

# %%
fig_coherence = plot_topic_coherence({"NPMI": npmi, "C_V": c_v})

# %%
# The dominant topics of the first texts
# --------------------------------------
topics, shares = dominant_topics(W, n_topics=2)
for i in range(3):
    parts = [
        f"topic {t + 1} ({share:.0%})"
        for t, share in zip(topics[i], shares[i], strict=True)
        if t >= 0
    ]
    print(f"text {i}: {', '.join(parts)}")
