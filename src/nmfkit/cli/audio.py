"""``nmfkit audio``: spectral templates of a recording and its separated sources."""

from __future__ import annotations

from ..apps._defaults import AUDIO_DEFAULTS
from ._options import (
    CommandError,
    add_command,
    add_model_options,
    add_output_options,
    model_params,
    output_folder,
    positive_int,
    stamped_folder,
)
from ._shared import finish, open_outputs, print_lines, warn
from ._signals import add_beta_option, add_signal_input, convergence_notes

__all__ = ["BUILTIN_AUDIO", "add_parser", "load_recording", "run"]

#: ``--builtin`` choices: the synthesized mixture (bass, lead, drums).
BUILTIN_AUDIO = ("mixture",)


def add_parser(subparsers):
    """Register ``audio`` and return its parser."""
    parser = add_command(
        subparsers,
        "audio",
        help="separate the sources of a recording (spectral templates)",
        description="Factorize the spectrogram of a recording (frames x "
        "frequencies ~ activations x spectral templates), group the templates "
        "into --sources sources and separate them by Wiener filtering. Writes "
        "templates.csv/.npy, activations.csv/.npy, source_J.wav (float32; they "
        "add up to the recording), summary.json and report.html (spectrograms, "
        "templates, activations and a player for the mixture and each source) "
        "into one folder, all together or nothing. Without FILE: the built-in "
        "mixture, whose true sources score the separation (SDR, SIR, SAR).",
    )
    add_signal_input(
        parser,
        what="a sound file: WAV (FLAC, OGG, AIFF with soundfile)",
        builtin=BUILTIN_AUDIO,
        builtin_help="built-in recording: mixture (4 s at 8 kHz: bass, lead and "
        "drums, with the true sources)",
    )
    group = add_model_options(parser, AUDIO_DEFAULTS, auto_init=True)
    add_beta_option(group, AUDIO_DEFAULTS["beta_loss"])
    group.add_argument(
        "--sources",
        type=positive_int,
        metavar="K",
        help="group the templates into K sources by clustering them (default: "
        "the number of true sources of the built-in mixture, else one source "
        "per template)",
    )
    spectrum = parser.add_argument_group("spectrogram")
    spectrum.add_argument(
        "--n-fft",
        type=positive_int,
        metavar="N",
        help="STFT window in samples (default: about 64 ms)",
    )
    spectrum.add_argument(
        "--hop-length",
        type=positive_int,
        metavar="N",
        help="STFT hop in samples (default: a quarter of the window)",
    )
    spectrum.add_argument(
        "--mono",
        action="store_true",
        help="average the channels first (otherwise each channel gets the masks)",
    )
    add_output_options(
        parser, default_dir="nmfkit-results/audio-DATE-TIME", report=True
    )
    parser.set_defaults(func=run)
    return parser


def load_recording(args):
    """The file of ``args.input``, or the built-in mixture (a Bunch)."""
    if args.input:
        from ..datasets import load_audio

        return load_audio(args.input, mono=args.mono)
    from ..datasets import make_music_mixture

    return make_music_mixture()


def check_options(args, params):
    """Refuse what cannot work, before any output is opened."""
    rank = params["n_components"]
    if args.sources is not None and args.sources > rank:
        raise CommandError(
            f"--sources {args.sources} is more than --rank {rank}; give --sources "
            f"{rank} or less (each source needs one template at least)"
        )
    if args.n_fft is not None and args.hop_length is not None:
        if args.hop_length > args.n_fft:
            raise CommandError(
                f"--hop-length {args.hop_length} is more than --n-fft {args.n_fft}; "
                "give a hop of at most the window (a quarter of it is usual)"
            )


def run(args):
    """Run ``nmfkit audio``; return the exit code."""
    params = model_params(args, AUDIO_DEFAULTS)
    check_options(args, params)
    folder = output_folder(args, stamped_folder("audio"))
    packages = ("matplotlib",) if args.report else ()
    with open_outputs(
        args, folder, "audio", stages=6, packages=packages, strict=True
    ) as (
        outputs,
        progress,
    ):
        from ..apps._audio import separate_audio

        progress.step("reading the recording")
        recording = load_recording(args)
        with convergence_notes() as held:
            result = separate_audio(
                recording,
                params["n_components"],
                beta_loss=params["beta_loss"],
                n_sources=args.sources,
                mono=args.mono,
                n_fft=args.n_fft,
                hop_length=args.hop_length,
                init=params["init"],
                max_iter=params["max_iter"],
                tol=params["tol"],
                random_state=params["random_state"],
                outputs=outputs,
                report=None if args.report else False,
                progress=progress,
            )
    notes = _notes(result, params, held)
    print_summary(result)
    warn(args, notes)
    return finish(folder, result.files)


def _notes(result, params, held):
    from ..apps._notes import convergence_note

    factors = result.factors
    note = convergence_note(
        "the fit", factors.n_iter, params["max_iter"], params["tol"], factors.history
    )
    if note is None and held:  # stopped early by the estimator's own rule
        note = str(held[0].message).splitlines()[0]
    return [note] if note else []


def print_summary(result):
    """The fit in one line, then the sources' table."""
    from ..apps._table import format_table

    s = result.summary
    spec = s["spectrogram"]
    header, rows = result.header, result.rows
    if result.scores is None:  # no true sources: no SDR, SIR, SAR columns
        header, rows = header[:3], [row[:3] for row in rows]
    print_lines(
        f"audio: {s['input']}, {s['n_samples'] / s['sample_rate']:.2f} s at "
        f"{s['sample_rate']:g} Hz; {spec['kind']} spectrogram {spec['n_freqs']} "
        f"frequencies x {spec['n_frames']} frames",
        f"rank {s['rank']}, beta {s['beta']:g}: objective {s['objective']:.6g}, "
        f"{s['n_iter']} iterations, {s['seconds']:.2f} s; grouping: {s['grouping']}",
        format_table(header, rows, title="sources"),
    )
