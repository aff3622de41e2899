"""The canvas: charts that stay alive in the browser and change in place.

Streamlit remounts an ``st.plotly_chart`` whenever its figure changes: the browser throws
the plot away and draws it again (≈ 0.6 s for the race map). The canvas is one
``st.components.v2`` component whose JavaScript (``static/canvas/*.js``) keeps a plotly.js
plot per element for as long as the element stays on the page and applies each new payload
in place (``Plotly.react``, ``restyle``, ``extendTraces``); animation and the learning-rate
scrub run in the browser with no message to the server.

What reaches the browser:

* plotly.js of the installed ``plotly`` package (the same version as the Python side),
  copied once into the app's static folder (``static/vendor/``, not in git) and loaded by
  the first canvas of a page; a second page of the same session does not fetch it again.
* the canvas JavaScript, by URL with a content hash (cached by the browser);
* per render, a JSON payload of plain values and typed arrays (``viz.encode.typed``).
  Large parts that change rarely (the map picture of a surface, a learning-rate sweep)
  are :class:`Asset` objects: sent once, then named by id. The session remembers which
  ids it sent; a browser that lacks one (a reload of the component, an evicted cache)
  asks again with the ``resync`` trigger and the next run sends it in full.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from app_pages.vendor import vendor_plotly
from viz.encode import typed

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "static"  # served at <base>/app/static/ (server.enableStaticServing)
SCRIPTS = STATIC / "canvas"
_SENT = "canvas_sent"  # session key: canvas key -> asset ids this session has sent


def scripts_version() -> str:
    """Hash of the canvas scripts: part of their URLs, so a changed script is refetched."""
    digest = hashlib.sha256()
    for path in sorted(SCRIPTS.glob("*")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _loader_js() -> str:
    """The component's own script: a few lines that import static/canvas/core.js.

    Inline component code travels with every render of every canvas; the real scripts are
    fetched once by URL instead. Paths start at the server's base URL path, so the app
    also works behind a reverse proxy that serves it under a prefix.
    """
    base_path = str(st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base_path}/" if base_path else "/"
    version = scripts_version()
    return f"""
const origin = window.location.origin;
const config = {{
  base: new URL("{prefix}app/static/canvas/", origin).href,
  plotly: new URL("{prefix}app/static/vendor/{vendor_plotly()}", origin).href,
  version: "{version}",
}};
export default async function (component) {{
  const core = await import(new URL("core.js?v={version}", config.base).href);
  return core.render(component, config);
}}
"""


CANVAS = st.components.v2.component("descent_lab_canvas", js=_loader_js(),
                                    isolate_styles=False)


@dataclass(frozen=True)
class Asset:
    """A large, rarely changing part of a payload: ``data`` (JSON-ready) is sent once per
    session and canvas; afterwards the browser gets ``{"asset": id}`` and uses its copy.
    ``id`` must change whenever ``data`` does (a content hash or the cache key)."""

    id: str
    data: Any


def _resolve(value: Any, sent: set[str]) -> Any:
    """``value`` ready for JSON: each Asset replaced by its reference (and its data the
    first time), each NumPy array a typed array (:func:`viz.encode.typed`)."""
    if isinstance(value, np.ndarray):
        return typed(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Asset):
        if value.id in sent:
            return {"asset": value.id}
        sent.add(value.id)
        return {"asset": value.id, "data": _resolve(value.data, sent)}
    # numbers and strings are most of a figure's leaves: passed on without a call each
    if isinstance(value, Mapping):
        return {k: v if type(v) in _PLAIN else _resolve(v, sent) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else _resolve(v, sent) for v in value]
    return value


_PLAIN = frozenset({int, float, str, bool, type(None)})


def _sent_ids(key: str) -> set[str]:
    return st.session_state.setdefault(_SENT, {}).setdefault(key, set())


def forget(key: str) -> None:
    """Forget what was sent to canvas ``key`` (its next render sends every asset again)."""
    st.session_state.setdefault(_SENT, {}).pop(key, None)


def _on_resync(key: str) -> None:
    """The browser lacks assets: send them again. ``{"assets": [ids]}`` or anything else
    (a plot whose appended data went astray) resets everything this canvas was sent."""
    reason = (st.session_state.get(key) or {}).get("resync")
    sent = _sent_ids(key)
    if isinstance(reason, Mapping) and isinstance(reason.get("assets"), list):
        sent.difference_update(str(a) for a in reason["assets"])
    else:
        sent.clear()
        _docs().pop(key, None)


def _event(key: str, name: str, handler: Callable[[Any], None]) -> Callable[[], None]:
    def callback() -> None:
        value = (st.session_state.get(key) or {}).get(name)
        if value is not None:
            handler(value)
    return callback


def mount(key: str, payload: Mapping[str, Any], *,
          events: Mapping[str, Callable[[Any], None]] | None = None,
          height: int | str = "content"):
    """Draw ``payload`` in canvas ``key`` (created on first use, updated in place after).

    ``payload["view"]`` names the browser-side view (``static/canvas/<view>.js``).
    ``events``: trigger name -> handler(value), called before the script runs (a
    callback), so a handler may set the state of widgets drawn in the same run.
    """
    # Sent as JSON bytes made here once: given a dict, Streamlit would serialize it twice
    # (a sorted copy to hash it, then the message), which live training pays each tick.
    data = json.dumps(_resolve(payload, _sent_ids(key)), separators=(",", ":"),
                      allow_nan=False).encode()
    callbacks = {f"on_{name}_change": _event(key, name, handler)
                 for name, handler in (events or {}).items()}
    callbacks["on_resync_change"] = lambda: _on_resync(key)
    return CANVAS(key=key, data=data, height=height, width="stretch", **callbacks)


def _docs() -> dict:
    return st.session_state.setdefault("canvas_docs", {})


def holds(key: str, doc: str) -> bool:
    """Whether canvas ``key`` already shows document ``doc`` (a training run, say): then a
    payload need carry only what changed. Records that it will after this run's payload,
    which must then carry the whole figure when this returns False."""
    docs = _docs()
    held = docs.get(key)
    if held is not None and held["doc"] == doc:
        return True
    docs[key] = {"doc": doc, "lengths": None}
    return False


def series(key: str, doc: str, xs: list, ys: list) -> dict[str, Any]:
    """Incremental update of line traces 0, 1, …: only the points the browser lacks.

    ``xs``/``ys`` are the full arrays of every trace, in trace order. Returns ``{"doc",
    "from": [n per trace], "x": [...], "y": [...]}`` with the points after those already
    sent for ``doc`` (after :func:`holds` returned False, the figure sent with it holds
    everything so far and nothing is new). The browser checks ``from`` against what it has
    and asks for a resync when they differ.
    """
    docs = _docs()
    held = docs.get(key)
    if held is None or held["doc"] != doc:
        held = docs[key] = {"doc": doc, "lengths": None}
    start = held["lengths"] if held["lengths"] is not None else [len(x) for x in xs]
    start = [min(s, len(x)) for s, x in zip(start, xs, strict=True)]
    held["lengths"] = [len(x) for x in xs]
    return {"doc": doc, "from": start,
            "x": [x[s:] for x, s in zip(xs, start, strict=True)],
            "y": [y[s:] for y, s in zip(ys, start, strict=True)]}
