"""Helpers of the interruption and checkpoint tests.

:class:`InterruptAt` interrupts a fit in this process at a chosen iteration.
Run as a script, this module is a long NMF fit in a child process:

Usage: python _fit_child.py OUT_JSON [--checkpoint PATH] [--on-interrupt keep|raise]

Fits ``NMF(tol=0, max_iter=10**6, verbose=1)`` on the data of
:func:`child_data` (so it runs until a signal stops it), printing one line per
iteration, then writes what the parent checks to OUT_JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import warnings

import numpy as np

from nmfkit import NMF, FitInterruptedWarning
from nmfkit._objective import penalized_objective


class InterruptAt(NMF):
    """NMF whose monitor gets one more callback, acting at iteration ``at``.

    ``how="signal"`` sends a real SIGINT to this process (as Ctrl-C does);
    ``how="raise"`` raises KeyboardInterrupt from the callback.
    """

    at = 5
    how = "signal"

    def _solver_options(self, callbacks=(), history=None, **kwargs):
        def act(monitor):
            if monitor.n_iter == self.at:
                if self.how == "signal":
                    os.kill(os.getpid(), signal.SIGINT)
                else:
                    raise KeyboardInterrupt

        # Before the guard's closing callback, like any user callback.
        callbacks = [*callbacks[:-1], act, *callbacks[-1:]]
        return super()._solver_options(callbacks=callbacks, history=history, **kwargs)


# the multiplicative updates resume exactly (extrapolation keeps extra state)
PARAMS = dict(
    n_components=4, init="random", random_state=7, tol=0, l2_H=0.05, solver="mu"
)


def child_data():
    """The data matrix shared by the child and the parent."""
    rng = np.random.default_rng(11)
    return rng.random((60, 40)) @ np.diag(np.linspace(0.5, 2, 40))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--on-interrupt", default="keep")
    args = parser.parse_args()
    X = child_data()
    model = NMF(
        max_iter=10**6,
        verbose=1,
        checkpoint=args.checkpoint,
        checkpoint_every=0.0,
        on_interrupt=args.on_interrupt,
        **PARAMS,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        W = model.fit_transform(X)
    H = model.components_
    objective = penalized_objective(X, W, H, model._penalties(X))
    with open(args.out, "w") as f:
        json.dump(
            {
                "n_iter": model.n_iter_,
                "history_rows": len(model.history_),
                "last_iteration": float(model.history_[-1, 0]),
                "loss": model.loss_,
                "recomputed_objective": objective,
                "finite": bool(np.isfinite(W).all() and np.isfinite(H).all()),
                "warnings": [
                    str(w.message)
                    for w in caught
                    if issubclass(w.category, FitInterruptedWarning)
                ],
            },
            f,
        )


if __name__ == "__main__":
    main()
