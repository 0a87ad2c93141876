"""``nmfkit fit --checkpoint``: interrupt a real process, resume, same result."""

import signal
import subprocess
import sys
import time

import numpy as np

from nmfkit import NMF

MAX_ITER = 20000


def _fit_command(matrix, out, *extra):
    return [
        sys.executable,
        "-m",
        "nmfkit.cli",
        "fit",
        str(matrix),
        "--rank",
        "4",
        "--solver",
        "mu",
        "--init",
        "nndsvda",
        "--max-iter",
        str(MAX_ITER),
        "--tol",
        "0",
        "--quiet",
        "-o",
        str(out),
        *extra,
    ]


def test_interrupted_fit_writes_nothing_and_resumes_to_the_same_factors(tmp_path):
    rng = np.random.default_rng(0)
    matrix = tmp_path / "X.npy"
    X = rng.random((300, 200))
    np.save(matrix, X)
    checkpoint = tmp_path / "fit.ckpt.npz"
    # the uninterrupted fit, with the command's settings
    reference = NMF(
        n_components=4,
        solver="mu",
        init="nndsvda",
        max_iter=MAX_ITER,
        tol=0,
        random_state=0,
    )
    W_ref = reference.fit_transform(X)

    command = _fit_command(
        matrix,
        tmp_path / "out",
        "--checkpoint",
        str(checkpoint),
        "--checkpoint-every",
        "0.2",
    )
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpoint.exists(), "the fit never wrote its checkpoint"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted at iteration" in stderr and "resume" in stderr
    assert not (tmp_path / "out" / "W.npy").exists()
    assert checkpoint.exists()

    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert not checkpoint.exists()  # a finished fit removes its checkpoint
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "W.npy"), W_ref)
    np.testing.assert_array_equal(
        np.load(tmp_path / "out" / "H.npy"), reference.components_
    )
