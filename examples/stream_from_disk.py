"""Online NMF of a matrix stored on disk, one chunk of rows at a time.

The matrix is memory-mapped (``np.load(..., mmap_mode="r")``): only the chunk
being processed is read into memory, so the data may be larger than RAM.
Each chunk goes through ``MiniBatchNMF.partial_fit``; the codes of any rows
come from ``transform`` afterwards.

Run::

    python examples/stream_from_disk.py                # writes a demo matrix
    python examples/stream_from_disk.py counts.npy     # your own (n x p) .npy

The demo matrix holds Poisson counts drawn from a rank-8 model, fitted with
the Kullback-Leibler divergence (the natural loss for counts).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from nmfkit import MiniBatchNMF
from nmfkit._objective import beta_divergence


def write_demo_matrix(path, n_samples=20_000, n_features=300, rank=8, seed=0):
    """Save Poisson counts of a random rank-``rank`` model to ``path`` (.npy).

    Returns the path and the true factors.
    """
    rng = np.random.default_rng(seed)
    W = rng.gamma(0.5, 1.0, size=(n_samples, rank))
    H = rng.gamma(0.3, 2.0, size=(rank, n_features))
    np.save(path, rng.poisson(W @ H).astype(np.float64))
    return path, W, H


def stream_fit(path, n_components=8, chunk_rows=2_000, passes=2, beta_loss=1.0):
    """Fit MiniBatchNMF on a .npy matrix, streaming ``chunk_rows`` rows at a time.

    Returns
    -------
    model : MiniBatchNMF
    """
    X = np.load(path, mmap_mode="r")  # nothing read yet
    model = MiniBatchNMF(
        n_components=n_components,
        beta_loss=beta_loss,
        batch_size=chunk_rows,
        init="nndsvda",
        random_state=0,
    )
    for _ in range(passes):
        for start in range(0, X.shape[0], chunk_rows):
            chunk = np.asarray(X[start : start + chunk_rows])  # read this chunk
            model.partial_fit(chunk)
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="an (n x p) .npy file")
    parser.add_argument("--components", type=int, default=8)
    parser.add_argument("--chunk-rows", type=int, default=2_000)
    parser.add_argument("--passes", type=int, default=2)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        truth = None
        path = args.path
        if path is None:
            path, W_true, H_true = write_demo_matrix(Path(tmp) / "counts.npy")
            truth = (W_true[: args.chunk_rows], H_true)
        model = stream_fit(path, args.components, args.chunk_rows, args.passes)
        X = np.load(path, mmap_mode="r")
        head = np.asarray(X[: args.chunk_rows])
        W = model.transform(head)
        divergence = beta_divergence(head, W, model.components_, "kullback-leibler")
        print(
            f"{model.n_steps_} chunks of {args.chunk_rows} rows of a {X.shape} "
            f"matrix; KL divergence on the first chunk: {divergence:.1f}"
        )
        if truth is not None:
            floor = beta_divergence(head, *truth, "kullback-leibler")
            print(f"(the model that generated the counts scores {floor:.1f})")
        return model


if __name__ == "__main__":
    main()
