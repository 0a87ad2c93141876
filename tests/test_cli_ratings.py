"""``nmfkit ratings`` on small CSV files and on MovieLens' own files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nmfkit
from _cli_tools import assert_bad_input, read_named_csv, read_records, run

FILES = {"model.npz", "W.npy", "H.npy", "W.csv", "H.csv", "recommendations.csv"}


def _write_ratings(path, header=True, seed=0, delimiter=","):
    rng = np.random.default_rng(seed)
    W = rng.random((30, 2))
    H = rng.random((2, 20))
    X = 1 + 4 * (W @ H) / (W @ H).max()
    lines = [delimiter.join(("user", "item", "rating"))] if header else []
    for u in range(30):
        for i in range(20):
            if rng.random() < 0.6:
                lines.append(delimiter.join((f"u{u}", f"item{i}", f"{X[u, i]:.3f}")))
    path.write_text("\n".join(lines) + "\n")
    return X


def test_csv_scores_held_out_ratings_and_recommends_with_titles(tmp_path, capsys):
    ratings = tmp_path / "r.csv"
    _write_ratings(ratings)
    titles = tmp_path / "titles.csv"
    titles.write_text("\n".join(f"item{i},Title {i}" for i in range(20)) + "\n")
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "ratings", ratings, "--rank", "3", "--l2-W", "0", "--l2-H", "0",
        "--no-bias", "--max-iter", "300", "--user", "u3", "--user", "u7", "--top", "3",
        "--titles", titles, "-o", out, "-q", "--report",
    )  # fmt: skip
    assert code == 0, err
    rmse = float(stdout.split("held-out RMSE ")[1].split()[0])
    # Rank 3 (rank 2 plus a constant) with no noise: the held-out ratings
    # (spread over [1, 5]) are predicted almost exactly.
    assert rmse < 0.05
    assert "top 3 unseen items for user u3:" in stdout
    listed = [line for line in stdout.splitlines() if line.strip()[:2] in ("1.", "2.")]
    assert len(listed) == 4 and all("Title " in line for line in listed)
    summary = json.loads((out / "ratings.json").read_text())
    assert FILES | {"predictions.csv", "ratings.json", "report.html"} == set(
        summary["files"]
    )
    # Everything read back agrees with the model.
    model = nmfkit.load(out / "model.npz")
    W, H = np.load(out / "W.npy"), model.components_
    _, components, user_ids, values = read_named_csv(out / "W.csv")
    np.testing.assert_array_equal(values, W)
    assert components == ["component_0", "component_1", "component_2"]
    _, item_ids, names, values = read_named_csv(out / "H.csv")
    np.testing.assert_array_equal(values, H)
    assert names == components
    assert set(user_ids) == {r["user"] for r in read_records(ratings)}
    assert set(item_ids) == {f"item{i}" for i in range(20)}
    predictions = read_records(out / "predictions.csv")
    assert len(predictions) == summary["held_out_ratings"] > 0
    index_u = {u: k for k, u in enumerate(user_ids)}
    index_i = {i: k for k, i in enumerate(item_ids)}
    low, high = summary["prediction_range"]
    for row in predictions:
        expected = np.clip(
            W[index_u[row["user"]]] @ H[:, index_i[row["item"]]], low, high
        )
        assert float(row["prediction"]) == pytest.approx(expected, rel=1e-12)
    errors = [float(r["prediction"]) - float(r["rating"]) for r in predictions]
    assert summary["rmse"] == pytest.approx(np.sqrt(np.mean(np.square(errors))))
    assert summary["mae"] == pytest.approx(np.mean(np.abs(errors)))
    # Recommendations: each user's best unseen training items, with titles.
    seen = {}
    for r in read_records(ratings):
        seen.setdefault(r["user"], set()).add(r["item"])
    held = {(r["user"], r["item"]) for r in predictions}
    recommended = read_records(out / "recommendations.csv")
    assert [r["user"] for r in recommended] == ["u3"] * 3 + ["u7"] * 3
    for user in ("u3", "u7"):
        mine = [r for r in recommended if r["user"] == user]
        train_seen = {i for i in seen[user] if (user, i) not in held}
        scores = W[index_u[user]] @ H
        unseen = [i for i in item_ids if i not in train_seen]
        best = sorted(unseen, key=lambda i: -scores[index_i[i]])[:3]
        assert [r["item"] for r in mine] == best
        assert [r["title"] for r in mine] == [f"Title {i[4:]}" for i in best]
        assert [int(r["position"]) for r in mine] == [1, 2, 3]


def test_test_fraction_zero_trains_on_everything(tmp_path, capsys):
    ratings = tmp_path / "r.tsv"
    _write_ratings(ratings, header=False, delimiter="\t")
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "ratings", ratings, "--test-fraction", "0", "--max-iter", "20",
        "--top", "2", "-o", out, "-q",
    )  # fmt: skip
    assert code == 0, err
    assert "0 held out" in stdout and "RMSE" not in stdout
    summary = json.loads((out / "ratings.json").read_text())
    assert not (out / "predictions.csv").exists()
    assert summary["training_ratings"] == sum(1 for _ in open(ratings))
    recommended = read_records(out / "recommendations.csv")
    assert len(recommended) == 2 * 30  # every user, two items each
    model = nmfkit.load(out / "model.npz")
    assert model.n_components_ == 3 + 2  # with the user and item offsets
    with open(out / "W.csv") as f:
        assert f.readline().strip().endswith("user_offset,item_offset")


def test_movielens_folds_with_titles(movielens_home, tmp_path, capsys):
    folder = movielens_home / "ml-100k"
    out = tmp_path / "ml"
    code, stdout, err = run(
        capsys, "ratings", folder / "u1.base", "--test", folder / "u1.test",
        "--max-iter", "5", "--user", "1", "--top", "2", "-o", out,
    )  # fmt: skip
    assert code == 0, err
    assert "80000 training ratings, 20000 held out; 943 users x 1682 items" in stdout
    rmse = float(stdout.split("held-out RMSE ")[1].split()[0])
    assert 0.85 < rmse < 1.1
    assert "top 2 unseen items for user 1:" in stdout
    recommended = read_records(out / "recommendations.csv")
    assert len(recommended) == 2 and all("(19" in r["title"] for r in recommended)
    assert len(read_records(out / "predictions.csv")) == 20000
    assert np.load(out / "W.npy").shape == (943, 5)


@pytest.mark.parametrize(
    "content, message",
    [
        ("user,item,rating\na,b,x\n", "line 2: rating 'x' is not a number"),
        ("a,b,-1\n", "not a finite non-negative number"),
        ("a,b\nc,d\n", "line 1 has 2 column(s); a ratings file has 3 or 4"),
        ("user,item,rating\n", "holds no ratings"),
        ("a,b,1\na,b,2\n", "the same (user, item) pair more than once"),
        (
            "\n".join(",".join(str(v) for v in range(12)) for _ in range(3)) + "\n",
            "line 1 has 12 column(s); a ratings file has 3 or 4: user, item, "
            "rating[, timestamp] per line; for a matrix of numbers use nmfkit fit",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_nothing_written(
    tmp_path, capsys, content, message
):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    argv = ["ratings", path, "-o", tmp_path / "out", "--test-fraction", "0"]
    line = assert_bad_input(capsys, argv, message, untouched=tmp_path)
    assert line.startswith("nmfkit ratings: error: ")


def test_missing_file_folder_and_unknown_user(tmp_path, capsys, monkeypatch):
    out = ["-o", tmp_path / "out"]
    assert_bad_input(
        capsys, ["ratings", tmp_path / "nope.csv", *out], "does not exist",
        untouched=tmp_path,
    )  # fmt: skip
    assert_bad_input(
        capsys, ["ratings", tmp_path, *out], "is a folder", "user, item, rating",
        "u.data", untouched=tmp_path,
    )  # fmt: skip
    ratings = tmp_path / "r.csv"
    _write_ratings(ratings, header=False)
    fits = []
    original = nmfkit.NMF.fit_transform

    def spy(self, *args, **kwargs):
        fits.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(nmfkit.NMF, "fit_transform", spy)
    assert_bad_input(
        capsys, ["ratings", ratings, "--user", "u1", "--user", "zz", *out],
        "user 'zz' does not appear in the ratings", untouched=tmp_path,
    )  # fmt: skip
    assert fits == []  # refused before any fit
