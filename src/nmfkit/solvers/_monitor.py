"""One stopping rule and one history for every solver.

A solver reports the objective before its first iteration and after each
one; the monitor keeps the history ``(iteration, elapsed seconds, objective)``
and says when to stop:

- ``tol``: stop after iteration ``k`` when the relative decrease of the
  objective, ``(L[k-1] - L[k]) / L[k-1]``, falls below ``tol`` (``tol=0``
  never stops early; an objective that reaches exactly zero stops). A
  solver that evaluates the objective every ``m`` iterations only (the
  beta-divergence MU, ``objective_every``) records a row every ``m``
  iterations, and the rule compares the mean decrease per iteration over
  those ``m``: ``(L[k-m] - L[k]) / L[k-m] < m tol``. With
  ``rule="scikit-learn"`` (scikit-learn's multiplicative updates) the test
  is scikit-learn's instead: every 10th iteration, on the error
  ``e = sqrt(2 L)``, stop when ``(e[k-10] - e[k]) / e[0] < tol``; with
  ``rule="violation"`` (scikit-learn's coordinate descent) after every
  iteration when its projected-gradient violation, measured by the sweeps
  (``violation_source``), is at most ``tol`` times the first iteration's,
  and the objective's relative decrease is below ``tol`` too (on ordinary
  data the violation test is the later one, so the run stops where
  scikit-learn's does; with one dominant entry scikit-learn's test alone
  stops after two iterations, far from the minimum);
- ``max_iter``: stop after that many iterations (then ``converged`` is False);
- ``max_time``: stop after that many seconds of solver time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ConvergenceMonitor", "SolverResult"]

_RULES = ("decrease", "scikit-learn", "violation")


@dataclass
class SolverResult:
    """What every solver returns.

    Attributes
    ----------
    W : ndarray of shape (n_samples, n_components)
    H : ndarray of shape (n_components, n_features)
    n_iter : int
        Iterations done.
    history : ndarray of shape (n_rows, 3)
        Rows ``(iteration, elapsed seconds, objective)``, the first row before
        any update; one row per iteration (``n_rows = n_iter + 1``) unless
        the solver evaluates the objective less often (the rows then name
        the iterations they are for).
    converged : bool
        Whether ``tol`` stopped the run (rather than ``max_iter`` or
        ``max_time``).
    info : dict
        Solver-specific details (empty for most solvers).

    See Also
    --------
    ConvergenceMonitor : Records the history a result holds.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.solvers import ConvergenceMonitor
    >>> W, H = np.ones((3, 2)), np.ones((2, 4))
    >>> monitor = ConvergenceMonitor(tol=0.01, max_iter=10, clock=lambda: 0.0)
    >>> monitor.start(10.0, W, H)
    >>> _ = monitor.update(5.0, W, H)
    >>> result = SolverResult.from_monitor(monitor, W, H)
    >>> result.n_iter, result.converged, result.history[:, 2].tolist()
    (1, False, [10.0, 5.0])
    """

    W: np.ndarray
    H: np.ndarray
    n_iter: int
    history: np.ndarray
    converged: bool
    info: dict = field(default_factory=dict)

    @classmethod
    def from_monitor(cls, monitor, W, H, info=None):
        """The result of a run that ``monitor`` followed, ending at ``(W, H)``.

        Parameters
        ----------
        monitor : ConvergenceMonitor
            The monitor of the run: its iterations, history and convergence.
        W : ndarray of shape (n_samples, n_components)
            The final codes.
        H : ndarray of shape (n_components, n_features)
            The final dictionary.
        info : dict, default=None
            Solver-specific details.

        Returns
        -------
        result : SolverResult

        See Also
        --------
        ConvergenceMonitor.history : The history copied into the result.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit.solvers import ConvergenceMonitor
        >>> W, H = np.ones((3, 2)), np.ones((2, 4))
        >>> monitor = ConvergenceMonitor(tol=0.01, max_iter=10, clock=lambda: 0.0)
        >>> monitor.start(10.0, W, H)
        >>> SolverResult.from_monitor(monitor, W, H, info={"note": 1}).info
        {'note': 1}
        """
        return cls(
            W=W,
            H=H,
            n_iter=monitor.n_iter,
            history=monitor.history(),
            converged=monitor.converged,
            info={} if info is None else info,
        )


class ConvergenceMonitor:
    """Record the objective of a run and decide when it stops.

    Parameters
    ----------
    tol : float
        Relative decrease of the objective below which the run stops.
    max_iter : int
        Largest number of iterations.
    max_time : float or None
        Largest number of seconds, or None for no limit.
    verbose : int
        When positive, print the objective after every iteration.
    callbacks : sequence of callables
        Each is called as ``callback(monitor)`` after every iteration, once
        the stopping decision is known (``monitor.stopping``).
    history : array-like of shape (k + 1, 3) or None
        The history of an earlier, interrupted run to continue (a resumed
        checkpoint): iteration numbers, elapsed seconds and ``max_iter``
        count on from its last row.
    clock : callable, default=time.perf_counter
        Source of the seconds in the history and for ``max_time`` (a
        benchmark on a shared machine may pass ``time.process_time``).
    objective_scale : float, default=1.0
        Factor from the solver's objective to the recorded one: a fit solved
        at unit scale (:mod:`nmfkit._scaling`) records the user's objective.
        The stopping rule, being relative, is the same in both units.
    rule : {"decrease", "scikit-learn", "violation"}, default="decrease"
        The ``tol`` test (module text): the relative decrease of every
        iteration, scikit-learn's test of its multiplicative updates
        (every 10th iteration, relative to the initial error; scikit-learn
        tests its reconstruction error, here it is the whole objective, the
        same without penalties), or scikit-learn's test of its coordinate
        descent (the solver sets ``violation_source``, a callable returning
        the violation of the iteration just done).

    See Also
    --------
    SolverResult : What a solver returns, built from the monitor.
    nmfkit.solvers.fit_hals : A solver that reports to a monitor.

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.solvers import ConvergenceMonitor
    >>> W, H = np.ones((3, 2)), np.ones((2, 4))
    >>> monitor = ConvergenceMonitor(tol=0.01, max_iter=10, clock=lambda: 0.0)
    >>> monitor.start(10.0, W, H)
    >>> monitor.update(5.0, W, H)  # a 50% decrease: go on
    False
    >>> monitor.update(4.99, W, H)  # 0.2%, below tol: stop
    True
    >>> monitor.converged, monitor.n_iter
    (True, 2)
    """

    def __init__(
        self,
        tol=1e-4,
        max_iter=200,
        max_time=None,
        verbose=0,
        callbacks=(),
        history=None,
        clock=time.perf_counter,
        objective_scale=1.0,
        rule="decrease",
    ):
        if rule not in _RULES:
            raise ValueError(f"rule must be one of {_RULES}, got {rule!r}")
        self.rule = rule
        self.violation_source = None
        self._first_violation = None
        self.clock = clock
        self.objective_scale = float(objective_scale)
        self.tol = float(tol)
        self.max_iter = int(max_iter)
        self.max_time = None if max_time is None else float(max_time)
        self.verbose = verbose
        self.callbacks = list(callbacks)
        self._prior = (
            None
            if history is None
            else [tuple(row) for row in np.asarray(history, float).reshape(-1, 3)]
        )
        self._rows = []
        self.stopping = False
        self.converged = False
        self._start = None
        self.W = None
        self.H = None

    def start(self, objective, W, H):
        """Record the objective of the initial factors (iteration 0).

        ``W`` and ``H`` are kept by reference (``H`` may be a transposed
        view), so that whoever holds the monitor can reach the latest factors,
        for example after an interruption.

        Parameters
        ----------
        objective : float
            The objective of the initial factors, in the solver's units.
        W : ndarray of shape (n_samples, n_components)
            The initial codes.
        H : ndarray
            The initial dictionary (or its transpose).

        See Also
        --------
        update : Record one more iteration.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit.solvers import ConvergenceMonitor
        >>> W, H = np.ones((3, 2)), np.ones((2, 4))
        >>> monitor = ConvergenceMonitor(tol=0.01, max_iter=10, clock=lambda: 0.0)
        >>> monitor.start(10.0, W, H)
        >>> monitor.history().tolist()
        [[0.0, 0.0, 10.0]]
        """
        self._start = self.clock()
        objective = float(objective) * self.objective_scale
        self._rows = [(0, 0.0, objective)]
        if self._prior:
            self._rows = [(int(i), t, obj) for i, t, obj in self._prior]
            self._start -= self._rows[-1][1]
        self.converged = False
        self.stopping = False
        self.W, self.H = W, H
        if self.verbose:
            print(f"iteration    0  objective {objective:.10g}")

    @property
    def n_iter(self):
        """Iterations recorded so far."""
        return self._rows[-1][0] if self._rows else 0

    def update(self, objective, W, H, steps=1):
        """Record the objective and factors after ``steps`` more iterations.

        Calls every callback with the monitor, then returns True when the
        run should stop. ``steps > 1``: the solver did that many iterations
        since the last row without evaluating the objective; the ``tol``
        rule then holds the decrease to ``steps * tol`` (see the module
        text).

        Parameters
        ----------
        objective : float
            The objective after the iteration, in the solver's units.
        W : ndarray of shape (n_samples, n_components)
            The codes after the iteration.
        H : ndarray
            The dictionary (or its transpose) after the iteration.
        steps : int, default=1
            Iterations done since the last row.

        Returns
        -------
        stop : bool
            Whether the run should stop (``tol``, ``max_iter`` or
            ``max_time`` reached).

        Raises
        ------
        ValueError
            When ``steps`` is below 1.

        See Also
        --------
        start : Record the initial objective.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit.solvers import ConvergenceMonitor
        >>> W, H = np.ones((3, 2)), np.ones((2, 4))
        >>> monitor = ConvergenceMonitor(tol=0.01, max_iter=10, clock=lambda: 0.0)
        >>> monitor.start(10.0, W, H)
        >>> seen = []
        >>> monitor.callbacks.append(lambda m: seen.append(m.n_iter))
        >>> monitor.update(9.0, W, H), seen
        (False, [1])
        """
        steps = int(steps)
        if steps < 1:
            raise ValueError(f"steps={steps} is not valid; give at least 1.")
        elapsed = self.clock() - self._start
        iteration = self.n_iter + steps
        previous = self._rows[-1][2]
        objective = float(objective) * self.objective_scale
        self._rows.append((iteration, elapsed, objective))
        self.W, self.H = W, H
        self.stopping = self._should_stop(
            iteration, elapsed, previous, objective, steps
        )
        if self.verbose:
            print(
                f"iteration {iteration:4d}  objective {objective:.10g}  {elapsed:.3f} s"
            )
        for callback in self.callbacks:
            callback(self)
        return self.stopping

    def _should_stop(self, iteration, elapsed, previous, objective, steps=1):
        if self.tol > 0 and self._tol_test(iteration, previous, objective, steps):
            self.converged = True
            return True
        if iteration >= self.max_iter:
            return True
        return self.max_time is not None and elapsed >= self.max_time

    def _tol_test(self, iteration, previous, objective, steps):
        if objective == 0.0:
            return True
        decreased = (previous - objective) < steps * self.tol * previous
        if self.rule == "decrease":
            return decreased
        if self.rule == "violation":
            # the sweeps' violation is taken (and reset) every iteration; the
            # objective must have stopped falling too: a dominant entry makes
            # the first violation huge, and scikit-learn's test alone then
            # stops a fit far from its minimum
            violation = self.violation_source()
            if self._first_violation is None:
                self._first_violation = violation
            first = self._first_violation
            return (first == 0 or violation <= self.tol * first) and decreased
        first = self._rows[0]
        if (iteration - first[0]) % 10:
            return False
        # the row 10 iterations back (every row, or every 10th, is recorded)
        before = next(
            (obj for i, _, obj in reversed(self._rows[:-1]) if i <= iteration - 10),
            None,
        )
        if before is None:
            return False
        error = np.sqrt(2 * objective)
        return (np.sqrt(2 * before) - error) < self.tol * np.sqrt(2 * first[2])

    def history(self):
        """History as an array of rows ``(iteration, seconds, objective)``.

        Returns
        -------
        history : ndarray of shape (n_iter + 1, 3)
            One row before the first iteration and one after each.

        See Also
        --------
        nmfkit.NMF : Keeps this history in ``history_``.

        Examples
        --------
        >>> import numpy as np
        >>> from nmfkit.solvers import ConvergenceMonitor
        >>> W, H = np.ones((3, 2)), np.ones((2, 4))
        >>> monitor = ConvergenceMonitor(tol=0.01, max_iter=10, clock=lambda: 0.0)
        >>> monitor.start(10.0, W, H)
        >>> _ = monitor.update(8.0, W, H)
        >>> monitor.history()
        array([[ 0.,  0., 10.],
               [ 1.,  0.,  8.]])
        """
        return np.array(self._rows, dtype=np.float64).reshape(-1, 3)
