"""
Food for thought: the same alternating scheme gives k-means and PCA
===================================================================

The course's lab closes with a question: NMF alternates between the
dictionary ``D`` and the codes ``S`` of ``X ~ D S``. What if the constraints
on ``S`` and ``D`` change? The same alternating least-squares scheme gives
other linear embeddings:

* **one-hot codes** (each column of ``S`` a unit vector), ``D`` free: the
  ``D`` step sets each atom to the mean of its samples, the ``S`` step
  assigns each sample to its nearest atom. That is Lloyd's **k-means**;
* **orthonormal codes** (``S S^T = I``), ``D`` unconstrained: the ``D`` step
  is ``D = X S^T``, the ``S`` step an orthogonal Procrustes problem. On
  centred data this is subspace iteration, and it converges to the
  **principal subspace** (PCA);
* **non-negative codes and dictionary**: NMF, whose atoms are parts.

We run the first two from scratch, next to scikit-learn's ``KMeans`` and
``PCA``, on the digits (samples as columns, the course's notation).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import subspace_angles
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from nmfkit import NMF

digits = load_digits()
X = digits.data.T  # features x samples: 64 x 1797
r = 10

# %%
# One-hot codes: k-means
# ----------------------
# From the same initial atoms as scikit-learn's Lloyd iterations.

rng = np.random.default_rng(0)
D0 = X[:, rng.choice(X.shape[1], r, replace=False)].copy()


def one_hot_scheme(X, D, n_iter=300):
    for _ in range(n_iter):
        # S step: the best one-hot code of each sample is its nearest atom
        distances = ((X[:, None, :] - D[:, :, None]) ** 2).sum(axis=0)
        labels = distances.argmin(axis=0)
        S = np.eye(D.shape[1])[:, labels]
        # D step: least squares with one-hot S, D = X S^T (S S^T)^-1: the means
        D_new = (X @ S.T) / S.sum(axis=1)
        if np.allclose(D_new, D, rtol=0, atol=0):
            break
        D = D_new
    return D, labels


D_kmeans, labels = one_hot_scheme(X, D0)
kmeans = KMeans(r, init=D0.T, n_init=1, algorithm="lloyd", tol=0, max_iter=300)
kmeans.fit(X.T)
ari = adjusted_rand_score(kmeans.labels_, labels)
print(f"adjusted Rand index against scikit-learn's KMeans: {ari:.6f}")
assert ari == 1.0

# %%
# Orthonormal codes, unconstrained dictionary: PCA
# ------------------------------------------------
# On centred data; the ``S`` step maximizes ``tr(S^T D^T Xc)`` over
# ``S S^T = I``, solved by the SVD of ``D^T Xc`` (orthogonal Procrustes).

Xc = X - X.mean(axis=1, keepdims=True)
k = 5
S = np.linalg.qr(rng.standard_normal((Xc.shape[1], k)))[0].T  # k x n, orthonormal rows
for _ in range(500):
    D = Xc @ S.T  # D step: least squares with S S^T = I
    U, _, Vt = np.linalg.svd(D.T @ Xc, full_matrices=False)
    S = U @ Vt  # S step: orthogonal Procrustes
pca = PCA(k).fit(X.T)
angles = subspace_angles(D, pca.components_.T)
print(f"largest principal angle to scikit-learn's PCA subspace: {angles.max():.1e} rad")
assert angles.max() < 1e-6

# %%
# Non-negative codes and dictionary: NMF
# --------------------------------------
nmf = NMF(r, init="nndsvda", random_state=0, max_iter=400).fit(X.T)

# %%
# Three dictionaries side by side
# -------------------------------
# k-means atoms are prototypes (whole digits), PCA atoms are signed global
# patterns, NMF atoms are additive parts (strokes).
rows = [
    ("k-means (one-hot codes)", D_kmeans.T, "gray_r"),
    ("PCA (orthonormal codes)", pca.components_, "RdBu_r"),
    ("NMF (non-negative)", nmf.components_, "gray_r"),
]
fig, axes = plt.subplots(3, r, figsize=(10, 3.4), layout="constrained")
for (name, atoms, cmap), row in zip(rows, axes, strict=True):
    for j, ax in enumerate(row):
        ax.set_axis_off()
        if j < len(atoms):
            image = atoms[j].reshape(8, 8)
            limit = np.abs(image).max()
            low = -limit if cmap == "RdBu_r" else 0
            ax.imshow(image, cmap=cmap, vmin=low, vmax=limit)
    row[0].set_title(name, loc="left", fontsize=9)
plt.show()
