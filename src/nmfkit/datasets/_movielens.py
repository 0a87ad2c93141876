"""MovieLens 100K (GroupLens): 100,000 ratings by 943 users of 1,682 movies.

:func:`fetch_movielens_100k` reads the extracted ``ml-100k`` folder from
``data_home``; when it is missing it downloads the GroupLens archive, checks
its SHA-256 checksum, and extracts it there (all or nothing: an interrupted
or corrupt download leaves no ``ml-100k`` folder behind).

The data set's terms (see its README) allow research use and forbid
redistribution: nmfkit never ships it, it only fetches it from GroupLens.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._typing import PathLike

__all__ = [
    "ML_100K_SHA256",
    "ML_100K_URL",
    "fetch_movielens_100k",
    "get_data_home",
    "read_movielens_ratings",
    "read_movielens_titles",
]

ML_100K_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
#: SHA-256 of the archive published at ML_100K_URL (4,924,029 bytes; its MD5,
#: published by GroupLens, is 0e33842e24a9c977be4e0107933c0723).
ML_100K_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"

_FOLDER = "ml-100k"
_FILES = ("u.data", "u.item") + tuple(
    f"u{k}.{part}" for k in range(1, 6) for part in ("base", "test")
)


def get_data_home(data_home=None):
    """Folder of nmfkit's downloaded data sets.

    ``data_home`` if given, else the environment variable ``NMFKIT_DATA``,
    else ``~/nmfkit_data``. The folder is created if needed.
    """
    if data_home is None:
        data_home = os.environ.get("NMFKIT_DATA", Path.home() / "nmfkit_data")
    data_home = Path(data_home).expanduser()
    data_home.mkdir(parents=True, exist_ok=True)
    return data_home


def read_movielens_ratings(path):
    """Read a MovieLens ratings file (``user<TAB>item<TAB>rating<TAB>timestamp``).

    Returns
    -------
    ratings : ndarray of int64, shape (n_ratings, 4)
        Columns user id, item id (both 1-based, as in the file), rating and
        timestamp.
    """
    ratings = np.loadtxt(path, dtype=np.int64, delimiter="\t", ndmin=2)
    if ratings.shape[1] != 4:
        raise ValueError(
            f"{path} has {ratings.shape[1]} columns; a MovieLens ratings file has "
            "4 (user, item, rating, timestamp), tab-separated."
        )
    return ratings


def read_movielens_titles(path):
    """Read ``u.item``: returns a dict item id -> title."""
    titles = {}
    with open(path, encoding="latin-1") as f:
        for line in f:
            fields = line.rstrip("\n").split("|")
            if len(fields) >= 2 and fields[0].strip():
                titles[int(fields[0])] = fields[1]
    return titles


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url, destination, sha256):
    """Download ``url`` to ``destination`` and check its SHA-256 checksum."""
    with (
        urllib.request.urlopen(url, timeout=60) as response,
        open(destination, "wb") as out,
    ):
        shutil.copyfileobj(response, out, 1 << 20)
    actual = _sha256(destination)
    if actual != sha256:
        raise OSError(
            f"the file downloaded from {url} has SHA-256 {actual}, expected "
            f"{sha256}; the download is corrupt or the file changed. Nothing was "
            "extracted; try again, or download and extract it by hand."
        )


def _safe_extract(archive, destination):
    """Extract the ``ml-100k/`` members of ``archive`` into ``destination``."""
    root = Path(destination).resolve()
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            target = (root / member.filename).resolve()
            if root not in target.parents and target != root:
                raise OSError(
                    f"the archive member {member.filename!r} would be written "
                    "outside the data folder; refusing to extract it."
                )
        zf.extractall(root)


def _download_and_extract(data_home, url, sha256):
    """Fetch the archive and move its ``ml-100k`` folder into ``data_home``."""
    with tempfile.TemporaryDirectory(prefix=".ml-100k-", dir=data_home) as tmp:
        archive = Path(tmp) / "ml-100k.zip"
        _download(url, archive, sha256)
        extracted = Path(tmp) / "extracted"
        _safe_extract(archive, extracted)
        folder = extracted / _FOLDER
        missing = [name for name in _FILES if not (folder / name).is_file()]
        if missing:
            raise OSError(
                f"the archive from {url} has no {_FOLDER}/{missing[0]}; it is not "
                "the MovieLens 100K archive."
            )
        with contextlib.suppress(FileNotFoundError):
            # A partial folder from an earlier failure would block the rename.
            if not (data_home / _FOLDER / "u.data").is_file():
                shutil.rmtree(data_home / _FOLDER)
        os.replace(folder, data_home / _FOLDER)


def fetch_movielens_100k(
    data_home: PathLike | None = None,
    download_if_missing: bool = True,
    *,
    url: str = ML_100K_URL,
    sha256: str = ML_100K_SHA256,
) -> Bunch:
    """Load MovieLens 100K: ratings, the 5 official folds and movie titles.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder that holds (or will hold) the extracted ``ml-100k`` folder.
        Default: ``$NMFKIT_DATA`` or ``~/nmfkit_data``.
    download_if_missing : bool, default=True
        Download the archive from GroupLens when ``ml-100k`` is not in
        ``data_home``; otherwise raise ``FileNotFoundError``.
    url : str, default=ML_100K_URL
        Where to download the archive from (a mirror, or a local
        ``file://`` copy).
    sha256 : str, default=ML_100K_SHA256
        Expected SHA-256 checksum of the archive.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``ratings``: int64 array (100000, 4) of user id, item id, rating
        (1 to 5) and timestamp, ids 1-based as in the files;
        ``folds``: list of 5 ``(train, test)`` pairs of such arrays, the
        official ``u1.base``/``u1.test`` ... ``u5.base``/``u5.test`` splits;
        ``titles``: dict item id -> title;
        ``n_users``, ``n_items``: 943 and 1682 (the largest ids);
        ``DESCR``: the data set's README.

    Raises
    ------
    FileNotFoundError
        When the data are missing and ``download_if_missing=False``.
    OSError
        When the download fails its checksum (nothing is extracted).

    See Also
    --------
    nmfkit.RatingsNMF : A ratings model to fit to it.
    nmfkit.recommend.split_triples : Split (user, item, rating) triples.

    Examples
    --------
    Reads the cache (or downloads the archive once), so it is not run here:

    >>> from nmfkit.datasets import fetch_movielens_100k
    >>> movielens = fetch_movielens_100k()  # doctest: +SKIP
    >>> movielens.ratings.shape, movielens.n_users, movielens.n_items  # doctest: +SKIP
    ((100000, 4), 943, 1682)
    """
    data_home = Path(get_data_home(data_home))
    folder = data_home / _FOLDER
    if not all((folder / name).is_file() for name in _FILES):
        if not download_if_missing:
            raise FileNotFoundError(
                f"MovieLens 100K not found in {folder} (it needs u.data, u.item "
                "and u1.base ... u5.test); pass download_if_missing=True to "
                f"download it from {url}, or point data_home at the folder that "
                "holds ml-100k."
            )
        _download_and_extract(data_home, url, sha256)
    ratings = read_movielens_ratings(folder / "u.data")
    folds = [
        (
            read_movielens_ratings(folder / f"u{k}.base"),
            read_movielens_ratings(folder / f"u{k}.test"),
        )
        for k in range(1, 6)
    ]
    readme = folder / "README"
    return Bunch(
        ratings=ratings,
        folds=folds,
        titles=read_movielens_titles(folder / "u.item"),
        n_users=int(ratings[:, 0].max()),
        n_items=int(ratings[:, 1].max()),
        DESCR=readme.read_text(encoding="latin-1") if readme.is_file() else "",
    )
