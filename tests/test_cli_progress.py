"""Progress bars, warnings and tables of the commands: what a terminal shows."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import nmfkit
from _cli_tools import run
from nmfkit.apps import _progress
from nmfkit.apps._progress import Progress
from nmfkit.apps._table import format_number, format_table

pytest.importorskip("tqdm")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def terminal(monkeypatch):
    """A terminal on stderr (set in the test: pytest resets sys.stderr after setup)."""
    monkeypatch.setattr(_progress, "DELAY", 0.0)  # show the bar at once
    monkeypatch.setattr(_progress, "MININTERVAL", 0.0)  # and every iteration
    screen = _Terminal()

    def attach():
        monkeypatch.setattr(sys, "stderr", screen)
        return screen

    return attach


def _data():
    rng = np.random.default_rng(0)
    return rng.random((40, 3)) @ rng.random((3, 25)) + 0.01


def test_iterations_objective_and_decrease_on_a_terminal(terminal):
    terminal = terminal()
    model = nmfkit.NMF(3, solver="mu", max_iter=30, tol=0, random_state=0)
    with Progress(0, "fit").watch(model):
        model.fit(_data())
    shown = terminal.getvalue()
    assert "30/30" in shown
    final = [part for part in shown.split("\r") if "30/30" in part][-1]
    objective = float(final.split("objective ")[1].split(",")[0])
    assert objective == pytest.approx(model.loss_curve_[-1], rel=1e-5)
    previous, last = model.loss_curve_[-2:]
    decrease = float(final.split("decrease ")[1].split("]")[0])
    assert decrease == pytest.approx((previous - last) / previous, rel=0.06)
    assert "_solver_options" not in vars(model)  # the hook is gone


def test_the_bar_does_not_change_the_fit(terminal):
    screen = terminal()
    X = _data()
    plain = nmfkit.NMF(3, max_iter=40, tol=0, random_state=0)
    W_plain = plain.fit_transform(X)
    shown = nmfkit.NMF(3, max_iter=40, tol=0, random_state=0)
    with Progress(0, "fit").watch(shown):
        W_shown = shown.fit_transform(X)
    np.testing.assert_array_equal(W_shown, W_plain)
    np.testing.assert_array_equal(shown.loss_curve_, plain.loss_curve_)
    assert "40/40" in screen.getvalue()


def test_nothing_without_a_terminal_or_with_quiet(monkeypatch, terminal):
    terminal = terminal()
    model = nmfkit.NMF(2, max_iter=5, tol=0)
    with Progress(0, "fit", quiet=True).watch(model):
        model.fit(_data())
    assert terminal.getvalue() == ""
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    with Progress(3, "stages").watch(model):
        model.fit(_data())
    assert pipe.getvalue() == ""


def test_quick_fits_show_no_bar(monkeypatch):
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)  # DELAY stays at one second
    model = nmfkit.NMF(2, max_iter=3, tol=0)
    with Progress(0, "fit").watch(model):
        model.fit(_data())
    assert screen.getvalue() == ""


# ------------------------------------------------------------ the same words
def test_the_same_convergence_warning_in_every_command(tmp_path, capsys):
    path = tmp_path / "x.npy"
    np.save(path, _data())
    text = (
        "the fit stopped at --max-iter 2 before the objective's relative decrease "
        "fell below --tol 0.0001"
    )
    code, _, err = run(capsys, "fit", path, "--rank", "2", "--max-iter", "2", "-q")
    assert code == 0 and f"nmfkit fit: warning: {text}" in err
    ratings = tmp_path / "r.csv"
    ratings.write_text("".join(f"u{u},i{i},{1 + (u * i) % 5}\n" for u in range(9)
                               for i in range(7)))  # fmt: skip
    code, _, err = run(
        capsys, "ratings", ratings, "--max-iter", "2", "--tol", "1e-4", "-q",
        "--top", "0",
    )  # fmt: skip
    assert code == 0 and f"nmfkit ratings: warning: {text}" in err
    pytest.importorskip("matplotlib")
    code, _, err = run(
        capsys, "series", "--rank", "2", "--max-iter", "2", "--tol", "1e-4", "-q",
        "--no-report", "-o", tmp_path / "series",
    )  # fmt: skip
    lines = err.strip().splitlines()
    assert code == 0 and len(lines) == 1
    assert lines[0].startswith(f"nmfkit series: warning: {text} (last relative")


def test_comparison_fits_show_their_iterations(terminal):
    from nmfkit.apps._compare import compare_with_sklearn

    terminal = terminal()
    comparison = compare_with_sklearn(
        _data(), n_components=3, max_iter=25, tol=0, progress=Progress(3, "faces")
    )
    shown = terminal.getvalue()
    # One bar per nmfkit fit, labelled with the fit, counting to 25 iterations;
    # scikit-learn's fit has no monitor to show.
    for key in ("nmfkit", "check"):
        label = comparison.fits[key].label
        assert any(label in part and "25/25" in part for part in shown.split("\r"))
    assert "scikit-learn MU: " not in shown


# -------------------------------------------------------------------- tables
def test_tables_fit_the_width():
    header = ["model", "||X - WH||_F", "objective", "seconds", "iterations"]
    header += ["zeros in W %", "matched cosine mean", "matched cosine min"]
    rows = [
        ["nmfkit MU, course penalties", 25.8, 650.5, 0.25, 300, 0.0, 0.93, 0.85],
        ["scikit-learn MU", 24.6, 704.9, 1.8, 300, 0.0, "reference", "reference"],
    ]
    text = format_table(header, rows, title="faces", width=80)
    assert max(map(len, text.splitlines())) <= 80
    for name in header:  # every column is there, each block keeps the names
        assert name in text
    assert text.count("nmfkit MU, course penalties") == 3
    wide = format_table(header, rows, width=400)
    assert len(wide.splitlines()) == 4  # one block: title-less header, rule, rows


def test_numbers_are_readable():
    assert format_number(2.88547e-10) == "2.885e-10"
    assert format_number(0.0) == "0"
    assert format_number(650.512) == "650.5"
    assert format_number(12) == "12"
    assert format_number(float("nan")) == "-"


def test_command_output_fits_80_columns(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    path = tmp_path / "x.npy"
    np.save(path, _data())
    code, out, _ = run(
        capsys, "rank", path, "--ranks", "1-3", "--folds", "3", "--tol", "1e-3",
        "--method", "cv,consensus", "--runs", "2", "-q",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines if not line.startswith("results")) <= 80
