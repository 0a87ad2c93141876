"""
NMF of a Dask array
===================

``NMF().fit(X)`` with ``X`` a ``dask.array.Array`` chunked by rows runs on
the current ``dask.distributed`` client: the codes ``W`` stay on the workers,
split like ``X``; each iteration reads every block of ``X`` once and sends
back only the small ``r x p`` products; the dictionary ``H`` is updated on the
client. The result equals the in-memory fit of the same solver from the same
start. Here a small in-process cluster (``LocalCluster(processes=False)``)
stands in for a real one; see :doc:`/user_guide/scale` and :doc:`/scaling`.
"""

# %%
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster

from nmfkit import NMF

rng = np.random.default_rng(0)
X_numpy = rng.random((4000, 8)) @ rng.random((8, 300)) + 0.1 * rng.random((4000, 300))
X = da.from_array(X_numpy, chunks=(1000, -1))  # four blocks of rows, all columns

cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                       dashboard_address=None)
client = Client(cluster)

options = dict(n_components=8, init="random", random_state=0, max_iter=30,
               tol=0, solver="mu")
model = NMF(**options)
W = model.fit_transform(X)  # a Dask array, chunked like X's rows
print(type(W).__name__, W.chunks[0])

# %%
# The same fit in memory
# ----------------------
reference = NMF(**options)
W_ref = reference.fit_transform(X_numpy)
difference = np.abs(model.components_ - reference.components_).max()
print(f"largest relative difference of H: "
      f"{difference / np.abs(reference.components_).max():.1e}")
assert np.allclose(W.compute(), W_ref, rtol=1e-8, atol=1e-10)

# %%
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.plot(reference.loss_curve_, lw=3, alpha=0.5, label="NumPy")
ax.plot(model.loss_curve_, "k--", label="Dask, 2 workers")
ax.set(xlabel="iteration", ylabel="objective", yscale="log")
ax.legend()
plt.show()

client.close()
cluster.close()
