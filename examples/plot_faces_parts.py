"""
Faces: NMF learns parts, PCA learns global patterns
===================================================

Lee and Seung's classic observation (Nature 1999): on face images the
non-negative factors are localized parts (eyes, mouths, outlines), while
PCA's components are signed, whole-face patterns. This example uses the 100
face crops of Labeled Faces in the Wild that ship with scikit-image (25 x 25
pixels, no download).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from nmfkit import NMF
from nmfkit.datasets import load_lfw_subset
from nmfkit.plotting import plot_components, plot_reconstructions

faces = load_lfw_subset()
X = faces.data  # 100 x 625, values in [0, 1]
print(X.shape, faces.image_shape)

# %%
# Fit 16 components
# -----------------
# No penalty is needed for parts: non-negativity alone makes the codes and
# the dictionary sparse. (On data this small, L2 penalties make HALS switch
# some components off entirely; check ``(W.sum(axis=0) == 0).sum()``.)
model = NMF(n_components=16, init="nndsvda", max_iter=400, random_state=0)
W = model.fit_transform(X)
print(f"objective {model.loss_:.4g} after {model.n_iter_} iterations")
print(f"exact zeros in the codes: {np.mean(W == 0):.0%}, "
      f"in the dictionary: {np.mean(model.components_ == 0):.0%}")
assert np.all(W.sum(axis=0) > 0)  # every component is used

# %%
# The dictionary: parts
# ---------------------
fig_parts = plot_components(W, model.components_, faces.image_shape, n_cols=8,
                            title="NMF components")

# %%
# PCA on the same faces: global, signed patterns
# ----------------------------------------------
pca = PCA(16, random_state=0).fit(X)
fig, axes = plt.subplots(2, 8, figsize=(9, 2.6), layout="constrained")
for component, ax in zip(pca.components_, axes.ravel(), strict=True):
    limit = np.abs(component).max()
    ax.imshow(component.reshape(faces.image_shape), cmap="RdBu_r",
              vmin=-limit, vmax=limit)
    ax.set_axis_off()
fig.suptitle("PCA components (red positive, blue negative)")
plt.show()

# %%
# Reconstructions from 16 parts
# -----------------------------
fig_reconstructions = plot_reconstructions(
    X, model.inverse_transform(W), faces.image_shape, n_images=8
)
