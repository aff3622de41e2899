"""Arrays on their way to the browser: finite float32, sent as typed arrays.

A typed array is ``{"dtype": "f4", "bdata": <base64 of the little-endian bytes>,
"shape": "rows, cols"}`` (``shape`` only for 2-D): the format plotly.py writes and
plotly.js reads, 4 bytes a number instead of ~18 characters of JSON text. The canvas
(static/canvas/core.js ``decode``) reads the same format.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

import numpy as np
import plotly.io as pio

__all__ = ["FLOAT32_MAX", "f32", "figure_dict", "template", "typed", "typed_arrays"]

FLOAT32_MAX = 3.0e38
_CODES = {"float32": "f4", "float64": "f8", "int8": "i1", "uint8": "u1", "int16": "i2",
          "uint16": "u2", "int32": "i4", "uint32": "u4"}


def f32(values) -> np.ndarray:
    """Finite float32 copy for the browser: NaN -> 0, ±inf and beyond float32 -> ±3e38.

    Callers cut diverged runs before this (a NaN never means anything on a chart); this is
    the last guard so nothing non-finite reaches a plot."""
    arr = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0,
                        posinf=FLOAT32_MAX, neginf=-FLOAT32_MAX)
    return np.clip(arr, -FLOAT32_MAX, FLOAT32_MAX).astype(np.float32)


def typed(values) -> dict[str, str] | list:
    """One array as a typed-array spec. Floats become finite float32 (:func:`f32`),
    integers int32; an empty array is an empty list (plotly.js reads both)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        arr = f32(arr)
    elif arr.dtype.kind in "iub" and arr.dtype not in (np.uint8, np.uint16, np.int16):
        arr = arr.astype(np.int32)
    if arr.size == 0:
        return []
    arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    out = {"dtype": _CODES[arr.dtype.name], "bdata": base64.b64encode(arr).decode("ascii")}
    if arr.ndim > 1:
        out["shape"] = ", ".join(str(n) for n in arr.shape)
    return out


def typed_arrays(value: Any) -> Any:
    """``value`` (dicts, lists, tuples, NumPy arrays) with every array as a typed array."""
    if isinstance(value, np.ndarray):
        return typed(value)
    if isinstance(value, dict):
        return {k: typed_arrays(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [typed_arrays(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@functools.cache
def template(name: str) -> dict:
    """A Plotly template as the dict ``go.Figure(...).to_dict()`` writes (built once)."""
    return pio.templates[name].to_plotly_json()


def merge(base: dict, extra: dict) -> dict:
    """``base`` updated by ``extra`` recursively (as Plotly's ``update`` merges dicts)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def figure_dict(spec: dict) -> dict:
    """A figure spec (plain values and NumPy arrays) as ``go.Figure(spec).to_dict()`` writes
    it, without building Plotly objects: arrays become typed arrays."""
    template = spec["layout"].pop("template", None)  # no arrays in it: not worth walking
    out = typed_arrays(spec)
    spec["layout"]["template"] = template
    if template is not None:
        # shared, not copied: nothing downstream writes into a figure's template, and a
        # deep copy per figure was most of the live network diagram's cost
        out["layout"]["template"] = template
    return out
