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
    "class_labels", "log_axis", "log_safe", "log_ticks", "tick_label", "on_axes", "subsample_grid",
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


MIN_LOG_SPAN = 0.02  # decades: a flatter loss is shown on a band this wide (about ±2 %)


def log_axis(arrays) -> dict:
    """Settings for a log axis showing ``arrays``, with explicit range and tick labels so
    that every range shows at least two labelled ticks (Plotly's own log ticks label only
    1-2-5 or the powers of ten, so a loss that moves by a few percent, XOR after one step,
    got no label at all).

    The range is the data's, padded by 5 % of its span in decades (a flat one is widened to
    ``MIN_LOG_SPAN`` decades around it). Ticks: over more than two decades the powers of ten
    (every second one beyond twelve decades); over less, 1, 2, 5 × 10^k when at least three
    of them fall in the range, else evenly spaced round values (step 1, 2, 2.5 or 5 × 10^k,
    about four of them)."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays] or [[]])
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return dict(type="log", exponentformat="power", tickmode="auto")
    a, b = float(np.log10(values.min())), float(np.log10(values.max()))
    if b - a < MIN_LOG_SPAN:
        middle = (a + b) / 2
        a, b = middle - MIN_LOG_SPAN / 2, middle + MIN_LOG_SPAN / 2
    pad = 0.05 * (b - a)
    a, b = a - pad, b + pad
    tickvals = log_ticks(a, b)
    return dict(type="log", range=[a, b], tickmode="array", tickvals=tickvals,
                ticktext=[tick_label(v, tickvals) for v in tickvals])


def log_ticks(a: float, b: float) -> list[float]:
    """Tick values inside [10^a, 10^b] (see :func:`log_axis`)."""
    decades = b - a
    if decades > 2.0:
        every = 1 if decades <= 12 else 2
        first = math.ceil(a / every) * every
        return [10.0 ** k for k in range(first, math.floor(b) + 1, every)]
    lo, hi = 10.0 ** a, 10.0 ** b
    nice = [m * 10.0 ** k for k in range(math.floor(a), math.ceil(b) + 1) for m in (1, 2, 5)]
    inside = [float(v) for v in nice if lo <= v <= hi]
    if len(inside) >= 3:
        return inside
    raw = (hi - lo) / 4
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step)
    return [float(f"{i * step:.12g}") for i in range(first, math.floor(hi / step) + 1)]


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def tick_label(value: float, ticks) -> str:
    """A tick's text. Evenly spaced ticks (a narrow range) all get the decimals their step
    needs ("0.680", "0.685", "0.690"); 1-2-5 and powers of ten are written short ("0.2",
    "10"), and very small or large ones as a power of ten ("10⁻⁵", "2·10⁻⁵")."""
    ticks = np.asarray(ticks, dtype=float)
    gaps = np.diff(ticks)
    even = gaps.size >= 1 and np.allclose(gaps, gaps[0], rtol=1e-6)
    if value >= 1e4 or value < 1e-3:
        mantissa, power = f"{value:.2e}".split("e")
        head = "" if float(mantissa) == 1 else f"{float(mantissa):g}·"
        return f"{head}10" + str(int(power)).translate(SUPERSCRIPT)
    if even and gaps[0] < 1:
        step = float(gaps[0])
        digits = -math.floor(math.log10(step) + 1e-9)
        if abs(step * 10 ** digits - round(step * 10 ** digits)) > 1e-6:
            digits += 1  # a step of 0.25 needs two decimals
        return f"{value:.{digits}f}"
    return f"{value:g}"


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
