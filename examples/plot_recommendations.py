"""
Movie recommendations from partially observed ratings
=====================================================

A ratings matrix is mostly unknown: users rate a few items each. nmfkit fits
only the observed entries (``sparse_unobserved="missing"``: the unstored
entries of a sparse matrix are missing, not zero) and predicts the others.
The ratings here are synthetic (600 users, 400 movies, 5% observed, from
three hidden tastes plus user and item offsets), so the held-out error can be
compared with the noise that was added and with simple baselines. The
MovieLens 100K benchmark with the same model: :doc:`/benchmarks/movielens`.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp

from nmfkit import NMF

rng = np.random.default_rng(0)
n_users, n_items, rank = 600, 400, 3
tastes = rng.gamma(1.0, 1.0, (n_users, rank))
profiles = rng.gamma(1.0, 0.6, (rank, n_items))
truth = 1 + 4 * np.tanh((tastes @ profiles + 0.5 * rng.random((n_users, 1))
                         + 0.5 * rng.random((1, n_items))) / 3)
observed = rng.random((n_users, n_items)) < 0.05
noise = 0.3
ratings = np.clip(truth + noise * rng.standard_normal(truth.shape), 1, 5)
users, items = np.nonzero(observed)
test = rng.random(users.size) < 0.2  # hold out a fifth of the ratings

train = sp.csr_matrix(
    (ratings[users[~test], items[~test]], (users[~test], items[~test])),
    shape=(n_users, n_items),
)
print(f"{train.nnz} training ratings, {test.sum()} held out")

# %%
# Fit on the observed ratings only, with user and item offsets
# ------------------------------------------------------------
model = NMF(n_components=3, sparse_unobserved="missing", bias=True,
            l2_W=1.0, l2_H=1.0, solver="hals", init="nndsvda",
            max_iter=200, random_state=0)
W = model.fit_transform(train)
predicted = np.clip(
    model.predict_entries(W, users[test], items[test]), 1, 5
)
actual = ratings[users[test], items[test]]


def rmse(estimate):
    return float(np.sqrt(np.mean((estimate - actual) ** 2)))


global_mean = train.data.mean()
item_means = np.asarray(train.sum(axis=0)).ravel() / np.maximum(
    train.getnnz(axis=0), 1
)
item_means[train.getnnz(axis=0) == 0] = global_mean
scores = {
    "global mean": rmse(np.full(actual.shape, global_mean)),
    "item means": rmse(item_means[items[test]]),
    "NMF + offsets": rmse(predicted),
    "noise level": noise,
}
for name, value in scores.items():
    print(f"{name:>14}: RMSE {value:.3f}")
assert scores["NMF + offsets"] < scores["item means"] < scores["global mean"]

# %%
# Held-out error
# --------------
fig, ax = plt.subplots(figsize=(6, 2.8), layout="constrained")
ax.barh(list(scores), list(scores.values()), color=["0.6", "0.6", "C0", "k"])
ax.set(xlabel="held-out RMSE (stars)")
plt.show()

# %%
# Top recommendations for one user
# --------------------------------
user = 0
seen = set(train[user].indices)
unseen = np.array([i for i in range(n_items) if i not in seen])
scores_user = model.predict_entries(W, np.full(unseen.size, user), unseen)
best = unseen[np.argsort(scores_user)[::-1][:5]]
print(f"user {user}: movies {best.tolist()}, predicted "
      f"{np.round(np.sort(scores_user)[::-1][:5], 2).tolist()}, "
      f"true {np.round(truth[user, best], 2).tolist()}")
