"""
Time series: daily load templates and their calendar
====================================================

A year of synthetic daily electricity load profiles
(:func:`nmfkit.datasets.make_load_profiles`) mixes four daily shapes: night
heating, a morning peak, office hours and an evening peak, with weights that
follow the seasons and the week. Each day is a row, each hour a column; NMF
of rank 4 recovers the shapes (the dictionary ``H``) and how much of each was
used every day (the codes ``W``). The true templates are known, so the fit is
checked against them with Hungarian matching on cosine similarity.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from nmfkit import NMF
from nmfkit.datasets import make_load_profiles
from nmfkit.matching import match_components

profiles = make_load_profiles(random_state=0)
X = profiles.data  # 365 days x 24 hours, kW
model = NMF(n_components=4, init="nndsvda", max_iter=3000, tol=1e-9)
W = model.fit_transform(X)
H = model.components_

order, _, similarity = match_components(profiles.templates, H)
print("matched cosine similarity per template:", np.round(similarity, 4))
assert similarity.min() > 0.9  # every shape found (night heating least sharply)

# %%
# The four daily shapes
# ---------------------
hours = np.arange(X.shape[1])
fig, axes = plt.subplots(1, 4, figsize=(10, 2.6), sharey=True, layout="constrained")
for k, ax in enumerate(axes):
    true = profiles.templates[k]
    found = H[order[k]] * true.max() / H[order[k]].max()
    ax.plot(hours, true, "k--", label="true")
    ax.plot(hours, found, label="NMF")
    ax.set(title=profiles.template_names[k], xlabel="hour")
axes[0].legend()
plt.show()

# %%
# Their weights over the year
# ---------------------------
# Night heating is a winter shape; office hours vanish at weekends.
fig, ax = plt.subplots(figsize=(10, 3), layout="constrained")
for k in range(4):
    ax.plot(W[:, order[k]], lw=0.8, label=profiles.template_names[k])
ax.set(xlabel="day of the year", ylabel="weight")
ax.legend(ncols=4, fontsize=8)
plt.show()
