"""The HTML report: structure, escaping, atomic writing."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from nmfkit._atomic import OutputExistsError
from nmfkit.report import Report, format_number, format_number_html

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
    assert (
        '<td class="num" data-value="0.123456789" title="0.123456789">0.1235</td>'
        in page
    )
    assert '<td class="num" data-value="3" title="3">3</td>' in page
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


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (944.8213, {}, "944.8"),
        (824.3, {}, "824.3"),
        (2.88547e-10, {}, "2.885e-10"),
        (300, {}, "300"),
        (np.int64(7), {}, "7"),
        (0.0, {}, "0"),
        (0.5, {}, "0.5"),
        (999.96, {}, "1000"),
        (0.99996, {}, "1"),
        (12345.678, {}, "12346"),
        (1.5e7, {}, "1.5e+07"),
        (-0.00012, {}, "-1.2e-04"),
        (0.00123456, {"digits": 2}, "0.0012"),
        (float("nan"), {}, "nan"),
        (float("-inf"), {}, "-inf"),
        (True, {}, "yes"),
        (np.bool_(False), {}, "no"),
        ("text", {}, "text"),
        (3.4e-13, {"decimals": 2}, "0.00"),
        (-1e-9, {"decimals": 3}, "0.000"),
        (0.96755, {"decimals": 3}, "0.968"),
    ],
)
def test_format_number(value, kwargs, text):
    assert format_number(value, **kwargs) == text
    if isinstance(value, float) and np.isfinite(value) and "decimals" not in kwargs:
        digits = kwargs.get("digits", 4)
        # The text is the value rounded to `digits` significant digits.
        assert float(text) == pytest.approx(value, rel=0.5 * 10 ** (1 - digits))


def test_format_number_html_and_bad_digits():
    assert format_number_html(2.88547e-10) == "2.885 × 10<sup>-10</sup>"
    assert format_number_html(1.5e7) == "1.5 × 10<sup>7</sup>"
    assert format_number_html("<b>") == "&lt;b&gt;"
    with pytest.raises(ValueError, match="digits=0 is not valid"):
        format_number(1.0, digits=0)
    with pytest.raises(ValueError, match="decimals=-1 is not valid"):
        format_number(1.0, decimals=-1)


def test_table_columns_with_fixed_decimals_and_row_checks():
    section = Report("r").section("s")
    section.table(
        [("a", 3.4e-13, 3.4e-13)],
        header=("name", "share %", "x"),
        decimals={"share %": 2},
    )
    page = section.render()
    cells = re.findall(r'<td class="num"[^>]*>([^<]*(?:<sup>[^<]*</sup>)?)</td>', page)
    assert cells == ["0.00", "3.4 × 10<sup>-13</sup>"]
    with pytest.raises(ValueError, match="names columns \\['y'\\]"):
        section.table([("a",)], header=("name",), decimals={"y": 1})
    with pytest.raises(ValueError, match="a row has 1 cells for 2 columns"):
        section.table([("a",)], header=("name", "value"))


def test_details_fold_a_long_table():
    report = Report("r")
    report.section("Parameters").details(
        "All 3 parameters", {"a": 1, "b": 0.5, "c": None}
    )
    page = report.render()
    folded = re.search(
        r"<details><summary>All 3 parameters</summary>(.*?)</details>", page, re.S
    )
    assert folded and 'data-table="all-3-parameters"' in folded.group(1)
    assert "<td>None</td>" in folded.group(1)


def test_file_links_are_relative_to_the_report(tmp_path, monkeypatch):
    results = tmp_path / "out"
    results.mkdir()
    (results / "W.csv").write_text("1,2\n")
    report = Report("r")
    report.section("Files").files(
        [(results / "W.csv", "codes"), (results / "H with space.npy", "dictionary")]
    )
    path = report.write(results / "report.html")
    page = path.read_text()
    links = re.findall(r'<a href="([^"]+)" data-file="([^"]+)">', page)
    assert links == [("W.csv", "W.csv"), ("H%20with%20space.npy", "H with space.npy")]
    assert '<td class="num">4 bytes</td>' in page  # an existing file's size
    # A report in another folder links up to the files.
    other = tmp_path / "reports" / "r.html"
    other.parent.mkdir()
    report.write(other)
    assert '<a href="../out/W.csv"' in other.read_text()
    # Relative paths are resolved from the working directory.
    monkeypatch.chdir(tmp_path)
    report = Report("r")
    report.section("Files").files([("out/W.csv", "codes")])
    report.write(tmp_path / "reports" / "r2.html")
    assert '<a href="../out/W.csv"' in (tmp_path / "reports" / "r2.html").read_text()
