"""Reading what a page sent to a canvas (app_pages/canvas.py) under AppTest."""

from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest

_DTYPES = {"f4": "<f4", "f8": "<f8", "i4": "<i4", "u1": "u1", "u2": "<u2", "i2": "<i2"}


def canvas_data(at: AppTest, key: str) -> dict:
    """The payload the page sent to canvas ``key`` in its last run."""
    found = [el for el in at.get("bidi_component") if el.proto.id.endswith(f"-{key}")]
    assert found, f"no canvas {key!r} on the page"
    return json.loads(found[0].proto.bytes)


def has_canvas(at: AppTest, key: str) -> bool:
    return any(el.proto.id.endswith(f"-{key}") for el in at.get("bidi_component"))


def decode(spec) -> np.ndarray:
    """A typed array of a payload (viz.encode.typed, or plotly's own) as a NumPy array."""
    if isinstance(spec, list):
        return np.asarray(spec)
    arr = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=_DTYPES[spec["dtype"]])
    if "shape" in spec:
        arr = arr.reshape([int(n) for n in str(spec["shape"]).split(",")])
    return arr
