"""Plots of factorizations (matplotlib, imported only when a plot is made).

Every function returns a :class:`matplotlib.figure.Figure` built without
``pyplot``; save it with ``fig.savefig(path)`` or :func:`figure_to_png`.
Every function checks its input first (shapes, orientation, sizes) and
raises a one-line error that names the problem and the fix, rather than
drawing the wrong thing or a figure of hundreds of megapixels.
Needs the ``apps`` extra: ``pip install "nmfkit[apps]"``.
"""

from ._charts import (
    plot_code_sparsity,
    plot_convergence,
    plot_top_words,
    plot_topic_coherence,
)
from ._consensus import plot_consensus_stability, plot_local_density
from ._factors import component_order, component_shares, plot_factor_heatmaps
from ._figure import figure_to_png
from ._images import (
    plot_components,
    plot_gallery,
    plot_matched_components,
    plot_reconstructions,
)
from ._rank import plot_consensus_maps, plot_rank_scores

__all__ = [
    "component_order",
    "component_shares",
    "figure_to_png",
    "plot_code_sparsity",
    "plot_components",
    "plot_consensus_maps",
    "plot_consensus_stability",
    "plot_convergence",
    "plot_factor_heatmaps",
    "plot_gallery",
    "plot_local_density",
    "plot_matched_components",
    "plot_rank_scores",
    "plot_reconstructions",
    "plot_top_words",
    "plot_topic_coherence",
]
