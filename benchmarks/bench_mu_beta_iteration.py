"""Cost per iteration of the beta MU against scikit-learn's, same start.

Both solvers start from scikit-learn's NNDSVDA of the built-in mixture's
spectrogram at unit scale (as nmfkit solves it) and run the same iterates
(``update_order="WH"``); scikit-learn evaluates its objective every 10
iterations (``tol`` > 0), nmfkit every iteration or every 10
(``objective_every``). Times are ``process_time``, interleaved, in one
process; ratios above 1 mean nmfkit is faster.

Usage::

    python benchmarks/bench_mu_beta_iteration.py [--iterations 100] [--big]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.decomposition._nmf import _fit_multiplicative_update, _initialize_nmf
from threadpoolctl import threadpool_limits

from nmfkit._objective import Penalties
from nmfkit._scaling import typical_magnitude
from nmfkit.audio import spectrogram
from nmfkit.audio._fit import DEFAULT_FLOOR
from nmfkit.datasets import make_music_mixture
from nmfkit.solvers import ConvergenceMonitor, fit_mu_beta


def unit_spectrogram(beta, big):
    music = (
        make_music_mixture(duration=8.0, sample_rate=16000, random_state=2)
        if big
        else make_music_mixture()
    )
    kind = "power" if beta <= 0 else "magnitude"
    S = spectrogram(music.mixture, music.sample_rate, kind=kind).values
    S = S / S.max()
    if beta <= 0:
        S = np.maximum(S, DEFAULT_FLOOR)
    X = np.ascontiguousarray(S.T)
    return X / typical_magnitude(X)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rank", type=int, default=12)
    parser.add_argument("--big", action="store_true")
    args = parser.parse_args(argv)
    n = args.iterations
    with threadpool_limits(1):
        for beta in (1.0, 0.0, 0.5, 1.5):
            X = unit_spectrogram(beta, args.big)
            W, H = _initialize_nmf(X, args.rank, init="nndsvda", random_state=0)
            times = {"scikit-learn": [], "nmfkit every 1": [], "nmfkit every 10": []}
            for _ in range(args.repeats):
                t = time.process_time()
                _fit_multiplicative_update(X, W.copy(), H.copy(), beta, n, 1e-12)
                times["scikit-learn"].append(time.process_time() - t)
                for every in (1, 10):
                    t = time.process_time()
                    fit_mu_beta(
                        X, W, H, Penalties(), beta=beta, update_order="WH",
                        l1_placement="denominator", objective_every=every,
                        monitor=ConvergenceMonitor(tol=0, max_iter=n),
                    )  # fmt: skip
                    times[f"nmfkit every {every}"].append(time.process_time() - t)
            med = {k: float(np.median(v)) / n * 1e3 for k, v in times.items()}
            ratios = ", ".join(
                f"{k} {med['scikit-learn'] / v:.2f}x"
                for k, v in med.items()
                if k != "scikit-learn"
            )
            print(
                f"beta={beta} X {X.shape}: ms/iteration "
                + ", ".join(f"{k} {v:.2f}" for k, v in med.items())
                + f"; speed-up {ratios}"
            )


if __name__ == "__main__":
    main()
