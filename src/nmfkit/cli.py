"""The ``nmfkit`` command."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from . import __version__, _cli_ratings

__all__ = ["main"]


def _demo(args):
    """Fit nmfkit and scikit-learn on scikit-learn's bundled digits."""
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.decomposition import NMF as SklearnNMF
    from sklearn.exceptions import ConvergenceWarning

    from . import NMF

    X = load_digits().data / 16.0
    rank = args.rank
    settings = dict(n_components=rank, init="nndsvda", max_iter=args.max_iter, tol=0)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, model in (
            ("nmfkit mu", NMF(solver="mu", **settings)),
            ("scikit-learn mu", SklearnNMF(solver="mu", **settings)),
            ("scikit-learn cd", SklearnNMF(solver="cd", **settings)),
        ):
            start = time.perf_counter()
            W = model.fit_transform(X)
            seconds = time.perf_counter() - start
            rows.append((name, model.reconstruction_err_, seconds, W))
    print(
        f"digits {X.shape[0]} x {X.shape[1]}, rank {rank}, {args.max_iter} iterations"
    )
    print(f"{'model':<18}{'||X - WH||_F':>14}{'seconds':>10}")
    for name, err, seconds, _ in rows:
        print(f"{name:<18}{err:>14.6f}{seconds:>10.3f}")
    return 0


def build_parser():
    """Return the argument parser of the ``nmfkit`` command."""
    parser = argparse.ArgumentParser(
        prog="nmfkit", description="Non-negative matrix factorization."
    )
    parser.add_argument("--version", action="version", version=f"nmfkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the main job on built-in data")
    demo.add_argument("--rank", type=int, default=16)
    demo.add_argument("--max-iter", type=int, default=200)
    demo.set_defaults(func=_demo)
    _cli_ratings.add_parser(sub)
    return parser


def main(argv=None):
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    np.set_printoptions(precision=4)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
