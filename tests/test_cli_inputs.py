"""The readers behind the commands: matrix files, ratings files, titles."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from nmfkit.datasets._matrix import detect_delimiter, load_matrix, read_matrix
from nmfkit.datasets._ratings import read_ratings, read_titles


@pytest.mark.parametrize(
    "text, delimiter",
    [
        ("1,2,3\n4,5,6\n", ","),
        ("1;2;3\n4;5;6\n", ";"),
        ("1\t2\n3\t4\n", "\t"),
        ("1|2\n3|4\n", "|"),
        ("1 2  3\n4 5 6\n", None),
        ('"a,b";c\n1;2\n', ";"),  # a quoted comma is not a delimiter
        ("1\n2\n", None),  # one column
    ],
)
def test_delimiter_detection(text, delimiter):
    assert detect_delimiter(text) == delimiter


def test_header_names_and_values_exact(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('"height, cm";weight\n1.5;2e-3\n0.1;7\n')
    table = read_matrix(path)
    assert table.column_names == ["height, cm", "weight"]
    assert table.row_names is None and table.n_missing == 0
    np.testing.assert_array_equal(table.data, [[1.5, 2e-3], [0.1, 7.0]])


def test_a_header_has_no_number(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,2,c\n1,2,3\n")
    with pytest.raises(ValueError, match=r"line 1, column 1: 'a' is not a number"):
        read_matrix(path)
    path.write_text("1,2,3\n4,5,6\n")
    assert read_matrix(path).data.shape == (2, 3)  # no row taken as a header


def test_index_column_by_name_or_position(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(",x,y\nr1,1,2\nr2,3,4\n")  # as pandas writes it
    for index_col in (0, "0"):
        table = read_matrix(path, index_col=index_col)
        assert table.row_names == ["r1", "r2"] and table.column_names == ["x", "y"]
        np.testing.assert_array_equal(table.data, [[1, 2], [3, 4]])
    path.write_text("x,id,y\n1,r1,2\n3,r2,4\n")
    table = read_matrix(path, index_col="id")
    assert table.row_names == ["r1", "r2"] and table.column_names == ["x", "y"]
    with pytest.raises(ValueError, match="no column 'name'; its columns are 'x'"):
        read_matrix(path, index_col="name")
    with pytest.raises(ValueError, match="--index-col 5 is not one of them"):
        read_matrix(path, index_col=5)
    path.write_text("1,2\n3,4\n")
    with pytest.raises(ValueError, match="has no header row"):
        read_matrix(path, index_col="id")


def test_missing_cells(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("1,,3\n4,NaN,6\n7,8,9\n")
    with pytest.raises(ValueError, match=r"line 1, column 2 is empty.*--missing"):
        read_matrix(path)
    table = read_matrix(path, missing=True)
    assert table.n_missing == 2
    assert np.isnan(table.data[[0, 1], [1, 1]]).all()
    assert np.isfinite(np.delete(table.data.ravel(), [1, 4])).all()
    path.write_text("1,inf\n")
    with pytest.raises(ValueError, match="'inf' is not a finite number"):
        read_matrix(path, missing=True)


def test_npz_members_and_sparse_archives_are_checked(tmp_path):
    X = np.arange(6.0).reshape(2, 3)
    np.savez(tmp_path / "a.npz", X=X)
    np.testing.assert_array_equal(load_matrix(tmp_path / "a.npz"), X)
    sp.save_npz(tmp_path / "s.npz", sp.csr_matrix(X))
    np.testing.assert_array_equal(load_matrix(tmp_path / "s.npz").toarray(), X)
    # A member whose header claims more than it holds.
    from numpy.lib import format as npy_format

    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        with archive.open("X.npy", "w") as f:
            npy_format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": (10**5, 10**5)}
            )
            f.write(b"\0" * 16)
    with pytest.raises(
        ValueError, match=r"array 'X' is truncated or corrupt.*74\.5 GiB"
    ):
        load_matrix(tmp_path / "bad.npz")


def test_matrix_market_sizes_are_checked(tmp_path):
    good = tmp_path / "g.mtx"
    scipy.io.mmwrite(good, sp.csr_matrix(np.eye(3)))
    assert load_matrix(good).nnz == 3
    bad = tmp_path / "b.mtx"
    bad.write_text(
        "%%MatrixMarket matrix coordinate real general\n1000 1000 999999\n1 1 1\n"
    )
    with pytest.raises(ValueError, match="999999 stored entries"):
        load_matrix(bad)


def test_object_arrays_and_folders_are_refused(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="Python objects"):
        load_matrix(tmp_path / "o.npy")
    folder = tmp_path / "m.csv"
    folder.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        load_matrix(folder)


# ------------------------------------------------------------------ ratings
@pytest.mark.parametrize(
    "text",
    [
        "1\t10\t4\t881250949\n2\t20\t3\t891717742\n",  # MovieLens u.data
        "userId,movieId,rating,timestamp\n1,10,4.0,964982703\n2,20,3,964981247\n",
        "1::10::4::978300760\n2::20::3::978302109\n",  # MovieLens ratings.dat
        "user;item;rating\n1;10;4\n2;20;3\n",
    ],
)
def test_ratings_layouts(tmp_path, text):
    path = tmp_path / "r.txt"
    path.write_text(text)
    users, items, ratings = read_ratings(path)
    assert users == ["1", "2"] and items == ["10", "20"]
    np.testing.assert_array_equal(ratings, [4.0, 3.0])


def test_titles_from_movielens_and_csv(tmp_path):
    path = tmp_path / "u.item"
    path.write_bytes(
        "1|Toy Story (1995)|01-Jan-1995\n2|Caf\xe9 (1994)|x\n".encode("latin-1")
    )
    assert read_titles(path) == {"1": "Toy Story (1995)", "2": "Café (1994)"}
    path = tmp_path / "t.csv"
    path.write_text('item,title\n7,"Blade, The (1998)"\n')
    assert read_titles(path)["7"] == "Blade, The (1998)"


def test_shared_movielens_files_read(movielens_home):
    users, items, ratings = read_ratings(movielens_home / "ml-100k" / "u.data")
    assert len(ratings) == 100000 and len(set(users)) == 943 and len(set(items)) == 1682
    assert set(np.unique(ratings)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    titles = read_titles(movielens_home / "ml-100k" / "u.item")
    assert len(titles) == 1682 and titles["1"] == "Toy Story (1995)"
