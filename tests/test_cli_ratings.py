"""``nmfkit ratings`` on small CSV files and on MovieLens' own files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nmfkit
from _cli_tools import assert_bad_input, read_named_csv, read_records, run

FILES = {
    "model.npz", "W.npy", "H.npy", "W.csv", "H.csv", "biases.csv",
    "recommendations.csv", "recommendations.json", "ratings.json",
}  # fmt: skip


def _write_ratings(path, header=True, seed=0, delimiter=","):
    """Ratings from mean + biases + a non-negative rank-2 model, small noise."""
    rng = np.random.default_rng(seed)
    W = rng.random((30, 2))
    H = rng.random((2, 20))
    X = (
        3.0
        + rng.normal(0, 0.3, (30, 1))
        + rng.normal(0, 0.3, (1, 20))
        + W @ H
        + rng.normal(0, 0.02, (30, 20))
    )
    lines = [delimiter.join(("user", "item", "rating"))] if header else []
    for u in range(30):
        for i in range(20):
            if rng.random() < 0.6:
                lines.append(delimiter.join((f"u{u}", f"item{i}", f"{X[u, i]:.3f}")))
    path.write_text("\n".join(lines) + "\n")
    return X


def _scores(model, user):
    """mean + user bias + item biases + W[user] H: every item's unclipped score."""
    return (
        model.global_mean_
        + model.user_bias_[user]
        + model.item_bias_
        + model.user_factors_[user] @ model.components_
    )


def test_csv_chooses_scores_and_recommends_with_explanations(tmp_path, capsys):
    ratings = tmp_path / "r.csv"
    _write_ratings(ratings)
    titles = tmp_path / "titles.csv"
    titles.write_text("\n".join(f"item{i},Title {i}" for i in range(20)) + "\n")
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "ratings", ratings, "--rank", "2", "3", "--l2-W", "0.001",
        "--l2-bias", "0.1", "--max-iter", "300", "--tol", "1e-7", "--user", "u3",
        "--user", "u7", "--top", "3", "--explain", "2", "--top-items", "2",
        "--min-item-ratings", "0", "--titles", titles, "-o", out, "-q", "--report",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((out / "ratings.json").read_text())
    # what was chosen is reported, among the 2 candidates, on training data only
    assert len(summary["candidates"]) == 2
    assert summary["chosen"]["n_components"] in (2, 3)
    assert "chose " in stdout and "validation RMSE" in stdout
    assert "training ratings held out" in summary["selection"]
    best = min(summary["candidates"], key=lambda c: c["rmse"])
    assert best["n_components"] == summary["chosen"]["n_components"]
    # noise 0.02 on ratings spread over about [2, 6]: held out almost exactly
    rmse = float(stdout.split("held-out RMSE ")[1].split()[0])
    assert rmse < 0.1
    assert FILES | {"predictions.csv", "report.html"} == set(summary["files"])
    # Everything read back agrees with the model.
    model = nmfkit.load(out / "model.npz")
    assert isinstance(model, nmfkit.RatingsNMF)
    assert model.n_components_ == summary["chosen"]["n_components"]
    W, H = np.load(out / "W.npy"), np.load(out / "H.npy")
    np.testing.assert_array_equal(W, model.user_factors_)
    np.testing.assert_array_equal(H, model.components_)
    _, components, user_ids, values = read_named_csv(out / "W.csv")
    np.testing.assert_array_equal(values, W)
    assert components == [f"taste_{k}" for k in range(model.n_components_)]
    _, item_ids, names, values = read_named_csv(out / "H.csv")
    np.testing.assert_array_equal(values, H)
    biases = read_records(out / "biases.csv")
    assert float(biases[0]["bias"]) == pytest.approx(model.global_mean_)
    user_bias = {r["label"]: float(r["bias"]) for r in biases if r["kind"] == "user"}
    assert [user_bias[u] for u in user_ids] == pytest.approx(model.user_bias_)
    index_u = {u: k for k, u in enumerate(user_ids)}
    index_i = {i: k for k, i in enumerate(item_ids)}
    predictions = read_records(out / "predictions.csv")
    assert len(predictions) == summary["held_out_ratings"] > 0
    low, high = summary["prediction_range"]
    for row in predictions:
        score = _scores(model, index_u[row["user"]])[index_i[row["item"]]]
        expected = np.clip(score, low, high)
        assert float(row["prediction"]) == pytest.approx(expected, rel=1e-12)
    errors = [float(r["prediction"]) - float(r["rating"]) for r in predictions]
    assert summary["rmse"] == pytest.approx(np.sqrt(np.mean(np.square(errors))))
    assert summary["mae"] == pytest.approx(np.mean(np.abs(errors)))
    # Recommendations: each user's best items unseen in training, with titles
    # and the tastes behind them.
    seen = {}
    for r in read_records(ratings):
        seen.setdefault(r["user"], set()).add(r["item"])
    held = {(r["user"], r["item"]) for r in predictions}
    recommended = read_records(out / "recommendations.csv")
    explained = json.loads((out / "recommendations.json").read_text())
    assert [r["user"] for r in recommended] == ["u3"] * 3 + ["u7"] * 3
    assert [r["item"] for r in explained] == [r["item"] for r in recommended]
    for user in ("u3", "u7"):
        u = index_u[user]
        mine = [r for r in explained if r["user"] == user]
        train_seen = {i for i in seen[user] if (user, i) not in held}
        scores = _scores(model, u)
        unseen = [i for i in item_ids if i not in train_seen]
        best = sorted(unseen, key=lambda i: -scores[index_i[i]])[:3]
        assert [r["item"] for r in mine] == best
        assert [r["title"] for r in mine] == [f"Title {i[4:]}" for i in best]
        assert [r["position"] for r in mine] == [1, 2, 3]
        for rec in mine:
            j = index_i[rec["item"]]
            contributions = W[u] * H[:, j]
            assert rec["taste"] == pytest.approx(contributions.sum())
            assert rec["baseline"] + rec["taste"] == pytest.approx(scores[j])
            order = np.argsort(-contributions, kind="stable")
            expected = [int(k) for k in order[:2] if contributions[k] > 0]
            assert [c["component"] for c in rec["components"]] == expected
            for c in rec["components"]:
                k = c["component"]
                assert c["contribution"] == pytest.approx(contributions[k])
                top = np.argsort(-H[k], kind="stable")[:2]
                assert [t["item"] for t in c["top_items"]] == [item_ids[t] for t in top]
                assert all(t["title"].startswith("Title ") for t in c["top_items"])
    assert "taste " in stdout and "(baseline " in stdout
    assert recommended[0]["drivers"].startswith("taste ")


