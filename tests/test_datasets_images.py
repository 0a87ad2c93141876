"""Image loaders: bundled sets, scikit-learn's cache and folders of images."""

from __future__ import annotations

import numpy as np
import pytest

from nmfkit.datasets import (
    load_digits_images,
    load_image_folder,
    load_lfw_subset,
    load_olivetti_faces,
)

Image = pytest.importorskip("PIL.Image")


def _write_png(path, array):
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)


def test_lfw_subset_is_the_bundled_faces():
    faces = load_lfw_subset()
    assert faces.data.shape == (100, 625)
    assert faces.image_shape == (25, 25)
    assert 0.0 <= faces.data.min() and faces.data.max() <= 1.0
    np.testing.assert_array_equal(faces.images.reshape(100, -1), faces.data)
    both = load_lfw_subset(faces_only=False)
    assert both.data.shape == (200, 625)
    assert both.target.sum() == 100


def test_digits_are_scaled_to_unit_range():
    digits = load_digits_images()
    assert digits.data.shape == (1797, 64)
    assert digits.data.max() == 1.0 and digits.data.min() == 0.0
    assert set(np.unique(digits.target)) == set(range(10))


def test_olivetti_from_the_shared_cache(sklearn_data_home):
    faces = load_olivetti_faces(data_home=sklearn_data_home, download_if_missing=False)
    assert faces.data.shape == (400, 4096)
    assert faces.image_shape == (64, 64)
    assert len(np.unique(faces.target)) == 40


def test_olivetti_missing_cache_fails_fast(tmp_path):
    with pytest.raises(OSError):
        load_olivetti_faces(data_home=tmp_path, download_if_missing=False)


def test_image_folder_reads_resizes_and_ignores_other_files(tmp_path):
    _write_png(tmp_path / "b.png", np.full((10, 20), 255))
    rgb = np.zeros((8, 8, 3), dtype=np.uint8)
    rgb[..., 0] = 255  # pure red: luminance 0.299 * 255
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=100)
    (tmp_path / "notes.md").write_text("not an image")
    images = load_image_folder(tmp_path, shape=(6, 4))
    assert images.sample_names == ["a.jpg", "b.png"]
    assert images.data.shape == (2, 24)
    assert images.image_shape == (6, 4)
    np.testing.assert_allclose(images.images[1], 1.0)
    assert abs(images.images[0].mean() - 76 / 255) < 0.02
    assert images.skipped == []


def test_corrupt_image_raises_with_its_name_or_is_skipped(tmp_path):
    _write_png(tmp_path / "good.png", np.arange(64).reshape(8, 8))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ValueError, match="broken.png"):
        load_image_folder(tmp_path, shape=(8, 8))
    images = load_image_folder(tmp_path, shape=(8, 8), on_error="skip")
    assert images.sample_names == ["good.png"]
    assert [name for name, _ in images.skipped] == ["broken.png"]


def test_empty_folder_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="no image found"):
        load_image_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_image_folder(tmp_path / "nowhere")
    (tmp_path / "x.png").write_bytes(b"nope")
    with pytest.raises(ValueError, match="none of the 1 image files"):
        load_image_folder(tmp_path, on_error="skip")
