"""``nmfkit ratings`` on small CSV files and on MovieLens' own files."""

import numpy as np
import pytest

from nmfkit.cli import main


def _write_ratings(path, header=True, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.random((30, 2))
    H = rng.random((2, 20))
    X = 1 + 4 * (W @ H) / (W @ H).max()
    lines = ["user,item,rating"] if header else []
    for u in range(30):
        for i in range(20):
            if rng.random() < 0.6:
                lines.append(f"u{u},item{i},{X[u, i]:.3f}")
    path.write_text("\n".join(lines) + "\n")
    return X


def test_csv_reports_errors_and_recommends_with_titles(tmp_path, capsys):
    ratings = tmp_path / "r.csv"
    _write_ratings(ratings)
    titles = tmp_path / "titles.csv"
    titles.write_text("\n".join(f"item{i},Title {i}" for i in range(20)) + "\n")
    code = main(
        [
            "ratings",
            str(ratings),
            "--rank",
            "3",
            "--l2",
            "0",
            "--no-bias",
            "--max-iter",
            "300",
            "--user",
            "u3",
            "--top",
            "3",
            "--titles",
            str(titles),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    rmse = float(out.split("held-out RMSE ")[1].split()[0])
    mae = float(out.split("MAE ")[1].split()[0])
    # Rank 3 (rank 2 plus a constant) with no noise: the held-out ratings
    # (spread over [1, 5]) are predicted almost exactly.
    assert rmse < 0.05 and mae < rmse + 1e-12
    assert "top 3 unseen items for user u3:" in out
    listed = [
        line for line in out.splitlines() if line.strip().startswith(("1.", "2.", "3."))
    ]
    assert len(listed) == 3 and all("Title " in line for line in listed)


def test_movielens_folder_with_titles(movielens_home, capsys):
    folder = movielens_home / "ml-100k"
    code = main(
        [
            "ratings",
            str(folder / "u1.base"),
            "--test",
            str(folder / "u1.test"),
            "--max-iter",
            "5",
            "--user",
            "1",
            "--top",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "80000 training ratings, 20000 held out; 943 users x 1682 items" in out
    rmse = float(out.split("held-out RMSE ")[1].split()[0])
    assert 0.85 < rmse < 1.1
    assert "top 2 unseen items for user 1:" in out
    assert "(19" in out or "(20" in out  # titles end with the year


@pytest.mark.parametrize(
    "content, message",
    [
        ("user,item,rating\na,b,x\n", "line 2: rating 'x' is not a number"),
        ("a,b,-1\n", "not a finite non-negative number"),
        ("a,b\n", "expected user, item, rating"),
        ("user,item,rating\n", "holds no ratings"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["ratings", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nmfkit ratings: error: ")
    assert message in err


def test_missing_file_and_unknown_user(tmp_path, capsys):
    assert main(["ratings", str(tmp_path / "nope.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    ratings = tmp_path / "r.csv"
    _write_ratings(ratings, header=False)
    code = main(["ratings", str(ratings), "--max-iter", "2", "--user", "zz"])
    assert code == 2
    assert "user 'zz' does not appear" in capsys.readouterr().err
