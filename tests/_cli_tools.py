"""Helpers of the command-line tests: run a command, check its one-line errors,
read its output files back."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from nmfkit.cli import main


def run(capsys, *argv):
    """Run ``nmfkit ARGV`` in this process; return (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors and --help
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def tree(folder):
    """Every path under ``folder`` (hidden ones too), relative, sorted."""
    folder = Path(folder)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def assert_bad_input(capsys, argv, *fragments, untouched=None):
    """Exit code 2, nothing on stdout, one line on stderr holding ``fragments``.

    ``untouched``: a folder whose content must be exactly as before the run
    (nothing left behind, nothing replaced).
    """
    before = tree(untouched) if untouched is not None else None
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    if untouched is not None:
        assert tree(untouched) == before
    return lines[0]


def read_named_csv(path):
    """A CSV written as a named matrix: (corner, column names, row names, values)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    names = [r[0] for r in body]
    values = np.array([[float(v) for v in r[1:]] for r in body]).reshape(
        len(body), len(header) - 1
    )
    return header[0], header[1:], names, values


def read_records(path):
    """A CSV of records as a list of dicts."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def manifest(folder):
    """The manifest of an output set."""
    return json.loads((Path(folder) / "manifest.json").read_text())


def check_factor_files(folder, W, H, *, row_names, column_names, corner):
    """W and H in ``folder`` as .npy and named CSV, equal to the given arrays."""
    folder = Path(folder)
    np.testing.assert_array_equal(np.load(folder / "W.npy"), W)
    np.testing.assert_array_equal(np.load(folder / "H.npy"), H)
    got_corner, components, rows, values = read_named_csv(folder / "W.csv")
    assert got_corner == corner and rows == list(row_names)
    assert len(components) == W.shape[1]
    np.testing.assert_array_equal(values, W)  # written exactly
    got_corner, columns, rows, values = read_named_csv(folder / "H.csv")
    assert got_corner == "component" and rows == components
    assert columns == list(column_names)
    np.testing.assert_array_equal(values, H)
    return components
