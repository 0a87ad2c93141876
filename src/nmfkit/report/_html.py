"""A run's report as one self-contained HTML file.

The page needs nothing beside itself: styles are inline and figures are PNG
images embedded as base64 ``data:`` URLs, so the file can be mailed, archived
or opened offline. Sections carry ``id``/``data-section``, figures
``data-figure`` and tables ``data-table`` attributes, so tools (and tests) can
find each part. Numbers in tables are shown by
:func:`~nmfkit.report.format_number` (a few significant digits) and carry
their full value in ``data-value`` (also the cell's tooltip). Links to result
files are relative to the report's folder, so the report and its files can
be moved together. A short inline script records, once the page has loaded,
how many images the browser decoded (``<body data-images-loaded="n/total">``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import numbers
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

from .. import __version__
from .._typing import PathLike
from ..reliability._atomic import atomic_write
from ._format import format_number, format_number_html, is_number

__all__ = ["Report", "Section"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1d2433; background: #f6f7f9; }
header { background: #1d3557; color: white; padding: 1.2em 2em; }
header h1 { margin: 0 0 .2em 0; font-size: 1.6em; }
header p { margin: 0; opacity: .85; }
nav { padding: .6em 2em; background: #e8ecf2; font-size: .95em; }
nav a { margin-right: 1.2em; color: #1d3557; }
main { padding: 1em 2em 3em 2em; max-width: 1200px; }
section { background: white; border-radius: 6px; padding: .8em 1.4em 1.2em 1.4em;
          margin: 1.2em 0; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h2 { color: #1d3557; border-bottom: 2px solid #e8ecf2; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
th, td { border: 1px solid #d5dbe3; padding: .3em .7em; text-align: left;
         vertical-align: top; }
th { background: #eef1f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .3em 0; }
details { margin: .6em 0; }
summary { cursor: pointer; color: #1d3557; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #e1e5eb; background: white; }
figcaption { font-size: .9em; color: #4a5568; margin-top: .3em; }
footer { color: #718096; font-size: .85em; padding: 0 2em 2em 2em; }
"""

_SCRIPT = (
    'window.addEventListener("load",function(){var im=document.images,n=0;'
    "for(var k=0;k<im.length;k++){if(im[k].complete&&im[k].naturalWidth>0)n++;}"
    'document.body.setAttribute("data-images-loaded",n+"/"+im.length);});'
)


def _key(text):
    key = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return key or "part"


def _cell(value, digits, decimals=None):
    if is_number(value):
        integral = isinstance(value, numbers.Integral)
        full = str(int(value)) if integral else repr(float(value))
        return (
            f'<td class="num" data-value="{full}" title="{full}">'
            f"{format_number_html(value, digits, decimals=decimals)}</td>"
        )
    return f"<td>{html.escape(format_number(value))}</td>"  # yes/no, text


def _href(path, base):
    """A relative URL from the folder ``base`` to ``path`` (as given if None)."""
    path = Path(path)
    if base is not None:
        path = Path(os.path.relpath(Path(path).resolve(), Path(base).resolve()))
    return urllib.parse.quote(path.as_posix())


def _size(path):
    if Path(path).is_dir():
        return ""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return ""
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return ""  # pragma: no cover


