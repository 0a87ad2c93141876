"""Image data sets as non-negative matrices: one flattened grayscale image per row.

Every loader returns a :class:`sklearn.utils.Bunch` with

- ``data``: ndarray of shape (n_images, height * width), float64 in [0, 1];
- ``images``: the same values as (n_images, height, width);
- ``image_shape``: ``(height, width)``, to fold a row (or a component) back;
- ``target``: labels when the set has them, else None;
- ``sample_names``: one name per image (file name or index);
- ``source`` and ``description``: where the data came from;
- ``skipped``: ``(name, reason)`` of the files that could not be read
  (image folders with ``on_error="skip"``; empty otherwise).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._optional import import_optional
from .._typing import PathLike

__all__ = [
    "IMAGE_EXTENSIONS",
    "load_digits_images",
    "load_image_folder",
    "load_lfw_subset",
    "load_olivetti_faces",
]

#: File name endings that :func:`load_image_folder` reads as images.
IMAGE_EXTENSIONS = (
    ".bmp",
    ".gif",
    ".jpeg",
    ".jpg",
    ".pgm",
    ".png",
    ".ppm",
    ".tif",
    ".tiff",
    ".webp",
)


def _image_bunch(images, *, source, description, target=None, names=None, skipped=()):
    images = np.asarray(images, dtype=np.float64)
    n, h, w = images.shape
    if names is None:
        names = [f"{source}-{i}" for i in range(n)]
    return Bunch(
        data=images.reshape(n, h * w),
        images=images,
        image_shape=(h, w),
        target=None if target is None else np.asarray(target),
        sample_names=list(names),
        source=source,
        description=description,
        skipped=list(skipped),
    )


def load_olivetti_faces(
    *,
    data_home: PathLike | None = None,
    download_if_missing: bool = True,
) -> Bunch:
    """Olivetti (AT&T) faces: 400 images of 64 x 64 pixels, 40 people.

    Read through scikit-learn's :func:`~sklearn.datasets.fetch_olivetti_faces`,
    from its cache in ``data_home`` (downloaded once when missing and allowed).

    Parameters
    ----------
    data_home : str or path-like, default=None
        scikit-learn's data folder (default ``~/scikit_learn_data`` or
        ``$SCIKIT_LEARN_DATA``).
    download_if_missing : bool, default=True
        Download when the cache lacks the file; with False a missing cache
        raises an OSError at once.

    Returns
    -------
    bunch : Bunch
        See the module docstring; ``target`` holds the person ids.

    See Also
    --------
    load_lfw_subset : Labeled Faces in the Wild, bundled with scikit-image.
    load_image_folder : Images from a folder of files.
    sklearn.datasets.fetch_olivetti_faces : scikit-learn's fetcher, used here.

    Examples
    --------
    Needs scikit-learn's cache or a download, so it is not run here:

    >>> from nmfkit.datasets import load_olivetti_faces
    >>> faces = load_olivetti_faces()  # doctest: +SKIP
    >>> faces.data.shape, faces.image_shape  # doctest: +SKIP
    ((400, 4096), (64, 64))
    """
    from sklearn.datasets import fetch_olivetti_faces

    faces = fetch_olivetti_faces(
        data_home=data_home, shuffle=False, download_if_missing=download_if_missing
    )
    return _image_bunch(
        faces.images,
        source="olivetti",
        description="Olivetti faces (AT&T Laboratories Cambridge), 64 x 64 grayscale",
        target=faces.target,
    )


def load_lfw_subset(*, faces_only: bool = True) -> Bunch:
    """The small Labeled Faces in the Wild subset bundled with scikit-image.

    Needs no network: 100 face crops and 100 non-face crops of 25 x 25
    pixels ship inside the scikit-image package.

    Parameters
    ----------
    faces_only : bool, default=True
        Keep the 100 faces; False also returns the 100 non-face patches
        (``target`` 1 for a face, 0 otherwise).

    Returns
    -------
    bunch : Bunch

    See Also
    --------
    load_olivetti_faces : The Olivetti faces.
    load_digits_images : Handwritten digits, bundled with scikit-learn.

    Examples
    --------
    >>> from nmfkit.datasets import load_lfw_subset
    >>> faces = load_lfw_subset()
    >>> faces.data.shape, faces.image_shape
    ((100, 625), (25, 25))
    """
    data = import_optional("skimage.data", purpose="the built-in LFW faces")
    images = np.asarray(data.lfw_subset(), dtype=np.float64)
    target = np.r_[np.ones(100, dtype=int), np.zeros(len(images) - 100, dtype=int)]
    if faces_only:
        images, target = images[:100], target[:100]
    return _image_bunch(
        images,
        source="lfw-subset",
        description="Labeled Faces in the Wild, scikit-image's bundled 25 x 25 subset",
        target=target,
    )


def load_digits_images() -> Bunch:
    """scikit-learn's bundled handwritten digits: 1,797 images of 8 x 8 pixels.

    Values are scaled from 0..16 to [0, 1].

    Returns
    -------
    bunch : Bunch
        ``target`` holds the digit (0 to 9).

    See Also
    --------
    load_lfw_subset : Faces, bundled with scikit-image.
    sklearn.datasets.load_digits : scikit-learn's loader, used here.

    Examples
    --------
    >>> from nmfkit.datasets import load_digits_images
    >>> digits = load_digits_images()
    >>> digits.data.shape, digits.image_shape
    ((1797, 64), (8, 8))
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return _image_bunch(
        digits.images / 16.0,
        source="digits",
        description="scikit-learn's handwritten digits (UCI), 8 x 8 grayscale",
        target=digits.target,
    )


