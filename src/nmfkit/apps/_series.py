"""The time-series application: templates of a set of recordings.

Each sample is a recording and its features are the recording's values over
time, so NMF's dictionary rows are **time-series templates** (daily shapes of
a load profile, say) and its codes the weight of each template in each
recording. :func:`decompose_series` fits them and writes the templates, the
activations, the reconstructions (CSV and ``.npy``), a JSON summary and an
HTML report with the templates, the activations and reconstruction examples.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._nmf import NMF
from ._defaults import SERIES_DEFAULTS
from ._outputs import json_safe_tree, output_set, write_report

__all__ = ["SERIES_DEFAULTS", "SERIES_STEPS", "decompose_series"]


#: Number of ``progress.step`` calls of :func:`decompose_series` (at most).
SERIES_STEPS = 4


def _as_recordings(source, names, times):
    from ..datasets import load_recordings

    truth = None
    if isinstance(source, (str, Path)):
        rec = load_recordings(source)
        data, label = rec.data, rec.name
        names = rec.names if names is None else names
        times = rec.times if times is None else times
    elif isinstance(source, Bunch) and "data" in source:
        data = np.asarray(source.data, dtype=np.float64)
        label = source.get("description", source.get("name", "recordings"))
        names = source.get("names") if names is None else names
        times = source.get("times") if times is None else times
        if "templates" in source:
            truth = (np.asarray(source.templates), source.get("template_names"))
    else:
        data = np.asarray(source, dtype=np.float64)
        label = "recordings"
    if data.ndim != 2 or 0 in data.shape:
        raise ValueError(
            f"the recordings have shape {data.shape}; give a 2-D array with one "
            "recording per row."
        )
    n, t = data.shape
    names = [f"row {i + 1}" for i in range(n)] if names is None else list(names)
    times = [str(j) for j in range(t)] if times is None else list(times)
    if len(names) != n or len(times) != t:
        raise ValueError(
            f"{len(names)} names and {len(times)} time labels for {n} recordings "
            f"of {t} points; give one name per recording and one label per point."
        )
    if not np.all(np.isfinite(data)):
        row = int(np.flatnonzero(~np.isfinite(data).all(axis=1))[0])
        raise ValueError(
            f"recording {names[row]!r} has NaN or infinite values; fill or drop them."
        )
    if data.min() < 0:
        row, col = np.unravel_index(int(np.argmin(data)), data.shape)
        raise ValueError(
            f"recording {names[row]!r} has a negative value ({data[row, col]:.4g} at "
            f"{times[col]}); NMF needs non-negative data: shift or clip it first."
        )
    return data, [str(v) for v in names], [str(v) for v in times], label, truth


def _example_rows(errors, n_examples):
    """The best, the worst and evenly spaced ranks between: recordings to show."""
    order = np.argsort(errors, kind="stable")
    n = min(n_examples, order.size)
    picks = np.unique(np.round(np.linspace(0, order.size - 1, n)).astype(int))
    return order[picks]


def decompose_series(
    source,
    rank,
    *,
    beta_loss="frobenius",
    names=None,
    times=None,
    init="nndsvd",
    max_iter=1000,
    tol=1e-5,
    random_state=0,
    n_examples=4,
    output_dir=None,
    outputs=None,
    report=None,
    force=False,
    progress=None,
    prefix="series",
):
    """Time-series templates of a set of recordings, with outputs and a report.

    Parameters
    ----------
    source : str, path-like, ndarray or Bunch
        A file of recordings (:func:`nmfkit.datasets.load_recordings`: CSV
        or ``.npy``, one recording per row), an array (n_recordings, n_times)
        or a Bunch with ``data`` (and optionally ``names``, ``times``, and
        ``templates`` to compare with, as
        :func:`~nmfkit.datasets.make_load_profiles` gives).
    rank : int
        Number of templates.
    beta_loss : {"frobenius", "kullback-leibler", "itakura-saito"} or float, \
            default="frobenius"
        The loss of the fit.
    names : list of str, default=None
        Recording names (else the file's, or "row 1"...).
    times : list of str, default=None
        Labels of the time points (else the file's header, or "0", "1"...).
    init, max_iter, tol, random_state
        Of :class:`nmfkit.NMF`.
    n_examples : int, default=4
        Recordings shown with their reconstructions: the best and the worst
        fit and evenly spaced ranks between.
    output_dir : str or path-like, default=None
        Folder for ``templates.csv`` (time points x templates), ``.npy``
        (templates x time points), ``activations.csv``/``.npy`` (recordings x
        templates), ``reconstruction.csv``/``.npy`` (recordings x time
        points), ``summary.json``, ``report.html`` and ``manifest.json``: an
        :class:`~nmfkit.apps.OutputSet`, checked before the fit and put in
        place all together at the end, or not at all. None writes nothing.
    outputs : OutputSet or Subfolder, default=None
        Write the same files into this open set instead (the caller commits
        it); not with ``output_dir``.
    report : None, False or nmfkit.report.Report, default=None
        None: build a report (written as ``report.html`` with the other
        files, with links to them, when there are outputs); a Report: add the
        sections to it; False: none.
    force : bool, default=False
        Replace an existing output folder (an earlier output set) as a whole.
    progress : nmfkit.apps.Progress, default=None
        Told of up to :data:`SERIES_STEPS` steps.
    prefix : str, default="series"
        Prefix of the report's section keys.

    Returns
    -------
    result : Bunch
        ``data``, ``names``, ``times``, ``templates`` (rank, n_times; each
        scaled to a peak of 1), ``activations`` (n_recordings, rank, in the
        data's units), ``reconstruction``, ``errors`` (relative error of
        each recording), ``model`` (the fitted :class:`nmfkit.NMF`),
        ``truth_similarity`` (matched cosine with given templates, or None),
        ``summary``, ``files`` (the names written, relative to the output
        set) and ``report``.

    See Also
    --------
    nmfkit.datasets.make_load_profiles : Built-in recordings with known
        templates.
    nmfkit.datasets.load_recordings : Reads a file of recordings.
    separate_audio : Spectral templates of one recording instead.

    Examples
    --------
    A month of daily load profiles; the templates match the generating
    shapes:

    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from nmfkit.apps import decompose_series
    >>> from nmfkit.datasets import make_load_profiles
    >>> profiles = make_load_profiles(n_days=30)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> result = decompose_series(profiles, 3, max_iter=100, tol=0, report=False,
    ...                           output_dir=pathlib.Path(tmp.name) / "series")
    >>> result.templates.shape, result.activations.shape
    ((3, 24), (30, 3))
    >>> bool(np.all(result.truth_similarity["cosine"] > 0.9))
    True
    >>> result.files[:3]
    ['templates.csv', 'activations.csv', 'reconstruction.csv']
    >>> tmp.cleanup()
    """
    from ..report import Report

    if progress is not None:
        progress.step("reading the recordings")
    data, names, times, label, truth = _as_recordings(source, names, times)
    make_report = report is not False
    # An output set opened here is committed when the block ends normally and
    # removed otherwise; a given one is the caller's to commit.
    with output_set(output_dir, outputs, force=force, command="series") as out:
        if progress is not None:
            progress.step("fitting the templates")
        model = NMF(
            rank,
            beta_loss=beta_loss,
            init=init,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
        )
        start = time.perf_counter()
        if progress is not None:
            with progress.watch(model, "series"):
                W = model.fit_transform(data)
        else:
            W = model.fit_transform(data)
        seconds = time.perf_counter() - start
        H = model.components_
        peak = H.max(axis=1)
        peak[peak == 0] = 1.0
        templates, activations = H / peak[:, None], W * peak[None, :]
        reconstruction = activations @ templates
        norms = np.linalg.norm(data, axis=1)
        errors = np.linalg.norm(data - reconstruction, axis=1) / np.where(
            norms > 0, norms, 1.0
        )
        similarity = None
        if truth is not None and truth[0].shape[1] == templates.shape[1]:
            from ..matching import match_components

            order, rows, sims = match_components(truth[0], templates)
            similarity = Bunch(truth_rows=rows, templates=order, cosine=sims)
        summary = {
            "input": label,
            "shape": list(data.shape),
            "rank": int(rank),
            "parameters": {
                k: model.get_params()[k]
                for k in ("beta_loss", "init", "max_iter", "tol", "random_state")
            },
            "objective": float(model.loss_),
            "reconstruction_err": float(model.reconstruction_err_),
            "relative_error": float(
                np.linalg.norm(data - reconstruction) / np.linalg.norm(data)
            ),
            "n_iter": int(model.n_iter_),
            "seconds": seconds,
            "orientation": "data (recordings x time points) ~ activations @ templates",
        }
        if similarity is not None:
            summary["matched_cosine_with_given_templates"] = similarity.cosine.tolist()
        built = None
        if make_report:
            if progress is not None:
                progress.step("drawing the report")
            built = (
                report
                if report is not None
                else Report(
                    "nmfkit: series", subtitle=f"{label}: time-series templates"
                )
            )
            _add_sections(
                built, prefix, label, data, names, times, model, templates,
                activations, reconstruction, errors, similarity, truth, n_examples,
                summary,
            )  # fmt: skip
        written = []
        if out is not None:
            written = _write_outputs(
                out, names, times, templates, activations, reconstruction, summary
            )
            if built is not None and report is None:
                written += write_report(built, out, written,
                                        title="Series: result files",
                                        key=f"{prefix}-files")  # fmt: skip
        return Bunch(
            data=data,
            names=names,
            times=times,
            templates=templates,
            activations=activations,
            reconstruction=reconstruction,
            errors=errors,
            model=model,
            truth_similarity=similarity,
            summary=summary,
            files=written,
            report=built,
        )


def _write_outputs(out, names, times, templates, activations, reconstruction, summary):
    """Write the CSV and ``.npy`` files and the summary; return the names."""
    sub = out.subfolder("")
    comp = [f"template_{j + 1}" for j in range(templates.shape[0])]
    sub.write_rows_csv(
        "templates.csv",
        ("time", *comp),
        ((t, *map(float, row)) for t, row in zip(times, templates.T, strict=True)),
    )
    sub.write_rows_csv(
        "activations.csv",
        ("recording", *comp),
        ((n, *map(float, row)) for n, row in zip(names, activations, strict=True)),
    )
    sub.write_rows_csv(
        "reconstruction.csv",
        ("recording", *times),
        ((n, *map(float, row)) for n, row in zip(names, reconstruction, strict=True)),
    )
    for stem, array in (
        ("templates", templates),
        ("activations", activations),
        ("reconstruction", reconstruction),
    ):
        sub.write_npy(f"{stem}.npy", array)
    summary["files"] = [n.rpartition("/")[2] for n in sub.files] + ["summary.json"]
    sub.write_json("summary.json", json_safe_tree(summary))
    return list(sub.files)


def _add_sections(
    report, prefix, label, data, names, times, model, templates, activations,
    reconstruction, errors, similarity, truth, n_examples, summary,
):  # fmt: skip
    from ..plotting import plot_convergence

    n, t = data.shape
    report.section("Series: data", key=f"{prefix}-data").definitions(
        {
            "source": label,
            "recordings": n,
            "time points": t,
            "first and last time points": f"{times[0]} ... {times[-1]}",
            "value range": f"[{data.min():.4g}, {data.max():.4g}]",
        },
        key=f"{prefix}-data",
    )
    results = report.section("Series: templates", key=f"{prefix}-results")
    results.text(
        "Each recording (a row) is modelled as a weighted sum of templates: "
        "data ~ activations x templates, every template scaled to a peak of 1."
    )
    results.definitions(
        {
            "rank": int(model.n_components_),
            "beta_loss": str(model.beta_loss),
            "objective": summary["objective"],
            "relative error ||X - WH|| / ||X||": summary["relative_error"],
            "median relative error of a recording": float(np.median(errors)),
            "worst relative error of a recording": float(errors.max()),
            "iterations": summary["n_iter"],
            "seconds": summary["seconds"],
        },
        key=f"{prefix}-fit",
    )
    if similarity is not None:
        truth_names = truth[1] or [f"given {i + 1}" for i in range(len(truth[0]))]
        results.table(
            [
                (truth_names[r], f"template {c + 1}", float(s))
                for r, c, s in zip(
                    similarity.truth_rows,
                    similarity.templates,
                    similarity.cosine,
                    strict=True,
                )
            ],
            header=("generating shape", "matched template", "cosine"),
            caption="Templates matched to the shapes that generated the data",
            key=f"{prefix}-truth",
        )
    results.figure(
        plot_series_templates(templates, times),
        caption="The templates (rows of H, each scaled to a peak of 1)",
        key=f"{prefix}-templates",
    )
    results.figure(
        plot_series_activations(activations, names),
        caption="Activations: the weight of each template in each recording",
        key=f"{prefix}-activations",
    )
    rows = _example_rows(errors, n_examples)
    results.figure(
        plot_series_reconstructions(
            data[rows], reconstruction[rows], activations[rows], templates, times,
            [f"{names[i]} (error {errors[i]:.1%})" for i in rows],
        ),
        caption="Reconstruction examples: recordings from the best to the worst "
        "fit, with the weighted templates that add up to the reconstruction",
        key=f"{prefix}-reconstructions",
    )  # fmt: skip
    results.figure(
        plot_convergence({"nmfkit": model.history_}),
        caption="Objective against iterations and seconds",
        key=f"{prefix}-convergence",
    )


def _time_ticks(ax, times):
    step = max(1, len(times) // 8)
    ax.set_xticks(range(0, len(times), step))
    ax.set_xticklabels(times[::step], fontsize=7, rotation=0)


def plot_series_templates(templates, times):
    """The templates as curves over the time points.

    Parameters
    ----------
    templates : ndarray of shape (n_templates, n_times)
    times : list of str

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    from ..plotting._figure import new_figure

    fig = new_figure(7.5, 3.0)
    ax = fig.subplots()
    for j, row in enumerate(templates):
        ax.plot(row, label=f"template {j + 1}", linewidth=1.6)
    _time_ticks(ax, times)
    ax.set_ylabel("relative value")
    ax.legend(fontsize=8, ncols=min(4, len(templates)))
    return fig


def plot_series_activations(activations, names):
    """The activations of every recording, one curve per template.

    Parameters
    ----------
    activations : ndarray of shape (n_recordings, n_templates)
    names : list of str

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    from ..plotting._figure import new_figure

    fig = new_figure(7.5, 3.0)
    ax = fig.subplots()
    for j in range(activations.shape[1]):
        ax.plot(activations[:, j], label=f"template {j + 1}", linewidth=0.9)
    step = max(1, len(names) // 6)
    ax.set_xticks(range(0, len(names), step))
    ax.set_xticklabels(names[::step], fontsize=7)
    ax.set_xlabel("recording")
    ax.set_ylabel("weight")
    ax.legend(fontsize=8, ncols=min(4, activations.shape[1]))
    return fig


def plot_series_reconstructions(
    data, reconstruction, weights, templates, times, titles
):
    """Recordings, their reconstructions and the weighted templates.

    Parameters
    ----------
    data, reconstruction : ndarray of shape (n_shown, n_times)
    weights : ndarray of shape (n_shown, n_templates)
    templates : ndarray of shape (n_templates, n_times)
    times : list of str
    titles : list of str

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    from ..plotting._figure import new_figure

    n = len(data)
    n_cols = min(2, n)
    n_rows = -(-n // n_cols)
    fig = new_figure(4.2 * n_cols, 2.5 * n_rows)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        parts = weights[i][:, None] * templates
        ax.stackplot(range(templates.shape[1]), parts, alpha=0.35, linewidth=0)
        ax.plot(data[i], color="black", linewidth=1.3, label="recording")
        ax.plot(reconstruction[i], color="C3", linestyle="--", label="reconstruction")
        ax.set_title(titles[i], fontsize=9)
        _time_ticks(ax, times)
        if i == 0:
            ax.legend(fontsize=7)
    return fig
