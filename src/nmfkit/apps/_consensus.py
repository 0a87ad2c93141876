"""``nmfkit consensus``: consensus NMF of a matrix over candidate ranks."""

from __future__ import annotations

import time
import warnings

from sklearn.utils import Bunch

from ._notes import collect_warnings
from ._rank import _unconverged_note
from ._results import component_names

__all__ = ["RULE", "consensus_matrix", "write_consensus_outputs"]

#: How the rank is chosen, in words.
RULE = (
    "The chosen rank has the largest silhouette (the most stable clustering of "
    "the replicates' components); a tie goes to the smaller rank. Check the "
    "error too: past the right rank it stops falling much."
)


def _rank_files(rank):
    return f"spectra_k{rank}.csv", f"usages_k{rank}.csv"


def consensus_matrix(X, ranks, *, progress, **settings):
    """Run :func:`nmfkit.consensus.consensus_nmf`; one progress step per rank.

    Returns
    -------
    result : Bunch
        ``selection`` (a :class:`~nmfkit.consensus.ConsensusSelection`),
        ``seconds``, ``notes`` (the warnings, one line each) and ``settings``.
    """
    from sklearn.exceptions import ConvergenceWarning

    from ..consensus import consensus_nmf

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        selection = consensus_nmf(
            X,
            ranks,
            callback=lambda rank, _: progress.step(f"rank {rank} done"),
            **settings,
        )
        seconds = time.perf_counter() - start
    notes = [n for n in [_unconverged_note(selection, settings)] if n]
    notes += collect_warnings(caught, skip=(ConvergenceWarning,))
    settings = dict(settings, n_neighbors=selection.n_neighbors)
    return Bunch(selection=selection, seconds=seconds, notes=notes, settings=settings)


def _table_rows(selection):
    return [
        [
            row["rank"],
            row["silhouette"],
            row["reconstruction_error"],
            row["n_dropped"],
            row["rank"] == selection.best_rank,
        ]
        for row in selection.table()
    ]


TABLE_HEADER = ["rank", "silhouette", "reconstruction_error", "n_dropped", "chosen"]


#: The AnnData file written with the results (``nmfkit consensus --h5ad``).
H5AD_FILE = "consensus.h5ad"


def write_consensus_outputs(outputs, table, result, *, source, report, anndata=None):
    """Write the spectra and usages of every rank, the table, the plot, the JSON.

    Files: ``spectra_k{rank}.csv`` (components x features, the feature
    names of the input's header) and ``usages_k{rank}.csv`` (samples x
    components, the sample names of its index) for every rank,
    ``consensus.csv`` (the selection table), ``stability.png``,
    ``consensus.json``, with ``report`` ``report.html``, and with
    ``anndata`` (the AnnData factorized) ``consensus.h5ad``: it, with the
    results written by :func:`nmfkit.consensus.store_consensus`.

    Returns
    -------
    summary : dict
        What ``consensus.json`` holds, ``files`` included.
    """
    from ..plotting import figure_to_png, plot_consensus_stability

    selection = result.selection
    n, p = table.data.shape
    samples = table.row_names or [str(i) for i in range(n)]
    features = table.column_names or [str(j) for j in range(p)]
    files = []
    for rank in selection.ranks:
        factors = selection[rank]
        names = component_names(rank)
        spectra, usages = _rank_files(rank)
        outputs.write_matrix_csv(
            spectra,
            factors.spectra,
            row_names=names,
            column_names=features,
            corner="component",
        )
        outputs.write_matrix_csv(
            usages, factors.usages, row_names=samples, column_names=names, corner="row"
        )
        files += [spectra, usages]
    outputs.write_rows_csv("consensus.csv", TABLE_HEADER, _table_rows(selection))
    figure = plot_consensus_stability(selection)
    outputs.write_bytes("stability.png", figure_to_png(figure))
    files += ["consensus.csv", "stability.png", "consensus.json"]
    if anndata is not None:
        from ..consensus import store_consensus

        store_consensus(anndata, selection)
        anndata.write_h5ad(outputs.path(H5AD_FILE))
        files.append(H5AD_FILE)
    if report:
        files.append("report.html")
    summary = {
        "input": str(source),
        "shape": [n, p],
        "parameters": {"ranks": list(selection.ranks), **result.settings},
        "best_rank": selection.best_rank,
        "rule": RULE,
        "table": selection.table(),
        "seconds": result.seconds,
        "warnings": result.notes,
        "files": files,
    }
    outputs.write_json("consensus.json", summary)
    if report:
        _write_report(outputs, source, table, result, summary, figure)
    return summary


def _descriptions(selection):
    text = {
        "consensus.csv": "silhouette, reconstruction error and dropped components "
        "of every rank",
        "consensus.json": "the table, the chosen rank, the settings and the warnings",
        "stability.png": "silhouette and error against the rank",
        H5AD_FILE: "the input AnnData with the usages (obsm), spectra (varm) and "
        "scores (uns) of every rank",
    }
    for rank in selection.ranks:
        spectra, usages = _rank_files(rank)
        text[spectra] = f"rank {rank}: consensus spectra (components x features)"
        text[usages] = f"rank {rank}: usages (samples x components)"
    return text


def _write_report(outputs, source, table, result, summary, stability):
    from ..plotting import plot_local_density
    from ..report import Report
    from ._sections import add_result_files

    selection = result.selection
    X = table.data
    report = Report("nmfkit: consensus", subtitle=str(source))
    report.section("Data").definitions(
        {
            "file": str(source),
            "shape": f"{X.shape[0]} x {X.shape[1]}",
            "sparse": bool(hasattr(X, "nnz")),
        }
    )
    report.section("Parameters").definitions(
        {"ranks": ", ".join(map(str, selection.ranks)), **result.settings}
    )
    results = report.section("Results")
    results.definitions(
        {
            "chosen rank": selection.best_rank,
            "seconds": result.seconds,
            "warnings": "; ".join(result.notes) or "none",
        },
        key="choice",
    )
    results.table(
        _table_rows(selection),
        header=TABLE_HEADER,
        caption="Stability and error per rank",
        key="scores",
    )
    results.text(RULE)
    descriptions = _descriptions(selection)
    add_result_files(
        report,
        [
            (outputs.written_path(name), descriptions[name])
            for name in summary["files"]
            if name in descriptions
        ],
    )
    figures = report.section("Figures")
    figures.figure(
        stability,
        caption="Stability (silhouette of the clustering of the replicates' "
        "components) and reconstruction error against the rank (dashed: the "
        "chosen rank)",
        key="stability",
    )
    figures.figure(
        plot_local_density(selection.best, selection.density_threshold),
        caption=f"Local density of the pooled components at rank "
        f"{selection.best_rank} (dashed: the threshold; those right of it were "
        "dropped)",
        key="density",
    )
    report.write(outputs.path("report.html"))
