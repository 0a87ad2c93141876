"""
Choosing the rank
=================

:func:`nmfkit.select_rank` scores candidate ranks two ways: by
cross-validation on held-out entries (the rank that best predicts entries it
never saw, with the one-standard-error rule) and by the stability of the
clustering of the samples over random restarts (Brunet et al.'s consensus:
cophenetic correlation and dispersion). Here the data have rank 4 plus 5%
noise; the samples mix the four components and form no clusters.
"""

# %%
import numpy as np

from nmfkit import select_rank
from nmfkit.plotting import plot_consensus_maps, plot_rank_scores

rng = np.random.default_rng(0)
X = rng.random((40, 4)) @ rng.random((4, 30))  # rank 4
X *= np.clip(1 + 0.05 * rng.standard_normal(X.shape), 0, None)  # 5% noise

result = select_rank(X, range(2, 7), method=("cv", "consensus"), n_folds=4,
                     n_runs=5, max_iter=300, random_state=0)
print(result)
print("chosen:", result.best_rank, result.best_rank_by)
assert result.best_rank == 4

# %%
# Every measure against the rank
# ------------------------------
# Cross-validation error has its minimum at the true rank; the explained
# variance keeps rising, so it cannot choose by itself.
fig_scores = plot_rank_scores(result)

# %%
# Consensus matrices
# ------------------
# With no clusters in the samples, no rank gives a crisp block structure: the
# consensus answers a different question (is there a stable clustering?).
fig_maps = plot_consensus_maps(result)
