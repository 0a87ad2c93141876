"""How nmfkit writes files: symbolic links, permissions, stale temporaries.

Every write goes through ``nmfkit._atomic.atomic_write`` (models, checkpoints,
command-line outputs, reports): a link is written through, an existing file
keeps its permission bits, a new file gets ``0o666 & ~umask``, and the
temporaries a killed writer left are removed by the next write to the same
path (or when a checkpointed fit starts) - and nothing else is.
"""

from __future__ import annotations

import os
import secrets
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _fit_child import InterruptAt
from nmfkit import NMF, FitInterruptedWarning, load
from nmfkit._atomic import atomic_write, remove_stale_temporaries
from nmfkit._checkpoint import CHECKPOINT_FORMAT
from nmfkit._persistence import read_container, write_container
from nmfkit.cli import main

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
fcntl = pytest.importorskip("fcntl")


@pytest.fixture(scope="module")
def model():
    X = np.random.default_rng(0).random((20, 6))
    return NMF(n_components=2, random_state=0, max_iter=30).fit(X)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class _umask:
    """Set the process umask inside a ``with`` block."""

    def __init__(self, mask):
        self.mask = mask

    def __enter__(self):
        self.old = os.umask(self.mask)

    def __exit__(self, *exc):
        os.umask(self.old)


def _temporary_name(target, pid):
    return f".{target}.{pid}.{secrets.token_hex(8)}.nmfkit.tmp"


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ------------------------------------------------------------------- links
def test_save_writes_through_a_symlink(model, tmp_path):
    real = tmp_path / "store" / "model.npz"
    real.parent.mkdir()
    real.write_bytes(b"old content")
    os.chmod(real, 0o640)
    link = tmp_path / "current.npz"
    link.symlink_to(Path("store") / "model.npz")  # relative, into another folder
    chain = tmp_path / "latest.npz"
    chain.symlink_to(link)
    model.save(chain)
    assert chain.is_symlink() and link.is_symlink()
    assert os.readlink(link) == str(Path("store") / "model.npz")
    assert _mode(real) == 0o640  # the target kept its permissions
    np.testing.assert_array_equal(load(real).components_, model.components_)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "current.npz",
        "latest.npz",
        "store",
    ]
    assert [p.name for p in real.parent.iterdir()] == ["model.npz"]


def test_save_through_a_dangling_symlink_creates_its_target(model, tmp_path):
    link = tmp_path / "model.npz"
    link.symlink_to(tmp_path / "target.npz")
    model.save(link)
    assert link.is_symlink()
    np.testing.assert_array_equal(load(link).components_, model.components_)


def test_saving_onto_a_folder_is_refused(model, tmp_path):
    (tmp_path / "m.npz").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        model.save(tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


# ------------------------------------------------------------- permissions
@pytest.mark.parametrize(
    "mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)]
)
def test_new_files_respect_the_umask(model, tmp_path, mask, expected):
    with _umask(mask):
        model.save(tmp_path / "model.npz")
        with atomic_write(tmp_path / "report.html", "w") as f:
            f.write("<html></html>")
        write_container(
            tmp_path / "fit.ckpt.npz", CHECKPOINT_FORMAT, {}, {"W": np.ones((2, 2))}
        )
    for name in ("model.npz", "report.html", "fit.ckpt.npz"):
        assert _mode(tmp_path / name) == expected, name


def test_command_line_outputs_respect_the_umask(tmp_path, capsys):
    matrix = tmp_path / "X.npy"
    np.save(matrix, np.random.default_rng(0).random((12, 5)))
    out = tmp_path / "out"
    with _umask(0o022):
        code = main(
            ["fit", str(matrix), "--rank", "2", "--max-iter", "20"]
            + ["-o", str(out), "--quiet"]
        )
    assert code == 0
    written = sorted(p for p in out.iterdir())
    assert len(written) >= 3  # W, H and fit.json
    assert {p.name: _mode(p) for p in written} == {p.name: 0o644 for p in written}


def test_existing_files_keep_their_permission_bits(model, tmp_path):
    path = tmp_path / "model.npz"
    for mode in (0o600, 0o640, 0o664, 0o755):
        path.write_bytes(b"x")
        os.chmod(path, mode)
        with _umask(0o077):  # the umask does not apply to an existing file
            model.save(path)
        assert _mode(path) == mode
    np.testing.assert_array_equal(load(path).components_, model.components_)


# ------------------------------------------------------- stale temporaries
SAVE_LOOP = """
import sys
import numpy as np
from nmfkit import NMF

rng = np.random.default_rng(0)
model = NMF(n_components=8, init="random", random_state=0, max_iter=2).fit(
    rng.random((10, 50))
)
model.components_ = rng.random((8, 1_000_000))  # 64 MB to write: a long window
model.n_features_in_ = 1_000_000
while True:
    model.save(sys.argv[1])
"""


def _stale_temporaries(folder, name):
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.startswith(f".{name}.") and p.name.endswith(".nmfkit.tmp")
    )


