"""Recommendations with the taste components that drive them."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["recommend_with_explanations"]


def recommend_with_explanations(
    model,
    user,
    n=10,
    *,
    n_components=2,
    n_top_items=3,
    item_names=None,
    min_item_ratings=0,
):
    """The ``n`` best items for ``user``, each with the tastes behind it.

    A prediction is ``mean + user bias + item bias + sum_k W[user, k] H[k,
    item]``; the contribution of taste component ``k`` is ``W[user, k] H[k,
    item]`` (non-negative). Each recommendation lists the components with
    the largest contributions and, for each, the items that load most on it
    (the largest ``H[k, :]``), which say what the component is.

    Parameters
    ----------
    model : RatingsNMF
        A fitted ratings model.
    user : int
        User index; an unseen user gets the items of highest mean plus item
        bias, with no component (nothing is known of their tastes).
    n : int, default=10
        Number of recommendations (items the user rated are left out).
    n_components : int, default=2
        Components listed per recommendation (those contributing more than 0).
    n_top_items : int, default=3
        Items listed per component.
    item_names : sequence of str or mapping, optional
        Names of the items by index (for example MovieLens titles); each
        item is then reported with its name too.
    min_item_ratings : int, default=0
        Only items with at least this many training ratings are listed as
        loading most on a component (all items when none has that many).
        An item rated a few times is penalized little and can carry a large
        loading that says little about the taste; 20 or so on MovieLens
        lists well-known films.

    Returns
    -------
    recommendations : list of dict
        Best first, each with ``"item"``, ``"name"`` (or None),
        ``"predicted_rating"`` (clipped like :meth:`RatingsNMF.predict`),
        ``"baseline"`` (mean + biases), ``"taste"`` (the sum of all
        contributions) and ``"components"``: a list of dicts with
        ``"component"``, ``"contribution"``, ``"share"`` (of the taste term)
        and ``"top_items"`` (a list of ``{"item", "name", "loading"}``).

    Raises
    ------
    ValueError
        For a negative or non-integer ``n``, ``n_components``,
        ``n_top_items`` or ``min_item_ratings``, or a negative user index.
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.

    See Also
    --------
    RatingsNMF.recommend : The same items without explanations.

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Learning the parts of objects by
       non-negative matrix factorization", Nature 401, 1999 (non-negative
       factors as additive parts).

    Examples
    --------
    >>> import numpy as np
    >>> from nmfkit.recommend import RatingsNMF, recommend_with_explanations
    >>> X = np.array([[5, 5, np.nan, 1], [5, np.nan, 1, 1], [1, 1, 5, np.nan]])
    >>> model = RatingsNMF(2, max_iter=50, random_state=0).fit(X)
    >>> recs = recommend_with_explanations(model, 0, n=1, n_top_items=2)
    >>> [rec["item"] for rec in recs]  # the one item user 0 did not rate
    [2]
    >>> sorted(recs[0])
    ['baseline', 'components', 'item', 'name', 'predicted_rating', 'taste']
    """
    check_is_fitted(model)
    for name, value in (
        ("n_components", n_components),
        ("n_top_items", n_top_items),
        ("min_item_ratings", min_item_ratings),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < 0
        ):
            raise ValueError(f"{name}={value!r} is not valid; give an integer >= 0.")

    def named(item):
        if item_names is None:
            return None
        try:
            return str(item_names[int(item)])
        except (KeyError, IndexError):
            return None

    items, _ = model.recommend(user, n)
    H = model.components_
    listed = np.flatnonzero(model.item_counts_ >= min_item_ratings)
    if not listed.size:
        listed = np.arange(H.shape[1])
    known = int(user) < model.n_users_
    weights = model.user_factors_[int(user)] if known else np.zeros(H.shape[0])
    top_items = {}
    out = []
    for item in items:
        contributions = weights * H[:, item]
        taste = float(contributions.sum())
        order = np.argsort(-contributions, kind="stable")[:n_components]
        components = []
        for k in order:
            if contributions[k] <= 0:
                break
            if k not in top_items:
                best = listed[np.argsort(-H[k, listed], kind="stable")[:n_top_items]]
                top_items[k] = [
                    {"item": int(j), "name": named(j), "loading": float(H[k, j])}
                    for j in best
                ]
            components.append(
                {
                    "component": int(k),
                    "contribution": float(contributions[k]),
                    "share": float(contributions[k] / taste),
                    "top_items": top_items[k],
                }
            )
        out.append(
            {
                "item": int(item),
                "name": named(item),
                "predicted_rating": float(model.predict([user], [item])[0]),
                "baseline": float(model.baseline([user], [item])[0]),
                "taste": taste,
                "components": components,
            }
        )
    return out
