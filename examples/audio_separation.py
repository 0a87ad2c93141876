"""Separating the instruments of a mixture with NMF of its spectrogram.

Two ways, on nmfkit's built-in synthesized piece (bass, lead and drums, with
the true tracks known):

1. **Blind**: factorize the mixture's magnitude spectrogram into spectral
   templates and activations (KL divergence), group the templates into three
   sources by clustering, and turn each group into a signal with Wiener soft
   masks (:func:`nmfkit.apps._audio.separate_audio`, which also writes the
   templates, the activations, one WAV per source and an HTML report).
2. **Supervised**: learn templates for each instrument from a clean
   recording of it playing other notes, then fit only the activations of the
   mixture with those templates fixed.

Both are scored with BSS Eval (SDR, SIR and SAR in dB, mir_eval).

Run::

    python examples/audio_separation.py                 # outputs in a temp folder
    python examples/audio_separation.py -o separation   # or in ./separation
    python examples/audio_separation.py --figures docs/images  # the docs' pictures
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

from nmfkit.apps._audio import separate_audio
from nmfkit.audio import (
    decompose_spectrogram,
    evaluate_separation,
    learn_templates,
    separate,
    spectrogram,
)
from nmfkit.datasets import make_music_mixture


def blind(music, rank, output_dir, max_iter):
    """Separation by clustering the templates of the mixture alone."""
    return separate_audio(
        music, rank, n_sources=3, output_dir=output_dir, max_iter=max_iter
    )


def supervised(music, training, ranks, max_iter):
    """Separation with templates learned per instrument on clean examples."""
    examples = {
        name: spectrogram(track, training.sample_rate)
        for name, track in zip(training.source_names, training.sources, strict=True)
    }
    learned = learn_templates(examples, ranks, max_iter=max_iter)
    spec = spectrogram(music.mixture, music.sample_rate)
    factors = decompose_spectrogram(
        spec, templates=learned.templates, max_iter=max_iter
    )
    separation = separate(spec, factors, learned.groups)
    # The groups follow the examples' order, which is the references' order.
    scores = evaluate_separation(music.sources, separation.signals, permutation=False)
    return learned, factors, separation, scores


def _table(title, names, scores):
    lines = [title, f"  {'source':8s} {'SDR':>7s} {'SIR':>7s} {'SAR':>7s}"]
    for j, name in enumerate(names):
        lines.append(
            f"  {name:8s} {scores['sdr'][j]:7.2f} {scores['sir'][j]:7.2f} "
            f"{scores['sar'][j]:7.2f}"
        )
    return "\n".join(lines)


def save_figures(folder, result, learned):
    """The pictures of docs/audio.md, as PNG files in ``folder``."""
    from nmfkit.audio._plots import plot_spectrograms, plot_templates

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = result.spectrogram
    sep = result.separation
    panels = {"mixture": spec.values}
    panels.update(
        {name: sep.masks[j] * spec.values for j, name in enumerate(result.source_names)}
    )
    figures = {
        "audio-spectrograms.png": plot_spectrograms(
            panels, spec.frequencies, spec.times, n_cols=2
        ),
        "audio-templates.png": plot_templates(
            result.factors.templates,
            spec.frequencies,
            groups=sep.groups,
            group_names=result.source_names,
        ),
        "audio-learned-templates.png": plot_templates(
            learned.templates,
            spec.frequencies,
            groups=learned.groups,
            group_names=learned.names,
        ),
    }
    for name, fig in figures.items():
        fig.savefig(folder / name, dpi=90)
    return sorted(figures)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output-dir", type=Path, default=None)
    parser.add_argument("--rank", type=int, default=12)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--figures", type=Path, default=None)
    args = parser.parse_args(argv)
    music = make_music_mixture(duration=args.duration)
    training = make_music_mixture(duration=4.0, random_state=1)  # other notes
    output = args.output_dir or Path(tempfile.mkdtemp(prefix="nmfkit-audio-")) / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=Warning)  # ConvergenceWarning
        result = blind(music, args.rank, output, args.max_iter)
        learned, _, _, scores = supervised(music, training, [5, 5, 2], args.max_iter)
    print(_table("blind (clustered templates):", music.source_names, result.scores))
    print(_table("supervised (learned templates):", music.source_names, scores))
    files = ", ".join(
        f"source_{j + 1}.wav = {name}" for j, name in enumerate(result.source_names)
    )
    print(f"blind estimates: {files}")
    print(f"outputs: {output}")
    if args.figures:
        for name in save_figures(args.figures, result, learned):
            print(f"figure: {args.figures / name}")
    return result, scores


if __name__ == "__main__":
    main()
