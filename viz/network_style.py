"""The Neural-network page's shared look: class colours, fonts, layout helpers, log axes.

Readable on a projector at 1280x720: fonts >= 14 px, thick lines, colour-blind-safe colours
(Okabe-Ito). Colour convention, the same in every figure: class 0 / negative = orange,
class 1 / positive = blue (class 2 = bluish green), as in TensorFlow Playground.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "BLUE", "CLASS_COLORS", "CLASS_TINTS", "FONT", "GREEN", "INK", "INK_SCALE", "LOG_FLOOR",
    "MAX_GRID", "MAX_SMALL_GRID", "NEGATIVE_COLOR", "NEUTRAL", "ORANGE", "POSITIVE_COLOR",
    "PROBABILITY_SCALE", "SIGNED_SCALE", "SMALL_FONT", "TITLE_FONT", "base_layout",
    "base_layout_dict", "blend", "equal_axes", "finite_prefix", "grid_figure", "grid_steps",
    "class_labels", "log_axis", "log_safe", "on_axes", "subsample_grid",
]

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
ORANGE = "#E69F00"


BLUE = "#0072B2"


GREEN = "#009E73"


CLASS_COLORS: tuple[str, ...] = (ORANGE, BLUE, GREEN)


POSITIVE_COLOR = BLUE   # weight > 0


NEGATIVE_COLOR = ORANGE  # weight < 0


INK = "#222222"


NEUTRAL = "#9A9A9A"


# Probability of class 1 -> colour: orange (class 0) - white (undecided) - blue (class 1).
# Tints, not full colours, so the data points on top stay the strongest marks.
PROBABILITY_SCALE = [[0.0, "#F2B84B"], [0.5, "#FFFFFF"], [1.0, "#5C9FD1"]]


# Signed value -> colour for weights, biases and hidden activations (same hues).
SIGNED_SCALE = [[0.0, ORANGE], [0.5, "#FFFFFF"], [1.0, BLUE]]


# With coloring="lines" a contour takes its line colour from its colour scale, not line.color.
INK_SCALE = [[0.0, INK], [1.0, INK]]


CLASS_TINTS = ("#F2B84B", "#5C9FD1", "#5CC4A2")  # saturated end of each class's shading


FONT = dict(size=16, family="Source Sans Pro, Arial, sans-serif", color=INK)


TITLE_FONT = dict(size=19, color=INK)


SMALL_FONT = dict(size=14, color=INK)


LOG_FLOOR = 1e-12  # log axes cannot show 0; a loss or norm of exactly 0 is drawn here


MAX_GRID = 120  # heat maps are subsampled to at most this many cells per side


MAX_SMALL_GRID = 50  # ... and small multiples (about 150 px wide) to this many


def finite_prefix(values) -> int:
    """Length of the leading run of finite values (a diverged run stops being drawn there)."""
    v = np.asarray(values, dtype=float).ravel()
    bad = np.flatnonzero(~np.isfinite(v))
    return int(bad[0]) if bad.size else int(v.size)


def log_axis(arrays) -> dict:
    """Settings for a log axis showing ``arrays``: ticks at 1, 2, 5 x 10^k over a range of up
    to two decades (Plotly's default labels every digit 2..9 there, in tiny type), only the
    powers of ten beyond (1-2-5 on ten decades is a wall of labels)."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays] or [[]])
    values = values[np.isfinite(values) & (values > 0)]
    decades = float(np.log10(values.max() / values.min())) if values.size else 0.0
    if decades <= 2.0:
        return dict(type="log", exponentformat="power", dtick="D2",
                    minorloglabels="complete")
    return dict(type="log", exponentformat="power", dtick=1 if decades <= 12 else 2,
                minorloglabels="none")


def log_safe(values) -> np.ndarray:
    """Positive values for a log axis: anything <= 0 (a loss of exactly 0) is drawn a decade
    below the smallest positive value (LOG_FLOOR if there is none), not at 1e-300."""
    v = np.asarray(values, dtype=float)
    positive = v[np.isfinite(v) & (v > 0)]
    floor = float(positive.min()) / 10.0 if positive.size else LOG_FLOOR
    return np.maximum(v, floor)


def class_labels(y, n_classes: int | None = None) -> np.ndarray:
    """Integer class labels from (n,), (n, 1) 0/1 or (n, k) one-hot targets."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1).astype(int)
    y = y.reshape(-1).astype(float)
    y = np.where(np.isfinite(y), y, 0.0)
    labels = np.rint(y).astype(int)
    if n_classes is not None:
        labels = np.clip(labels, 0, n_classes - 1)
    return labels


def grid_steps(xs, ys, max_cells: int = MAX_GRID) -> tuple[int, int]:
    return (max(1, math.ceil(np.size(xs) / max_cells)),
            max(1, math.ceil(np.size(ys) / max_cells)))


def subsample_grid(xs, ys, z, max_cells: int = MAX_GRID):
    """At most max_cells points per axis: a bigger heat map costs bandwidth, shows nothing more."""
    xs, ys, z = np.asarray(xs, float), np.asarray(ys, float), np.asarray(z, float)
    sx, sy = grid_steps(xs, ys, max_cells)
    return xs[::sx], ys[::sy], z[::sy, ::sx]


def base_layout_dict(title: str | None, height: int) -> dict:
    layout = dict(
        template="plotly_white",
        font=FONT,
        height=height,
        # pad 0: Streamlit's chart theme pads the plot area 8 px inside the axis lines,
        # which would float every frame away from its heat map
        margin=dict(l=70, r=30, t=70 if title else 40, b=60, pad=0),
        hoverlabel=dict(font=dict(size=15)),
        legend=dict(font=SMALL_FONT),
    )
    if title:
        layout["title"] = dict(text=title, font=TITLE_FONT, x=0.01, xanchor="left")
    return layout


def base_layout(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    fig.update_layout(base_layout_dict(title, height))
    # Explicit on every axis: Streamlit's chart theme sets axis fonts in its template, which
    # would otherwise win over the layout-wide font (12 px ticks: unreadable when projected).
    fig.update_xaxes(tickfont=dict(size=14), title_font=dict(size=16))
    fig.update_yaxes(tickfont=dict(size=14), title_font=dict(size=16))
    return fig


def grid_figure(traces: list, subplots: go.Figure, axes: dict, title: str | None,
                 height: int, title_size: int, **layout) -> go.Figure:
    """Assemble a many-subplot figure in ONE validation pass.

    ``subplots`` comes from make_subplots (axis domains, subplot titles); its layout is
    merged as plain dicts with ``axes`` (per-subplot axis settings) and the base layout.
    Updating a 32-subplot figure through Plotly's objects costs about a second — too slow
    for a chart redrawn during live training; this path costs about a quarter of that.
    """
    merged = subplots.layout.to_plotly_json()
    for key, value in axes.items():
        merged.setdefault(key, {}).update(value)
    for note in merged.get("annotations", []):
        note["font"] = dict(size=title_size, color=INK)
    merged.update(base_layout_dict(title, height))
    for key, value in layout.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return go.Figure(data=traces, layout=merged)


def equal_axes(xs, ys, index: int = 1, **extra) -> dict:
    """Layout entries for subplot ``index`` (1 = "xaxis"/"yaxis"): fixed ranges on the grid,
    one data unit the same length on both axes.

    Returned as a dict for ONE ``update_layout`` call: per-subplot ``update_xaxes(row=, col=)``
    calls cost milliseconds each, and live training rebuilds these figures every chunk.
    """
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    suffix = "" if index == 1 else str(index)
    return {
        f"xaxis{suffix}": dict(range=[float(xs.min()), float(xs.max())], fixedrange=True,
                               constrain="domain", showgrid=False, zeroline=False, **extra),
        f"yaxis{suffix}": dict(range=[float(ys.min()), float(ys.max())], fixedrange=True,
                               scaleanchor=f"x{suffix}", scaleratio=1, constrain="domain",
                               showgrid=False, zeroline=False, **extra),
    }


def on_axes(traces, index: int) -> list:
    """Put traces on subplot ``index`` (the axes make_subplots names x, x2, x3, ...)."""
    suffix = "" if index == 1 else str(index)
    for trace in traces:
        trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
    return traces


def blend(a: str, b: str, share: float) -> str:
    ca = np.array([int(a[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    cb = np.array([int(b[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)
    r, g, bl = np.rint(ca + (cb - ca) * share).astype(int)
    return f"#{r:02X}{g:02X}{bl:02X}"
