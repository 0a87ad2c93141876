"""Sphinx configuration of nmfkit's documentation site.

Build with ``make docs`` (warnings are errors); the site opens from
``docs/_build/html/index.html``. The gallery's examples run during the build,
and the benchmark pages are generated from ``benchmarks/results/`` by the
``nmfkit_benchmarks`` extension in ``docs/_ext``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document (and run the examples against) this checkout's code.
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import nmfkit  # noqa: E402

project = "nmfkit"
author = "nmfkit developers"
copyright = "nmfkit developers"
version = release = nmfkit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "nmfkit_benchmarks",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
    "benchmarks/_generated/*",
]
templates_path = ["_templates"]

# Markdown pages (myst): $...$ maths, ::: fences, and anchors for ## headings.
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference from the numpydoc docstrings.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False


# The gallery: every examples/plot_*.py runs during the build.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # only plot_*.py are gallery examples (the other scripts take arguments)
    "ignore_pattern": r"(^|/)(?!plot_)[^/]+\.py$",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "reference_url": {"nmfkit": None},
    "matplotlib_animations": False,
    # nmfkit's object-API figures first, while pyplot's still have a manager
    "image_scrapers": ("nmfkit_gallery", "matplotlib"),
    "show_memory": False,
    "plot_gallery": "True",
}

# MathJax: the local copy that `make docs` fetches from npm (maths render
# offline), else Sphinx's default CDN.
if (DOCS / "_static" / "mathjax" / "tex-svg.js").exists():
    mathjax_path = "mathjax/tex-svg.js"

html_theme = "pydata_sphinx_theme"
html_title = f"nmfkit {release}"
html_static_path = ["_static"]
html_css_files = ["nmfkit.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False


def _clean_docstring(app, what, name, obj, options, lines):
    """Before numpydoc: join raw-string line continuations, escape ``name_``.

    Some docstrings are raw strings whose long type lines end with a
    backslash (meant as a continuation, as in scikit-learn's non-raw
    docstrings); and types such as ``ndarray of shape (n_iter_ + 1,)`` would
    read as reStructuredText references. Both are fixed in the rendered text
    only.
    """
    i = 0
    while i < len(lines) - 1:
        if lines[i].endswith("\\"):
            lines[i] = lines[i][:-1].rstrip() + " " + lines[i + 1].strip()
            del lines[i + 1]
        else:
            i += 1
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*[\w*, ]+ : )(.*)$", line)
        if match:
            kind = re.sub(r"\b(\w+?)_(?=[\s,)\]]|$)", r"\1\\_", match.group(2))
            kind = kind.replace("*", r"\*")
            lines[i] = match.group(1) + kind


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing setters."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _clean_docstring, priority=100)
    app.connect("autodoc-skip-member", _skip_member)
