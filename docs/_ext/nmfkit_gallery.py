"""A sphinx-gallery image scraper for figures made with matplotlib's object API.

nmfkit's plotting functions build ``matplotlib.figure.Figure`` objects without
pyplot (no global state), so sphinx-gallery's matplotlib scraper, which
looks at pyplot's figures, does not see them. This scraper saves every such
figure that an example's code block leaves in a variable, once.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from sphinx_gallery.scrapers import figure_rst

# example file -> the figures already saved (kept alive, so ids stay unique)
_SAVED: dict[str, list] = {}


def object_figure_scraper(block, block_vars, gallery_conf, **kwargs):
    """Save the pyplot-less figures that appeared in this block.

    Runs before sphinx-gallery's matplotlib scraper (see ``conf.py``).
    """
    saved = _SAVED.setdefault(block_vars["src_file"], [])
    paths = []
    for value in list(block_vars["example_globals"].values()):
        if not isinstance(value, Figure) or any(value is old for old in saved):
            continue
        saved.append(value)
        if value.canvas.manager is not None:
            # a pyplot figure: the matplotlib scraper (which runs next) saves
            # and closes it; remembered so that it is not saved again later
            continue
        path = next(block_vars["image_path_iterator"])
        value.savefig(path, dpi=100)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


def _get_sg_image_scraper():
    return object_figure_scraper
