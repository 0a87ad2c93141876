"""
Consensus NMF: stable programs from many fits
=============================================

Consensus NMF (cNMF, Kotliar et al. 2019) fits NMF many times per candidate
rank, pools the components of all the fits, drops those that few fits found
(by their local density), clusters the rest with k-means and takes the median
of every cluster as a consensus spectrum; the usages are then refitted with
the spectra fixed. The stability of the clustering (its silhouette) and the
error of the consensus model, against the rank, choose the rank.

The data here are synthetic single-cell-like counts
(:func:`nmfkit.consensus.make_planted_programs`, not real data): 300 cells x
200 genes, Poisson counts of cells that mix five planted gene programs. The
programs are known, so the consensus spectra are checked against them by
Hungarian matching on cosine similarity.
"""

# %%
import numpy as np

from nmfkit.consensus import consensus_nmf, make_planted_programs
from nmfkit.matching import match_components
from nmfkit.plotting import plot_consensus_stability, plot_local_density

data = make_planted_programs(300, 200, 5, random_state=0)
X = data.X  # cells x genes, counts

selection = consensus_nmf(X, range(3, 9), n_replicates=10, random_state=0)
print(selection)
print("chosen rank:", selection.best_rank)
assert selection.best_rank == 5

# %%
# Stability and error against the rank
# -------------------------------------
# At the planted rank every fit finds the same five programs: the pooled
# components form five tight clusters (silhouette near 1). Below it, fits
# merge different programs; above it, they split programs in different ways,
# and the stability falls. The error stops falling at the planted rank.
fig_stability = plot_consensus_stability(selection)

# %%
# The outlier filter
# ------------------
# Each pooled component's local density is its mean distance to its nearest
# other components (30% of the replicates). At rank 7 the two extra
# components differ from fit to fit and spread out (the right tail of the
# histogram); components beyond the dashed threshold, if any, are dropped
# before the clustering (``selection[7].n_dropped`` says how many).
fig_density = plot_local_density(selection[7], selection.density_threshold)

# %%
# The consensus spectra against the planted programs
# --------------------------------------------------
factors = selection[5]
order, rows, cosine = match_components(data.programs, factors.spectra)
print("matched cosine similarity per program:", np.round(cosine, 4))
assert cosine.min() > 0.99

import matplotlib.pyplot as plt  # noqa: E402

genes = np.arange(X.shape[1])
fig, axes = plt.subplots(5, 1, figsize=(8, 6), sharex=True, layout="constrained")
for k, ax in enumerate(axes):
    ax.plot(genes, data.programs[k], "k--", linewidth=1, label="planted")
    ax.plot(genes, factors.spectra[order[k]], color="tab:orange", linewidth=1,
            label="consensus")
    ax.set_ylabel(f"program {k}", fontsize=8)
    ax.set_title(f"cosine {cosine[k]:.4f}", fontsize=8, loc="right")
    ax.tick_params(labelsize=7)
axes[0].legend(fontsize=7, loc="upper right", ncols=2)
axes[-1].set_xlabel("gene")
fig.suptitle("Consensus spectra (rank 5) over the planted programs")
