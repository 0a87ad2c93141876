"""Progress bars (tqdm, on stderr, on a terminal only), silent with ``quiet``.

Two kinds:

- :class:`Progress` counts the stages of a command (loading, fitting each
  model, drawing figures) or the fits of a rank selection;
- :meth:`Progress.watch` shows one fit's iterations, with the objective and
  its relative decrease, through the monitor callbacks every nmfkit solver
  calls after each iteration. It appears only once a fit has run for
  :data:`DELAY` seconds, so quick fits print nothing.

Without a terminal on stderr (logs, pipes, tests), without tqdm, or with
``quiet``, nothing is drawn.
"""

from __future__ import annotations

import contextlib
import sys

__all__ = ["DELAY", "MININTERVAL", "Progress"]

#: Seconds a bar waits before it appears.
DELAY = 1.0
#: Smallest number of seconds between two redraws.
MININTERVAL = 0.1


def _tqdm(quiet, **kwargs):
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # the apps extra brings tqdm; without it, no bar
        return None
    # disable=None: no bar when stderr is not a terminal.
    return tqdm(
        file=sys.stderr, leave=False, disable=None, mininterval=MININTERVAL, **kwargs
    )


def _last_two_objectives(monitor):
    rows = getattr(monitor, "_rows", None)
    if rows is None:  # any monitor: the public (slower) history
        rows = monitor.history()
    if len(rows) < 2:
        return None
    return float(rows[-2][2]), float(rows[-1][2])


class Progress:
    """A stage counter, and per-iteration bars for nmfkit fits.

    Parameters
    ----------
    total : int
        Number of stages (0 for a command that only watches fits).
    description : str
    quiet : bool, default=False
    """

    def __init__(self, total, description, *, quiet=False):
        self.description = description
        self.quiet = quiet
        self._bar = None
        if total:
            self._bar = _tqdm(
                quiet, total=total, desc=description, unit="step", delay=DELAY
            )

    def step(self, description):
        """Announce the stage about to run (after completing the previous one)."""
        if self._bar is not None:
            self._bar.set_postfix_str(description, refresh=False)
            self._bar.update(1)

    @contextlib.contextmanager
    def watch(self, model, label=None):
        """Show the iterations of ``model``'s next fit in this block.

        Parameters
        ----------
        model : nmfkit estimator
            Its solver's monitor gets one more callback for the block's
            duration (the model's parameters and saved file are unchanged).
        label : str, default=None
            The bar's description (default: the command's).
        """
        if not hasattr(model, "_solver_options"):  # not nmfkit's: no monitor
            yield
            return
        bar = _tqdm(
            self.quiet,
            total=getattr(model, "max_iter", None),
            desc=label or self.description,
            unit="it",
            delay=DELAY,
        )
        if bar is None:
            yield
            return

        def show(monitor):
            pair = _last_two_objectives(monitor)
            if pair is not None:
                previous, current = pair
                decrease = (previous - current) / previous if previous else 0.0
                bar.set_postfix_str(
                    f"objective {current:.6g}, decrease {decrease:.1e}",
                    refresh=False,
                )
            bar.update(monitor.n_iter - bar.n)  # redraws at most every MININTERVAL

        solver_options = model._solver_options

        def with_progress(callbacks=(), **kwargs):
            callbacks = list(callbacks)
            # Before the last one: the interrupt guard closes the update.
            callbacks.insert(max(len(callbacks) - 1, 0), show)
            return solver_options(callbacks=callbacks, **kwargs)

        model._solver_options = with_progress
        try:
            yield
        finally:
            vars(model).pop("_solver_options", None)
            bar.close()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