class Section:
    """One titled part of a :class:`Report`; add content in order.

    Made by :meth:`Report.section`. Every ``add`` method returns the section,
    so that calls chain.

    Parameters
    ----------
    title : str
        The heading.
    key : str or None
        Value of the section's ``id`` and ``data-section`` attributes.

    See Also
    --------
    Report.section : Make a section of a report.

    Examples
    --------
    >>> from nmfkit.report import Report
    >>> section = Report("A run").section("Data").text("400 images.")
    >>> section.title, section.key
    ('Data', 'data')
    """

    def __init__(self, title: str, key: str | None) -> None:
        self.title = title
        self.key = key
        self._parts: list[str] = []
        self.figure_keys: list[str] = []
        self.table_keys: list[str] = []

    def text(self, text: str) -> Section:
        """Add a paragraph (plain text, escaped).

        Parameters
        ----------
        text : str
            The paragraph; HTML in it is shown as text.

        Returns
        -------
        self : Section

        See Also
        --------
        details : A table folded under a one-line summary.

        Examples
        --------
        >>> from nmfkit.report import Report
        >>> section = Report("A run").section("Data").text("a < b")
        >>> "<p>a &lt; b</p>" in section.render()
        True
        """
        self._parts.append(f"<p>{html.escape(str(text))}</p>")
        return self

    def _table_html(self, rows, header, caption, key, digits, decimals=None):
        key = _key(key or caption or f"{self.key}-table-{len(self.table_keys)}")
        self.table_keys.append(key)
        out = [f'<table data-table="{key}">']
        if caption:
            out.append(f"<caption>{html.escape(caption)}</caption>")
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header))
        decimals = decimals or {}
        unknown = set(decimals) - set(header)
        if unknown:
            raise ValueError(
                f"table {key!r}: decimals names columns {sorted(unknown)} that are "
                "not in the header."
            )
        fixed = [decimals.get(h) for h in header]
        for row in rows:
            row = tuple(row)
            if len(row) != len(header):
                raise ValueError(
                    f"table {key!r}: a row has {len(row)} cells for "
                    f"{len(header)} columns; give one value per column."
                )
            cells = (_cell(v, digits, d) for v, d in zip(row, fixed, strict=True))
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
        return "\n".join(out)

    def table(self, rows, *, header, caption=None, key=None, digits=4, decimals=None):
        """Add a table.

        Parameters
        ----------
        rows : iterable of sequences
            Cell values, one per column of ``header``; numbers are shown by
            :func:`~nmfkit.report.format_number` with ``digits`` significant
            digits and keep their full value in ``data-value``.
        header : sequence of str
        caption : str, default=None
        key : str, default=None
            Value of ``data-table`` (made from the caption when None).
        digits : int, default=4
        decimals : dict of str to int, default=None
            Columns (by header) shown with a fixed number of decimals
            instead, for values on a known scale (shares in percent,
            coherence scores).

        Raises
        ------
        ValueError
            When a row's length differs from the header's, or ``decimals``
            names a column that is not in the header.

        Returns
        -------
        self : Section

        See Also
        --------
        definitions : A two-column table of names and values.
        nmfkit.report.format_number : How numbers are shown.

        Examples
        --------
        >>> from nmfkit.report import Report
        >>> section = Report("A run").section("Scores")
        >>> _ = section.table([[2, 0.123456], [3, 2.5e-10]], header=["rank", "error"])
        >>> section.table_keys
        ['scores-table-0']
        >>> "2.5e-10" in section.render() and "0.1235" in section.render()
        True
        """
        self._parts.append(
            self._table_html(rows, header, caption, key, digits, decimals)
        )
        return self

    def definitions(self, mapping, *, caption=None, key=None, digits=4):
        """Add a two-column table of names and values.

        Parameters
        ----------
        mapping : dict
            Names and values, in order.
        caption : str, default=None
        key : str, default=None
            Value of ``data-table`` (made from the caption when None).
        digits : int, default=4
            Significant digits of the numbers.

        Returns
        -------
        self : Section

        See Also
        --------
        table : A table of any number of columns.
        details : The same table folded under a summary.

        Examples
        --------
        >>> from nmfkit.report import Report
        >>> section = Report("A run").section("Scores")
        >>> html = section.definitions({"rank": 4, "error": 0.012345}).render()
        >>> "<td>rank</td>" in html and ">0.01235<" in html
        True
        """
        return self.table(
            [(k, v) for k, v in mapping.items()],
            header=("name", "value"),
            caption=caption,
            key=key,
            digits=digits,
        )

    def details(self, summary, mapping, *, key=None, digits=4):
        """Add a names-and-values table folded under a one-line ``summary``.

        For long lists a reader rarely needs (every parameter of a model):
        the browser shows ``summary`` and opens the table on a click.

        Parameters
        ----------
        summary : str
            The line shown folded.
        mapping : dict
            Names and values, in order.
        key : str, default=None
            Value of ``data-table`` (made from the summary when None).
        digits : int, default=4
            Significant digits of the numbers.

        Returns
        -------
        self : Section

        See Also
        --------
        definitions : The same table, unfolded.

        Examples
        --------
        >>> from nmfkit.report import Report
        >>> section = Report("A run").section("Model")
        >>> html = section.details("All parameters", {"tol": 1e-4}).render()
        >>> "<summary>All parameters</summary>" in html
        True
        """
        table = self._table_html(
            [(k, v) for k, v in mapping.items()],
            ("name", "value"),
            None,
            key or summary,
            digits,
        )
        self._parts.append(
            f"<details><summary>{html.escape(summary)}</summary>\n{table}\n</details>"
        )
        return self

    def files(self, entries, *, caption=None, key=None):
        """Add a table of links to result files.

        Parameters
        ----------
        entries : iterable of (path, description), or dict of path to description
            Files written beside the report (they need not exist yet when the
            section is built: the size column is filled from those that do
            when the report is rendered).
        caption : str, default=None
        key : str, default=None
            Value of ``data-table`` (``"files"`` when None).

        Notes
        -----
        Each link is relative to the folder of the report file given to
        :meth:`Report.write` (or as given, with :meth:`Report.render` without
        a path); links carry ``data-file`` with the file's name.

        Returns
        -------
        self : Section

        See Also
        --------
        Report.write : Writes the page, with links relative to its folder.

        Examples
        --------
        >>> from nmfkit.report import Report
        >>> section = Report("A run").section("Files")
        >>> html = section.files({"results/W.csv": "the codes"}).render()
        >>> 'href="results/W.csv"' in html
        True
        """
        key = _key(key or caption or "files")
        self.table_keys.append(key)
        if isinstance(entries, dict):
            entries = entries.items()
        entries = [(Path(p), str(d)) for p, d in entries]
        self._parts.append(lambda base: self._files_html(entries, caption, key, base))
        return self

    @staticmethod
    def _files_html(entries, caption, key, base):
        out = [f'<table data-table="{key}">']
        if caption:
            out.append(f"<caption>{html.escape(caption)}</caption>")
        out.append("<tr><th>file</th><th>contents</th><th>size</th></tr>")
        for path, description in entries:
            name = html.escape(path.name, quote=True)
            out.append(
                f'<tr><td><a href="{_href(path, base)}" data-file="{name}">'
                f"{html.escape(path.name)}</a></td>"
                f"<td>{html.escape(description)}</td>"
                f'<td class="num">{_size(path)}</td></tr>'
            )
        out.append("</table>")
        return "\n".join(out)

    def figure(self, figure, *, caption, key=None):
        """Add a figure, embedded as a base64 PNG.

        Parameters
        ----------
        figure : matplotlib.figure.Figure or bytes
            A figure (rendered here) or PNG bytes.
        caption : str
        key : str, default=None
            Value of ``data-figure`` (made from the caption when None).

        Returns
        -------
        self : Section

        See Also
        --------
        nmfkit.plotting.figure_to_png : How a Matplotlib figure is rendered.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> from nmfkit.report import Report
        >>> fig, ax = plt.subplots(figsize=(2, 2))
        >>> _ = ax.plot([0, 1], [1, 0])
        >>> section = Report("A run").section("Plots").figure(fig, caption="A line")
        >>> plt.close(fig)
        >>> section.figure_keys
        ['a-line']
        """
        if not isinstance(figure, (bytes, bytearray)):
            from ..plotting import figure_to_png

            figure = figure_to_png(figure)
        key = _key(key or caption)
        self.figure_keys.append(key)
        data = base64.b64encode(bytes(figure)).decode("ascii")
        self._parts.append(
            f'<figure data-figure="{key}"><img alt="{html.escape(caption)}" '
            f'src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
        return self

    def render(self, base=None):
        """This section's HTML; file links relative to the folder ``base``.

        Parameters
        ----------
        base : str, path-like or None, default=None
            The folder of the page; None leaves file links as given.

        Returns
        -------
        html : str
            One ``<section>`` element.

        See Also
        --------
        Report.render : The whole page.

        Examples
        --------
        >>> from nmfkit.report import Report
        >>> Report("A run").section("Data").text("ok").render().splitlines()[0]
        '<section id="data" data-section="data">'
        """
        body = "\n".join(p(base) if callable(p) else p for p in self._parts)
        return (
            f'<section id="{self.key}" data-section="{self.key}">\n'
            f"<h2>{html.escape(self.title)}</h2>\n{body}\n</section>"
        )


class Report:
    """A report under construction: titled sections of text, tables and figures.

    Parameters
    ----------
    title : str
    subtitle : str, default=None

    See Also
    --------
    Section : One section of a report.
    nmfkit.report.format_number : How the numbers of tables are shown.

    Examples
    --------
    >>> report = Report("A run")
    >>> section = report.section("Data").text("400 images of 64 x 64 pixels.")
    >>> "400 images" in report.render()
    True
    """

    def __init__(self, title: str, *, subtitle: str | None = None) -> None:
        self.title = title
        self.subtitle = subtitle
        self.sections: list[Section] = []

    def section(self, title: str, *, key: str | None = None) -> Section:
        """Start a new section and return it.

        Parameters
        ----------
        title : str
            The section's heading.
        key : str, default=None
            Its ``id`` (made from the title when None; made unique with a
            number when taken).

        Returns
        -------
        section : Section

        See Also
        --------
        Section : What a section holds.

        Examples
        --------
        >>> from nmfkit.report import Report
        >>> report = Report("A run")
        >>> report.section("Data").key, report.section("Data").key
        ('data', 'data-2')
        """
        key = _key(key or title)
        taken = {s.key for s in self.sections}
        base, n = key, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        section = Section(title, key)
        self.sections.append(section)
        return section

    @property
    def figure_keys(self):
        """``data-figure`` keys of all figures, in order."""
        return [k for s in self.sections for k in s.figure_keys]

    def render(self, path: PathLike | None = None) -> str:
        """Return the whole page as a string.

        Parameters
        ----------
        path : str or path-like, default=None
            Where the page will be written: file links are made relative to
            its folder (as given when None).

        Returns
        -------
        html : str
            A complete, self-contained HTML page.

        See Also
        --------
        write : Write the page to a file.

        Examples
        --------
        >>> from nmfkit.report import Report
        >>> page = Report("A run", subtitle="today").render()
        >>> page.startswith("<!DOCTYPE html>"), "<title>A run</title>" in page
        (True, True)
        """
        base = None if path is None else Path(path).parent
        now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        nav = "".join(
            f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in self.sections
        )
        sub = f"<p>{html.escape(self.subtitle)}</p>" if self.subtitle else ""
        body = "\n".join(s.render(base) for s in self.sections)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="generator" content="nmfkit {__version__}">\n'
            f"<title>{html.escape(self.title)}</title>\n"
            f"<style>{_STYLE}</style>\n"
            f"<script>{_SCRIPT}</script>\n</head>\n<body>\n"
            f"<header><h1>{html.escape(self.title)}</h1>{sub}</header>\n"
            f"<nav>{nav}</nav>\n<main>\n{body}\n</main>\n"
            f"<footer>Made by nmfkit {__version__} on {html.escape(now)}.</footer>\n"
            "</body>\n</html>\n"
        )

    def write(self, path: PathLike, *, force: bool = False) -> Any:
        """Write the page to ``path`` atomically (never half-written).

        Parameters
        ----------
        path : str or path-like
        force : bool, default=False
            Replace an existing file.

        Returns
        -------
        path : pathlib.Path

        Raises
        ------
        OutputExistsError
            When ``path`` exists and ``force`` is False.

        See Also
        --------
        render : The page as a string.

        Examples
        --------
        >>> from nmfkit.report import Report
        >>> report = Report("A run")
        >>> _ = report.section("Data").text("400 images.")
        >>> report.write("report.html").name
        'report.html'
        >>> report.write("report.html", force=True).stat().st_size > 0
        True
        """
        path = Path(path)
        with atomic_write(path, "w", force=force) as f:
            f.write(self.render(path))
        return path
