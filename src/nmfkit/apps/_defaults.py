"""Default settings of the applications, importable without NumPy.

The command line shows them in ``--help``; the applications use them when an
option is not given. Keys are the estimators' parameter names.
"""

from __future__ import annotations

__all__ = [
    "AUDIO_DEFAULTS",
    "CONSENSUS_DEFAULTS",
    "FACES_DEFAULTS",
    "FIT_DEFAULTS",
    "SERIES_DEFAULTS",
    "RANK_DEFAULTS",
    "RATINGS_CANDIDATES",
    "RATINGS_DEFAULTS",
    "TOPICS_DEFAULTS",
]

#: Faces: the course's penalties for pixels in [0, 1]; nmfkit's MU against
#: scikit-learn's from one nndsvda start.
FACES_DEFAULTS = dict(
    n_components=16,
    l1_W=2.0,
    l2_W=0.1,
    l2_H=0.1,
    init="nndsvda",
    max_iter=300,
    tol=1e-5,
    random_state=0,
)

#: Topics: TF-IDF rows have unit norm, so the penalties are small.
TOPICS_DEFAULTS = dict(
    n_components=10,
    l1_W=0.05,
    l2_W=0.01,
    l2_H=0.01,
    init="nndsvda",
    max_iter=300,
    tol=1e-5,
    random_state=0,
)

#: ``nmfkit fit``: the estimator's own defaults (``init=None`` is "auto").
FIT_DEFAULTS = dict(
    n_components=None,
    solver="auto",
    init=None,
    max_iter=200,
    tol=1e-4,
    random_state=0,
    l1_W=0.0,
    l2_W=0.0,
    l1_H=0.0,
    l2_H=0.0,
)

#: ``nmfkit rank``: every candidate fit (see :func:`nmfkit.select_rank`).
RANK_DEFAULTS = dict(
    solver="auto",
    init="random",
    max_iter=500,
    tol=1e-4,
    random_state=0,
    l1_W=0.0,
    l2_W=0.0,
    l1_H=0.0,
    l2_H=0.0,
)

#: ``nmfkit ratings``: the fixed settings of RatingsNMF (its defaults: a fit
#: costs about as much as Surprise's SVD on MovieLens 100K).
RATINGS_DEFAULTS = dict(max_iter=4, tol=0.0, random_state=0, l1_W=0.0, l1_H=0.0)

#: ``nmfkit ratings``: the candidates scored on a validation split of the
#: training ratings (around RatingsNMF's defaults; l2_H = l2_W unless given).
RATINGS_CANDIDATES = dict(
    n_components=[120], l2_W=[0.05, 0.07, 0.1], l2_H=None, l2_bias=[2.0, 5.0, 10.0]
)

#: ``nmfkit audio``: KL on the magnitude spectrogram (see
#: :func:`nmfkit.apps.separate_audio`); ``--rank`` is required.
AUDIO_DEFAULTS = dict(
    n_components=None,
    beta_loss="kullback-leibler",
    init=None,
    max_iter=200,
    tol=1e-4,
    random_state=0,
)

#: ``nmfkit series``: Frobenius templates of recordings (see
#: :func:`nmfkit.apps.decompose_series`); ``--rank`` is required. The start
#: is NNDSVD (its zeros are no trap for HALS, the default solver), which
#: recovers the generating shapes of the built-in load profiles (matched
#: cosine 0.995; 0.91 from NNDSVDA's fill, a worse local minimum).
SERIES_DEFAULTS = dict(
    n_components=None,
    beta_loss="frobenius",
    init="nndsvd",
    max_iter=1000,
    tol=1e-5,
    random_state=0,
)

#: ``nmfkit consensus``: every replicate fit (see
#: :func:`nmfkit.consensus.consensus_nmf`): random starts, cNMF's 1000
#: iterations at most.
CONSENSUS_DEFAULTS = dict(
    solver="auto",
    init="random",
    max_iter=1000,
    tol=1e-4,
    random_state=0,
    l1_W=0.0,
    l2_W=0.0,
    l1_H=0.0,
    l2_H=0.0,
)
