"""Recommendations from ratings: the ratings model, its selection and explanations.

- :class:`RatingsNMF`: global mean + signed user and item biases +
  non-negative tastes, fitted on the observed ratings only;
- :func:`select_ratings_model`: rank and penalties chosen on a validation
  split of the training ratings (or cross-validation inside them);
- :func:`ratings_rmse_scorer`: a scorer for GridSearchCV;
- :func:`recommend_with_explanations`: recommendations with the taste
  components that drive them.
"""

from ._data import split_triples
from ._explain import recommend_with_explanations
from ._model import RatingsNMF
from ._select import RatingsSelection, ratings_rmse_scorer, select_ratings_model

__all__ = [
    "RatingsNMF",
    "RatingsSelection",
    "ratings_rmse_scorer",
    "recommend_with_explanations",
    "select_ratings_model",
    "split_triples",
]
