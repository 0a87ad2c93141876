"""Topic coherence from word co-occurrence in sliding windows: NPMI and C_V.

Both measures follow Röder, Both and Hinneburg, "Exploring the space of
topic coherence measures" (WSDM 2015), with the definitions of gensim's
``CoherenceModel`` (``coherence="c_npmi"`` and ``"c_v"``), whose values they
reproduce:

- Probabilities come from boolean sliding windows of ``window_size`` tokens
  over each document (a document shorter than the window is one window; an
  empty one still counts as a window). ``P(w)`` is the share of windows that
  hold ``w`` and ``P(w, v)`` the share that hold both. As in gensim, when a
  window slides, the token that leaves it is marked absent even if it occurs
  again inside the window; keeping that rule makes the numbers comparable
  with those published with gensim.
- ``NPMI(w, v) = log((P(w, v) + eps) / (P(w) P(v))) / -log(P(w, v) + eps)``
  with ``eps = 1e-12``.
- ``c_npmi`` of a topic: the mean NPMI over pairs of its top words (window
  10 by default).
- ``c_v`` of a topic with words ``t_1..t_n``: each word's context vector is
  ``v_i = (NPMI(t_i, t_j))_j``, the topic's is ``u = sum_i v_i``; the score
  is the mean over ``i`` of the cosine of ``v_i`` and ``u`` (window 110 by
  default).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["DEFAULT_WINDOW_SIZES", "coherence", "window_cooccurrence"]

#: Window sizes of each measure (gensim's defaults).
DEFAULT_WINDOW_SIZES = {"c_npmi": 10, "c_v": 110}

_EPS = 1e-12


def _document_windows(ids, n_words, window_size):
    """Window presence of each tracked word in one document, run-length encoded.

    Returns ``(flags, lengths)``: ``flags[r]`` (bool, n_words) holds for
    ``lengths[r]`` consecutive windows.
    """
    length = ids.shape[0]
    tracked = np.flatnonzero(ids >= 0)
    if length <= window_size:
        flags = np.zeros((1, n_words), dtype=bool)
        flags[0, ids[tracked]] = True
        return flags, np.ones(1, dtype=np.int64)
    n_windows = length - window_size + 1
    if tracked.size == 0:
        return np.zeros((1, n_words), dtype=bool), np.array([n_windows])
    words = ids[tracked]
    # A token at position p enters window max(0, p - window_size + 1) and is
    # cleared when window p + 1 starts (the window whose left edge passed it).
    set_at = np.maximum(tracked - window_size + 1, 0)
    clear_at = tracked + 1
    kept = clear_at < n_windows
    clear_at, clear_words = clear_at[kept], words[kept]
    starts = np.unique(np.concatenate(([0], set_at, clear_at)))
    lengths = np.diff(np.append(starts, n_windows))
    last_set = np.full((starts.size, n_words), -1, dtype=np.int64)
    last_clear = np.full((starts.size, n_words), -1, dtype=np.int64)
    set_run = np.searchsorted(starts, set_at)
    clear_run = np.searchsorted(starts, clear_at)
    last_set[set_run, words] = set_run
    last_clear[clear_run, clear_words] = clear_run
    np.maximum.accumulate(last_set, axis=0, out=last_set)
    np.maximum.accumulate(last_clear, axis=0, out=last_clear)
    # Within one window the clear happens first, then the entering token.
    flags = (last_set >= 0) & (last_set >= last_clear)
    return flags, lengths


def window_cooccurrence(
    texts: Iterable[Sequence[str]],
    words: Sequence[str],
    window_size: int,
) -> tuple[np.ndarray, int]:
    """Count sliding windows holding each word and each pair of words.

    Parameters
    ----------
    texts : iterable of list of str
        Tokenized documents.
    words : sequence of str
        The words to track.
    window_size : int
        Tokens per window.

    Returns
    -------
    counts : ndarray of shape (n_words, n_words)
        ``counts[i, j]``: windows holding ``words[i]`` and ``words[j]``; the
        diagonal holds the windows holding each word.
    n_windows : int
        All windows.

    Raises
    ------
    ValueError
        If ``window_size`` is not an integer >= 1.

    See Also
    --------
    coherence : The topic coherence computed from these counts.

    Examples
    --------
    >>> from nmfkit.topics import window_cooccurrence
    >>> texts = [["cat", "dog", "sat"], ["cat", "mat"]]
    >>> counts, n_windows = window_cooccurrence(texts, ["cat", "dog"], window_size=2)
    >>> counts.tolist(), n_windows
    ([[2, 1], [1, 2]], 3)
    """
    if not (isinstance(window_size, (int, np.integer)) and window_size >= 1):
        raise ValueError(
            f"window_size={window_size!r} is not valid; give an integer >= 1."
        )
    index = {w: i for i, w in enumerate(words)}
    n_words = len(index)
    counts = np.zeros((n_words, n_words), dtype=np.int64)
    n_windows = 0
    for tokens in texts:
        ids = np.fromiter((index.get(t, -1) for t in tokens), dtype=np.int64)
        flags, lengths = _document_windows(ids, n_words, int(window_size))
        n_windows += int(lengths.sum())
        weighted = flags.astype(np.int64) * lengths[:, None]
        counts += weighted.T @ flags.astype(np.int64)
    return counts, n_windows


def _npmi_matrix(counts, n_windows):
    p = np.diag(counts) / n_windows
    joint = counts / n_windows + _EPS
    pmi = np.log(joint / np.outer(p, p))
    return pmi / -np.log(joint)


def coherence(
    topics: Sequence[Sequence[str]],
    texts: Iterable[Sequence[str]],
    measure: str = "c_npmi",
    *,
    window_size: int | None = None,
) -> np.ndarray:
    """Coherence of each topic's top words over a tokenized corpus.

    Parameters
    ----------
    topics : list of list of str
        Each topic's top words (for example from :func:`top_words`).
    texts : list of list of str
        The tokenized documents (``vectorize_texts(...).tokens``).
    measure : {"c_npmi", "c_v"}, default="c_npmi"
        See the module docstring.
    window_size : int, default=None
        Tokens per sliding window; None takes the measure's default (10 for
        ``c_npmi``, 110 for ``c_v``).

    Returns
    -------
    scores : ndarray of shape (n_topics,)
        One score per topic: NPMI lies in [-1, 1]; C_V in [-1, 1] and is
        usually positive. Equal to gensim's ``CoherenceModel(topics=...,
        texts=..., coherence=measure).get_coherence_per_topic()``.

    Raises
    ------
    ValueError
        Unknown measure, a topic with fewer than two words, or a top word
        that never occurs in ``texts``.

    See Also
    --------
    top_words : The top words of each topic.
    window_cooccurrence : The window counts behind the probabilities.
    nmfkit.plotting.plot_topic_coherence : Plot the scores.

    References
    ----------
    .. [1] M. Röder, A. Both and A. Hinneburg, "Exploring the space of topic
       coherence measures", WSDM 2015, 399-408.
    .. [2] G. Bouma, "Normalized (pointwise) mutual information in collocation
       extraction", GSCL 2009 (NPMI).

    Examples
    --------
    >>> from nmfkit.topics import coherence
    >>> texts = [["cat", "dog", "sat"], ["cat", "mat"], ["dog", "log"]]
    >>> [round(float(v), 4) for v in coherence([["cat", "dog"]], texts, "c_npmi")]
    [-0.2619]
    """
    if measure not in DEFAULT_WINDOW_SIZES:
        raise ValueError(
            f"measure={measure!r} is not valid; choose one of "
            f"{tuple(DEFAULT_WINDOW_SIZES)}."
        )
    topics = [list(t) for t in topics]
    for k, topic in enumerate(topics):
        if len(topic) < 2:
            raise ValueError(
                f"topic {k} has {len(topic)} word(s); coherence needs at least two."
            )
    if window_size is None:
        window_size = DEFAULT_WINDOW_SIZES[measure]
    vocabulary = list(dict.fromkeys(w for topic in topics for w in topic))
    counts, n_windows = window_cooccurrence(texts, vocabulary, window_size)
    unseen = [w for w, c in zip(vocabulary, np.diag(counts), strict=True) if c == 0]
    if unseen:
        raise ValueError(
            f"{len(unseen)} top word(s) never occur in the texts (for example "
            f"{unseen[0]!r}); give the texts the topics were learned from."
        )
    index = {w: i for i, w in enumerate(vocabulary)}
    npmi = _npmi_matrix(counts, n_windows)
    scores = np.empty(len(topics))
    for k, topic in enumerate(topics):
        ids = np.array([index[w] for w in topic])
        block = npmi[np.ix_(ids, ids)]
        n = len(ids)
        if measure == "c_npmi":
            scores[k] = (block.sum() - np.trace(block)) / (n * (n - 1))
        else:
            context = block.sum(axis=0)
            norms = np.linalg.norm(block, axis=1) * np.linalg.norm(context)
            scores[k] = np.mean(block @ context / norms)
    return scores
