"""Report sections that play sound: ``<audio>`` players with embedded WAV data.

:func:`media_section` adds to a :class:`nmfkit.report.Report` a section that
has, besides text, tables and figures, audio players whose WAV bytes are
embedded as base64 ``data:`` URLs, so the page stays self-contained. Each
player carries ``data-audio`` (its key) and ``data-expected-duration``; a
short script writes, once the browser has read each player's header, its
``duration`` into ``data-duration`` and the count of readable players into
``<body data-audio-loaded="n/total">``.
"""

from __future__ import annotations

import base64
import html
import re

from ..report import Section

__all__ = ["MediaSection", "media_section"]

_AUDIO_SCRIPT = (
    "<script>(function(){if(window.__nmfkitAudio)return;window.__nmfkitAudio=1;"
    "function done(){var a=document.querySelectorAll('audio[data-audio]'),n=0;"
    "for(var i=0;i<a.length;i++){var d=a[i].duration;if(isFinite(d)&&d>0){n++;"
    "a[i].setAttribute('data-duration',d.toFixed(4));}}"
    "document.body.setAttribute('data-audio-loaded',n+'/'+a.length);}"
    "document.addEventListener('DOMContentLoaded',function(){"
    "var a=document.querySelectorAll('audio[data-audio]');"
    "for(var i=0;i<a.length;i++){a[i].addEventListener('loadedmetadata',done);"
    "a[i].addEventListener('error',done);}done();});"
    "window.addEventListener('load',done);})();</script>"
)


def _key(text):
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "audio"


class MediaSection(Section):
    """A report section that can also hold audio players."""

    def __init__(self, title, key):
        super().__init__(title, key)
        self.audio_keys = []

    def audio(self, wav, *, caption, duration, key=None):
        """Add an audio player.

        Parameters
        ----------
        wav : bytes
            A whole WAV file (see :func:`nmfkit.audio.wav_bytes`).
        caption : str
        duration : float
            The signal's length in seconds (``data-expected-duration``).
        key : str, default=None
            Value of ``data-audio`` (made from the caption when None).
        """
        key = _key(key or caption)
        self.audio_keys.append(key)
        data = base64.b64encode(bytes(wav)).decode("ascii")
        self._parts.append(
            f'<div class="player" style="margin:.8em 0">'
            f'<audio controls preload="metadata" data-audio="{key}" '
            f'data-expected-duration="{float(duration):.4f}" '
            f'src="data:audio/wav;base64,{data}"></audio>'
            f'<div style="font-size:.9em;color:#4a5568">{html.escape(caption)}</div>'
            "</div>"
        )
        return self

    def render(self, base=None):
        """This section's HTML with the players' script (links as in ``Section``)."""
        page = super().render(base)
        if not self.audio_keys:
            return page
        head, _, _ = page.rpartition("</section>")
        return f"{head}{_AUDIO_SCRIPT}\n</section>"


def media_section(report, title, *, key=None):
    """Start a :class:`MediaSection` in ``report`` (a unique key, like ``section``).

    Parameters
    ----------
    report : nmfkit.report.Report
    title : str
    key : str, default=None

    Returns
    -------
    section : MediaSection
    """
    plain = report.section(title, key=key)  # picks a key no other section has
    section = MediaSection(plain.title, plain.key)
    report.sections[report.sections.index(plain)] = section
    return section
