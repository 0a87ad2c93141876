"""Data set loaders: real data, read offline from a cache or fetched once."""

from ._movielens import fetch_movielens_100k

__all__: list[str] = ["fetch_movielens_100k"]
