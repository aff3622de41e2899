"""URL state of the lesson pages (Backpropagation, Functions): fields, parsing, writing.

A page declares its settings as :class:`Field` s (URL name, default, range or options, and
the views that use it).  :func:`parse` turns a query mapping into values plus notes that
say, per parameter, exactly what happened (out of range: clamped to the nearest allowed
value; unreadable: reset to the default; unknown: ignored) — never an exception.
:func:`to_query` writes back only what differs from the defaults, for the current view.

:func:`sync` is the Streamlit side: it loads the URL into the widgets' session keys when the
address holds something new (a pasted link, a link from another page), keeps the values
across page switches (Streamlit forgets the state of widgets that are not drawn), and
mirrors the widgets into the address bar after they are drawn (:func:`publish`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app_pages.url_values import Note, number, read_number

FOREIGN = {"lang", "embed", "embed_options"}   # query names owned by the app, not a page


@dataclass(frozen=True)
class Field:
    """One setting.  kind: "float", "int", "choice", "text" or "floats" (comma list)."""

    name: str
    default: Any
    kind: str = "float"
    low: float = -math.inf
    high: float = math.inf
    options: tuple = ()
    max_length: int = 200
    count: int = 0             # "floats": exactly this many numbers
    views: tuple[str, ...] = ()  # views that use it (empty: every view)

    def parse(self, raw: str) -> tuple[Any, str | None]:
        """(value, None) when ``raw`` is fine; (nearest allowed, "clamped") or
        (default, "reset") otherwise."""
        raw = str(raw).strip()
        if self.kind == "choice":
            return (raw, None) if raw in self.options else (self.default, "reset")
        if self.kind == "text":
            if not raw or len(raw) > self.max_length:
                return self.default, "reset"
            return raw, None
        if self.kind == "floats":
            parts = [number(p) for p in raw.split(",")]
            if len(parts) != self.count or None in parts:
                return self.default, "reset"
            clamped = tuple(min(max(p, self.low), self.high) for p in parts)
            return clamped, ("clamped" if clamped != tuple(parts) else None)
        return read_number(raw, self.default, self.low, self.high, integer=self.kind == "int")

    def format(self, value) -> str:
        if self.kind == "floats":
            return ",".join(f"{float(v):.6g}" for v in value)
        if self.kind == "float":
            return f"{float(value):.6g}"
        return str(value)


def parse(fields: Sequence[Field], query: Mapping[str, Any]) -> tuple[dict[str, Any], list[Note]]:
    """Values for the names present in ``query``, and a note for each one that was not used
    as given."""
    by_name = {f.name: f for f in fields}
    values: dict[str, Any] = {}
    notes: list[Note] = []
    for name, raw in query.items():
        raw = raw[-1] if isinstance(raw, list | tuple) and raw else raw
        if name in FOREIGN:
            continue
        field = by_name.get(name)
        if field is None:
            notes.append(Note(name, "ignored", str(raw), ""))
            continue
        value, what = field.parse(raw)
        values[name] = value
        if what:
            notes.append(Note(name, what, str(raw), field.format(value)))
    return values, notes


def to_query(fields: Sequence[Field], values: Mapping[str, Any], view: str) -> dict[str, str]:
    """The names of ``view`` whose value differs from the default, as strings."""
    query = {}
    for f in fields:
        if f.views and view not in f.views:
            continue
        value = values.get(f.name, f.default)
        if f.format(value) != f.format(f.default):
            query[f.name] = f.format(value)
    return query


# --------------------------------------------------------------------------- Streamlit


def session_key(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"


def sync(prefix: str, fields: Sequence[Field]) -> list[Note]:
    """Before the widgets: load a new URL into the session, restore values Streamlit dropped
    while another page was shown, fill defaults.  Returns the notes of the last URL load."""
    ss = st.session_state
    shadow = ss.setdefault(f"{prefix}__values", {})
    current = {k: v for k, v in st.query_params.to_dict().items() if k not in FOREIGN}
    if current and current != ss.get(f"{prefix}__written"):
        values, notes = parse(fields, current)
        shadow.update(values)
        for name, value in values.items():
            ss[session_key(prefix, name)] = value
        ss[f"{prefix}__notes"] = notes
        ss[f"{prefix}__written"] = current
        ss[f"{prefix}__loaded"] = None
    for f in fields:
        key = session_key(prefix, f.name)
        if key not in ss:
            ss[key] = shadow.get(f.name, f.default)
    if ss.get(f"{prefix}__loaded") is None:
        ss[f"{prefix}__loaded"] = values_of(prefix, fields)
    return ss.get(f"{prefix}__notes", [])


def values_of(prefix: str, fields: Sequence[Field]) -> dict[str, Any]:
    ss = st.session_state
    return {f.name: ss.get(session_key(prefix, f.name), f.default) for f in fields}


def publish(prefix: str, fields: Sequence[Field], view: str,
            extra: Mapping[str, str] | None = None) -> None:
    """After the widgets: remember their values and mirror them into the address bar."""
    values = values_of(prefix, fields)
    st.session_state[f"{prefix}__values"] = dict(values)
    if values != st.session_state.get(f"{prefix}__loaded"):
        st.session_state[f"{prefix}__notes"] = []   # the view no longer is what the link said
    wanted = {k: v for k, v in st.query_params.to_dict().items() if k in FOREIGN}
    wanted.update(to_query(fields, values, view))
    wanted.update(extra or {})
    if wanted != st.query_params.to_dict():
        st.query_params.from_dict(wanted)
    st.session_state[f"{prefix}__written"] = {k: v for k, v in wanted.items()
                                              if k not in FOREIGN}


def reset(prefix: str, fields: Sequence[Field], keep: Sequence[str] = ()) -> None:
    """Every field back to its default (a button callback); ``keep``: names left alone."""
    ss = st.session_state
    for f in fields:
        if f.name not in keep:
            ss[session_key(prefix, f.name)] = f.default
    ss[f"{prefix}__notes"] = []


def set_param(prefix: str, name: str, value: str | None) -> None:
    """Write one name into the address bar (None: remove it) and remember it as written, so
    the next run does not take it for a new link (used inside fragments)."""
    if value is None:
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != value:
        st.query_params[name] = value
    st.session_state[f"{prefix}__written"] = {
        k: v for k, v in st.query_params.to_dict().items() if k not in FOREIGN}
