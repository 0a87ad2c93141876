"""All-or-nothing output sets: in this process, and under real SIGINT and SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from _cli_tools import run, tree
from nmfkit._atomic import OutputExistsError
from nmfkit.apps import CommandError, OutputSet


def _contents(folder):
    return {
        p: (folder / p).read_bytes() for p in tree(folder) if (folder / p).is_file()
    }


def test_a_new_set_appears_only_when_committed(tmp_path):
    out = tmp_path / "a" / "b" / "set"
    with OutputSet(out, command="test") as outputs:
        outputs.write_json("x.json", {"n": 1})
        outputs.subfolder("pics").write_bytes("p.png", b"png")
        assert not out.exists()
        hidden = [p.name for p in out.parent.iterdir()]
        assert len(hidden) == 1 and hidden[0].startswith(".set.")
    assert tree(out) == ["manifest.json", "pics", "pics/p.png", "x.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "test"
    assert manifest["files"] == ["pics/p.png", "x.json"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["set"]


def test_a_failure_leaves_nothing_not_even_created_parents(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with OutputSet(tmp_path / "new" / "deeper" / "set") as outputs:
            outputs.write_text("a.txt", "a")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_a_set_as_a_whole(tmp_path):
    out = tmp_path / "set"
    with OutputSet(out) as outputs:
        outputs.write_text("old.txt", "old")
        outputs.write_text("both.txt", "old")
    with pytest.raises(OutputExistsError, match="--force"):
        OutputSet(out)
    with pytest.raises(KeyboardInterrupt):
        with OutputSet(out, force=True) as outputs:
            outputs.write_text("both.txt", "new")
            raise KeyboardInterrupt
    assert _contents(out)["both.txt"] == b"old" and (out / "old.txt").exists()
    with OutputSet(out, force=True) as outputs:
        outputs.write_text("both.txt", "new")
    assert tree(out) == ["both.txt", "manifest.json"]
    assert (out / "both.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_only_output_sets_are_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep")
    with pytest.raises(CommandError, match="not an nmfkit output folder"):
        OutputSet(mine, force=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    with OutputSet(empty, force=True) as outputs:
        outputs.write_text("a.txt", "a")
    assert tree(empty) == ["a.txt", "manifest.json"]
    assert (mine / "thesis.tex").read_text() == "keep"
    earlier = tmp_path / "x-nmf"  # what nmfkit fit wrote before manifests
    earlier.mkdir()
    for name in ("W.npy", "H.npy", "fit.json"):
        (earlier / name).write_text("old")
    with OutputSet(earlier, force=True) as outputs:
        outputs.write_text("W.npy", "new")
    assert tree(earlier) == ["W.npy", "manifest.json"]


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        with OutputSet(tmp_path / "set") as outputs:
            outputs.write_text("a.txt", "a")
            outputs.write_npy("a.npy", np.ones(2))
    finally:
        os.umask(old)
    assert (tmp_path / "set").stat().st_mode & 0o777 == 0o750
    for name in ("a.txt", "a.npy", "manifest.json"):
        assert (tmp_path / "set" / name).stat().st_mode & 0o777 == 0o640


def test_stale_temporary_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".set.{dead.pid}.abc.nmfkit-tmp"
    stale.mkdir()
    (stale / "W.npy").write_bytes(b"half")
    alive = tmp_path / f".set.{os.getpid()}.xyz.nmfkit-tmp"  # a live writer's
    alive.mkdir()
    with OutputSet(tmp_path / "set") as outputs:
        outputs.write_text("a.txt", "a")
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "set"]


def test_names_stay_inside_the_set(tmp_path):
    outputs = OutputSet(tmp_path / "set")
    for name in ("../escape.txt", "/abs.txt"):
        with pytest.raises(ValueError, match="inside the output folder"):
            outputs.path(name)
    outputs.abort()
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------- real signals, real process
@pytest.fixture
def big_matrix(tmp_path):
    """A matrix whose W.csv takes a while to write (the window for a signal)."""
    path = tmp_path / "big.npy"
    np.save(path, np.random.default_rng(0).random((150000, 12)))
    return path


def _command(matrix, out):
    return [
        sys.executable, "-m", "nmfkit.cli", "fit", str(matrix), "--rank", "8",
        "--solver", "mu", "--max-iter", "2", "--tol", "0", "-q", "-o", str(out),
        "--force",
    ]  # fmt: skip


def _interrupt_while_writing(matrix, out, sig):
    """Start the command and send ``sig`` once it is writing the factors."""
    process = subprocess.Popen(_command(matrix, out), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if list(out.parent.glob(".out.*.nmfkit-tmp/W.npy")):
            break
        time.sleep(0.01)
    assert process.poll() is None, "the command finished before the signal"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["INT", "KILL"])
def test_a_signal_while_writing_leaves_the_previous_set(
    big_matrix, tmp_path, capsys, sig
):
    out = tmp_path / "out"
    small = tmp_path / "small.npy"
    np.save(small, np.random.default_rng(1).random((30, 6)))
    code, _, err = run(capsys, "fit", small, "--rank", "2", "-q", "-o", out)
    assert code == 0, err
    before = _contents(out)
    returncode, stderr = _interrupt_while_writing(big_matrix, out, sig)
    assert _contents(out) == before  # the previous set, byte for byte
    if sig == signal.SIGINT:
        assert returncode == 130, stderr
        assert stderr.strip().splitlines()[-1] == (
            "nmfkit fit: interrupted; nothing written (an earlier output folder is "
            "unchanged)"
        )
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["big.npy", "out", "small.npy"]
        )
    else:
        assert returncode == -signal.SIGKILL
        leftovers = list(tmp_path.glob(".out.*.nmfkit-tmp"))
        assert len(leftovers) == 1  # a killed process cannot clean up...
        code, _, err = run(
            capsys, "fit", small, "--rank", "3", "-q", "-o", out, "--force"
        )
        assert code == 0, err
        assert not leftovers[0].exists()  # ...the next command does
        assert np.load(out / "W.npy").shape == (30, 3)
