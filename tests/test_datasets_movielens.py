"""MovieLens 100K: the shared copy, and the download code against a local server."""

import hashlib
import http.server
import threading
import zipfile
from functools import partial

import numpy as np
import pytest

from nmfkit.datasets import fetch_movielens_100k
from nmfkit.datasets._movielens import ML_100K_SHA256, ML_100K_URL


def test_reads_the_shared_copy(movielens_home):
    data = fetch_movielens_100k(data_home=movielens_home, download_if_missing=False)
    assert data.ratings.shape == (100000, 4)
    assert (data.n_users, data.n_items) == (943, 1682)
    assert set(np.unique(data.ratings[:, 2])) == {1, 2, 3, 4, 5}
    assert len(data.folds) == 5
    for train, test in data.folds:
        assert train.shape == (80000, 4) and test.shape == (20000, 4)
    # The 5 test sets partition the ratings.
    tests = np.vstack([test for _, test in data.folds])
    assert len({tuple(r) for r in tests[:, :2]}) == 100000
    assert data.titles[1] == "Toy Story (1995)"
    assert len(data.titles) == 1682
    assert "MovieLens" in data.DESCR
    assert ML_100K_URL.startswith("https://files.grouplens.org/")
    assert len(ML_100K_SHA256) == 64


def _tiny_archive(path):
    """A small archive with the layout of ml-100k.zip (made-up ratings)."""
    rows = ["1\t1\t5\t881250949", "1\t2\t3\t881250950", "2\t1\t4\t881250951"]
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ml-100k/u.data", "\n".join(rows) + "\n")
        zf.writestr("ml-100k/u.item", "1|Movie One (1990)|\n2|Movie Two (1991)|\n")
        zf.writestr("ml-100k/README", "tiny test archive\n")
        for k in range(1, 6):
            zf.writestr(f"ml-100k/u{k}.base", "\n".join(rows[:2]) + "\n")
            zf.writestr(f"ml-100k/u{k}.test", rows[2] + "\n")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def local_server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = partial(
        type(
            "Quiet",
            (http.server.SimpleHTTPRequestHandler,),
            {"log_message": lambda *a: None},
        ),
        directory=str(served),
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_verifies_checksum_and_extracts(tmp_path, local_server):
    served, base = local_server
    digest = _tiny_archive(served / "ml-100k.zip")
    home = tmp_path / "home"
    data = fetch_movielens_100k(home, url=f"{base}/ml-100k.zip", sha256=digest)
    assert data.ratings.shape == (3, 4)
    assert data.titles == {1: "Movie One (1990)", 2: "Movie Two (1991)"}
    assert (home / "ml-100k" / "u5.test").is_file()
    assert sorted(p.name for p in home.iterdir()) == ["ml-100k"]  # no leftovers
    # A second call reads the extracted folder without any download.
    again = fetch_movielens_100k(home, download_if_missing=False)
    np.testing.assert_array_equal(again.ratings, data.ratings)


def test_bad_checksum_extracts_nothing(tmp_path, local_server):
    served, base = local_server
    _tiny_archive(served / "ml-100k.zip")
    home = tmp_path / "home"
    with pytest.raises(OSError, match="SHA-256"):
        fetch_movielens_100k(home, url=f"{base}/ml-100k.zip", sha256="0" * 64)
    assert list(home.iterdir()) == []


def test_file_url_and_wrong_archive(tmp_path):
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("something/else.txt", "x")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    home = tmp_path / "home"
    with pytest.raises(OSError, match="not the MovieLens 100K archive"):
        fetch_movielens_100k(home, url=archive.as_uri(), sha256=digest)
    assert list(home.iterdir()) == []


def test_unsafe_member_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../escaped.txt", "x")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    with pytest.raises(OSError, match="outside the data folder"):
        fetch_movielens_100k(tmp_path / "home", url=archive.as_uri(), sha256=digest)
    assert not (tmp_path / "escaped.txt").exists()


def test_missing_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_if_missing=True"):
        fetch_movielens_100k(tmp_path, download_if_missing=False)
