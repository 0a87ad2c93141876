"""Time per iteration of nmfkit's beta-divergence solvers against scikit-learn's.

Protocol (see the design notes): the same data and the same initial factors
for every contender, in one process, repeats interleaved, the median reported,
and ratios rather than absolute times (the machines are shared and noisy).
BLAS runs on one thread for every contender (``--threads``), so that the
comparison measures the algorithms rather than the scheduler of a busy
machine.

Rows:

- ``NMF`` KL (beta = 1), ``solver="mu"``, on 20 Newsgroups training posts as
  word counts (CountVectorizer, sparse);
- ``NMF`` Itakura-Saito (beta = 0) and beta = 0.5 on a dense power
  spectrogram of a synthetic piece (notes with harmonics and decaying
  envelopes plus noise; frames x frequency bins, scaled to unit mean);
- ``MiniBatchNMF`` against scikit-learn's ``MiniBatchNMF`` on 20 Newsgroups:
  KL on the word counts and Frobenius on TF-IDF (time per mini-batch step).

nmfkit computes the objective after every iteration and updates W first, as
scikit-learn does (so both reach the same model: the error column checks
it); scikit-learn is timed as
users run it (``tol > 0``: its error every 10 iterations; here ``tol=1e-30``
so that it never stops early) and in its cheapest mode (``tol=0``, no error
ever computed).

Usage::

    python benchmarks/bench_beta.py [--repeats 5] [--iterations 20]

Writes ``benchmarks/results/bench_beta.json`` and ``bench_beta.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import signal
from sklearn.decomposition import NMF as SklearnNMF
from sklearn.decomposition import MiniBatchNMF as SklearnMiniBatchNMF
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _datasets import (  # noqa: E402
    load_20newsgroups_counts,
    load_20newsgroups_tfidf,
)
from _machine import machine_meta  # noqa: E402
from nmfkit import NMF, MiniBatchNMF  # noqa: E402
from nmfkit._atomic import atomic_write  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def spectrogram_like(seconds=60.0, rate=16000, n_fft=1024, hop=256, seed=0):
    """Power spectrogram (frames x bins) of random harmonic notes plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    audio = 0.01 * rng.standard_normal(t.size)
    for onset in np.arange(0.0, seconds, 0.25):
        f0 = 110.0 * 2 ** (rng.integers(0, 36) / 12)
        start = int(onset * rate)
        span = t[start : start + int(1.5 * rate)] - onset
        note = sum(
            np.sin(2 * np.pi * f0 * k * span) / k for k in range(1, 8) if f0 * k < 7900
        )
        audio[start : start + span.size] += note * np.exp(-3 * span)
    _, _, Z = signal.stft(audio, fs=rate, nperseg=n_fft, noverlap=n_fft - hop)
    power = np.ascontiguousarray((np.abs(Z) ** 2).T)
    return power / power.mean()  # unit mean: the noise floor stays above eps


def _initial_factors(X, rank, seed):
    """scikit-learn's random initialization, drawn once and shared."""
    rng = np.random.default_rng(seed)
    scale = np.sqrt(X.mean() / rank)
    W = np.abs(scale * rng.standard_normal((X.shape[0], rank))).astype(X.dtype)
    H = np.abs(scale * rng.standard_normal((rank, X.shape[1]))).astype(X.dtype)
    return W, H


def _nmf_contenders(beta, rank, iterations):
    common = dict(
        n_components=rank,
        init="custom",
        solver="mu",
        beta_loss=beta,
        max_iter=iterations,
    )
    return {
        "nmfkit": lambda: NMF(tol=0, update_order="WH", **common),
        "sklearn": lambda: SklearnNMF(tol=1e-30, **common),
        "sklearn_tol0": lambda: SklearnNMF(tol=0, **common),
    }


def _minibatch_contenders(beta, rank, iterations):
    common = dict(
        n_components=rank,
        init="custom",
        beta_loss=beta,
        batch_size=1024,
        max_iter=iterations,
        tol=0,
        max_no_improvement=None,
    )
    return {
        "nmfkit": lambda: MiniBatchNMF(**common),
        "sklearn": lambda: SklearnMiniBatchNMF(**common),
    }


