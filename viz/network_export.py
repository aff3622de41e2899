"""What a student downloads from the Neural-network page: the trained weights as JSON and
the training history as CSV. Non-finite values become null / empty cells."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping

import numpy as np

__all__ = ["HISTORY_COLUMNS", "history_csv", "weights_json"]


def _finite_or_none(a: np.ndarray):
    """Nested lists with every non-finite entry as None: JSON has no NaN."""
    a = np.asarray(a, dtype=float)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def weights_json(net, theta_row, config: Mapping[str, object] | None = None) -> str:
    """One trained network as JSON: architecture, the given config, every W and b.

    ``{"format": "descent-lab/mlp", "sizes": [...], "activation", "output", "loss",
    "batch_norm", "config": {...}, "layers": [{"W": in x out, "b": out}, ...],
    "batch_norm_params": [{"gamma", "beta"}, ...]}`` with ``y = x @ W + b`` (row vectors,
    as Keras: ``W`` is ``layer.kernel``). Non-finite values are written as null.
    """
    theta = np.asarray(theta_row, dtype=float).reshape(1, -1)
    layers = [{"W": _finite_or_none(W[0]), "b": _finite_or_none(b[0])}
              for W, b in net.unpack(theta)]
    doc = {
        "format": "descent-lab/mlp",
        "convention": "y = x @ W + b",
        "sizes": [int(s) for s in net.sizes],
        "activation": net.activation,
        "output": net.output,
        "loss": net.loss,
        "batch_norm": bool(net.batch_norm),
        "config": _jsonable(dict(config or {})),
        "layers": layers,
    }
    if net.batch_norm:
        doc["batch_norm_params"] = [{"gamma": _finite_or_none(g[0]), "beta": _finite_or_none(b[0])}
                                    for g, b in net.unpack_bn(theta)]
    return json.dumps(doc, indent=1, allow_nan=False)


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite_or_none(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


HISTORY_COLUMNS = ("epoch", "train_loss", "test_loss", "train_acc", "test_acc")


def history_csv(history: Mapping[str, object]) -> str:
    """Training history as CSV text: epoch, train_loss, test_loss, train_acc, test_acc first
    (the ones present and not None), then any other per-epoch series in the given order; a
    2-D series (E, L) such as per-layer gradient norms becomes columns name_1 .. name_L.
    Non-finite values (after a divergence) are written as empty cells.
    """
    import pandas as pd

    epoch = np.asarray(history["epoch"]).ravel()
    n = epoch.size
    columns: dict[str, np.ndarray] = {}
    order = [k for k in HISTORY_COLUMNS if k in history] + [
        k for k in history if k not in HISTORY_COLUMNS]
    for key in order:
        value = history[key]
        if value is None or isinstance(value, str | bytes | Mapping):
            continue
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf" or arr.ndim == 0 or arr.shape[0] != n or arr.ndim > 2:
            continue
        if arr.ndim == 1:
            columns[key] = arr
        else:
            for j in range(arr.shape[1]):
                columns[f"{key}_{j + 1}"] = arr[:, j]
    frame = pd.DataFrame(columns)
    frame = frame.where(np.isfinite(frame.astype(float)), None)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()
