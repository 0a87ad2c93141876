"""
The course's multiplicative updates, checked against the formulas
=================================================================

The matrix-factorization lab of the course writes the data as features by
samples, ``X (p x n) ~ D (p x r) S (r x n)``, with the loss

.. math::

    L(D, S) = \\tfrac12 \\|X - DS\\|_F^2 + \\tfrac{\\mu}{2}\\|S\\|_F^2
              + \\lambda \\|S\\|_1 + \\tfrac{\\nu}{2}\\|D\\|_F^2

and the multiplicative updates

.. math::

    D \\leftarrow D \\odot \\frac{X S^\\top}{D (S S^\\top + \\nu I)}, \\qquad
    S \\leftarrow S \\odot
    \\frac{\\max(D^\\top X - \\lambda, 0)}{(D^\\top D + \\mu I) S}.

nmfkit uses scikit-learn's notation (``X_sk = X^T``, ``W = S^T``,
``H = D^T``), so ``NMF(solver="mu", l1_W=lambda, l2_W=mu, l2_H=nu)`` must give
the same iterates. Here both run from the same start, and we compare them
iteration by iteration.
"""

# %%
# The formulas, transcribed in the course's notation
# ---------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from nmfkit import NMF


def course_loss(X, D, S, lam, mu, nu):
    return (
        0.5 * np.sum((X - D @ S) ** 2)
        + 0.5 * mu * np.sum(S**2)
        + lam * np.sum(np.abs(S))
        + 0.5 * nu * np.sum(D**2)
    )


def course_updates(X, D, S, lam, mu, nu, n_iter):
    eye = np.eye(D.shape[1])
    losses = [course_loss(X, D, S, lam, mu, nu)]
    for _ in range(n_iter):
        D = D * (X @ S.T) / (D @ (S @ S.T + nu * eye))
        S = S * np.maximum(D.T @ X - lam, 0) / ((D.T @ D + mu * eye) @ S)
        losses.append(course_loss(X, D, S, lam, mu, nu))
    return D, S, np.array(losses)


rng = np.random.default_rng(0)
p, n, r = 64, 200, 5
X = rng.random((p, r)) @ rng.random((r, n)) + 0.05 * rng.random((p, n))
D0 = rng.random((p, r)) + 0.1
S0 = rng.random((r, n)) + 0.1
lam, mu, nu = 0.5, 0.1, 0.1
n_iter = 50

D, S, course_losses = course_updates(X, D0, S0, lam, mu, nu, n_iter)

# %%
# The same fit with nmfkit, in scikit-learn's notation
# ----------------------------------------------------
model = NMF(
    n_components=r,
    init="custom",
    solver="mu",
    tol=0,
    max_iter=n_iter,
    l1_W=lam,
    l2_W=mu,
    l2_H=nu,
)
W = model.fit_transform(X.T, W=S0.T.copy(), H=D0.T.copy())

rel_D = np.abs(model.components_ - D.T).max() / np.abs(D).max()
rel_S = np.abs(W - S.T).max() / np.abs(S).max()
rel_loss = np.abs(model.loss_curve_ - course_losses).max() / course_losses.min()
print(f"largest relative difference in D: {rel_D:.1e}, in S: {rel_S:.1e}")
print(f"largest relative difference of the loss curves: {rel_loss:.1e}")
assert rel_D < 1e-10 and rel_S < 1e-10 and rel_loss < 1e-10
assert np.all(np.diff(course_losses) <= 1e-12 * course_losses[0])  # never increases

# %%
# The loss never increases, and the two curves lie on each other
# --------------------------------------------------------------
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(course_losses, "o", mfc="none", label="course's formulas (NumPy)")
ax.plot(model.loss_curve_, "-", label='nmfkit NMF(solver="mu")')
ax.set(xlabel="iteration", ylabel="penalized loss", yscale="log")
ax.legend()
plt.show()
