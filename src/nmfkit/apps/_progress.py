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
        The bar's description (the command's name).
    quiet : bool, default=False
        Draw nothing.

    See Also
    --------
    nmfkit.solvers.ConvergenceMonitor : Calls the callbacks a bar reads.

    Examples
    --------
    Without a terminal on stderr (as here) nothing is drawn; the fit is
    the same:

    >>> import numpy as np
    >>> import nmfkit
    >>> from nmfkit.apps import Progress
    >>> X = np.arange(20.0).reshape(5, 4)
    >>> model = nmfkit.NMF(n_components=2, random_state=0, max_iter=30, tol=0)
    >>> with Progress(2, "demo") as progress:
    ...     progress.step("fitting")
    ...     with progress.watch(model):
    ...         W = model.fit_transform(X)
    ...     progress.step("done")
    >>> reference = nmfkit.NMF(n_components=2, random_state=0, max_iter=30, tol=0)
    >>> bool(np.allclose(W, reference.fit_transform(X)))
    True
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
        """Announce the stage about to run (after completing the previous one).

        Parameters
        ----------
        description : str
            The stage, shown after the bar.

        See Also
        --------
        watch : A bar for one fit's iterations.

        Examples
        --------
        >>> from nmfkit.apps import Progress
        >>> with Progress(2, "demo", quiet=True) as progress:
        ...     progress.step("loading")
        ...     progress.step("fitting")
        """
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

        Yields
        ------
        None
            The block runs with the bar shown; the model's own
            ``_solver_options`` is restored when it ends.

        See Also
        --------
        step : Counts a command's stages.

        Examples
        --------
        >>> import numpy as np
        >>> import nmfkit
        >>> from nmfkit.apps import Progress
        >>> model = nmfkit.NMF(n_components=1, random_state=0, max_iter=20, tol=0)
        >>> with Progress(0, "fit", quiet=True).watch(model, label="rank 1"):
        ...     _ = model.fit(np.ones((4, 3)))
        >>> "_solver_options" in vars(model)  # nothing left on the model
        False
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
        """Remove the stage bar (also on leaving a ``with`` block).

        See Also
        --------
        step : Counts a stage.

        Examples
        --------
        >>> from nmfkit.apps import Progress
        >>> progress = Progress(3, "demo", quiet=True)
        >>> progress.step("loading")
        >>> progress.close()
        >>> progress.close()  # a second close does nothing
        """
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
