"""Figures without global state: matplotlib's object API, drawn with Agg.

Every plotting function builds a :class:`matplotlib.figure.Figure` directly
(no ``pyplot``), so nothing opens a window or touches the user's backend;
:func:`figure_to_png` renders one to PNG bytes.
"""

from __future__ import annotations

import io

from .._optional import import_optional

__all__ = ["figure_to_png", "new_figure"]


def new_figure(width, height, *, layout="constrained"):
    """A new figure of ``width`` x ``height`` inches, drawn with Agg."""
    figure = import_optional("matplotlib.figure", purpose="plots")
    backend = import_optional("matplotlib.backends.backend_agg", purpose="plots")
    fig = figure.Figure(figsize=(width, height), layout=layout)
    backend.FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig, *, dpi=100):
    """Render a figure to PNG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, default=100

    Returns
    -------
    png : bytes
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
