"""Report sections and terminal lines shared by the applications."""

from __future__ import annotations

import numpy as np

__all__ = [
    "SUMMARY_HEADER",
    "add_comparison_sections",
    "add_model_figures",
    "format_summary",
    "summary_rows",
]

SUMMARY_HEADER = (
    "model",
    "||X - WH||_F",
    "objective",
    "seconds",
    "iterations",
    "zeros in W %",
    "matched cosine mean",
    "matched cosine min",
)


def summary_rows(comparison):
    """Rows of :data:`SUMMARY_HEADER`, one per fitted model."""
    rows = []
    for key, record in comparison.fits.items():
        if key in comparison.matches:
            sims = comparison.matches[key][2]
            mean, low = float(np.mean(sims)), float(np.min(sims))
        else:
            mean = low = "reference"
        rows.append(
            (
                record.label,
                record.reconstruction_error,
                record.objective,
                record.seconds,
                record.n_iter,
                100 * record.zero_share,
                mean,
                low,
            )
        )
    return rows


def format_summary(title, rows, header=SUMMARY_HEADER):
    """A plain-text table for the terminal."""

    def cell(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    table = [tuple(header)] + [tuple(cell(v) for v in row) for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [title]
    for n, row in enumerate(table):
        lines.append(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def add_comparison_sections(report, prefix, title, comparison, data_facts):
    """Add the data, parameters and results sections; return the results section."""
    report.section(f"{title}: data", key=f"{prefix}-data").definitions(
        data_facts, key=f"{prefix}-data"
    )
    p = comparison.penalties
    params = dict(comparison.settings)
    params.update(
        {
            "lambda (l1_W, nmfkit)": p.l1_W,
            "mu (l2_W, nmfkit)": p.l2_W,
            "nu (l2_H, nmfkit)": p.l2_H,
            "objective": "1/2 ||X - WH||_F^2 + lambda ||W||_1 + mu/2 ||W||_F^2 "
            "+ nu/2 ||H||_F^2",
            "scikit-learn": "NMF(solver='mu', init='custom', no penalty), "
            "same W0 and H0",
        }
    )
    report.section(f"{title}: parameters", key=f"{prefix}-parameters").definitions(
        params, key=f"{prefix}-parameters"
    )
    results = report.section(f"{title}: timings and objective", key=f"{prefix}-results")
    results.text(
        "Every model is scored on the same penalized objective. The matched "
        "cosine compares each dictionary with scikit-learn's after pairing "
        "components one to one (Hungarian matching)."
    )
    results.table(
        summary_rows(comparison), header=SUMMARY_HEADER, key=f"{prefix}-summary"
    )
    return results


def add_model_figures(section, prefix, comparison):
    """Convergence and code-sparsity figures."""
    from ..plotting import plot_code_sparsity, plot_convergence

    histories = {
        r.label: r.history for r in comparison.fits.values() if r.history is not None
    }
    section.figure(
        plot_convergence(histories),
        caption="Objective against iterations and seconds (nmfkit's history_)",
        key=f"{prefix}-convergence",
    )
    section.figure(
        plot_code_sparsity({r.label: r.W for r in comparison.fits.values()}),
        caption="Sparsity of the codes (rows of W)",
        key=f"{prefix}-sparsity",
    )
