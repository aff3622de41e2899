"""Values read from a link: one number parser for every page, and notes that say exactly
what happened to a value that could not be used as given.

Pure Python (no Streamlit). A :class:`Note` is ``(name, what, raw, value)`` with ``what``
one of ``"clamped"`` (out of range: the nearest allowed value was taken), ``"reset"``
(unreadable: the default was taken), ``"partly"`` (a list of which only some items exist:
those were kept) or ``"ignored"`` (not a setting of the page); :func:`message` words it
in the current language.
"""

from __future__ import annotations

import math

from texts import t

__all__ = ["FOREIGN", "KINDS", "Note", "message", "messages", "number", "read_number"]

# what happened to a value -> the words that say it
KINDS = {"clamped": "lesson.url_clamped", "reset": "lesson.url_reset",
         "partly": "teach.url_partly", "ignored": "lesson.url_ignored"}
MAX_SHOWN = 60  # characters of a link's value quoted in a note
# query names owned by others on every page (the app's language picker, a page's Present
# mode, Streamlit's embed options): never "not a setting of this page"
FOREIGN = frozenset({"lang", "present", "embed", "embed_options"})


class Note(tuple):
    """(name, what, raw, value): what is a key of :data:`KINDS`; value is the value used
    instead, as text ('' when ignored)."""

    __slots__ = ()

    def __new__(cls, name: str, what: str, raw: str, value: str = ""):
        if what not in KINDS:
            raise ValueError(f"unknown note kind {what!r}")
        return super().__new__(cls, (str(name), what, str(raw), str(value)))

    @property
    def name(self) -> str:
        return self[0]

    @property
    def what(self) -> str:
        return self[1]


def number(text) -> float | None:
    """A finite float from a link's text, or None (not a number, NaN, ±inf)."""
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def read_number(raw, default, low: float = -math.inf, high: float = math.inf,
                integer: bool = False) -> tuple[float | int, str | None]:
    """(value, None) when ``raw`` is a number in [low, high] (a whole one if ``integer``);
    (nearest allowed value, "clamped") when it is out of range; (default, "reset") when it
    is no number at all."""
    value = number(raw)
    if value is None or (integer and value != int(value)):
        return default, "reset"
    clean = min(max(value, low), high)
    if integer:
        clean = int(clean)
    return clean, ("clamped" if clean != value else None)


def message(note: Note) -> str:
    """One note in words, e.g. "The link's value for n (-5) was out of range and was
    clamped to 1."."""
    name, what, raw, value = note
    if len(raw) > MAX_SHOWN:
        raw = raw[:MAX_SHOWN] + "…"
    return t(KINDS[what], name=name, raw=raw, value=value)


def messages(notes) -> str:
    """Every note, one line each (Markdown hard line breaks: one paragraph), for a single
    notice."""
    return "  \n".join(message(note) for note in notes)