def _check_on_error(on_error):
    if on_error not in ("raise", "skip"):
        raise ValueError(
            f"on_error={on_error!r} is not valid; choose 'raise' or 'skip'."
        )


def load_image_folder(
    path: PathLike,
    *,
    shape: tuple[int, int] = (64, 64),
    on_error: str = "raise",
    recursive: bool = False,
) -> Bunch:
    """Read every image of a folder as grayscale, resized to one shape.

    Parameters
    ----------
    path : str or path-like
        The folder. Files whose names end in one of :data:`IMAGE_EXTENSIONS`
        are read, in sorted order; other files are left alone.
    shape : (int, int), default=(64, 64)
        ``(height, width)`` every image is resized to.
    on_error : {"raise", "skip"}, default="raise"
        What to do with a file that cannot be read as an image: raise a
        ValueError that names it, or leave it out and list it in
        ``bunch.skipped``.
    recursive : bool, default=False
        Also read the sub-folders.

    Returns
    -------
    bunch : Bunch
        ``sample_names`` are the paths relative to ``path``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist or is not a folder.
    ValueError
        No image in the folder, no readable image, or (with
        ``on_error="raise"``) one unreadable file.

    See Also
    --------
    load_olivetti_faces : The Olivetti faces, a ready-made image set.
    nmfkit.plotting.plot_gallery : Show images and components.

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image
    >>> from nmfkit.datasets import load_image_folder
    >>> import os
    >>> os.mkdir("images")
    >>> for name, level in [("dark.png", 40), ("light.png", 200)]:
    ...     image = Image.fromarray(np.full((8, 8), level, dtype=np.uint8))
    ...     image.save("images/" + name)
    >>> images = load_image_folder("images", shape=(4, 4))
    >>> images.data.shape, images.sample_names
    ((2, 16), ['dark.png', 'light.png'])
    """
    _check_on_error(on_error)
    height, width = (int(s) for s in shape)
    if height < 1 or width < 1:
        raise ValueError(
            f"shape={tuple(shape)!r} is not valid; give two positive sizes."
        )
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; give a folder of images.")
    Image = import_optional("PIL.Image", purpose="reading image folders")
    pattern = "**/*" if recursive else "*"
    files = sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not files:
        raise ValueError(
            f"no image found in {folder} (looked for files ending in "
            f"{', '.join(IMAGE_EXTENSIONS)}); add images or choose another folder."
        )
    images, names, skipped = [], [], []
    for file in files:
        name = str(file.relative_to(folder))
        try:
            with Image.open(file) as img:
                img.load()
                gray = img.convert("L").resize(
                    (width, height), Image.Resampling.BILINEAR
                )
                images.append(np.asarray(gray, dtype=np.float64) / 255.0)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")
            if on_error == "raise":
                raise ValueError(
                    f"cannot read the image {file} ({reason}); remove it or skip "
                    "unreadable files (on_error='skip', --skip-bad-files)."
                ) from exc
            skipped.append((name, reason))
            continue
        names.append(name)
    if not images:
        raise ValueError(
            f"none of the {len(files)} image files in {folder} could be read; "
            f"the first error: {skipped[0][1]}."
        )
    return _image_bunch(
        np.stack(images),
        source=str(folder),
        description=f"{len(images)} images from {folder}, gray, {height} x {width}",
        names=names,
        skipped=skipped,
    )