def time_per_step(X, contenders, rank, repeats, seed=0):
    """Median seconds per iteration (NMF) or mini-batch step, interleaved."""
    W0, H0 = _initial_factors(X, rank, seed)
    times = {name: [] for name in contenders}
    errors = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for make in contenders.values():  # warm-up
            make().fit(X, W=W0.copy(), H=H0.copy())
        for _ in range(repeats):
            for name, make in contenders.items():
                model = make()
                start = time.perf_counter()
                model.fit(X, W=W0.copy(), H=H0.copy())
                steps = getattr(model, "n_steps_", None) or model.n_iter_
                times[name].append((time.perf_counter() - start) / steps)
                errors[name] = float(model.reconstruction_err_)
    return {name: float(np.median(t)) for name, t in times.items()}, errors


def _markdown(rows):
    lines = [
        "| estimator | data | beta | rank | nmfkit ms | sklearn ms | ratio | "
        "sklearn tol=0 ms | ratio vs tol=0 | error (nmfkit / sklearn) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ms = {name: 1e3 * value for name, value in r["seconds"].items()}
        tol0 = ms.get("sklearn_tol0")
        tol0_cells = (
            f"{tol0:.1f} | {r['ratio_tol0']:.2f}" if tol0 is not None else "- | -"
        )
        err = r["reconstruction_err"]
        lines.append(
            f"| {r['estimator']} | {r['data']} | {r['beta']} | {r['rank']} | "
            f"{ms['nmfkit']:.1f} | {ms['sklearn']:.1f} | **{r['ratio']:.2f}** | "
            f"{tol0_cells} | {err['nmfkit']:.6g} / {err['sklearn']:.6g} |"
        )
    return (
        "\n".join(lines)
        + "\n\nms: milliseconds per iteration (NMF) or per mini-batch step "
        "(MiniBatchNMF, batch_size=1024); median of interleaved repeats from one "
        "initialization, BLAS on one thread.\n"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    counts = load_20newsgroups_counts()
    spectrogram = spectrogram_like()
    cases = [
        ("NMF", "20 Newsgroups counts (sparse)", counts, "kullback-leibler", 1.0),
        ("NMF", "spectrogram (dense)", spectrogram, "itakura-saito", 0.0),
        ("NMF", "spectrogram (dense)", spectrogram, 0.5, 0.5),
        ("MiniBatchNMF", "20 Newsgroups counts (sparse)", counts, "kullback-leibler",
         1.0),
        ("MiniBatchNMF", "20 Newsgroups TF-IDF (sparse)", load_20newsgroups_tfidf(),
         "frobenius", 2.0),
    ]  # fmt: skip
    rows = []
    with threadpool_limits(args.threads):
        for estimator, name, X, beta_loss, beta in cases:
            if estimator == "NMF":
                contenders = _nmf_contenders(beta_loss, args.rank, args.iterations)
            else:
                contenders = _minibatch_contenders(beta_loss, args.rank, 2)
            seconds, errors = time_per_step(X, contenders, args.rank, args.repeats)
            row = dict(
                estimator=estimator,
                data=name,
                shape=list(X.shape),
                sparse=not isinstance(X, np.ndarray),
                beta=beta,
                rank=args.rank,
                seconds=seconds,
                reconstruction_err=errors,
                ratio=seconds["nmfkit"] / seconds["sklearn"],
            )
            if "sklearn_tol0" in seconds:
                row["ratio_tol0"] = seconds["nmfkit"] / seconds["sklearn_tol0"]
            rows.append(row)
            print(
                f"{estimator:12s} {name:30s} beta {beta:4.1f}: nmfkit "
                f"{1e3 * seconds['nmfkit']:.1f} ms, sklearn "
                f"{1e3 * seconds['sklearn']:.1f} ms (ratio {row['ratio']:.2f})",
                flush=True,
            )
        machine = machine_meta()
    meta = dict(
        **machine,
        iterations=args.iterations,
        repeats=args.repeats,
        minibatch_passes=2,
    )
    args.output.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.output / "bench_beta.json", "w") as f:
        f.write(json.dumps(dict(meta=meta, rows=rows), indent=2))
    with atomic_write(args.output / "bench_beta.md", "w") as f:
        f.write(_markdown(rows))
    print(_markdown(rows))


if __name__ == "__main__":
    main()
