"""The benchmark data sets, read from ``../shared/datasets`` (never copied here).

Set ``NMFKIT_SHARED_DATASETS`` to point elsewhere. Each loader fails with a
clear message when the data are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SHARED = Path(
    os.environ.get(
        "NMFKIT_SHARED_DATASETS",
        Path(__file__).resolve().parents[1].parent / "shared" / "datasets",
    )
)
SKLEARN_DATA = SHARED / "scikit_learn_data"


def _require(path):
    if not path.exists():
        raise SystemExit(
            f"benchmark data not found at {path}: these benchmarks read the shared "
            "data sets folder (../shared/datasets) or $NMFKIT_SHARED_DATASETS"
        )
    return path


def load_olivetti():
    """Olivetti faces, 400 x 4096, float32 in [0, 1]."""
    from sklearn.datasets import fetch_olivetti_faces

    data_home = _require(SKLEARN_DATA)
    return fetch_olivetti_faces(data_home=data_home, download_if_missing=False).data


def _20newsgroups_texts():
    from sklearn.datasets import fetch_20newsgroups

    data_home = _require(SKLEARN_DATA)
    return fetch_20newsgroups(
        data_home=data_home,
        subset="train",
        remove=("headers", "footers", "quotes"),
        download_if_missing=False,
    ).data


def load_20newsgroups_tfidf():
    """20 Newsgroups training posts as TF-IDF (scikit-learn's NMF benchmark)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(max_df=0.95, min_df=2, stop_words="english")
    return vectorizer.fit_transform(_20newsgroups_texts()).astype(np.float64)


def load_20newsgroups_counts():
    """20 Newsgroups training posts as word counts."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(max_df=0.95, min_df=2, stop_words="english")
    return vectorizer.fit_transform(_20newsgroups_texts()).astype(np.float64)


def synthetic_low_rank(n=5000, p=2000, rank=30, noise=0.05, seed=0):
    """Dense non-negative matrix of the given rank plus non-negative noise."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, rank)) @ rng.random((rank, p))
    X += noise * X.mean() * rng.random((n, p))
    return X
