"""Loading the applications' data from the command line's options."""

from __future__ import annotations

from pathlib import Path

from ._cli_common import CommandError, builtin_source_error

__all__ = ["load_faces_from_args", "load_text_from_args"]

FACE_SETS = ("lfw", "olivetti", "digits")
TEXT_SETS = ("lee", "newsgroups")


def load_faces_from_args(args):
    """Images from ``args.folder`` or the built-in set ``args.builtin``."""
    from . import datasets

    folder = getattr(args, "folder", None)
    if folder:
        return datasets.load_image_folder(
            folder,
            shape=tuple(args.shape),
            on_error="skip" if args.skip_bad_files else "raise",
        )
    if args.builtin == "olivetti":
        try:
            return datasets.load_olivetti_faces(
                data_home=args.data_home, download_if_missing=args.download
            )
        except OSError as exc:
            raise builtin_source_error("Olivetti faces", exc) from exc
    if args.builtin == "digits":
        return datasets.load_digits_images()
    return datasets.load_lfw_subset()


def load_text_from_args(args):
    """Documents from ``args.source`` (folder, CSV, JSONL) or ``args.builtin``."""
    from . import datasets

    source = getattr(args, "source", None)
    on_error = "skip" if getattr(args, "skip_bad_files", False) else "raise"
    if source:
        path = Path(source)
        if path.is_dir():
            return datasets.load_text_folder(
                path, encoding=args.encoding, on_error=on_error
            )
        if not path.exists():
            raise FileNotFoundError(
                f"{path} does not exist; give a folder of .txt files, a .csv or a "
                ".jsonl file"
            )
        return datasets.load_text_table(
            path, args.column, id_column=args.id_column, encoding=args.encoding
        )
    if args.builtin == "newsgroups":
        try:
            return datasets.load_newsgroups(
                data_home=args.data_home, download_if_missing=args.download
            )
        except OSError as exc:
            raise builtin_source_error("20 Newsgroups", exc) from exc
    return datasets.load_lee_corpus()


def check_rank(rank, shape):
    """Refuse a rank the shared initialization cannot produce."""
    if rank > min(shape):
        raise CommandError(
            f"--rank {rank} is larger than the data allow ({shape[0]} x {shape[1]}); "
            f"give --rank {min(shape)} or less"
        )
