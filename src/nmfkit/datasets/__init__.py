"""Data set loaders: real data, read offline from a cache or fetched once."""

from ._audio import load_audio, make_music_mixture
from ._images import (
    load_digits_images,
    load_image_folder,
    load_lfw_subset,
    load_olivetti_faces,
)
from ._matrix import load_matrix
from ._movielens import fetch_movielens_100k
from ._series import load_recordings, make_load_profiles
from ._text import (
    load_lee_corpus,
    load_newsgroups,
    load_text_folder,
    load_text_table,
    vectorize_texts,
)

__all__: list[str] = []
__all__ += [
    "load_digits_images",
    "load_image_folder",
    "load_lfw_subset",
    "load_olivetti_faces",
]
__all__ += [
    "load_lee_corpus",
    "load_newsgroups",
    "load_text_folder",
    "load_text_table",
    "vectorize_texts",
]
__all__ += ["load_matrix"]
__all__ += ["fetch_movielens_100k"]
__all__ += ["load_audio", "make_music_mixture"]
__all__ += ["load_recordings", "make_load_profiles"]