def _half_written(path):
    """Whether a temporary of ``path`` exists and holds some bytes already."""
    for name in _stale_temporaries(path.parent, path.name):
        try:
            if (path.parent / name).stat().st_size > 0:
                return True
        except FileNotFoundError:
            pass
    return False


def _kill_during_a_save(path):
    """SIGKILL a process while it writes ``path``; return the temporary left."""
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVE_LOOP, str(path)], stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                if _half_written(path):
                    proc.send_signal(signal.SIGSTOP)  # freeze it mid-write
                    if _half_written(path):
                        break
                    proc.send_signal(signal.SIGCONT)  # it renamed just now
                time.sleep(0.001)
            else:
                raise AssertionError(proc.stderr.read().decode())
        finally:
            proc.kill()
            proc.wait()
        left = _stale_temporaries(path.parent, path.name)
        if left:
            assert proc.returncode == -signal.SIGKILL
            assert left[0].startswith(f".{path.name}.{proc.pid}.")
            return left
    raise AssertionError("no SIGKILL landed during a write in 5 tries")


def test_sigkill_during_save_leaves_a_temporary_the_next_save_removes(model, tmp_path):
    path = tmp_path / "model.npz"
    left = _kill_during_a_save(path)
    assert (tmp_path / left[0]).stat().st_size > 0
    model.save(path)
    assert _stale_temporaries(tmp_path, path.name) == []
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    np.testing.assert_array_equal(load(path).components_, model.components_)


def test_only_our_own_stale_temporaries_are_removed(tmp_path):
    target = tmp_path / "model.npz"
    dead = _dead_pid()
    stale = [
        _temporary_name("model.npz", dead),
        _temporary_name("model.npz", os.getpid()),
    ]
    others = [
        _temporary_name("other.npz", dead),  # another destination's
        "model.npz.tmp",
        ".model.npz.backup",
        ".model.npz.abcd1234.tmp",
        f".model.npz.{dead}.nothex.nmfkit.tmp",
        "notes.txt",
    ]
    for name in stale + others:
        (tmp_path / name).write_text("keep?")
    folder_named_like_one = tmp_path / _temporary_name("model.npz", dead)
    folder_named_like_one.mkdir()
    # a live writer elsewhere: its process runs ...
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    live = _temporary_name("model.npz", sleeper.pid)
    (tmp_path / live).write_text("being written")
    # ... or it holds the lock (a writer whose pid this machine cannot see)
    locked = _temporary_name("model.npz", dead)
    (tmp_path / locked).write_text("being written")
    fd = os.open(tmp_path / locked, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        removed = remove_stale_temporaries(target)
    finally:
        os.close(fd)
        sleeper.kill()
        sleeper.wait()
    assert sorted(p.name for p in removed) == sorted(stale)
    remaining = {p.name for p in tmp_path.iterdir()}
    assert remaining == {*others, folder_named_like_one.name, live, locked}


def test_a_checkpointed_fit_removes_stale_temporaries_when_it_starts(tmp_path):
    X = np.random.default_rng(1).random((30, 10))
    path = tmp_path / "fit.ckpt.npz"
    stale = tmp_path / _temporary_name(path.name, _dead_pid())
    stale.write_bytes(b"PK\x03\x04 half a checkpoint")
    params = dict(n_components=3, init="random", random_state=0, solver="mu", tol=0)
    model = NMF(max_iter=8, checkpoint=path, checkpoint_every=3600.0, **params)
    model.fit(X)
    assert list(tmp_path.iterdir()) == []  # stale file gone, checkpoint removed
    reference = NMF(max_iter=8, **params).fit(X)
    np.testing.assert_array_equal(model.components_, reference.components_)


def test_resuming_from_a_checkpoint_removes_stale_temporaries(tmp_path):
    path = tmp_path / "c.npz"
    X = np.random.default_rng(2).random((20, 6))
    params = dict(n_components=2, init="random", random_state=0, solver="mu", tol=0)
    interrupted = InterruptAt(
        checkpoint=path, checkpoint_every=3600.0, max_iter=9, **params
    )
    interrupted.at = 4
    with pytest.warns(FitInterruptedWarning, match="interrupted"):
        interrupted.fit(X)
    assert read_container(path, CHECKPOINT_FORMAT)[0]["n_iter"] == 4
    stale = tmp_path / _temporary_name(path.name, _dead_pid())
    stale.write_bytes(b"half")
    resumed = NMF(checkpoint=path, max_iter=9, **params).fit(X)
    assert resumed.n_iter_ == 9
    assert list(tmp_path.iterdir()) == []
    reference = NMF(max_iter=9, **params).fit(X)
    np.testing.assert_array_equal(resumed.components_, reference.components_)
