"""Figures without global state: matplotlib's object API, drawn with Agg.

Every plotting function builds a :class:`matplotlib.figure.Figure` directly
(no ``pyplot``), so nothing opens a window or touches the user's backend;
:func:`figure_to_png` renders one to PNG bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

import io
import math

from .._optional import import_optional

__all__ = ["MAX_FIGURE_INCHES", "figure_to_png", "new_figure", "number_ticks"]

#: Largest side of a figure, in inches (4,000 pixels at the default 100 dpi).
MAX_FIGURE_INCHES = 40.0


def new_figure(width, height, *, layout="constrained"):
    """A new figure of ``width`` x ``height`` inches, drawn with Agg.

    Raises
    ------
    ValueError
        When a side exceeds :data:`MAX_FIGURE_INCHES`: the plotting functions
        cap what they draw before they get here, so this guards against a
        figure of hundreds of megapixels.
    """
    if not (0 < width <= MAX_FIGURE_INCHES and 0 < height <= MAX_FIGURE_INCHES):
        raise ValueError(
            f"a figure of {width:.3g} x {height:.3g} inches is too large to draw "
            f"(at most {MAX_FIGURE_INCHES:g} inches a side); draw fewer panels or "
            "images."
        )
    figure = import_optional("matplotlib.figure", purpose="plots")
    backend = import_optional("matplotlib.backends.backend_agg", purpose="plots")
    fig = figure.Figure(figsize=(width, height), layout=layout)
    backend.FigureCanvasAgg(fig)
    return fig


def figure_to_png(fig: Figure, *, dpi: int = 100) -> bytes:
    """Render a figure to PNG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, default=100

    Returns
    -------
    png : bytes

    See Also
    --------
    nmfkit.report.Section.figure : Embeds such PNG bytes in a report.

    Examples
    --------
    >>> from nmfkit.plotting import figure_to_png, plot_gallery
    >>> import numpy as np
    >>> fig = plot_gallery(np.eye(4), (2, 2))
    >>> figure_to_png(fig, dpi=50)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def number_ticks(axis, *, n_ticks=5, log_range=None, digits=6):
    """Readable ticks on ``axis``: a few, labelled by ``format_number``.

    Linear axes get at most ``n_ticks`` round ticks. For a logarithmic axis
    give ``log_range=(low, high)``, the data's range: ticks at 1, 2 and 5
    times powers of ten (every multiple within a decade, powers of ten only
    beyond three), written as plain numbers instead of ``10^k``.
    """
    from ..report._format import format_number

    ticker = import_optional("matplotlib.ticker", purpose="plots")
    if log_range is not None:
        low, high = log_range
        decades = math.log10(high / low) if low > 0 else math.inf
        if decades < 1:
            subs = tuple(float(s) for s in range(1, 10))
        else:
            subs = (1.0, 2.0, 5.0) if decades <= 3 else (1.0,)
        axis.set_major_locator(ticker.LogLocator(base=10, subs=subs, numticks=30))
        axis.set_minor_locator(ticker.NullLocator())
    else:
        axis.set_major_locator(
            ticker.MaxNLocator(nbins=n_ticks, steps=[1, 2, 2.5, 5, 10])
        )
    axis.set_major_formatter(
        ticker.FuncFormatter(lambda value, _: format_number(float(value), digits))
    )
    return axis
