"""
Streaming with MiniBatchNMF
===========================

:class:`nmfkit.MiniBatchNMF` updates the dictionary from one mini-batch of
rows at a time (Lefevre, Bach and Fevotte's online algorithm, as in
scikit-learn), so the data never need to be in memory at once:
``partial_fit`` takes one batch, for example from a memory-mapped file. This
example streams the 8 x 8 digits in batches, and compares the dictionary and
the objective with a full-batch :class:`nmfkit.NMF` fit and with scikit-learn's
``MiniBatchNMF`` on the same batches.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import MiniBatchNMF as SklearnMiniBatchNMF

from nmfkit import NMF, MiniBatchNMF
from nmfkit.matching import match_components

X = load_digits().data
# nmfkit solves at unit scale (the geometric mean of the first batch's
# positive entries); at that scale its iterates are scikit-learn's exactly.
first = X[:256]
X = X / np.exp(np.log(first[first > 0]).mean())
folder = Path(tempfile.mkdtemp())
np.save(folder / "digits.npy", X)
stream = np.load(folder / "digits.npy", mmap_mode="r")  # nothing read yet

batch_size, rank = 256, 10
rng = np.random.default_rng(0)
W0 = rng.random((X.shape[0], rank)) + 0.1  # the same start for both libraries
H0 = rng.random((rank, X.shape[1])) + 0.1
options = dict(n_components=rank, batch_size=batch_size, init="custom")
model = MiniBatchNMF(**options)
errors = []
for _ in range(5):
    for start in range(0, stream.shape[0], batch_size):
        model.partial_fit(np.asarray(stream[start:start + batch_size]),
                          W=W0[start:start + batch_size], H=H0.copy())
    codes = model.transform(X)
    errors.append(np.linalg.norm(X - codes @ model.components_))
print("Frobenius error after each pass:", np.round(errors, 1))

# %%
# Against a full-batch fit and scikit-learn
# -----------------------------------------
full = NMF(n_components=rank, init="nndsvda", max_iter=500, random_state=0).fit(X)
full_error = np.linalg.norm(X - full.transform(X) @ full.components_)
reference = SklearnMiniBatchNMF(**options)
for _ in range(5):
    for start in range(0, X.shape[0], batch_size):
        reference.partial_fit(X[start:start + batch_size],
                              W=W0[start:start + batch_size], H=H0.copy())
difference = np.abs(reference.components_ - model.components_).max()
print(f"full-batch NMF error {full_error:.1f}")
print(f"largest difference from scikit-learn's dictionary: {difference:.1e}")
assert difference < 1e-6 * np.abs(reference.components_).max()
_, _, cosine = match_components(full.components_, model.components_)
print("matched cosine with the full-batch dictionary:", np.round(cosine, 2))

# %%
fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
ax.plot(range(1, 6), errors, "o-", label="MiniBatchNMF, after each pass")
ax.axhline(full_error, color="k", ls="--", label="NMF, full batch")
ax.set(xlabel="passes over the data", ylabel="||X - WH||_F")
ax.legend()
plt.show()
