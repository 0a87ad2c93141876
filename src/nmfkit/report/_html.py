"""A run's report as one self-contained HTML file.

The page needs nothing beside itself: styles are inline and figures are PNG
images embedded as base64 ``data:`` URLs, so the file can be mailed, archived
or opened offline. Sections carry ``id``/``data-section``, figures
``data-figure`` and tables ``data-table`` attributes, so tools (and tests) can
find each part. A short inline script records, once the page has loaded, how
many images the browser decoded (``<body data-images-loaded="n/total">``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import re
from pathlib import Path

from .. import __version__
from .._atomic import atomic_write

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
td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .3em 0; }
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


def _cell(value):
    if isinstance(value, float):
        text = f"{value:.6g}"
        return f'<td class="num">{html.escape(text)}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    return f"<td>{html.escape(str(value))}</td>"


class Section:
    """One titled part of a :class:`Report`; add content in order."""

    def __init__(self, title, key):
        self.title = title
        self.key = key
        self._parts = []
        self.figure_keys = []
        self.table_keys = []

    def text(self, text):
        """Add a paragraph (plain text, escaped)."""
        self._parts.append(f"<p>{html.escape(str(text))}</p>")
        return self

    def table(self, rows, *, header, caption=None, key=None):
        """Add a table.

        Parameters
        ----------
        rows : iterable of sequences
            Cell values; floats are shown with 6 significant digits.
        header : sequence of str
        caption : str, default=None
        key : str, default=None
            Value of ``data-table`` (made from the caption when None).
        """
        key = _key(key or caption or f"{self.key}-table-{len(self.table_keys)}")
        self.table_keys.append(key)
        out = [f'<table data-table="{key}">']
        if caption:
            out.append(f"<caption>{html.escape(caption)}</caption>")
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header))
        for row in rows:
            out.append("<tr>" + "".join(_cell(v) for v in row) + "</tr>")
        out.append("</table>")
        self._parts.append("\n".join(out))
        return self

    def definitions(self, mapping, *, caption=None, key=None):
        """Add a two-column table of names and values."""
        return self.table(
            [(k, v) for k, v in mapping.items()],
            header=("name", "value"),
            caption=caption,
            key=key,
        )

    def figure(self, figure, *, caption, key=None):
        """Add a figure, embedded as a base64 PNG.

        Parameters
        ----------
        figure : matplotlib.figure.Figure or bytes
            A figure (rendered here) or PNG bytes.
        caption : str
        key : str, default=None
            Value of ``data-figure`` (made from the caption when None).
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

    def render(self):
        body = "\n".join(self._parts)
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

    Examples
    --------
    >>> report = Report("A run")
    >>> section = report.section("Data").text("400 images of 64 x 64 pixels.")
    >>> "400 images" in report.render()
    True
    """

    def __init__(self, title, *, subtitle=None):
        self.title = title
        self.subtitle = subtitle
        self.sections = []

    def section(self, title, *, key=None):
        """Start a new section and return it."""
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

    def render(self):
        """Return the whole page as a string."""
        now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        nav = "".join(
            f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in self.sections
        )
        sub = f"<p>{html.escape(self.subtitle)}</p>" if self.subtitle else ""
        body = "\n".join(s.render() for s in self.sections)
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

    def write(self, path, *, force=False):
        """Write the page to ``path`` atomically (never half-written).

        Parameters
        ----------
        path : str or path-like
        force : bool, default=False
            Replace an existing file.

        Returns
        -------
        path : pathlib.Path
        """
        path = Path(path)
        with atomic_write(path, "w", force=force) as f:
            f.write(self.render())
        return path
