"""The faces application: parts-based dictionaries of face images."""

from __future__ import annotations

from sklearn.utils import Bunch

from ._compare import compare_with_sklearn
from ._sections import (
    SUMMARY_HEADER,
    add_comparison_sections,
    add_model_figures,
    summary_rows,
)

__all__ = ["FACES_DEFAULTS", "run_faces"]

#: Defaults of the faces application (the course's penalties for [0, 1] pixels).
FACES_DEFAULTS = dict(
    n_components=16, l1_W=2.0, l2_W=0.1, l2_H=0.1, max_iter=300, tol=1e-5
)


def run_faces(images, report, *, progress=None, prefix="faces", **options):
    """Fit and compare on face images; add the sections to ``report``.

    Parameters
    ----------
    images : Bunch
        From an image loader of :mod:`nmfkit.datasets`.
    report : nmfkit.report.Report
    progress : Progress, default=None
    prefix : str, default="faces"
        Prefix of the section and figure keys.
    **options
        Overrides of :data:`FACES_DEFAULTS` and the other arguments of
        :func:`compare_with_sklearn`.

    Returns
    -------
    result : Bunch
        ``comparison``, and ``rows`` and ``header`` of the terminal table.
    """
    from ..plotting import plot_gallery, plot_matched_components, plot_reconstructions

    settings = {**FACES_DEFAULTS, **options}
    X = images.data
    comparison = compare_with_sklearn(X, progress=progress, **settings)
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
    figures = report.section("Faces: figures", key=f"{prefix}-figures")
    shape = images.image_shape
    nmfkit_fit, sklearn_fit = comparison.fits["nmfkit"], comparison.fits["sklearn"]
    order, rows, sims = comparison.matches["nmfkit"]
    figures.figure(
        plot_gallery(X[:16], shape, titles=images.sample_names[:16]),
        caption="Some of the images",
        key=f"{prefix}-samples",
    )
    figures.figure(
        plot_matched_components(
            nmfkit_fit.H,
            sklearn_fit.H,
            shape,
            order,
            sims,
            rows=rows,
            labels=("nmfkit", "sklearn"),
        ),
        caption="Dictionaries side by side: nmfkit's components (top) and their "
        "matched scikit-learn components (below), with cosine similarity",
        key=f"{prefix}-matched",
    )
    figures.figure(
        plot_gallery(nmfkit_fit.H, shape, title="nmfkit components"),
        caption="nmfkit's dictionary (rows of H as images)",
        key=f"{prefix}-components",
    )
    figures.figure(
        plot_reconstructions(X, nmfkit_fit.W @ nmfkit_fit.H, shape),
        caption="Originals (top) and nmfkit's reconstructions W H (below)",
        key=f"{prefix}-reconstructions",
    )
    add_model_figures(figures, prefix, comparison)
    return Bunch(
        comparison=comparison, rows=summary_rows(comparison), header=SUMMARY_HEADER
    )
