"""Checkpoints of a running fit, and resuming from them.

With ``NMF(checkpoint=path, checkpoint_every=seconds)`` a monitor callback
writes the state of the fit (factors, history, a fingerprint of X and the
parameters) to ``path`` at most every ``checkpoint_every`` seconds, atomically
(the file is always a complete checkpoint). A later ``fit`` with the same
path and the same data and parameters continues from it: the iteration count,
the history and ``max_iter`` go on where they stopped, and since the
multiplicative updates are deterministic given W and H, a run killed and
resumed ends with the same factors as one that never stopped. A finished fit
removes its checkpoint; an interrupted one (Ctrl-C) writes a last one.

The file uses the container of :mod:`nmfkit._container` (an ``.npz``
with JSON metadata and a SHA-256 digest, read without pickle and within
bounds): the estimator, the data fingerprint and the parameters are compared
before any array is read, and the factors must have the shapes and dtype of
the data. Temporary files that a killed checkpoint write left behind are
removed when the fit starts (resumes) and at every write.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .._observed import ObservedEntries
from ._atomic import remove_stale_temporaries
from ._container import ArrayRule, ModelFileError, read_container, write_container
from ._persistence import encode_params

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "CheckpointWarning",
    "checkpoint_params",
    "data_fingerprint",
]

CHECKPOINT_FORMAT = "nmfkit-checkpoint"

#: Parameters that may change between the interrupted run and its resumption:
#: they decide when to stop, what to print and where to write, never the path.
RESUMABLE_CHANGES = frozenset(
    {
        "max_iter",
        "tol",
        "max_time",
        "verbose",
        "checkpoint",
        "checkpoint_every",
        "on_interrupt",
    }
)


#: Largest iteration count a checkpoint may record (a bound on its history).
_MAX_ITERATIONS = 2**53


class CheckpointWarning(UserWarning):
    """A checkpoint could not be written; the fit went on.

    See Also
    --------
    NMF : Its ``checkpoint`` and ``checkpoint_every`` parameters.
    FitInterruptedWarning : A fit stopped by Ctrl-C.

    Examples
    --------
    A UserWarning, so that a script can turn it into an error:

    >>> import warnings
    >>> from nmfkit import CheckpointWarning
    >>> issubclass(CheckpointWarning, UserWarning)
    True
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", CheckpointWarning)
    ...     try:
    ...         warnings.warn("disk full", CheckpointWarning)
    ...     except CheckpointWarning as caught:
    ...         print(caught)
    disk full
    """


def data_fingerprint(X):
    """Shape, dtype, storage and SHA-256 of a validated data matrix.

    Parameters
    ----------
    X : ndarray, sparse matrix (CSR/CSC in canonical format) or ObservedEntries

    Returns
    -------
    fingerprint : dict
        JSON-safe.
    """
    h = hashlib.sha256()
    if isinstance(X, ObservedEntries):
        storage = "observed"
        for part in (X.rows, X.cols, X.values):
            h.update(np.ascontiguousarray(part).tobytes())
    elif sp.issparse(X):
        storage = X.format
        for part in (X.indptr, X.indices, X.data):
            h.update(np.ascontiguousarray(part).tobytes())
    else:
        storage = "dense"
        h.update(np.ascontiguousarray(X).tobytes())
    return {
        "shape": [int(n) for n in X.shape],
        "dtype": np.dtype(X.dtype).str,
        "storage": storage,
        "sha256": h.hexdigest(),
    }


def _nmfkit_class_name(cls):
    """Name of the nmfkit estimator class ``cls`` is or derives from."""
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] == "nmfkit":
            return klass.__name__
    return cls.__name__


def _compared_params(estimator):
    params = estimator.get_params(deep=False)
    return encode_params(
        {k: v for k, v in params.items() if k not in RESUMABLE_CHANGES}
    )


class Checkpoint:
    """The checkpoint file of one fit.

    Parameters
    ----------
    path : str or path-like
    every : float
        Smallest number of seconds between two writes (0 writes after every
        iteration).
    estimator : BaseEstimator
        Its class and parameters are recorded and checked on resume.
    X : ndarray or sparse matrix
        The validated data.
    """

    def __init__(self, path, every, estimator, X):
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise FileNotFoundError(
                f"the folder of the checkpoint {self.path} does not exist; create "
                "it first or choose another checkpoint path."
            )
        self.every = float(every)
        self.estimator_name = _nmfkit_class_name(type(estimator))
        self.params = _compared_params(estimator)
        self.fingerprint = data_fingerprint(X)
        # An estimator whose factors carry signed parts (the biases of
        # RatingsNMF) names them; the rest must be non-negative.
        signed = getattr(estimator, "_checkpoint_signed_parts", None)
        self.signed_parts = ((), ()) if signed is None else signed()
        self._last_write = time.monotonic()
        self.writes = 0
        self.failed = False
        remove_stale_temporaries(self.path)

    # ---------------------------------------------------------------- write
    def write(self, monitor):
        """Write the monitor's current state (factors and history)."""
        W = np.ascontiguousarray(monitor.W)
        H = np.ascontiguousarray(monitor.H)
        metadata = {
            "estimator": self.estimator_name,
            "params": self.params,
            "data": self.fingerprint,
            "n_iter": int(monitor.n_iter),
        }
        write_container(
            self.path,
            CHECKPOINT_FORMAT,
            metadata,
            {"W": W, "H": H, "history": monitor.history()},
        )
        self._last_write = time.monotonic()
        self.writes += 1

    def callback(self, monitor):
        """Monitor callback: write when ``every`` seconds have passed.

        Nothing is written after the last iteration (``monitor.stopping``):
        the finished fit removes the checkpoint instead.
        """
        if monitor.stopping:
            return
        if time.monotonic() - self._last_write >= self.every:
            try:
                self.write(monitor)
            except OSError as exc:
                # A full disk or a vanished folder must not end a long fit:
                # warn once, keep fitting, try again at the next interval.
                self._last_write = time.monotonic()
                if not self.failed:
                    warnings.warn(
                        f"could not write the checkpoint {self.path} ({exc}); the "
                        "fit goes on and retries at the next interval.",
                        CheckpointWarning,
                        stacklevel=2,
                    )
                self.failed = True

    def remove(self):
        """Delete the checkpoint file (after a finished fit)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    # ----------------------------------------------------------------- read
    def load(self):
        """Return ``(W, H, history)`` from an existing checkpoint, or None.

        Raises
        ------
        ModelFileError
            When the file is not a valid checkpoint, or was written for other
            data, another estimator or other parameters; the message names
            the difference and the fix.
        """
        if not self.path.exists():
            return None
        meta, arrays = read_container(self.path, CHECKPOINT_FORMAT, self._layout)
        W, H, history = arrays["W"], arrays["H"], arrays["history"]
        signed_columns, signed_rows = self.signed_parts
        if (
            W.shape[1] != H.shape[0]
            or np.any(np.delete(W, signed_columns, axis=1) < 0)
            or np.any(np.delete(H, signed_rows, axis=0) < 0)
            or history[-1, 0] != meta["n_iter"]
        ):
            raise ModelFileError(
                f"the checkpoint {self.path} holds factors of different ranks or "
                "with negative values, or a history that does not end at its "
                f"iteration. {self._fix()}"
            )
        return np.array(W), np.array(H), np.array(history)

    def _fix(self):
        return f"Delete {self.path} to start afresh, or choose another checkpoint path."

    def _layout(self, meta):
        """Compare the metadata with this fit; the arrays it may then hold.

        Called by :func:`read_container` before any array is read.
        """
        fix = self._fix()
        if meta.get("estimator") != self.estimator_name:
            raise ModelFileError(
                f"the checkpoint {self.path} belongs to a {meta.get('estimator')} "
                f"fit, not {self.estimator_name}. {fix}"
            )
        data = meta.get("data")
        if data != self.fingerprint:
            differences = [
                f"{key} {data.get(key)!r} there, {value!r} here"
                if isinstance(data, dict)
                else f"{key} missing there"
                for key, value in self.fingerprint.items()
                if not isinstance(data, dict) or data.get(key) != value
            ]
            raise ModelFileError(
                f"the checkpoint {self.path} was written for other data than X "
                f"({'; '.join(differences)}). {fix}"
            )
        saved = meta.get("params")
        if saved != self.params:
            saved = saved if isinstance(saved, dict) else {}
            differences = [
                f"{key}={saved.get(key)!r} there, {value!r} here"
                for key, value in self.params.items()
                if saved.get(key) != value
            ] + [f"{key} only there" for key in saved if key not in self.params]
            raise ModelFileError(
                f"the checkpoint {self.path} was written with other parameters "
                f"({'; '.join(differences)}); only {sorted(RESUMABLE_CHANGES)} "
                f"may change when resuming. {fix}"
            )
        n_iter = meta.get("n_iter")
        if (
            not isinstance(n_iter, int)
            or isinstance(n_iter, bool)
            or not 0 <= n_iter <= _MAX_ITERATIONS
        ):
            raise ModelFileError(
                f"the checkpoint {self.path} records an invalid iteration count "
                f"{n_iter!r}. {fix}"
            )
        n_samples, n_features = self.fingerprint["shape"]
        dtype = np.dtype(self.fingerprint["dtype"])
        factor = (f"{dtype.kind}{dtype.itemsize}",)
        rank = (1, None)  # the same in W and H, checked once they are read
        return {
            "W": ArrayRule(factor, (n_samples, rank)),
            "H": ArrayRule(factor, (rank, n_features)),
            "history": ArrayRule(("f8",), ((1, n_iter + 1), 3)),
        }


def checkpoint_params(args):
    """The ``NMF`` keyword arguments from parsed ``--checkpoint*`` options
    (the command line declares them: ``nmfkit.cli._options``)."""
    return {"checkpoint": args.checkpoint, "checkpoint_every": args.checkpoint_every}
