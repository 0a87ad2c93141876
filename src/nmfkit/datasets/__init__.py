"""Data set loaders: real data, read offline from a cache or fetched once."""

__all__: list[str] = []
