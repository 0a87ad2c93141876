"""Source separation against librosa's ``decompose.decompose``: quality and time.

For every mixture and loss, both tools factorize the **same** spectrogram
(nmfkit's :func:`nmfkit.audio.spectrogram`: magnitude for KL and Frobenius,
power for Itakura-Saito, divided by its largest value, floored at 1e-8 for
IS) with the **same** rank, loss, initialization (NNDSVDa), ``max_iter`` and
``tol``:

- librosa: ``librosa.decompose.decompose(S, transformer=sklearn NMF(solver=
  "mu", ...))``, which runs scikit-learn's NMF on ``S.T``;
- nmfkit: :func:`nmfkit.audio.decompose_spectrogram` (``solver="auto"``).

Quality: each tool's components become sources through the same Wiener
masks (:func:`nmfkit.audio.separate`); components are assigned to sources by
an oracle (each component to the true source whose spectrogram its own
spectrogram correlates with most, every source getting at least one), so the
scores compare the factorizations, not a clustering heuristic. BSS Eval
(mir_eval) SDR, SIR and SAR are averaged over the sources.

Time: the median of ``--repeats`` interleaved runs of each fit as users run
it (``tol`` > 0), BLAS on ``--threads`` threads; and the time nmfkit needs to
reach librosa's final objective (from nmfkit's ``history_`` of a fit with
``tol=0``), the "same objective" comparison. The beta MU records its
objective every 10 iterations (``objective_every``, as scikit-learn
evaluates it), so that time is read at the first recorded row at or below
librosa's objective (at most 9 iterations late). The per-iteration cost
against scikit-learn from the same start is in
``benchmarks/bench_mu_beta_iteration.py``.

Mixtures: the built-in :func:`nmfkit.datasets.make_music_mixture` (4 s at
8 kHz) and mixtures generated with other notes and noise
(``random_state`` 1 and 2), one of them at 16 kHz and 8 s.

Usage::

    python benchmarks/bench_audio.py [--repeats 3] [--rank 12] [--max-iter 200]
    python benchmarks/bench_audio.py --tiny   # a quick check that it runs

Writes ``benchmarks/results/bench_audio.json`` and ``bench_audio.md``
(``bench_audio_tiny.*`` with ``--tiny``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_meta  # noqa: E402
from nmfkit._atomic import atomic_write  # noqa: E402
from nmfkit.audio import (  # noqa: E402
    SpectralFactors,
    decompose_spectrogram,
    evaluate_separation,
    separate,
    spectrogram,
)
from nmfkit.audio._fit import DEFAULT_FLOOR, divergence  # noqa: E402
from nmfkit.datasets import make_music_mixture  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
LOSSES = {"kullback-leibler": 1.0, "itakura-saito": 0.0, "frobenius": 2.0}


def mixtures(tiny):
    if tiny:
        return [("built-in, 1 s at 8 kHz", make_music_mixture(duration=1.0))]
    return [
        ("built-in, 4 s at 8 kHz", make_music_mixture()),
        ("generated (seed 1), 4 s at 8 kHz", make_music_mixture(random_state=1)),
        (
            "generated (seed 2), 8 s at 16 kHz",
            make_music_mixture(duration=8.0, sample_rate=16000, random_state=2),
        ),
    ]


def oracle_groups(factors, references, rate, spec):
    """Each component to the true source whose power spectrogram it matches best."""
    ref_power = [
        spectrogram(r, rate, n_fft=spec.n_fft, hop_length=spec.hop_length, kind="power")
        .values.ravel()
        for r in references
    ]  # fmt: skip
    ref_power = np.stack([p / np.linalg.norm(p) for p in ref_power])
    k = factors.n_components
    comp = np.stack(
        [(factors.model([c]) ** (2.0 / spec.exponent)).ravel() for c in range(k)]
    )
    comp /= np.maximum(np.linalg.norm(comp, axis=1, keepdims=True), 1e-300)
    sim = comp @ ref_power.T  # (k, n_sources)
    label = sim.argmax(axis=1)
    rows, cols = linear_sum_assignment(sim, maximize=True)  # one each at least
    label[rows] = cols
    return [np.flatnonzero(label == j) for j in range(len(references))]


def librosa_fit(S, rank, beta_loss, max_iter, tol):
    import librosa.decompose
    from sklearn.decomposition import NMF as SklearnNMF

    transformer = SklearnNMF(
        n_components=rank,
        init="nndsvda",
        solver="mu",
        beta_loss=beta_loss,
        max_iter=max_iter,
        tol=tol,
    )
    start = time.perf_counter()
    components, activations = librosa.decompose.decompose(S, transformer=transformer)
    seconds = time.perf_counter() - start
    return components.T, activations.T, seconds, transformer.n_iter_


def as_factors(templates, activations, beta, objective, n_iter, seconds):
    return SpectralFactors(
        templates=templates,
        activations=activations,
        beta=beta,
        objective=objective,
        n_iter=n_iter,
        seconds=seconds,
        history=None,
        fixed_templates=False,
        scale=1.0,
        floor=0.0,
    )


def run_case(music, beta_loss, args):
    beta = LOSSES[beta_loss]
    kind = "power" if beta <= 0 else "magnitude"
    spec = spectrogram(music.mixture, music.sample_rate, kind=kind)
    S = spec.values / spec.values.max()
    if beta <= 0:
        S = np.maximum(S, DEFAULT_FLOOR)
    X = S.T
    times = {"librosa": [], "nmfkit": []}
    fits = {}
    for _ in range(args.repeats):  # interleaved repeats
        T, A, seconds, n_iter = librosa_fit(
            S, args.rank, beta_loss, args.max_iter, args.tol
        )
        times["librosa"].append(seconds)
        fits["librosa"] = (T, A, n_iter)
        f = decompose_spectrogram(
            S,
            args.rank,
            beta_loss=beta_loss,
            init="nndsvda",
            max_iter=args.max_iter,
            tol=args.tol,
            floor=0.0 if beta > 0 else DEFAULT_FLOOR,
        )
        times["nmfkit"].append(f.seconds)
        fits["nmfkit"] = (f.templates, f.activations, f.n_iter)
    objective = {name: divergence(X, A @ T, beta) for name, (T, A, _) in fits.items()}
    # Time for nmfkit to reach librosa's final objective (tol=0, longer run).
    long = decompose_spectrogram(
        S,
        args.rank,
        beta_loss=beta_loss,
        init="nndsvda",
        max_iter=3 * args.max_iter,
        tol=0,
        floor=0.0 if beta > 0 else DEFAULT_FLOOR,
    )
    # The solver's recorded objective must be the divergence itself, or the
    # time-to-objective comparison would compare different measures.
    recorded_gap = abs(long.history[-1, 2] - long.objective) / long.objective
    reached = np.flatnonzero(long.history[:, 2] <= objective["librosa"] * (1 + 1e-9))
    to_objective = float(long.history[reached[0], 1]) if reached.size else None
    scores = {}
    for name, (T, A, n_iter) in fits.items():
        factors = as_factors(T, A, beta, objective[name], n_iter, 0.0)
        groups = oracle_groups(factors, music.sources, music.sample_rate, spec)
        signals = separate(spec, factors, groups).signals
        s = evaluate_separation(music.sources, signals, permutation=False)
        scores[name] = {m: float(np.mean(s[m])) for m in ("sdr", "sir", "sar")}
    median = {name: float(np.median(v)) for name, v in times.items()}
    return dict(
        beta_loss=beta_loss,
        spectrogram=dict(kind=kind, shape=list(S.shape), n_fft=spec.n_fft),
        rank=args.rank,
        seconds=median,
        n_iter={name: int(fit[2]) for name, fit in fits.items()},
        objective=objective,
        nmfkit_seconds_to_librosa_objective=to_objective,
        nmfkit_recorded_objective_gap=float(recorded_gap),
        speedup=median["librosa"] / median["nmfkit"],
        speedup_to_objective=(
            median["librosa"] / max(to_objective, 1e-9)
            if to_objective is not None
            else None
        ),
        scores=scores,
    )


def markdown(rows, meta):
    head = (
        "| mixture | loss | rank | librosa s | nmfkit s | speed-up | nmfkit s to "
        "librosa's objective | speed-up there | objective librosa / nmfkit | "
        "SDR librosa / nmfkit | SIR | SAR |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        s, sc = r["seconds"], r["scores"]
        to = r["nmfkit_seconds_to_librosa_objective"]
        to_text = "not reached" if to is None else f"{to:.3f}"
        gain = "-" if to is None else f"{r['speedup_to_objective']:.2f}"
        sdr, sir, sar = (
            f"{sc['librosa'][m]:.2f} / {sc['nmfkit'][m]:.2f}"
            for m in ("sdr", "sir", "sar")
        )
        lines.append(
            f"| {r['mixture']} | {r['beta_loss']} | {r['rank']} | "
            f"{s['librosa']:.3f} | {s['nmfkit']:.3f} | **{r['speedup']:.2f}** | "
            f"{to_text} | {gain} | "
            f"{r['objective']['librosa']:.6g} / {r['objective']['nmfkit']:.6g} | "
            f"{sdr} | {sir} | {sar} |"
        )
    foot = (
        f"\nMachine: {meta['machine']} ({meta['processor'] or 'unknown CPU'}), "
        f"{meta['cpu_count']} CPUs, BLAS on {meta['threads']} thread(s); Python "
        f"{meta['python']}, librosa {meta['librosa']}, scikit-learn "
        f"{meta['sklearn']}. Times: median of {meta['repeats']} interleaved "
        f"repeats, max_iter={meta['max_iter']}, tol={meta['tol']}; SDR/SIR/SAR: "
        "mean over the sources in dB (BSS Eval, oracle grouping of components).\n"
    )
    return head + "\n".join(lines) + "\n" + foot


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rank", type=int, default=12)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tiny", action="store_true", help="a quick check")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.tiny:
        args.repeats, args.rank, args.max_iter = 1, 4, 20
    import librosa
    import sklearn

    rows = []
    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of both tools
        for name, music in mixtures(args.tiny):
            for beta_loss in LOSSES:
                row = dict(mixture=name, **run_case(music, beta_loss, args))
                rows.append(row)
                print(
                    f"{name:36s} {beta_loss:17s} librosa "
                    f"{row['seconds']['librosa']:.3f} s, nmfkit "
                    f"{row['seconds']['nmfkit']:.3f} s, SDR "
                    f"{row['scores']['librosa']['sdr']:.2f} / "
                    f"{row['scores']['nmfkit']['sdr']:.2f} dB",
                    flush=True,
                )
        machine = machine_meta()
    meta = dict(
        **machine,
        cpu_count=os.cpu_count(),
        threads=args.threads,
        librosa=librosa.__version__,
        sklearn=sklearn.__version__,
        repeats=args.repeats,
        max_iter=args.max_iter,
        tol=args.tol,
        tiny=args.tiny,
    )
    stem = "bench_audio_tiny" if args.tiny else "bench_audio"
    args.output.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.output / f"{stem}.json", "w") as f:
        f.write(json.dumps(dict(meta=meta, rows=rows), indent=2))
    text = markdown(rows, meta)
    with atomic_write(args.output / f"{stem}.md", "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
