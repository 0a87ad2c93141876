"""NMF on Dask arrays: data larger than one machine, or than its memory.

``nmfkit.NMF().fit(X)`` with X a ``dask.array.Array`` chunked by rows runs here,
on the current ``dask.distributed`` client (or Dask's default scheduler):

- W lives on the workers, split like the rows of X, persisted across
  iterations; its update is row-local;
- ``W^T X``, ``W^T W`` and the objective's sums are reduced in a tree;
- H (small: n_components x n_features) is updated on the driver and
  broadcast once per iteration.

Solvers: ``"mu"`` (Frobenius and Kullback-Leibler) and ``"hals"`` (alias
``"cd"``, Frobenius); ``"auto"`` is ``"hals"`` for the Frobenius loss and
``"mu"`` for KL. Each equals the in-memory solver of that name without
inner loops or extrapolation.

Several fits of one X (the restarts of ``NMF(n_init=...)``, the replicates
of :func:`~nmfkit.consensus.consensus_nmf`, or estimators that differ only in
``n_components`` and ``random_state`` passed to
:func:`~nmfkit._batched_fits.fit_transform_batched`) run together
(:func:`fit_dask_batched`): each pass over X is one task per block that
reads the block once and updates every fit's rows. ``select_rank`` needs X
in memory and refuses a Dask array with a ValueError (pass ``X.compute()``).

Needs the ``dask`` extra: ``pip install 'nmfkit[dask]'``.
"""

from ._blocks import BetaMURule, FrobeniusMURule, HALSRule
from ._estimator import (
    codes_dask,
    fit_transform_dask,
    fit_transform_dask_batched,
    is_dask_array,
    transform_dask,
)
from ._solver import (
    fit_dask,
    fit_dask_batched,
    reconstruction_error_dask,
    reconstruction_errors_dask,
)

__all__ = [
    "BetaMURule",
    "FrobeniusMURule",
    "HALSRule",
    "codes_dask",
    "fit_dask",
    "fit_dask_batched",
    "fit_transform_dask",
    "fit_transform_dask_batched",
    "is_dask_array",
    "reconstruction_error_dask",
    "reconstruction_errors_dask",
    "transform_dask",
]