def test_test_fraction_zero_trains_on_everything(tmp_path, capsys):
    ratings = tmp_path / "r.tsv"
    _write_ratings(ratings, header=False, delimiter="\t")
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "ratings", ratings, "--test-fraction", "0", "--rank", "3",
        "--max-iter", "20", "--top", "2", "-o", out, "-q",
    )  # fmt: skip
    assert code == 0, err
    assert "0 held out" in stdout and "held-out RMSE" not in stdout
    summary = json.loads((out / "ratings.json").read_text())
    assert not (out / "predictions.csv").exists()
    assert summary["training_ratings"] == sum(1 for _ in open(ratings))
    # the default candidates: 3 taste penalties x 3 bias penalties
    assert len(summary["candidates"]) == 9
    recommended = read_records(out / "recommendations.csv")
    assert len(recommended) == 2 * 30  # every user, two items each
    model = nmfkit.load(out / "model.npz")
    assert model.n_components_ == 3
    assert model.n_iter_ == 20
    with open(out / "W.csv") as f:
        assert f.readline().strip() == "user,taste_0,taste_1,taste_2"


def test_movielens_fold_with_titles_and_explanations(movielens_home, tmp_path, capsys):
    folder = movielens_home / "ml-100k"
    out = tmp_path / "ml"
    code, stdout, err = run(
        capsys, "ratings", folder / "u1.base", "--test", folder / "u1.test",
        "--rank", "20", "--l2-W", "0.07", "--l2-bias", "5", "--user", "1",
        "--top", "2", "-o", out,
    )  # fmt: skip
    assert code == 0, err
    assert "80000 training ratings, 20000 held out; 943 users x 1682 items" in stdout
    assert "chose l2_H=0.07, l2_W=0.07, l2_bias=5, n_components=20" in stdout
    rmse = float(stdout.split("held-out RMSE ")[1].split()[0])
    assert 0.85 < rmse < 0.95
    assert "top 2 unseen items for user 1:" in stdout
    recommended = json.loads((out / "recommendations.json").read_text())
    assert len(recommended) == 2 and all("(19" in r["title"] for r in recommended)
    # the items listed for a taste are films with at least 20 training ratings
    model = nmfkit.load(out / "model.npz")
    _, item_ids, _, _ = read_named_csv(out / "H.csv")
    counts = dict(zip(item_ids, model.item_counts_.tolist(), strict=True))
    for rec in recommended:
        assert rec["components"]
        for c in rec["components"]:
            assert all(counts[t["item"]] >= 20 for t in c["top_items"])
            assert all("(19" in t["title"] for t in c["top_items"])
    assert len(read_records(out / "predictions.csv")) == 20000
    assert np.load(out / "W.npy").shape == (943, 20)


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
    original = nmfkit.RatingsNMF.fit

    def spy(self, *args, **kwargs):
        fits.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(nmfkit.RatingsNMF, "fit", spy)
    assert_bad_input(
        capsys, ["ratings", ratings, "--user", "u1", "--user", "zz", *out],
        "user 'zz' does not appear in the ratings", untouched=tmp_path,
    )  # fmt: skip
    assert fits == []  # refused before any fit
