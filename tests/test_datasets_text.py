"""Text loaders and the document-term matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from nmfkit.datasets import (
    load_lee_corpus,
    load_newsgroups,
    load_text_folder,
    load_text_table,
    vectorize_texts,
)


def test_lee_corpus_is_bundled_with_gensim():
    pytest.importorskip("gensim")
    lee = load_lee_corpus()
    assert len(lee.texts) == 300
    assert lee.texts[0].startswith("Hundreds of people have been forced")


def test_newsgroups_from_the_shared_cache(sklearn_data_home):
    news = load_newsgroups(
        data_home=sklearn_data_home, subset="train", download_if_missing=False
    )
    assert len(news.texts) == 11314
    assert len(news.target_names) == 20


def test_text_folder_reads_txt_files_in_order(tmp_path):
    (tmp_path / "b.txt").write_text("second document", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first document é", encoding="utf-8")
    (tmp_path / "c.csv").write_text("ignored")
    corpus = load_text_folder(tmp_path)
    assert corpus.doc_ids == ["a.txt", "b.txt"]
    assert corpus.texts == ["first document é", "second document"]


def test_binary_file_given_as_text_is_refused_or_skipped(tmp_path):
    (tmp_path / "ok.txt").write_text("plain words here")
    (tmp_path / "blob.txt").write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match=r"blob\.txt is not a text file"):
        load_text_folder(tmp_path)
    corpus = load_text_folder(tmp_path, on_error="skip")
    assert corpus.doc_ids == ["ok.txt"]
    assert corpus.skipped[0][0] == "blob.txt"
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match="not valid utf-8 text"):
        load_text_folder(tmp_path, pattern="latin.txt")
    assert load_text_folder(
        tmp_path, pattern="latin.txt", encoding="latin-1"
    ).texts == ["café"]


def test_empty_text_folder(tmp_path):
    with pytest.raises(ValueError, match="no file matching"):
        load_text_folder(tmp_path)


def test_csv_column_with_quoted_newlines_and_empty_rows(tmp_path):
    path = tmp_path / "docs.csv"
    path.write_text('id,body\n1,"two\nlines"\n2,\n3,third\n', encoding="utf-8")
    corpus = load_text_table(path, "body", id_column="id")
    assert corpus.texts == ["two\nlines", "third"]
    assert corpus.doc_ids == ["1", "3"]
    assert len(corpus.skipped) == 1
    with pytest.raises(
        ValueError, match="no column 'text'; its columns are 'id', 'body'"
    ):
        load_text_table(path, "text")


def test_jsonl_key(tmp_path):
    path = tmp_path / "docs.jsonl"
    rows = [{"text": "alpha beta"}, {"other": 1}, {"text": "gamma"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    corpus = load_text_table(path, "text")
    assert corpus.texts == ["alpha beta", "gamma"]
    assert corpus.doc_ids == ["line 1", "line 3"]
    path.write_text('{"text": "ok"}\n[1, 2]\n')
    with pytest.raises(ValueError, match="line 2: each line must be a JSON object"):
        load_text_table(path, "text")


def test_vectorize_tfidf_and_counts():
    texts = ["apples and pears", "pears and plums", "plums plums apples", ""]
    tfidf = vectorize_texts(texts, min_df=1, max_df=1.0)
    assert sp.issparse(tfidf.data) and tfidf.data.shape == (4, 3)
    assert list(tfidf.vocabulary) == ["apples", "pears", "plums"]
    norms = np.sqrt(np.asarray(tfidf.data.multiply(tfidf.data).sum(axis=1))).ravel()
    np.testing.assert_allclose(norms, [1, 1, 1, 0])
    assert tfidf.tokens[2] == ["plums", "plums", "apples"]
    counts = vectorize_texts(texts, method="count", min_df=1, max_df=1.0)
    assert counts.data[2].toarray().tolist() == [[1, 0, 2]]
    with pytest.raises(ValueError, match="loosen min_df"):
        vectorize_texts(["one", "two"], min_df=2)
