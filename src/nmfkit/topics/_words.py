"""Reading a factorization of a document-term matrix as topics.

With documents as rows, ``X (n_documents x n_terms) ~ W H``: row ``k`` of
``H`` weighs the terms of topic ``k`` and row ``d`` of ``W`` says how much
each topic contributes to document ``d``.
"""

from __future__ import annotations

import numpy as np

from .._typing import ArrayLike

__all__ = ["dominant_topics", "top_words"]


def top_words(
    components: ArrayLike,
    vocabulary: ArrayLike,
    n_words: int = 10,
) -> tuple[list[list[str]], np.ndarray]:
    """The highest-weighted terms of each topic.

    Parameters
    ----------
    components : ndarray of shape (n_topics, n_terms)
        The dictionary ``H`` (``model.components_``).
    vocabulary : sequence of str of length n_terms
        Column names (``vectorizer.get_feature_names_out()``).
    n_words : int, default=10

    Returns
    -------
    words : list of list of str
        ``words[k]`` lists topic ``k``'s terms, heaviest first (ties broken
        by column order). Terms of zero weight are left out, so a topic can
        list fewer than ``n_words``.
    weights : ndarray of shape (n_topics, n_words)
        Their weights (zero where a topic lists fewer words).

    Raises
    ------
    ValueError
        If ``components`` is not 2-D with one column per vocabulary term, or
        ``n_words`` is not an integer >= 1.

    See Also
    --------
    dominant_topics : The heaviest topics of each document.
    coherence : Score the top words over a corpus.
    nmfkit.plotting.plot_top_words : Plot them as bar charts.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.topics import top_words
    >>> H = np.array([[3.0, 0.0, 1.0], [0.0, 2.0, 0.5]])
    >>> words, weights = top_words(H, ["apple", "bread", "cheese"], 2)
    >>> words
    [['apple', 'cheese'], ['bread', 'cheese']]
    >>> weights.tolist()
    [[3.0, 1.0], [2.0, 0.5]]
    """
    H = np.asarray(components, dtype=np.float64)
    vocabulary = np.asarray(vocabulary)
    if H.ndim != 2 or H.shape[1] != vocabulary.shape[0]:
        raise ValueError(
            f"components of shape {H.shape} do not match a vocabulary of "
            f"{vocabulary.shape[0]} terms; give H (n_topics x n_terms)."
        )
    if not (isinstance(n_words, (int, np.integer)) and n_words >= 1):
        raise ValueError(f"n_words={n_words!r} is not valid; give an integer >= 1.")
    n_words = min(int(n_words), H.shape[1])
    order = np.argsort(-H, axis=1, kind="stable")[:, :n_words]
    weights = np.take_along_axis(H, order, axis=1)
    words = [
        [str(vocabulary[j]) for j, w in zip(row, wrow, strict=True) if w > 0]
        for row, wrow in zip(order, weights, strict=True)
    ]
    weights = np.where(weights > 0, weights, 0.0)
    return words, weights


def dominant_topics(
    codes: ArrayLike, n_topics: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Each document's heaviest topics and their share of its codes.

    Parameters
    ----------
    codes : ndarray of shape (n_documents, n_topics_total)
        ``W`` (what ``fit_transform`` returns).
    n_topics : int, default=1

    Returns
    -------
    topics : ndarray of int of shape (n_documents, n_topics)
        Topic indices, heaviest first; ``-1`` where a document's code is
        zero there (an empty document has no dominant topic).
    shares : ndarray of shape (n_documents, n_topics)
        ``W[d, k] / sum(W[d])``, zero where ``topics`` is -1.

    Raises
    ------
    ValueError
        If ``codes`` is not 2-D, or ``n_topics`` is not an integer >= 1.

    See Also
    --------
    top_words : The heaviest terms of each topic.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.topics import dominant_topics
    >>> topics, shares = dominant_topics(np.array([[1.0, 3.0], [0.0, 0.0]]))
    >>> topics.tolist(), shares.tolist()
    ([[1], [-1]], [[0.75], [0.0]])
    """
    W = np.asarray(codes, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(
            f"codes must be 2-D (documents x topics), got shape {W.shape}."
        )
    if not (isinstance(n_topics, (int, np.integer)) and n_topics >= 1):
        raise ValueError(f"n_topics={n_topics!r} is not valid; give an integer >= 1.")
    n_topics = min(int(n_topics), W.shape[1])
    order = np.argsort(-W, axis=1, kind="stable")[:, :n_topics]
    values = np.take_along_axis(W, order, axis=1)
    totals = W.sum(axis=1, keepdims=True)
    shares = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    topics = np.where(values > 0, order, -1)
    return topics, np.where(values > 0, shares, 0.0)
