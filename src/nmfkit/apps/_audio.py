"""The audio application: spectral templates, activations and separated sources.

:func:`separate_audio` takes a recording (a file, an array or the built-in
:func:`nmfkit.datasets.make_music_mixture`), factorizes its spectrogram
(:mod:`nmfkit.audio`), separates one signal per group of components and
writes the templates, the activations, the separated WAV files, a JSON
summary and an HTML report with the spectrogram, the templates, the
activations and a player for the mixture and for each source.
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._objective import beta_to_float
from ..audio import (
    decompose_spectrogram,
    evaluate_separation,
    group_templates,
    separate,
    spectrogram,
    wav_bytes,
)
from ..audio._separation import check_groups
from ._defaults import AUDIO_DEFAULTS
from ._outputs import json_safe_tree, output_set, write_report

__all__ = ["AUDIO_DEFAULTS", "AUDIO_STEPS", "AUDIO_SUMMARY_HEADER", "separate_audio"]


#: Columns of the per-source table (``result.rows``).
AUDIO_SUMMARY_HEADER = ("source", "components", "file", "SDR dB", "SIR dB", "SAR dB")

#: Number of ``progress.step`` calls of :func:`separate_audio` (at most).
AUDIO_STEPS = 5

#: Longest stretch of sound embedded in the report, per player.
REPORT_AUDIO_SECONDS = 60.0


def _as_recording(source, sample_rate, mono):
    """``(signal, rate, name, references, reference_names)`` of an input."""
    from ..datasets import load_audio

    if isinstance(source, (str, Path)):
        audio = load_audio(source, mono=mono, sample_rate=sample_rate)
        return audio.signal, audio.sample_rate, audio.name, None, None
    if isinstance(source, Bunch) and "mixture" in source:  # make_music_mixture
        names = list(source.source_names)
        return (
            source.mixture,
            source.sample_rate,
            "built-in mixture",
            source.sources,
            (names),
        )
    if isinstance(source, Bunch) and "signal" in source:  # load_audio
        signal = source.signal
        if mono and signal.ndim == 2:
            signal = signal.mean(axis=1)
        return signal, source.sample_rate, source.get("name", "signal"), None, None
    if sample_rate is None:
        raise ValueError(
            "an array needs its sample_rate (samples per second); give sample_rate=..."
        )
    signal = np.asarray(source, dtype=np.float64)
    if mono and signal.ndim == 2:
        signal = signal.mean(axis=1)
    return signal, float(sample_rate), "signal", None, None


def _spectrum_kind(kind, beta):
    if kind == "auto":
        return "power" if beta <= 0 else "magnitude"
    if kind not in ("magnitude", "power"):
        raise ValueError(
            f"kind={kind!r} is not valid; choose 'auto', 'magnitude' or 'power'."
        )
    return kind


def _resolve_groups(factors, n_sources, groups, n_references):
    k = factors.n_components
    if groups is not None:
        if n_sources is not None and n_sources != len(groups):
            raise ValueError(
                f"n_sources={n_sources} but {len(groups)} groups were given; give "
                "one of the two."
            )
        return check_groups(groups, k), "given"
    if n_sources is None and n_references:
        n_sources = n_references
    if n_sources is None:
        return check_groups(None, k), "one source per component"
    if (
        isinstance(n_sources, (bool, np.bool_))
        or not isinstance(n_sources, numbers.Integral)
        or not 1 <= n_sources <= k
    ):
        raise ValueError(
            f"n_sources={n_sources!r} is not valid; give an integer from 1 to the "
            f"rank ({k})."
        )
    return group_templates(factors.templates, n_sources), "clustered templates"


def _check_references(references, shape):
    if references is None:
        return None
    ref = np.asarray(references, dtype=np.float64)
    if ref.ndim < 2 or ref.shape[1:] != tuple(shape):
        raise ValueError(
            f"the reference sources have shape {ref.shape}; give (n_sources, "
            f"{', '.join(map(str, shape))}), one true source per row, as long as "
            "the mixture."
        )
    return ref


def separate_audio(
    source,
    rank=None,
    *,
    beta_loss="kullback-leibler",
    n_sources=None,
    groups=None,
    templates=None,
    source_names=None,
    references=None,
    sample_rate=None,
    mono=False,
    kind="auto",
    n_fft=None,
    hop_length=None,
    init=None,
    max_iter=200,
    tol=1e-4,
    random_state=0,
    output_dir=None,
    outputs=None,
    report=None,
    force=False,
    progress=None,
    prefix="audio",
):
    """Factorize a recording's spectrogram and separate its sources.

    Parameters
    ----------
    source : str, path-like, ndarray or Bunch
        A sound file (:func:`nmfkit.datasets.load_audio`: WAV, FLAC...), a
        signal array (n_samples,) or (n_samples, n_channels) with
        ``sample_rate``, the Bunch of :func:`~nmfkit.datasets.load_audio`, or
        the built-in :func:`~nmfkit.datasets.make_music_mixture` (whose true
        sources become the references).
    rank : int, default=None
        Number of spectral templates; taken from ``templates`` when given.
    beta_loss : {"kullback-leibler", "itakura-saito", "frobenius"} or float, \
            default="kullback-leibler"
        The divergence the spectrogram is factorized under.
    n_sources : int, default=None
        Group the components into this many sources by clustering the
        templates (:func:`nmfkit.audio.group_templates`). None: as many as
        the references, else one source per component.
    groups : list of lists of int, default=None
        The components of each source, instead of clustering.
    templates : ndarray of shape (n_components, n_freqs), default=None
        Fixed templates (for example :func:`nmfkit.audio.learn_templates`'s,
        with its ``groups``): only the activations are fitted.
    source_names : list of str, default=None
        Names of the sources, in group order (for the report and summary).
        None: the names of the matched references of the built-in mixture,
        else "source 1", "source 2"...
    references : array-like of shape (n_sources, n_samples[, n_channels]), \
            default=None
        True sources: the separated signals are scored with BSS Eval.
    sample_rate : float, default=None
        The rate of an array ``source``; for a file, resample to it.
    mono : bool, default=False
        Average the channels first; otherwise every channel gets the same
        masks.
    kind : {"auto", "magnitude", "power"}, default="auto"
        The spectrogram; "auto" is power for Itakura-Saito, else magnitude.
    n_fft, hop_length : int, default=None
        STFT window and hop (:func:`nmfkit.audio.spectrogram`'s defaults:
        about 64 ms and a quarter of it).
    init, max_iter, tol, random_state
        Of the NMF fit (:func:`nmfkit.audio.decompose_spectrogram`).
    output_dir : str or path-like, default=None
        Folder for ``templates.csv``/``.npy`` (one spectrum per component:
        frequencies x components in the CSV, components x frequencies in the
        ``.npy``), ``activations.csv``/``.npy`` (frames x components),
        ``source_<j>.wav`` (float32), ``summary.json``, ``report.html`` and
        ``manifest.json``: an :class:`~nmfkit.apps.OutputSet`, checked before
        the work starts and put in place all together at the end, or not at
        all (an error, Ctrl-C or a kill leaves the previous folder or
        nothing). None writes nothing.
    outputs : OutputSet or Subfolder, default=None
        Write the same files into this open set instead (the caller commits
        it); not with ``output_dir``.
    report : None, False or nmfkit.report.Report, default=None
        None: build a report (written as ``report.html`` with the other
        files, with links to them, when there are outputs); a Report: add the
        sections to it (the caller writes it); False: no report.
    force : bool, default=False
        Replace an existing output folder (an earlier output set) as a whole.
    progress : nmfkit.apps.Progress, default=None
        Told of up to :data:`AUDIO_STEPS` steps.
    prefix : str, default="audio"
        Prefix of the report's section keys.

    Returns
    -------
    result : Bunch
        ``signal``, ``sample_rate``, ``spectrogram`` (:class:`Spectrogram`),
        ``factors`` (:class:`SpectralFactors`), ``separation`` (signals,
        masks, groups), ``source_names``, ``grouping`` (how the groups were
        made), ``scores`` (BSS Eval dict or None), ``summary`` (the JSON
        summary), ``rows`` and ``header`` (a per-source table), ``files``
        (the names written, relative to the output set; empty without
        outputs) and ``report`` (the Report or None).

    Raises
    ------
    ValueError
        Neither ``rank`` nor ``templates`` is given, ``n_sources`` is not an
        integer from 1 to the rank, or the number of ``references`` or
        ``source_names`` differs from the number of sources.

    See Also
    --------
    nmfkit.audio.decompose_spectrogram : The factorization.
    nmfkit.audio.separate : The Wiener masks and the inverse STFT.
    nmfkit.audio.evaluate_separation : The BSS Eval scores.
    decompose_series : Templates of a set of recordings instead.

    Examples
    --------
    A low tone followed by a high one: two components, two sources, and the
    sources add up to the recording:

    >>> import numpy as np
    >>> from nmfkit.apps import separate_audio
    >>> rate = 8000
    >>> t = np.arange(rate // 2) / rate
    >>> low = np.sin(2 * np.pi * 220 * t) * (t < 0.25)
    >>> high = np.sin(2 * np.pi * 1760 * t) * (t >= 0.25)
    >>> result = separate_audio(low + high, 2, sample_rate=rate, max_iter=50, tol=0,
    ...                         report=False)
    >>> result.separation.signals.shape
    (2, 4000)
    >>> bool(np.allclose(result.separation.signals.sum(axis=0), low + high))
    True
    >>> bool(abs(np.corrcoef(result.separation.signals[0], low)[0, 1]) > 0.99)
    True
    """
    signal, rate, name, builtin_refs, reference_names = _as_recording(
        source, sample_rate, mono
    )
    if references is None:
        references = builtin_refs
    else:
        reference_names = None
    factors_options = dict(
        beta_loss=beta_loss,
        init=init,
        max_iter=max_iter,
        tol=tol,
        random_state=random_state,
    )
    beta = beta_to_float(beta_loss)
    kind = _spectrum_kind(kind, beta)
    if templates is None and rank is None:
        raise ValueError("give rank (the number of templates) or fixed templates.")
    if progress is not None:
        progress.step("computing the spectrogram")
    spec = spectrogram(signal, rate, n_fft=n_fft, hop_length=hop_length, kind=kind)
    signal = np.asarray(signal, dtype=np.float64)
    references = _check_references(references, signal.shape)
    # Output paths are checked before the fit (the number of sources is known
    # up front except when one source per component is asked for).
    planned = n_sources or (len(groups) if groups is not None else None)
    if planned is None and references is not None:
        planned = len(references)
    if planned is None:
        planned = rank if templates is None else np.shape(templates)[0]
    n_components = rank if templates is None else np.shape(templates)[0]
    if n_sources is not None and not (
        isinstance(n_sources, numbers.Integral)
        and not isinstance(n_sources, (bool, np.bool_))
        and 1 <= n_sources <= n_components
    ):
        raise ValueError(
            f"n_sources={n_sources!r} is not valid; give an integer from 1 to the "
            f"rank ({n_components})."
        )
    if references is not None and len(references) != planned:
        raise ValueError(
            f"{len(references)} reference sources for {planned} sources; give "
            "n_sources equal to the number of references."
        )
    if source_names is not None and len(source_names) != planned:
        raise ValueError(
            f"{len(source_names)} source names for {planned} sources; give one "
            "name per source (group)."
        )
    from ..report import Report

    make_report = report is not False
    # An output set opened here is committed when the block ends normally and
    # removed otherwise; a given one is the caller's to commit.
    with output_set(output_dir, outputs, force=force, command="audio") as out:
        if progress is not None:
            progress.step("fitting the templates and activations")
        factors = decompose_spectrogram(
            spec,
            rank if templates is None else None,
            templates=templates,
            progress=progress,
            **factors_options,
        )
        groups, grouping = _resolve_groups(
            factors, n_sources, groups, None if references is None else len(references)
        )
        if progress is not None:
            progress.step("separating the sources")
        separation = separate(spec, factors, groups)
        n = separation.n_sources
        scores = None
        if references is not None:
            if len(references) != n:
                raise ValueError(
                    f"{len(references)} reference sources for {n} separated ones; give "
                    "n_sources equal to the number of references."
                )
            scores = evaluate_separation(references, separation.signals)
        if source_names is None and reference_names is not None:
            match = _matched(scores, n)  # name each estimate after its reference
            source_names = [reference_names[r] for r in match]
        if source_names is None:
            source_names = [f"source {j + 1}" for j in range(n)]
        source_names = [str(v) for v in source_names]
        summary = _summary(
            name,
            rate,
            signal,
            spec,
            factors,
            separation,
            grouping,
            source_names,
            scores,
        )
        built = None
        if make_report:  # drawn before anything is written: no partial outputs
            if progress is not None:
                progress.step("drawing the report")
            built = (
                report
                if report is not None
                else Report(
                    "nmfkit: audio", subtitle=f"{name}: spectral templates and sources"
                )
            )
            _add_sections(
                built,
                prefix,
                name,
                signal,
                rate,
                spec,
                factors,
                separation,
                source_names,
                scores,
                summary,
            )
        files = []
        if out is not None:
            if progress is not None:
                progress.step("writing the outputs")
            files = _write_outputs(out, spec, factors, separation, rate, summary)
            if built is not None and report is None:
                files += write_report(built, out, files, title="Audio: result files",
                                      key=f"{prefix}-files")  # fmt: skip
        return Bunch(
            signal=signal,
            sample_rate=rate,
            spectrogram=spec,
            factors=factors,
            separation=separation,
            source_names=source_names,
            grouping=grouping,
            scores=scores,
            summary=summary,
            rows=_rows(separation, source_names, scores),
            header=AUDIO_SUMMARY_HEADER,
            files=files,
            report=built,
        )


def _matched(scores, n):
    """For each estimate, its reference index (from BSS Eval's permutation)."""
    match = np.full(n, -1)
    if scores is not None:
        for ref, est in enumerate(scores["permutation"]):
            match[est] = ref
    return match


def _rows(separation, names, scores):
    match = _matched(scores, separation.n_sources)
    rows = []
    for j, group in enumerate(separation.groups):
        r = match[j]
        metrics = (
            (float(scores["sdr"][r]), float(scores["sir"][r]), float(scores["sar"][r]))
            if r >= 0
            else ("", "", "")
        )
        members = " ".join(str(int(c) + 1) for c in group)
        rows.append((names[j], members, f"source_{j + 1}.wav", *metrics))
    return rows


def _summary(name, rate, signal, spec, factors, separation, grouping, names, scores):
    summary = {
        "input": name,
        "sample_rate": rate,
        "n_samples": int(signal.shape[0]),
        "n_channels": 1 if signal.ndim == 1 else int(signal.shape[1]),
        "spectrogram": {
            "kind": spec.kind,
            "n_fft": int(spec.n_fft),
            "hop_length": int(spec.hop_length),
            "n_freqs": int(spec.values.shape[-2]),
            "n_frames": int(spec.values.shape[-1]),
        },
        "orientation": "X = spectrogram.T (frames x frequencies) ~ activations @ "
        "templates; templates.npy is components x frequencies, activations.npy "
        "frames x components",
        "rank": int(factors.n_components),
        "beta": factors.beta,
        "fixed_templates": factors.fixed_templates,
        "objective": factors.objective,
        "n_iter": factors.n_iter,
        "seconds": factors.seconds,
        "grouping": grouping,
        "sources": [
            {
                "name": names[j],
                "components": [int(c) for c in group],
                "file": f"source_{j + 1}.wav",
            }
            for j, group in enumerate(separation.groups)
        ],
    }
    if scores is not None:
        match = _matched(scores, separation.n_sources)
        for j, entry in enumerate(summary["sources"]):
            r = int(match[j])
            entry.update(
                reference=r,
                sdr=float(scores["sdr"][r]),
                sir=float(scores["sir"][r]),
                sar=float(scores["sar"][r]),
            )
    return summary


def _write_outputs(out, spec, factors, separation, rate, summary):
    """Write the templates, activations, WAV files and summary; return the names."""
    sub = out.subfolder("")
    k = factors.n_components
    comp = [f"component_{j + 1}" for j in range(k)]
    sub.write_rows_csv(
        "templates.csv",
        ("frequency_hz", *comp),
        (
            (float(f), *map(float, row))
            for f, row in zip(spec.frequencies, factors.templates.T, strict=True)
        ),
    )
    sub.write_npy("templates.npy", factors.templates)
    sub.write_rows_csv(
        "activations.csv",
        ("time_s", *comp),
        (
            (float(t), *map(float, row))
            for t, row in zip(spec.times, factors.activations, strict=True)
        ),
    )
    sub.write_npy("activations.npy", factors.activations)
    for j, sig in enumerate(separation.signals):
        sub.write_bytes(f"source_{j + 1}.wav", wav_bytes(sig, rate))
    summary["files"] = [n.rpartition("/")[2] for n in sub.files] + ["summary.json"]
    sub.write_json("summary.json", json_safe_tree(summary))
    return list(sub.files)


def _add_sections(
    report,
    prefix,
    name,
    signal,
    rate,
    spec,
    factors,
    separation,
    names,
    scores,
    summary,
):
    from ..audio._plots import plot_activations, plot_spectrograms, plot_templates
    from ..plotting import plot_convergence
    from ._media import media_section

    duration = signal.shape[0] / rate
    report.section("Audio: data", key=f"{prefix}-data").definitions(
        {
            "source": name,
            "duration": f"{duration:.3f} s",
            "sample rate": f"{rate:g} Hz",
            "channels": summary["n_channels"],
            "spectrogram": f"{spec.kind}, n_fft {spec.n_fft}, hop {spec.hop_length} "
            f"({summary['spectrogram']['n_freqs']} frequencies x "
            f"{summary['spectrogram']['n_frames']} frames)",
        },
        key=f"{prefix}-data",
    )
    exponent = spec.exponent
    mix = spec.values if spec.n_channels is None else spec.values.sum(axis=0)
    model = report.section("Audio: templates and activations", key=f"{prefix}-model")
    model.text(
        "The spectrogram S (frequencies x frames) is factorized as S.T ~ W H: the "
        "rows of H are spectral templates and the columns of W their activations "
        "over time."
    )
    model.definitions(
        {
            "rank": factors.n_components,
            "beta": factors.beta,
            "templates": "fixed (given)" if factors.fixed_templates else "learned",
            "objective D_beta": factors.objective,
            "iterations": factors.n_iter,
            "seconds": factors.seconds,
            "grouping": summary["grouping"],
        },
        key=f"{prefix}-fit",
    )
    model.figure(
        plot_spectrograms(
            {"mixture": mix, "model (W H).T": factors.model()},
            spec.frequencies,
            spec.times,
            exponent=exponent,
        ),
        caption="The mixture's spectrogram and the model's, in dB",
        key=f"{prefix}-spectrogram",
    )
    groups = separation.groups
    model.figure(
        plot_templates(
            factors.templates,
            spec.frequencies,
            exponent=exponent,
            groups=groups,
            group_names=names,
        ),
        caption="Spectral templates (rows of H), coloured by source",
        key=f"{prefix}-templates",
    )
    model.figure(
        plot_activations(
            factors.activations, spec.times, groups=groups, group_names=names
        ),
        caption="Activations over time (columns of W, each scaled to its peak)",
        key=f"{prefix}-activations",
    )
    if factors.history is not None:
        model.figure(
            plot_convergence({"nmfkit": factors.history}),
            caption="Objective against iterations and seconds",
            key=f"{prefix}-convergence",
        )
    sources = media_section(report, "Audio: separated sources", key=f"{prefix}-sources")
    sources.text(
        "Each source is the inverse STFT of the mixture under its Wiener soft "
        "mask; the separated signals add up to the mixture."
    )
    if scores is not None:
        sources.text(
            "BSS Eval (mir_eval) against the true sources: SDR, SIR and SAR in dB."
        )
    sources.table(
        _rows(separation, names, scores),
        header=AUDIO_SUMMARY_HEADER,
        key=f"{prefix}-scores",
    )
    limit = int(REPORT_AUDIO_SECONDS * rate)
    clip = min(signal.shape[0], limit)
    note = "" if clip == signal.shape[0] else f" (first {REPORT_AUDIO_SECONDS:g} s)"
    peak = max(float(np.max(np.abs(signal))), float(np.max(np.abs(separation.signals))))
    sources.audio(
        wav_bytes(signal[:clip], rate, encoding="pcm16", peak=peak),
        caption=f"mixture{note}",
        duration=clip / rate,
        key=f"{prefix}-mixture",
    )
    for j, sig in enumerate(separation.signals):
        sources.audio(
            wav_bytes(sig[:clip], rate, encoding="pcm16", peak=peak),
            caption=f"{names[j]}{note}",
            duration=clip / rate,
            key=f"{prefix}-source-{j + 1}",
        )
    # |M X|^e = M^e |X|^e: the separated sources' own spectrograms.
    panels = {
        names[j]: separation.masks[j] ** exponent * mix
        for j in range(separation.n_sources)
    }
    sources.figure(
        plot_spectrograms(
            panels, spec.frequencies, spec.times, exponent=exponent, n_cols=2
        ),
        caption="Spectrograms of the separated sources (mask x mixture), in dB",
        key=f"{prefix}-source-spectrograms",
    )
