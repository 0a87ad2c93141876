"""Plain-text tables that fit the terminal."""

from __future__ import annotations

import math
import shutil
import textwrap

__all__ = ["format_number", "format_table", "terminal_width", "wrap"]


def terminal_width(default=100):
    """Columns of the terminal (``$COLUMNS`` first), at least 40."""
    return max(40, shutil.get_terminal_size((default, 24)).columns)


def format_number(value):
    """A short, readable number: 4 significant digits, no ``e-10`` for zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "-"
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.3e}"


def _cell(value):
    if isinstance(value, str):
        return value
    if hasattr(value, "item"):  # NumPy scalars
        value = value.item()
    return format_number(value)


def format_table(header, rows, *, title=None, width=None):
    """A table for the terminal, split into column blocks to fit ``width``.

    Parameters
    ----------
    header : sequence of str
        The column names; the first names the rows.
    rows : sequence of sequences
        Numbers are shortened by :func:`format_number`.
    title : str, default=None
        A first line.
    width : int, default=None
        The terminal's width when None.

    Returns
    -------
    text : str
        Each block repeats the first column (the row's name); a cell too wide
        for the width is cut with "...".

    See Also
    --------
    format_summary : A table of summary rows for the report and terminal.
    nmfkit.report.Report : The HTML counterpart.

    Examples
    --------
    >>> from nmfkit.apps import format_table
    >>> print(format_table(["rank", "error", "seconds"], [[2, 0.123456, 1.5],
    ...                    [3, 0.0, 2.25]], title="Ranks"))
    Ranks
    rank   error  seconds
    ----  ------  -------
    2     0.1235      1.5
    3          0     2.25

    A narrow width splits the columns into blocks that repeat the first:

    >>> print(format_table(["rank", "error", "seconds"], [[2, 0.5, 1.5]], width=14))
    rank  error
    ----  -----
    2       0.5
    <BLANKLINE>
    rank  seconds
    ----  -------
    2         1.5
    """
    width = terminal_width() if width is None else width
    table = [[str(h) for h in header]] + [[_cell(v) for v in row] for row in rows]
    limit = max(8, width // 2)
    table = [
        [c if len(c) <= limit else c[: limit - 3] + "..." for c in r] for r in table
    ]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    blocks, current = [], [0]
    used = widths[0]
    for i in range(1, len(header)):
        if current != [0] and used + 2 + widths[i] > width:
            blocks.append(current)
            current, used = [0], widths[0]
        current.append(i)
        used += 2 + widths[i]
    blocks.append(current)
    lines = [title] if title else []
    for n, block in enumerate(blocks):
        if n:
            lines.append("")
        for k, row in enumerate(table):
            lines.append(
                "  ".join(
                    row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i])
                    for i in block
                ).rstrip()
            )
            if k == 0:
                lines.append("  ".join("-" * widths[i] for i in block))
    return "\n".join(lines)


def wrap(text, *, indent="  ", width=None):
    """``text`` wrapped to the terminal, continuation lines indented further."""
    width = terminal_width() if width is None else width
    return textwrap.fill(
        text, width=width, initial_indent=indent, subsequent_indent=indent + "    "
    )
