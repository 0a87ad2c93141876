"""Plots of factorizations (matplotlib, imported only when a plot is made).

Every function returns a :class:`matplotlib.figure.Figure` built without
``pyplot``; save it with ``fig.savefig(path)`` or :func:`figure_to_png`.
Needs the ``apps`` extra: ``pip install "nmfkit[apps]"``.
"""

from ._charts import plot_code_sparsity, plot_convergence, plot_top_words
from ._figure import figure_to_png
from ._images import plot_gallery, plot_matched_components, plot_reconstructions
from ._rank import plot_consensus_maps, plot_rank_scores

__all__ = [
    "figure_to_png",
    "plot_code_sparsity",
    "plot_consensus_maps",
    "plot_convergence",
    "plot_gallery",
    "plot_matched_components",
    "plot_rank_scores",
    "plot_reconstructions",
    "plot_top_words",
]
