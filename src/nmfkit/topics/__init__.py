"""Topics from a factorized document-term matrix: top words, dominant topics
and coherence (NPMI and C_V)."""

from ._coherence import DEFAULT_WINDOW_SIZES, coherence, window_cooccurrence
from ._words import dominant_topics, top_words

__all__ = [
    "DEFAULT_WINDOW_SIZES",
    "coherence",
    "dominant_topics",
    "top_words",
    "window_cooccurrence",
]
