"""The faces application: parts-based dictionaries of face images."""

from __future__ import annotations

import io
import re

import numpy as np
from sklearn.utils import Bunch

from ._compare import compare_with_sklearn
from ._defaults import FACES_DEFAULTS
from ._results import component_names, json_safe, model_from_record, write_factors
from ._sections import (
    SUMMARY_HEADER,
    add_comparison_sections,
    add_faces_figures,
    summary_rows,
)

__all__ = ["FACES_DEFAULTS", "run_faces", "write_faces_outputs"]


def run_faces(images, report, *, progress=None, prefix="faces", **options):
    """Fit and compare on face images; add the sections to ``report``.

    Parameters
    ----------
    images : Bunch
        From an image loader of :mod:`nmfkit.datasets`.
    report : nmfkit.report.Report or None
        Where the sections go; None for no report.
    progress : Progress, default=None
        Shows the stages and the fits' iterations (nothing when None).
    prefix : str, default="faces"
        Prefix of the section and figure keys.
    **options
        Overrides of :data:`FACES_DEFAULTS` and the other arguments of
        :func:`compare_with_sklearn`.

    Returns
    -------
    result : Bunch
        ``comparison``, ``rows`` and ``header`` of the terminal table, and
        ``settings`` (the fits' settings).

    See Also
    --------
    write_faces_outputs : Writes the model, factors and images of the result.
    compare_with_sklearn : The comparison it runs.
    nmfkit.datasets.load_olivetti_faces : The faces the command uses.

    Examples
    --------
    Twenty digits, four components, no report:

    >>> from nmfkit.apps import run_faces
    >>> from nmfkit.datasets import load_digits_images
    >>> images = load_digits_images()
    >>> images.data = images.data[:20]
    >>> images.sample_names = images.sample_names[:20]
    >>> settings = dict(n_components=4, max_iter=20, curves=False)
    >>> result = run_faces(images, None, **settings)
    >>> result.header[:3]
    ('model', '||X - WH||_F', 'objective')
    >>> result.comparison.fits["nmfkit"].H.shape
    (4, 64)
    """
    settings = {**FACES_DEFAULTS, **options}
    comparison = compare_with_sklearn(images.data, progress=progress, **settings)
    if report is not None:
        add_faces_report(report, images, comparison, progress=progress, prefix=prefix)
    return Bunch(
        comparison=comparison,
        rows=summary_rows(comparison),
        header=SUMMARY_HEADER,
        settings=settings,
    )


def add_faces_report(report, images, comparison, *, progress=None, prefix="faces"):
    """Add the faces sections and figures of a comparison to ``report``."""
    X = images.data
    facts = {
        "source": images.description,
        "matrix": f"{X.shape[0]} images x {X.shape[1]} pixels",
        "image shape": "{} x {}".format(*images.image_shape),
        "value range": f"[{X.min():.3g}, {X.max():.3g}]",
        "files skipped": len(images.skipped),
    }
    results = add_comparison_sections(report, prefix, "Faces", comparison, facts)
    if images.skipped:
        results.table(
            images.skipped,
            header=("file", "reason"),
            key=f"{prefix}-skipped",
            caption="Files that could not be read",
        )
    if progress is not None:
        progress.step("drawing the faces figures")
    add_faces_figures(report, prefix, comparison, images)


def _png(outputs, name, image, scale):
    from PIL import Image

    image = np.asarray(image, dtype=np.float64)
    pixels = np.clip(image / scale, 0, 1) if scale > 0 else np.zeros_like(image)
    buffer = io.BytesIO()
    Image.fromarray(np.uint8(np.round(255 * pixels))).save(buffer, format="PNG")
    outputs.write_bytes(name, buffer.getvalue())


def _safe(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._")[:60] or "image"


def write_faces_outputs(outputs, images, result, *, folder=""):
    """Write nmfkit's model and dictionary of :func:`run_faces` into ``outputs``.

    Files (under ``folder``): ``model.npz``; ``W`` and ``H`` as ``.npy`` and
    CSV (rows of W: the image names; columns of H: pixels ``r{row}_c{col}``);
    ``components/component_KK.png`` (each component scaled to its maximum);
    ``reconstructions/NNNN-NAME.png`` (``W H`` of every image, on the data's
    scale); ``faces.json`` (the comparison table, settings, notes).

    Parameters
    ----------
    outputs : OutputSet or Subfolder
        Where to write.
    images : Bunch
        The images given to :func:`run_faces` (``data``, ``image_shape``,
        ``sample_names``, ``description``, ``skipped``).
    result : Bunch
        What :func:`run_faces` returned; gets ``notes`` (the convergence
        warnings written to ``faces.json``).
    folder : str, default=""
        The folder inside ``outputs`` (``""``: its top).

    Returns
    -------
    files : list of str
        The files written, relative to the output set.

    See Also
    --------
    run_faces : Makes ``result``.
    OutputSet : The all-or-nothing folder.
    nmfkit.load : Reads ``model.npz`` back.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from nmfkit.apps import OutputSet, write_faces_outputs
    >>> from nmfkit.apps import run_faces
    >>> from nmfkit.datasets import load_digits_images
    >>> images = load_digits_images()
    >>> images.data = images.data[:20]
    >>> images.sample_names = images.sample_names[:20]
    >>> settings = dict(n_components=4, max_iter=20, curves=False)
    >>> result = run_faces(images, None, **settings)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> with OutputSet(pathlib.Path(tmp.name) / "faces") as out:
    ...     files = write_faces_outputs(out, images, result)
    >>> files[:5]
    ['W.npy', 'H.npy', 'W.csv', 'H.csv', 'model.npz']
    >>> len([name for name in files if name.startswith("reconstructions/")])
    20
    >>> tmp.cleanup()
    """
    from ._notes import convergence_note

    comparison, settings = result.comparison, result.settings
    record = comparison.fits["nmfkit"]
    X = images.data
    h, w = images.image_shape
    components = component_names(record.H.shape[0])
    pixels = [f"r{r}_c{c}" for r in range(h) for c in range(w)]
    sub = outputs.subfolder(folder)
    write_factors(
        sub,
        record.W,
        record.H,
        row_names=images.sample_names,
        column_names=pixels,
        components=components,
        corner="image",
    )
    sub.save_model("model.npz", model_from_record(record))
    for k, row in enumerate(record.H):
        _png(sub, f"components/component_{k:02d}.png", row.reshape(h, w), row.max())
    scale = float(X.max())
    for i, (name, row) in enumerate(
        zip(images.sample_names, record.W @ record.H, strict=True)
    ):
        _png(
            sub, f"reconstructions/{i:04d}-{_safe(name)}.png", row.reshape(h, w), scale
        )
    notes = [
        note
        for r in comparison.fits.values()
        if (note := convergence_note(r.label, r.n_iter, settings["max_iter"],
                                     settings["tol"], r.history))
    ]  # fmt: skip
    sub.write_json(
        "faces.json",
        {
            "source": images.description,
            "shape": list(X.shape),
            "image_shape": [h, w],
            "settings": settings,
            "table": {
                "header": list(result.header),
                "rows": [[json_safe(v) for v in row] for row in result.rows],
            },
            "files_skipped": [list(map(str, s)) for s in images.skipped],
            "warnings": notes,
        },
    )
    result.notes = notes
    return sub.files
