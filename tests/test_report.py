"""The HTML report: structure, escaping, atomic writing."""

from __future__ import annotations

import base64
import re

import pytest

from nmfkit._atomic import OutputExistsError
from nmfkit.report import Report

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _report():
    report = Report("Run <1>", subtitle="a & b")
    data = report.section("Data")
    data.text("x < y").definitions({"rows": 3, "ratio": 0.123456789})
    figs = report.section("Figures")
    figs.figure(PNG_1x1, caption="A dot", key="dot")
    figs.table([("a", 1.5)], header=("name", "value"), caption="Numbers")
    report.section("Data")  # same title: a distinct key
    return report


def test_sections_figures_and_tables_are_marked_and_escaped():
    page = _report().render()
    assert page.startswith("<!DOCTYPE html>")
    assert re.findall(r'data-section="([^"]+)"', page) == ["data", "figures", "data-2"]
    assert re.findall(r'data-figure="([^"]+)"', page) == ["dot"]
    assert 'data-table="numbers"' in page
    assert "Run &lt;1&gt;" in page and "x &lt; y" in page and "a &amp; b" in page
    assert '<td class="num">0.123457</td>' in page
    assert "data:image/png;base64," + base64.b64encode(PNG_1x1).decode() in page
    assert "http://" not in page and "https://" not in page  # self-contained


def test_figure_accepts_a_matplotlib_figure():
    pytest.importorskip("matplotlib")
    from nmfkit.plotting import plot_gallery

    report = Report("r")
    report.section("s").figure(plot_gallery([[0, 1, 1, 0]], (2, 2)), caption="Tiny")
    assert report.figure_keys == ["tiny"]
    assert "data:image/png;base64,iVBORw0KGgo" in report.render()


def test_write_is_atomic_and_never_overwrites_without_force(tmp_path):
    path = tmp_path / "r.html"
    _report().write(path)
    first = path.read_text()
    with pytest.raises(OutputExistsError, match="already exists"):
        Report("other").write(path)
    assert path.read_text() == first
    Report("other").write(path, force=True)
    assert "<title>other</title>" in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary left
