"""Figures of a spectral decomposition: spectrograms, templates, activations.

Built with matplotlib's object API (:func:`nmfkit.plotting.figure_to_png`
renders them); needs the ``apps`` extra.
"""

from __future__ import annotations

import math

import numpy as np

from ..plotting._figure import new_figure

__all__ = ["plot_activations", "plot_spectrograms", "plot_templates"]


def _decibels(values, exponent, floor_db=80.0):
    """``values`` in dB (power scale), clipped ``floor_db`` below the peak."""
    power = np.asarray(values, dtype=np.float64) ** (2.0 / exponent)
    top = float(power.max(initial=0.0))
    if top <= 0:
        return np.full(power.shape, -floor_db)
    db = 10 * np.log10(np.maximum(power / top, 10 ** (-floor_db / 10)))
    return db


def plot_spectrograms(panels, frequencies, times, *, exponent=1, n_cols=1):
    """Spectrograms side by side, in dB on a common scale.

    Parameters
    ----------
    panels : dict of str to ndarray of shape (n_freqs, n_frames)
        Title -> magnitude (``exponent=1``) or power (2) values.
    frequencies : ndarray of shape (n_freqs,)
        Hz.
    times : ndarray of shape (n_frames,)
        Seconds.
    exponent : {1, 2}, default=1
    n_cols : int, default=1

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    names = list(panels)
    n_cols = max(1, min(n_cols, len(names)))
    n_rows = math.ceil(len(names) / n_cols)
    fig = new_figure(6.5 * n_cols, 2.4 * n_rows + 0.4)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    stack = np.stack([np.asarray(panels[n], dtype=np.float64) for n in names])
    db = _decibels(stack, exponent)
    extent = (times[0], times[-1], frequencies[0] / 1000, frequencies[-1] / 1000)
    image = None
    for k, ax in enumerate(axes.flat):
        if k >= len(names):
            ax.axis("off")
            continue
        image = ax.imshow(
            db[k],
            origin="lower",
            aspect="auto",
            extent=extent,
            cmap="magma",
            vmin=-80,
            vmax=0,
            interpolation="nearest",
        )
        ax.set_title(names[k], fontsize=10)
        ax.set_ylabel("kHz")
        ax.set_xlabel("seconds")
    if image is not None:
        fig.colorbar(image, ax=axes, label="dB below the peak", shrink=0.9)
    return fig


def _component_axis(ax, k, groups, group_names):
    """Label the rows of a components heatmap, coloured by source."""
    colour = _group_colours(k, groups)
    label = _group_labels(k, groups, group_names)
    ax.set_yticks(range(k))
    ax.set_yticklabels([f"{j + 1}{label[j]}" for j in range(k)], fontsize=7)
    for tick, c in zip(ax.get_yticklabels(), colour, strict=True):
        tick.set_color(c)
    ax.set_ylabel("component")


def plot_templates(
    templates, frequencies, *, exponent=1, groups=None, group_names=None
):
    """The spectral templates as a heatmap: one row per component, in dB.

    Parameters
    ----------
    templates : ndarray of shape (n_components, n_freqs)
    frequencies : ndarray of shape (n_freqs,)
    exponent : {1, 2}, default=1
        1 for magnitude templates, 2 for power ones.
    groups : list of ndarray of int, default=None
        Colour the component labels by source.
    group_names : list of str, default=None
        Add each source's name to its components' labels.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    T = np.asarray(templates, dtype=np.float64)
    k = T.shape[0]
    peak = T.max(axis=1, keepdims=True)
    peak[peak == 0] = 1.0
    db = _decibels(T / peak, exponent, floor_db=60.0)  # each row: peak at 0 dB
    fig = new_figure(8.0, 0.22 * k + 1.4)
    ax = fig.subplots()
    image = ax.imshow(
        db,
        aspect="auto",
        origin="lower",
        cmap="magma",
        vmin=-60,
        vmax=0,
        interpolation="nearest",
        extent=(frequencies[0] / 1000, frequencies[-1] / 1000, -0.5, k - 0.5),
    )
    _component_axis(ax, k, groups, group_names)
    ax.set_xlabel("kHz")
    fig.colorbar(image, ax=ax, label="dB below the template's peak")
    return fig


def plot_activations(activations, times, *, groups=None, group_names=None):
    """The activations over time as a heatmap: one row per component.

    Parameters
    ----------
    activations : ndarray of shape (n_frames, n_components)
    times : ndarray of shape (n_frames,)
    groups, group_names : see :func:`plot_templates`

    Returns
    -------
    fig : matplotlib.figure.Figure
        Each row scaled to its own peak (linear scale).
    """
    A = np.asarray(activations, dtype=np.float64).T
    k = A.shape[0]
    peak = A.max(axis=1, keepdims=True)
    peak[peak == 0] = 1.0
    fig = new_figure(8.0, 0.22 * k + 1.4)
    ax = fig.subplots()
    image = ax.imshow(
        A / peak,
        aspect="auto",
        origin="lower",
        cmap="Greys",
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(times[0], times[-1], -0.5, k - 0.5),
    )
    _component_axis(ax, k, groups, group_names)
    ax.set_xlabel("seconds")
    fig.colorbar(image, ax=ax, label="share of the component's peak")
    return fig


def _group_colours(k, groups):
    palette = [f"C{i}" for i in range(10)]
    if groups is None:
        return ["black"] * k
    colour = ["black"] * k
    for j, group in enumerate(groups):
        for c in group:
            colour[int(c)] = palette[j % 10]
    return colour


def _group_labels(k, groups, names):
    if groups is None or names is None:
        return [""] * k
    label = [""] * k
    for j, group in enumerate(groups):
        for c in group:
            label[int(c)] = f" ({names[j]})"
    return label
