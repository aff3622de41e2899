"""Plotly figures of the optimizer race: arrays in, ``go.Figure`` out (no Streamlit here).

The race map is a static contour (or 3-D surface) of the loss with one path trace and one
current-position marker per run.  The animation is client-side: Plotly frames that only
replace the path and marker traces (``redraw=False`` in 2-D), so playing never asks the
server for anything.  The base figure shows the *full* paths, so a screenshot or a page
that is never played still shows the whole race; frame 0 is the start, and pressing Play
replays the race from the start.

Divergence is never hidden: a run that blows up keeps its finite path (the engine stops it
at its last finite point) and gets a ✕ with the step it diverged at.  When that point lies
outside the map the ✕ is pinned to the map's edge where the run left it, and the hover text
says so (the competing visualizers clip such runs away silently).

Size: everything numeric is sent as float32 typed arrays.  A path only keeps the iterates
that moved by more than ~1/700 of the map from the previous kept one (a pixel or less at
1280×720, so nothing visible is lost), and the number of frames is lowered when the frames
would exceed :data:`FRAME_BUDGET_BYTES`, so a default race stays well under 1 MB of JSON.
"""

from __future__ import annotations

import base64
import copy
import functools
import io
import math
import struct
import zlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from texts import t

__all__ = [
    "OPTIMIZER_COLORS",
    "OPTIMIZER_SYMBOLS",
    "PLOTLY_CONFIG",
    "SPEEDS_MS",
    "FRAME_BUDGET_BYTES",
    "PATH_MARKERS_MAX",
    "surface_grid",
    "map_image",
    "race_figure",
    "race_figure_dict",
    "race_map_source",
    "race_trace_indices",
    "loss_figure",
    "loss_figure_dict",
    "grad_norm_figure",
    "grad_norm_figure_dict",
    "summary_frame",
    "runs_csv",
    "add_step_arrows",
    "standalone_html",
    "step_numbers",
    "latex_with_numbers",
]

# Okabe–Ito (colour-blind safe) first, then three dark, distinct extras; every run's
# marker also has its own symbol, so colour is never the only cue.
OPTIMIZER_COLORS: dict[str, str] = {
    "gd": "#D55E00",        # vermillion
    "momentum": "#0072B2",  # blue
    "nag": "#56B4E9",       # sky blue
    "adagrad": "#009E73",   # bluish green
    "rmsprop": "#CC79A7",   # reddish purple
    "adadelta": "#E69F00",  # orange
    "adam": "#000000",      # black
    "adamw": "#7B3294",     # purple
    "nadam": "#8C510A",     # brown
    "adamax": "#7A8B00",    # olive
}
OPTIMIZER_SYMBOLS: dict[str, str] = {
    "gd": "circle", "momentum": "square", "nag": "diamond", "adagrad": "triangle-up",
    "rmsprop": "triangle-down", "adadelta": "pentagon", "adam": "hexagon",
    "adamw": "hexagram", "nadam": "triangle-left", "adamax": "triangle-right",
}
# Pass as st.plotly_chart(..., config=PLOTLY_CONFIG): no Plotly logo, no mode-bar clutter.
PLOTLY_CONFIG = {"displaylogo": False, "scrollZoom": False,
                 "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}
SPEEDS_MS = {"slow": 120, "normal": 50, "fast": 15}
FRAME_BUDGET_BYTES = 680_000  # JSON bytes the frames may take (paths are float32 base64)
# A dot at every iterate shows the step sizes of a short path; on a long one the dots merge
# into a thick line and cost ~40 % of the browser's redraw (plotly.js in Chromium), so a 2-D
# path with more drawn points is a plain line (its current position keeps its big marker).
PATH_MARKERS_MAX = 60

FONT_SIZE = 15
RACE_HEIGHT = 620
MAX_FRAMES_3D = 60
_FLOAT32_MAX = 3.0e38
_KINDS = ("global", "local", "saddle", "max")
_KIND_STYLE = {  # symbol, size, fill, outline
    "global": ("star", 20, "#FFD60A", "#000000"),
    "local": ("star", 15, "#FFFFFF", "#000000"),
    "saddle": ("hourglass", 14, "#FFFFFF", "#000000"),
    "max": ("triangle-up", 13, "#FFFFFF", "#000000"),
}
# Scatter3d knows only a few marker symbols
_SYMBOLS_3D = {"star": "diamond", "hourglass": "cross", "triangle-up": "square-open",
               "circle-open-dot": "circle-open"}
# Light neutral ramp (low = white): coloured paths stay the most saturated thing on screen.
_COLORSCALE = [[0.0, "#FFFFFF"], [0.3, "#EDF0F3"], [0.65, "#D3D9E0"], [1.0, "#AAB5C2"]]
_BASE_TRACES = 1 + len(_KINDS) + 1  # surface, critical points per kind, start


# ----------------------------------------------------------------------------- helpers

def _f32(values) -> np.ndarray:
    """Finite float32 copy for sending to the browser (NaN -> 0, beyond float32 -> clipped)."""
    arr = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0,
                        posinf=_FLOAT32_MAX, neginf=-_FLOAT32_MAX)
    return np.clip(arr, -_FLOAT32_MAX, _FLOAT32_MAX).astype(np.float32)


def _num(value: float) -> str:
    """Short human number: 4 significant digits."""
    return f"{float(value):.4g}"


def _point_label(x: float, y: float) -> str:
    return f"({float(x):.3g}, {float(y):.3g})"


def _view_ranges(surface, start=None) -> tuple[list[float], list[float]]:
    """Axis ranges: the surface domain, grown to include the start point, with 2 % margin."""
    (xmin, xmax), (ymin, ymax) = surface.domain
    xmin, xmax, ymin, ymax = float(xmin), float(xmax), float(ymin), float(ymax)
    if start is not None and np.isfinite(np.asarray(start, dtype=float)).all():
        sx, sy = float(start[0]), float(start[1])
        xmin, xmax, ymin, ymax = min(xmin, sx), max(xmax, sx), min(ymin, sy), max(ymax, sy)
    mx, my = 0.02 * (xmax - xmin), 0.02 * (ymax - ymin)
    return [xmin - mx, xmax + mx], [ymin - my, ymax + my]


def _min_f(surface, Z: np.ndarray) -> float:
    """Lowest value among the grid and the listed minima (the bottom of the colour scale)."""
    listed = [p.f for p in getattr(surface, "minima", ()) if p.kind in ("global", "local")]
    candidates = [float(np.min(Z))] + [float(v) for v in listed if math.isfinite(v)]
    return min(candidates)


def _log_transform(values, f_min: float) -> np.ndarray:
    """L = log10(f − f_min + 1): 0 at the bottom, one unit per decade above it."""
    return np.log10(np.maximum(np.asarray(values, dtype=np.float64) - f_min, 0.0) + 1.0)


def _log_ticks(l_max: float, f_min: float) -> tuple[list[float], list[str]]:
    """Colour-bar ticks at f − f_min = 0, 1, 10, 100, … (labelled in f − f_min)."""
    decades = int(math.floor(max(l_max, 0.0) + 1e-9))
    diffs = [0.0] + [10.0 ** k for k in range(0, decades + 1) if math.log10(10.0**k + 1) <= l_max]
    if len(diffs) < 3:  # narrow range: add the top
        diffs.append(10.0 ** l_max - 1.0)
    vals = [float(np.log10(d + 1.0)) for d in diffs]
    return vals, [f"{d:,.0f}" if 1 <= d < 1e7 else f"{d:.3g}" for d in diffs]


def _kept_indices(path: np.ndarray, n_valid: int, tol: float) -> np.ndarray:
    """Iterates worth drawing: the start, then each point ≥ tol away from the last kept one.

    Points closer than ``tol`` (about a pixel) would sit on top of each other on screen;
    the final valid iterate is always kept so the path ends where the run ended.
    """
    last = max(int(n_valid), 1) - 1
    kept = [0]
    ref = path[0]
    for i in range(1, last + 1):
        p = path[i]
        if abs(p[0] - ref[0]) > tol or abs(p[1] - ref[1]) > tol:
            kept.append(i)
            ref = p
    if kept[-1] != last:
        kept.append(last)
    return np.asarray(kept, dtype=np.int64)


def _frame_steps(steps: int, n_frames: int) -> np.ndarray:
    """n_frames step numbers spread evenly over 0…steps, always with 0 and the last step."""
    n_frames = max(2, min(int(n_frames), steps + 1)) if steps > 0 else 1
    return np.unique(np.round(np.linspace(0, steps, n_frames)).astype(np.int64))


def _choose_frames(steps: int, max_frames: int, kept: list[np.ndarray],
                   xy: list[np.ndarray]) -> np.ndarray:
    """Frame steps within :data:`FRAME_BUDGET_BYTES`: fewer frames if the paths are long.

    A path point costs 8 bytes of float32, 4/3 of that in base64, and Plotly's JSON writes
    every "/" of the base64 text as the 6-character escape \\u002f: that share is measured
    on the actual paths (``xy``, the kept points of every run).
    """
    raw = b"".join(np.ascontiguousarray(_f32(p)).tobytes() for p in xy)
    encoded = base64.b64encode(raw)
    slash_share = encoded.count(b"/") / max(len(encoded), 1)
    per_point = 8 * 4 / 3 * (1 + 5 * slash_share)
    per_trace = 190  # JSON keys of a path and a marker entry

    def cost(frame_steps: np.ndarray) -> float:
        points = sum(int(np.searchsorted(k, frame_steps, side="right").sum()) for k in kept)
        return points * per_point + len(frame_steps) * len(kept) * per_trace

    n = max(2, int(max_frames))
    frames = _frame_steps(steps, n)
    while n > 2 and cost(frames) > FRAME_BUDGET_BYTES:
        n = max(2, int(n * min(0.95, FRAME_BUDGET_BYTES / cost(frames))))
        frames = _frame_steps(steps, n)
    return frames


def _label_side(x: float, y: float, xr, yr) -> str:
    """Text position that keeps a label next to (x, y) inside the map."""
    fx = (x - xr[0]) / (xr[1] - xr[0])
    fy = (y - yr[0]) / (yr[1] - yr[0])
    vertical = "bottom" if fy > 0.9 else "top"
    horizontal = "left" if fx > 0.8 else "right" if fx < 0.2 else "center"
    return f"{vertical} {horizontal}"


def _exit_point(path: np.ndarray, n_valid: int, xr, yr) -> tuple[np.ndarray, int] | None:
    """Where a run first leaves the view box (point on the edge, step index), else None."""
    pts = path[:max(int(n_valid), 1)]
    inside = ((pts[:, 0] >= xr[0]) & (pts[:, 0] <= xr[1])
              & (pts[:, 1] >= yr[0]) & (pts[:, 1] <= yr[1]))
    if inside.all():
        return None
    first_out = int(np.argmin(inside))
    if first_out == 0:
        return np.clip(pts[0], [xr[0], yr[0]], [xr[1], yr[1]]), 0
    a, b = pts[first_out - 1], pts[first_out]
    # largest s in [0, 1] with a + s(b − a) inside the box (Liang–Barsky on one segment)
    s_hi = 1.0
    for axis, (lo, hi) in enumerate((xr, yr)):
        d = b[axis] - a[axis]
        if d > 0 and b[axis] > hi:
            s_hi = min(s_hi, (hi - a[axis]) / d)
        elif d < 0 and b[axis] < lo:
            s_hi = min(s_hi, (lo - a[axis]) / d)
    edge = a + max(s_hi, 0.0) * (b - a)
    return np.clip(edge, [xr[0], yr[0]], [xr[1], yr[1]]), first_out


# ----------------------------------------------------------------------------- surface

def surface_grid(surface, n: int = 150) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample f on an n×n grid over the domain: ``Z[i, j] = f(xs[j], ys[i])``.

    Non-finite values (a typed formula can give log of a negative number) are replaced for
    display: NaN and +inf by the largest finite value, −inf by the smallest; all-non-finite
    gives zeros.  Pure and cheap to cache.
    """
    n = int(n)
    if not 2 <= n <= 1000:
        raise ValueError(f"n must be in [2, 1000], got {n}")
    (xmin, xmax), (ymin, ymax) = surface.domain
    xs = np.linspace(float(xmin), float(xmax), n)
    ys = np.linspace(float(ymin), float(ymax), n)
    gx, gy = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        Z = np.asarray(surface.f(np.stack([gx, gy], axis=-1)), dtype=np.float64).reshape(n, n)
    finite = np.isfinite(Z)
    if not finite.all():
        if finite.any():
            lo, hi = float(Z[finite].min()), float(Z[finite].max())
            Z = np.where(np.isneginf(Z), lo, np.where(finite, Z, hi))
        else:
            Z = np.zeros_like(Z)
    return xs, ys, Z


def _resample(Z: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Bilinear resampling of a grid to rows × cols (corners kept)."""
    n_r, n_c = Z.shape
    yi, xi = np.linspace(0, n_r - 1, rows), np.linspace(0, n_c - 1, cols)
    y0 = np.minimum(np.floor(yi).astype(int), n_r - 2) if n_r > 1 else np.zeros(rows, int)
    x0 = np.minimum(np.floor(xi).astype(int), n_c - 2) if n_c > 1 else np.zeros(cols, int)
    fy, fx = (yi - y0)[:, None], (xi - x0)[None, :]
    y1, x1 = np.minimum(y0 + 1, n_r - 1), np.minimum(x0 + 1, n_c - 1)
    top = Z[y0][:, x0] * (1 - fx) + Z[y0][:, x1] * fx
    bottom = Z[y1][:, x0] * (1 - fx) + Z[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def _scale_colours(u: np.ndarray) -> np.ndarray:
    """Colours of :data:`_COLORSCALE` at u ∈ [0, 1] -> uint8 (..., 3)."""
    stops = np.array([s for s, _ in _COLORSCALE])
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for _, c in _COLORSCALE], float)
    out = np.stack([np.interp(u, stops, rgb[:, ch]) for ch in range(3)], axis=-1)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _png(rgb: np.ndarray) -> bytes:
    """Minimal PNG encoder (8-bit RGB, no filter): rows of ``rgb`` from top to bottom."""
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def map_image(shown: np.ndarray, *, aspect: float = 1.0, bands: int = 24,
              size: int = 480) -> str:
    """The filled-contour picture of a grid (row i = y_i, bottom row first) as a PNG data URI.

    ``bands`` equal steps between min and max of ``shown`` are filled with the colour scale
    at their middle; pixels where the band changes are darkened, which draws the level lines.
    The longer side has ``size`` pixels, the other follows ``aspect`` = height / width.
    """
    shown = np.nan_to_num(np.asarray(shown, dtype=np.float64))
    aspect = float(aspect) if math.isfinite(aspect) and aspect > 0 else 1.0
    rows = max(2, int(round(size * min(1.0, aspect))))
    cols = max(2, int(round(size * min(1.0, 1.0 / aspect))))
    fine = _resample(shown, rows, cols)[::-1]  # PNG rows run top to bottom
    lo, hi = float(shown.min()), float(shown.max())
    u = (fine - lo) / (hi - lo) if hi > lo else np.zeros_like(fine)
    level = np.clip(np.floor(u * bands), 0, bands - 1)
    rgb = _scale_colours((level + 0.5) / bands).astype(np.float64)
    edge = np.zeros(level.shape, dtype=bool)
    edge[:, 1:] |= level[:, 1:] != level[:, :-1]
    edge[1:, :] |= level[1:, :] != level[:-1, :]
    rgb[edge] *= 0.8
    encoded = base64.b64encode(_png(rgb.astype(np.uint8))).decode("ascii")
    return "data:image/png;base64," + encoded


# ----------------------------------------------------------------------------- race figure

def race_trace_indices(n_runs: int, show_3d: bool = False) -> dict[str, object]:
    """Positions of the traces in :func:`race_figure` (fixed, whatever the surface).

    0 surface; 1–4 critical points (global, local, saddle, max; empty when none); 5 start;
    then the B paths (6 … 5+B), then the B current-position markers (drawn above every
    path); then the divergence ✕ trace; in 2-D last the invisible click grid.
    """
    paths = [_BASE_TRACES + i for i in range(n_runs)]
    markers = [_BASE_TRACES + n_runs + i for i in range(n_runs)]
    diverged = _BASE_TRACES + 2 * n_runs
    out: dict[str, object] = {"surface": 0, "critical": list(range(1, 1 + len(_KINDS))),
                              "start": _BASE_TRACES - 1, "paths": paths, "markers": markers,
                              "diverged": diverged, "total": diverged + 1}
    if not show_3d:
        out["click_grid"] = diverged + 1
        out["total"] = diverged + 2
    return out


def race_figure(
    surface,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    result,
    names: Sequence[str],
    colors: Sequence[str],
    *,
    start=None,
    max_frames: int = 200,
    show_3d: bool = False,
    click_grid_n: int = 40,
    title: str | None = None,
    symbols: Sequence[str] | None = None,
) -> go.Figure:
    """The race: the loss map, every run's path and an animation of the race.

    ``grid`` is :func:`surface_grid`'s ``(xs, ys, Z)``; ``result`` an
    ``engine.descent.DescentResult`` with ``path`` (T+1, B, 2), ``loss`` (T+1, B),
    ``diverged``/``diverged_at`` (B,); ``names``/``colors``/``symbols`` one per run.
    Colour is log10(f − f_min + 1) when ``surface.log_color`` (colour bar labelled in
    f − f_min).  Trace order: :func:`race_trace_indices`.  Frames replace only the path
    and marker traces; the base figure shows the full paths and the slider sits at the end.

    The same figure as :func:`race_figure_dict` (one builder), as a validated ``go.Figure``.
    """
    return go.Figure(_race_spec(surface, grid, result, names, colors, start=start,
                                max_frames=max_frames, show_3d=show_3d,
                                click_grid_n=click_grid_n, title=title, symbols=symbols))


def race_figure_dict(
    surface,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray],
    result,
    names: Sequence[str],
    colors: Sequence[str],
    *,
    start=None,
    max_frames: int = 200,
    show_3d: bool = False,
    click_grid_n: int = 40,
    title: str | None = None,
    symbols: Sequence[str] | None = None,
    map_source: str | None = None,
) -> dict:
    """:func:`race_figure` as a plain, JSON-ready dict, without building Plotly objects.

    Same arguments and the same figure as ``race_figure(...).to_dict()`` (float32 arrays as
    Plotly typed arrays ``{"dtype": "f4", "bdata": base64}``), about 20 times faster:
    Plotly's validation of ~50 frames of traces is what a page would otherwise pay on every
    change.  ``map_source``: the 2-D map picture if already made (:func:`map_image` of the
    shown grid depends only on the surface, so a page can reuse it).
    """
    return _figure_dict(_race_spec(surface, grid, result, names, colors, start=start,
                                   max_frames=max_frames, show_3d=show_3d,
                                   click_grid_n=click_grid_n, title=title, symbols=symbols,
                                   map_source=map_source))


def race_map_source(surface, grid: tuple[np.ndarray, np.ndarray, np.ndarray]) -> str:
    """The 2-D race map's picture (PNG data URI) for ``surface`` sampled on ``grid``."""
    xs, ys, Z = grid
    f_min = _min_f(surface, Z)
    shown = _log_transform(Z, f_min) if getattr(surface, "log_color", False) else Z
    return map_image(shown, aspect=(ys[-1] - ys[0]) / (xs[-1] - xs[0]))


_PLOTLY_SHORT_TYPES = {"float32": "f4", "float64": "f8", "int8": "i1", "uint8": "u1",
                       "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4"}


def _typed_arrays(value):
    """Copy of a figure spec with every NumPy array as a Plotly typed array (as to_dict)."""
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        code = _PLOTLY_SHORT_TYPES.get(str(arr.dtype))
        if code is None or arr.size == 0:
            return arr.tolist()
        out = {"dtype": code, "bdata": base64.b64encode(arr.astype(arr.dtype.newbyteorder("<"),
                                                                   copy=False)).decode("ascii")}
        if arr.ndim > 1:
            out["shape"] = str(arr.shape)[1:-1]
        return out
    if isinstance(value, dict):
        return {k: _typed_arrays(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_typed_arrays(v) for v in value]
    return value


@functools.cache
def _template(name: str) -> dict:
    """A Plotly template as the dict ``go.Figure(...).to_dict()`` writes (built once)."""
    return pio.templates[name].to_plotly_json()


def _merge(base: dict, extra: dict) -> dict:
    """``base`` updated by ``extra`` recursively (as Plotly's ``update`` merges dicts)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _race_spec(surface, grid, result, names, colors, *, start=None, max_frames=200,
               show_3d=False, click_grid_n=40, title=None, symbols=None,
               map_source=None) -> dict:
    """The race figure as a dict of plain values and float32 NumPy arrays (one builder for
    :func:`race_figure` and :func:`race_figure_dict`)."""
    xs, ys, Z = grid
    path = np.asarray(result.path, dtype=np.float64)
    loss = np.asarray(result.loss, dtype=np.float64)
    steps = path.shape[0] - 1
    n_runs = path.shape[1]
    if len(names) != n_runs or len(colors) != n_runs:
        raise ValueError(f"need one name and one colour per run ({n_runs}), "
                         f"got {len(names)} names and {len(colors)} colours")
    symbols = list(symbols) if symbols is not None else ["circle"] * n_runs
    diverged = np.asarray(result.diverged, dtype=bool)
    diverged_at = np.asarray(result.diverged_at, dtype=np.int64)
    n_valid = np.where(diverged, np.maximum(diverged_at, 1), steps + 1)
    if start is None:
        start = path[0, 0]
    xr, yr = _view_ranges(surface, start)
    span = max(xr[1] - xr[0], yr[1] - yr[0])

    log_color = bool(getattr(surface, "log_color", False))
    f_min = _min_f(surface, Z)
    shown = _log_transform(Z, f_min) if log_color else Z

    def height(values):  # z of a point in the 3-D view (the shown quantity, lifted a little)
        lifted = _log_transform(values, f_min) if log_color else np.asarray(values, float)
        return lifted + 0.004 * (float(np.max(shown)) - float(np.min(shown)) + 1e-12)

    data: list[dict] = []
    layout: dict = {}
    # --- 0: the surface
    colorbar = dict(title=dict(text=t("race_viz.colorbar_f"), side="right",
                               font=dict(size=FONT_SIZE)), thickness=14, len=0.8,
                    tickfont=dict(size=FONT_SIZE - 2))
    if log_color:
        vals, texts_ = _log_ticks(float(np.max(shown)), f_min)
        colorbar.update(tickvals=vals, ticktext=texts_)
        colorbar["title"]["text"] = (t("race_viz.colorbar_log") if f_min == 0 else
                                     t("race_viz.colorbar_log_shift", fmin=_num(f_min)))
    if show_3d:
        data.append(dict(
            type="surface", x=_f32(xs), y=_f32(ys), z=_f32(shown), colorscale=_COLORSCALE,
            colorbar=colorbar, opacity=0.92, hoverinfo="skip", showscale=True,
            name=t("race_viz.surface"),
            contours=dict(z=dict(show=True, usecolormap=False, color="#8090A0", width=1,
                                 highlight=False))))
    else:
        # The 2-D map is a picture under the axes, not a trace: with redraw=False Plotly's
        # animation removes every non-scatter trace (contour, heatmap) on the first frame
        # (measured with plotly.js 4.1 in Chromium).  Trace 0 only carries the colour bar.
        lo, hi = float(np.min(shown)), float(np.max(shown))
        data.append(dict(
            type="scatter", x=_f32([xs[0]]), y=_f32([ys[0]]), mode="markers", hoverinfo="skip",
            name=t("race_viz.surface"), showlegend=False,
            marker=dict(size=1, opacity=0, color=_f32([lo]), cmin=lo,
                        cmax=hi if hi > lo else lo + 1.0, colorscale=_COLORSCALE,
                        showscale=True, colorbar=colorbar)))
        if map_source is None:
            map_source = map_image(shown, aspect=(ys[-1] - ys[0]) / (xs[-1] - xs[0]))
        layout["images"] = [dict(
            source=map_source, xref="x", yref="y", x=float(xs[0]), y=float(ys[-1]),
            sizex=float(xs[-1] - xs[0]), sizey=float(ys[-1] - ys[0]), sizing="stretch",
            layer="below")]

    # --- 1–4: critical points by kind (empty trace when the surface has none of a kind)
    minima = list(getattr(surface, "minima", ()))
    for kind in _KINDS:
        pts = [p for p in minima if p.kind == kind]
        symbol, size, fill, edge = _KIND_STYLE[kind]
        label = t(f"race_viz.kind_{kind}")
        px = _f32([p.x for p in pts])
        py = _f32([p.y for p in pts])
        hover = [t("race_viz.critical_hover", kind=label, f=_num(p.f), point=_point_label(p.x, p.y))
                 for p in pts]
        common = dict(name=label, hovertext=hover, hoverinfo="text", showlegend=bool(pts),
                      marker=dict(symbol=symbol, size=size, color=fill,
                                  line=dict(color=edge, width=1.5)))
        if show_3d:
            common["marker"]["symbol"] = _SYMBOLS_3D[symbol]
            data.append(dict(type="scatter3d", x=px, y=py, z=_f32(height([p.f for p in pts])),
                             mode="markers", **common))
        else:
            data.append(dict(type="scatter", x=px, y=py, mode="markers", cliponaxis=False,
                             **common))

    # --- 5: start
    s_hover = t("race_viz.start_hover", point=_point_label(start[0], start[1]))
    s_common = dict(name=t("race_viz.start"), hovertext=[s_hover], hoverinfo="text",
                    marker=dict(symbol="circle-open-dot", size=18, color="#000000",
                                line=dict(width=3)))
    sx, sy = _f32([start[0]]), _f32([start[1]])
    if show_3d:
        s_common["marker"].update(symbol="circle-open", size=10)
        data.append(dict(type="scatter3d", x=sx, y=sy,
                         z=_f32(height(surface.f(np.asarray(start))).reshape(1)),
                         mode="markers", **s_common))
    else:
        data.append(dict(type="scatter", x=sx, y=sy, mode="markers", **s_common))

    # --- paths and current-position markers
    tol = span / 700.0
    kept = [_kept_indices(path[:, b], n_valid[b], tol) for b in range(n_runs)]
    path_hover = ("<b>%{fullData.name}</b><br>" + t("race_viz.step") + " %{customdata[0]}"
                  "<br>f = %{customdata[1]:.4g}<br>(x, y) = (%{x:.4g}, %{y:.4g})<extra></extra>")
    path_traces, marker_traces = [], []
    for b in range(n_runs):
        idx = kept[b]
        pts = path[idx, b]
        custom = _f32(np.stack([idx, loss[idx, b]], axis=1))
        end = path[n_valid[b] - 1, b]
        if show_3d:
            path_traces.append(dict(
                type="scatter3d", x=_f32(pts[:, 0]), y=_f32(pts[:, 1]),
                z=_f32(height(loss[idx, b])), customdata=custom, mode="lines+markers",
                name=names[b], legendgroup=f"r{b}", line=dict(color=colors[b], width=6),
                marker=dict(color=colors[b], size=3), hovertemplate=path_hover))
            marker_traces.append(dict(
                type="scatter3d", x=_f32([end[0]]), y=_f32([end[1]]),
                z=_f32(height(loss[n_valid[b] - 1, b:b + 1])), mode="markers", name=names[b],
                legendgroup=f"r{b}", showlegend=False,
                marker=dict(color=colors[b], size=8, line=dict(color="#FFFFFF", width=2)),
                hoverinfo="skip"))
        else:
            path_traces.append(dict(
                type="scatter", x=_f32(pts[:, 0]), y=_f32(pts[:, 1]), customdata=custom,
                mode="lines+markers" if len(idx) <= PATH_MARKERS_MAX else "lines",
                name=names[b], legendgroup=f"r{b}",
                line=dict(color=colors[b], width=2.5),
                marker=dict(color=colors[b], size=5, symbol="circle"),
                hovertemplate=path_hover,
                # a click selects points; keep the paths fully drawn when that happens
                selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1))))
            marker_traces.append(dict(
                type="scatter", x=_f32([end[0]]), y=_f32([end[1]]), mode="markers",
                name=names[b], legendgroup=f"r{b}", showlegend=False,
                marker=dict(color=colors[b], size=17, symbol=symbols[b],
                            line=dict(color="#FFFFFF", width=2)),
                hoverinfo="skip", cliponaxis=False,
                selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1))))
    data.extend(path_traces + marker_traces)  # markers above every path

    # --- divergence ✕ (one trace; empty when nothing diverged)
    dx, dy, dz, dtext = [], [], [], []
    for b in np.flatnonzero(diverged):
        last = path[n_valid[b] - 1, b]
        text = t("race_viz.diverged_at", name=names[b], step=int(diverged_at[b]))
        exit_ = None if show_3d else _exit_point(path[:, b], n_valid[b], xr, yr)
        if exit_ is not None:
            last, left_at = exit_
            text += "<br>" + t("race_viz.diverged_left", step=left_at)
        dx.append(last[0])
        dy.append(last[1])
        dz.append(loss[n_valid[b] - 1, b])
        dtext.append(text)
    d_common = dict(name=t("race_viz.diverged_legend"), hovertext=dtext, hoverinfo="text",
                    showlegend=bool(dtext),
                    marker=dict(symbol="x", size=22, color="#C00000",
                                line=dict(color="#FFFFFF", width=1.5)))
    if show_3d:
        data.append(dict(type="scatter3d", x=_f32(dx), y=_f32(dy), z=_f32(height(dz)),
                         mode="markers", **d_common))
    else:
        data.append(dict(type="scatter", x=_f32(dx), y=_f32(dy), mode="markers+text",
                         text=[t("race_viz.diverged_short") for _ in dtext],
                         textposition=[_label_side(x, y, xr, yr)
                                       for x, y in zip(dx, dy, strict=True)],
                         cliponaxis=False, textfont=dict(size=FONT_SIZE, color="#C00000"),
                         **d_common))

    # --- the invisible click grid (2-D): real markers at opacity ~0 so clicks report (x, y)
    if not show_3d:
        n = int(click_grid_n)
        gx1 = np.linspace(xr[0], xr[1], n + 2)[1:-1]
        gy1 = np.linspace(yr[0], yr[1], n + 2)[1:-1]
        gx, gy = np.meshgrid(gx1, gy1)
        gxy = np.stack([gx.ravel(), gy.ravel()], axis=1)
        with np.errstate(all="ignore"):
            gf = np.asarray(surface.f(gxy), dtype=np.float64).reshape(-1)
        data.append(dict(
            type="scatter", x=_f32(gxy[:, 0]), y=_f32(gxy[:, 1]),
            customdata=_f32(np.column_stack([gxy, gf])),
            mode="markers", name=t("race_viz.click_grid"), showlegend=False,
            marker=dict(size=3, color="#000000", opacity=0.01),
            selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)),
            hovertemplate=("(x, y) = (%{x:.3g}, %{y:.3g})<br>f = %{customdata[2]:.4g}<br><i>"
                           + t("race_viz.click_hint") + "</i><extra></extra>")))

    # --- frames: only the path and marker traces change
    # a 3-D scene redraws everything per frame (~50 ms): fewer frames keep Play responsive
    max_frames = min(max_frames, MAX_FRAMES_3D) if show_3d else max_frames
    frame_steps = _choose_frames(steps, max_frames, kept,
                                 [path[kept[b], b] for b in range(n_runs)])
    idx_map = race_trace_indices(n_runs, show_3d)
    touched = idx_map["paths"] + idx_map["markers"]
    frames = []
    kind = "scatter3d" if show_3d else "scatter"
    path32 = _f32(path)  # converted once: the frames are slices of it
    for s in frame_steps:
        lines, heres = [], []
        for b in range(n_runs):
            cut = kept[b][: int(np.searchsorted(kept[b], s, side="right"))]
            here = path32[min(int(s), n_valid[b] - 1), b]
            line_xy = dict(type=kind, x=path32[cut, b, 0], y=path32[cut, b, 1])
            here_xy = dict(type=kind, x=here[0:1].copy(), y=here[1:2].copy())
            if show_3d:
                line_xy["z"] = _f32(height(loss[cut, b]))
                here_xy["z"] = _f32(height(loss[min(int(s), n_valid[b] - 1), b:b + 1]))
            lines.append(line_xy)
            heres.append(here_xy)
        frames.append(dict(data=lines + heres, name=str(int(s)), traces=touched))

    redraw = bool(show_3d)  # 3-D scenes cannot animate without a redraw

    def play_args(ms: int) -> list:
        return [None, dict(frame=dict(duration=ms, redraw=redraw), fromcurrent=True,
                           mode="immediate", transition=dict(duration=0))]

    buttons = [
        dict(label="▶ " + t("race_viz.play"), method="animate",
             args=play_args(SPEEDS_MS["normal"])),
        dict(label="❚❚ " + t("race_viz.pause"), method="animate",
             args=[[None], dict(frame=dict(duration=0, redraw=redraw), mode="immediate",
                                transition=dict(duration=0))]),
    ] + [dict(label=t(f"race_viz.speed_{name}"), method="animate", args=play_args(ms))
         for name, ms in SPEEDS_MS.items()]
    slider = dict(
        active=len(frame_steps) - 1, x=0.0, y=0.0, len=1.0, yanchor="top", xanchor="left",
        pad=dict(t=38, b=0), ticklen=0, minorticklen=0, tickcolor="rgba(0,0,0,0)",
        font=dict(size=1, color="rgba(0,0,0,0)"),  # 200 tick labels would be unreadable
        currentvalue=dict(prefix=t("race_viz.step") + " ", visible=True, xanchor="left",
                          offset=6, font=dict(size=FONT_SIZE, color="#222222")),
        steps=[dict(method="animate", label=str(int(s)),
                    args=[[str(int(s))], dict(mode="immediate", frame=dict(duration=0,
                          redraw=redraw), transition=dict(duration=0))])
               for s in frame_steps])
    # Layout: map | (legend above colour bar).  ``width`` fits the equal-aspect map exactly,
    # so st.plotly_chart(fig, width="content") shows no empty band; stretched, the map keeps
    # its aspect and hugs the legend column.
    top = 50 if title else 16
    plot_h = RACE_HEIGHT - top - 108
    plot_w = plot_h * (xr[1] - xr[0]) / (yr[1] - yr[0])
    legend_h = 27 * sum(tr.get("showlegend") is not False for tr in data) + 12
    bar_place = dict(len=max(0.22, min(0.6, 1.0 - (legend_h + 24) / plot_h)),
                     lenmode="fraction", x=1.02, xanchor="left", y=0.0, yanchor="bottom")
    if show_3d:
        data[0]["colorbar"] = _merge(data[0]["colorbar"], bar_place)
    else:
        data[0]["marker"]["colorbar"] = _merge(data[0]["marker"]["colorbar"], bar_place)
    layout.update(
        template=_template("plotly_white"),
        font=dict(size=FONT_SIZE),
        height=RACE_HEIGHT,
        margin=dict(l=62, r=10, t=top, b=108),
        legend=dict(orientation="v", x=1.02, y=1.0, xanchor="left", yanchor="top",
                    font=dict(size=FONT_SIZE), itemsizing="constant",
                    bgcolor="rgba(255,255,255,0.85)"),
        hovermode="closest",
        hoverlabel=dict(font=dict(size=FONT_SIZE, color="#111111"), bgcolor="#FFFFFF",
                        bordercolor="#555555"),
        updatemenus=[dict(type="buttons", direction="right", showactive=False, x=0.0,
                          y=0.0, xanchor="left", yanchor="top", pad=dict(t=86, r=6),
                          font=dict(size=FONT_SIZE - 1), buttons=buttons)],
        sliders=[slider],
        uirevision="race",
    )
    if not show_3d:
        layout["width"] = int(min(1600, max(640, 62 + plot_w + 300)))
    if title:
        layout["title"] = dict(text=title, font=dict(size=FONT_SIZE + 3), x=0.01)
    if show_3d:
        z_title = t("race_viz.axis_f_log") if log_color else t("race_viz.axis_f")
        layout["scene"] = dict(
            xaxis=dict(title=dict(text="x"), range=xr), yaxis=dict(title=dict(text="y"), range=yr),
            zaxis=dict(title=dict(text=z_title)), aspectmode="manual",
            aspectratio=dict(x=1.0, y=(yr[1] - yr[0]) / (xr[1] - xr[0]), z=0.6))
    else:
        layout["xaxis"] = dict(range=xr, autorange=False, title=dict(text="x"), showgrid=False,
                               zeroline=False, constrain="domain", constraintoward="right",
                               ticks="outside", tickfont=dict(size=FONT_SIZE - 1))
        layout["yaxis"] = dict(range=yr, autorange=False, title=dict(text="y"), showgrid=False,
                               zeroline=False, scaleanchor="x", scaleratio=1,
                               constrain="domain", ticks="outside",
                               tickfont=dict(size=FONT_SIZE - 1))
    return dict(data=data, layout=layout, frames=frames)


# ----------------------------------------------------------------------------- curves

def _valid_rows(result, b: int) -> int:
    steps = np.asarray(result.loss).shape[0] - 1
    if bool(result.diverged[b]):
        return max(int(result.diverged_at[b]), 1)
    return steps + 1


def _figure_dict(spec: dict) -> dict:
    """A figure spec (plain values and NumPy arrays) as ``go.Figure(spec).to_dict()`` writes
    it, without building Plotly objects: arrays become typed arrays."""
    template = spec["layout"].pop("template", None)  # no arrays in it: not worth walking
    out = _typed_arrays(spec)
    spec["layout"]["template"] = template
    if template is not None:
        out["layout"]["template"] = copy.deepcopy(template)
    return out


def _curve_layout(y_title: str, log_y: bool) -> dict:
    return dict(
        template=_template("plotly_white"), font=dict(size=FONT_SIZE), height=360,
        margin=dict(l=70, r=20, t=40, b=55), hovermode="x unified",
        legend=dict(orientation="h", x=0.0, y=1.02, xanchor="left", yanchor="bottom"),
        xaxis=dict(title=dict(text=t("race_viz.step"))),
        yaxis=dict(title=dict(text=y_title), type="log" if log_y else "linear",
                   exponentformat="power"),
    )


def _curves(result, names, colors, values: np.ndarray, y_title: str, log_y: bool,
            value_label: str) -> dict:
    data = []
    steps = values.shape[0] - 1
    hover = f"%{{fullData.name}}: {value_label} = %{{y:.4g}}<extra></extra>"
    xs_all = np.arange(steps + 1)
    for b in range(values.shape[1]):
        n = _valid_rows(result, b)
        data.append(dict(type="scatter", x=_f32(xs_all[:n]), y=_f32(values[:n, b]),
                         mode="lines", name=names[b], line=dict(color=colors[b], width=2.5),
                         legendgroup=f"r{b}", hovertemplate=hover))
    div = np.flatnonzero(np.asarray(result.diverged, dtype=bool))
    data.append(dict(
        type="scatter",
        x=_f32([_valid_rows(result, b) - 1 for b in div]),
        y=_f32([values[_valid_rows(result, b) - 1, b] for b in div]),
        mode="markers", name=t("race_viz.diverged_legend"), showlegend=bool(div.size),
        marker=dict(symbol="x", size=16, color="#C00000"),
        hovertext=[t("race_viz.diverged_at", name=names[b], step=int(result.diverged_at[b]))
                   for b in div], hoverinfo="text"))
    return dict(data=data, layout=_curve_layout(y_title, log_y))


def _loss_spec(result, names, colors, log_y: bool, f_min: float | None) -> dict:
    loss = np.asarray(result.loss, dtype=np.float64)
    title = t("race_viz.axis_loss")
    values = loss
    if log_y:
        valid = np.concatenate([loss[:_valid_rows(result, b), b] for b in range(loss.shape[1])])
        low = float(valid.min()) if valid.size else 0.0
        if f_min is not None or low <= 0:
            shift = min(low, float(f_min) if f_min is not None else low)
            values = loss - shift + 1e-12
            title = t("race_viz.axis_loss_shifted", fmin=_num(shift))
    return _curves(result, names, colors, values, title, log_y, "f")


def _grad_norm_spec(result, names, colors) -> dict:
    grad = np.asarray(result.grad, dtype=np.float64)
    norms = np.maximum(np.hypot(grad[..., 0], grad[..., 1]), 1e-16)
    return _curves(result, names, colors, norms, t("race_viz.axis_grad"), True, "‖∇f‖")


def loss_figure(result, names, colors, *, log_y: bool = True,
                f_min: float | None = None) -> go.Figure:
    """Loss against step, one line per run (cut at divergence, with a ✕ there).

    With ``log_y`` the plotted value is f − f_min + 1e-12 whenever the losses can reach 0
    or below (``f_min`` given, or a non-positive loss): f_min = min(f_min, lowest loss), and
    the axis title says so.  Otherwise f itself.
    """
    return go.Figure(_loss_spec(result, names, colors, log_y, f_min))


def loss_figure_dict(result, names, colors, *, log_y: bool = True,
                     f_min: float | None = None) -> dict:
    """:func:`loss_figure` as a JSON-ready dict (same figure, no Plotly objects built)."""
    return _figure_dict(_loss_spec(result, names, colors, log_y, f_min))


def grad_norm_figure(result, names, colors) -> go.Figure:
    """‖∇f(x_t)‖ against step on a log axis (an exact 0 is drawn at 1e-16)."""
    return go.Figure(_grad_norm_spec(result, names, colors))


def grad_norm_figure_dict(result, names, colors) -> dict:
    """:func:`grad_norm_figure` as a JSON-ready dict (same figure, no Plotly objects)."""
    return _figure_dict(_grad_norm_spec(result, names, colors))


# ----------------------------------------------------------------------------- tables

def summary_frame(surface, result, names, tol: float = 1e-3) -> pd.DataFrame:
    """One row per run: final loss, nearest listed critical point, distance to it, steps until
    f ≤ f(that point) + tol (first such iterate t; "—" if never or diverged), divergence."""
    final = np.asarray(result.path)[-1]
    final_loss = np.asarray(result.loss)[-1]
    points = list(getattr(surface, "minima", ()))
    rows = []
    for b in range(final.shape[0]):
        label, distance, reach = "—", None, "—"
        if points:
            d = [math.hypot(final[b, 0] - p.x, final[b, 1] - p.y) for p in points]
            j = int(np.argmin(d))
            p = points[j]
            label = f"{t(f'race_viz.kind_short_{p.kind}')} ({p.x:.3g}, {p.y:.3g})"
            distance = float(d[j])
            k = int(result.steps_to_tolerance(tol, p.f)[b])
            reach = k if k >= 0 else "—"
        div = (t("race_viz.diverged_step", step=int(result.diverged_at[b]))
               if bool(result.diverged[b]) else t("race_viz.diverged_no"))
        rows.append({
            t("race_viz.col_optimizer"): names[b],
            t("race_viz.col_final_loss"): float(final_loss[b]),
            t("race_viz.col_nearest"): label,
            t("race_viz.col_distance"): distance,
            t("race_viz.col_steps", tol=f"{tol:g}"): reach,
            t("race_viz.col_diverged"): div,
        })
    return pd.DataFrame(rows)


def runs_csv(result, names) -> str:
    """Every iterate of every run as CSV (long format): step, optimizer, x, y, loss,
    grad_norm, diverged (True from the divergence step on)."""
    path = np.asarray(result.path)
    loss = np.asarray(result.loss)
    grad = np.asarray(result.grad)
    rows, runs = path.shape[0], path.shape[1]
    step = np.repeat(np.arange(rows), runs)
    run = np.tile(np.arange(runs), rows)
    at = np.asarray(result.diverged_at)[run]
    frame = pd.DataFrame({
        "step": step,
        "optimizer": np.asarray(names, dtype=object)[run],
        "x": path[..., 0].reshape(-1),
        "y": path[..., 1].reshape(-1),
        "loss": loss.reshape(-1),
        "grad_norm": np.hypot(grad[..., 0], grad[..., 1]).reshape(-1),
        "diverged": np.asarray(result.diverged, dtype=bool)[run] & (step >= at),
    })
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.10g")
    return buffer.getvalue()


# ----------------------------------------------------------------------------- explain a step

_ARROW_COLORS = {"grad": "#C00000", "momentum": "#0072B2", "lookahead": "#7B3294",
                 "step": "#000000"}


def add_step_arrows(fig: go.Figure, point, grad, momentum=None, lookahead=None, step=None,
                    scale: float | None = None) -> go.Figure:
    """Draw the anatomy of one step on a 2-D race map (annotations, so no trace is added).

    Arrows start at ``point``: −scale·grad (with ``scale`` = the learning rate it is the
    step plain GD would take; ``None`` scales it to a fifth of the map and labels it as a
    direction), ``momentum`` (a displacement, e.g. −γμb), the look-ahead point (an
    absolute position, NAG) and ``step`` (the actual displacement x_{t+1} − x_t).
    Returns ``fig`` (modified in place, like Plotly's own add_* methods).
    """
    p = np.asarray(point, dtype=np.float64).reshape(2)
    g = np.asarray(grad, dtype=np.float64).reshape(2)
    xr = fig.layout.xaxis.range or (p[0] - 1, p[0] + 1)
    yr = fig.layout.yaxis.range or (p[1] - 1, p[1] + 1)
    span = max(xr[1] - xr[0], yr[1] - yr[0])
    if scale is None:
        norm = float(np.hypot(*g))
        factor = 0.2 * span / norm if norm > 0 else 0.0
        grad_label = t("race_viz.arrow_grad_dir")
    else:
        factor = float(scale)
        grad_label = t("race_viz.arrow_grad")
    arrows = [("grad", p - factor * g, grad_label)]
    if momentum is not None:
        arrows.append(("momentum", p + np.asarray(momentum, float).reshape(2),
                       t("race_viz.arrow_momentum")))
    if lookahead is not None:
        arrows.append(("lookahead", np.asarray(lookahead, float).reshape(2),
                       t("race_viz.arrow_lookahead")))
    if step is not None:
        arrows.append(("step", p + np.asarray(step, float).reshape(2), t("race_viz.arrow_step")))
    longest = 0.45 * span  # longer arrows would leave the map: drawn shorter, and labelled so
    for kind, head, label in arrows:
        vec = np.nan_to_num(np.asarray(head, dtype=np.float64) - p, nan=0.0, posinf=0.0,
                            neginf=0.0)
        length = float(np.hypot(*vec))
        if length > longest:
            label = label + " " + t("race_viz.arrow_shortened", factor=_num(length / longest))
            vec = vec * (longest / length)
        head = p + vec
        color = _ARROW_COLORS[kind]
        fig.add_annotation(x=float(head[0]), y=float(head[1]), ax=float(p[0]), ay=float(p[1]),
                           xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=3, arrowsize=1.3, arrowwidth=3, arrowcolor=color, text="")
        fig.add_annotation(x=float(head[0]), y=float(head[1]), xref="x", yref="y",
                           text=f"<b>{label}</b>", showarrow=False, yshift=14,
                           font=dict(size=FONT_SIZE, color=color),
                           bgcolor="rgba(255,255,255,0.8)")
    return fig


def standalone_html(fig: go.Figure) -> str:
    """A complete HTML page with plotly.js inline: opens offline, animation included."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False,
                       config=PLOTLY_CONFIG)


def _floats(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def step_numbers(result, k: int, group_index: int, run_index_in_group: int,
                 optimizer_key: str, hyper: Mapping[str, object] | None = None) -> dict:
    """The numbers of step k (x_k -> x_{k+1}) of one run, as plain floats.

    Keys: ``optimizer``, ``k``, ``theta`` (x_k), ``grad`` (g_k as used, noise included,
    weight decay not), ``loss``, ``before``/``after`` (state fields s_k and s_{k+1}),
    ``effective_lr`` (from s_{k+1}), ``lr_multiplier`` (schedule η(k)), ``step``,
    ``new_theta``, ``new_loss``, ``lookahead`` and ``hyper`` (floats of ``hyper``, e.g.
    ``opt.hyper`` with one value per run taken for this run; empty if not given).
    Needs a result recorded with ``record="full"``.
    """
    members = np.flatnonzero(np.asarray(result.group) == group_index)
    if not 0 <= run_index_in_group < members.size:
        raise ValueError(f"run {run_index_in_group} not in group {group_index}")
    b = int(members[run_index_in_group])
    steps = np.asarray(result.path).shape[0] - 1
    if not 0 <= k < steps:
        raise ValueError(f"k must be in [0, {steps - 1}], got {k}")
    state = result.state[group_index] if result.state else {}
    hyper_floats = {}
    for name, value in (hyper or {}).items():
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        hyper_floats[name] = float(arr[run_index_in_group] if arr.size > 1 else arr[0])
    elr = result.effective_lr[group_index][k + 1, run_index_in_group] if result.effective_lr \
        else np.zeros(2)
    return {
        "optimizer": optimizer_key,
        "k": int(k),
        "theta": _floats(result.path[k, b]),
        "grad": _floats(result.grad[k, b]),
        "loss": float(result.loss[k, b]),
        "before": {f: _floats(v[k, run_index_in_group]) for f, v in state.items()},
        "after": {f: _floats(v[k + 1, run_index_in_group]) for f, v in state.items()},
        "effective_lr": _floats(elr),
        "lr_multiplier": float(result.lr_multiplier[k]) if len(result.lr_multiplier) else 1.0,
        "step": _floats(result.step[k, b]),
        "new_theta": _floats(result.path[k + 1, b]),
        "new_loss": float(result.loss[k + 1, b]),
        "lookahead": _floats(result.lookahead[k, b]),
        "hyper": hyper_floats,
    }


def _tex_num(value: float) -> str:
    """4 significant digits, scientific notation as a·10^{b} for LaTeX."""
    text = f"{float(value):.4g}"
    if "e" in text:
        mant, exp = text.split("e")
        return rf"{mant}\cdot 10^{{{int(exp)}}}"
    return text


def _tex_vec(values) -> str:
    vals = list(values)
    if len(vals) == 1:
        return _tex_num(vals[0])
    return r"\left(" + r",\ ".join(_tex_num(v) for v in vals) + r"\right)"


def latex_with_numbers(spec, numbers: Mapping) -> str:
    """The implemented rule of ``spec`` (an OptimizerSpec) with this step's numbers put in.

    One equation per line of a LaTeX ``aligned`` block: each line writes the rule, the
    numbers substituted, and the value the engine computed (state after the step, new
    point).  Hyper-parameters missing from ``numbers["hyper"]`` stay as symbols.
    """
    key = spec.key
    h = numbers.get("hyper", {})
    symbols = {hs.name: hs.symbol for hs in spec.hyper}
    before, after = numbers.get("before", {}), numbers.get("after", {})
    th = np.asarray(numbers["theta"], dtype=np.float64)
    g_raw = np.asarray(numbers["grad"], dtype=np.float64)
    new = numbers["new_theta"]
    mult = float(numbers.get("lr_multiplier", 1.0))

    def hv(name: str) -> str:  # a hyper-parameter: its number, or its symbol when unknown
        return _tex_num(h[name]) if name in h else symbols.get(name, name)

    lr = (h["lr"] * mult) if "lr" in h else None
    gamma = _tex_num(lr) if lr is not None else r"\gamma"
    wd = float(h.get("weight_decay", 0.0))
    lines = []
    if mult != 1.0:
        lines.append(r"\gamma_t &= \gamma\,\eta(t) = " + hv("lr") + r"\cdot " + _tex_num(mult)
                     + " = " + gamma)
    g = g_raw
    if wd != 0.0 and key != "adamw":
        g = g_raw + wd * th
        lines.append(r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} = " + _tex_vec(g_raw)
                     + " + " + _tex_num(wd) + r"\cdot" + _tex_vec(th) + " = " + _tex_vec(g))
    else:
        lines.append(r"g_t &= \nabla f(\theta_{t-1}) = " + _tex_vec(g))
    theta_prev = _tex_vec(th)
    final = r"\theta_t &= "
    t_step = after.get("t", [numbers["k"] + 1])[0]

    def ema(name, sym, prev, coef, value, square=False):
        g_term = _tex_vec(np.square(g) if square else g)
        return (rf"{name} &= {sym}\,{prev[0]} + (1-{sym})\,{'g_t^2' if square else 'g_t'} = "
                + coef + r"\cdot" + _tex_vec(prev[1]) + r" + (1-" + coef + r")\cdot" + g_term
                + " = " + _tex_vec(value))

    if key == "gd":
        lines.append(final + r"\theta_{t-1} - \gamma\,g_t = " + theta_prev + " - " + gamma
                     + r"\cdot" + _tex_vec(g) + " = " + _tex_vec(new))
    elif key in ("momentum", "nag"):
        lines.append(r"b_t &= \mu\,b_{t-1} + g_t = " + hv("momentum") + r"\cdot"
                     + _tex_vec(before["buf"]) + " + " + _tex_vec(g) + " = "
                     + _tex_vec(after["buf"]))
        if key == "momentum":
            lines.append(final + r"\theta_{t-1} - \gamma\,b_t = " + theta_prev + " - " + gamma
                         + r"\cdot" + _tex_vec(after["buf"]) + " = " + _tex_vec(new))
        else:
            lines.append(final + r"\theta_{t-1} - \gamma\,(g_t + \mu\,b_t) = " + theta_prev
                         + " - " + gamma + r"\cdot\left(" + _tex_vec(g) + " + " + hv("momentum")
                         + r"\cdot" + _tex_vec(after["buf"]) + r"\right) = " + _tex_vec(new))
    elif key == "adagrad":
        lines.append(r"G_t &= G_{t-1} + g_t^2 = " + _tex_vec(before["sum"]) + " + "
                     + _tex_vec(np.square(g)) + " = " + _tex_vec(after["sum"]))
        lines.append(final + r"\theta_{t-1} - \gamma\,\frac{g_t}{\sqrt{G_t}+\epsilon} = "
                     + theta_prev + " - " + gamma + r"\cdot\frac{" + _tex_vec(g) + r"}{\sqrt{"
                     + _tex_vec(after["sum"]) + "} + " + hv("eps") + "} = " + _tex_vec(new))
    elif key == "rmsprop":
        lines.append(ema("v_t", r"\alpha", ("v_{t-1}", before["square_avg"]), hv("rho"),
                         after["square_avg"], square=True))
        lines.append(final + r"\theta_{t-1} - \gamma\,\frac{g_t}{\sqrt{v_t}+\epsilon} = "
                     + theta_prev + " - " + gamma + r"\cdot\frac{" + _tex_vec(g) + r"}{\sqrt{"
                     + _tex_vec(after["square_avg"]) + "} + " + hv("eps") + "} = "
                     + _tex_vec(new))
    elif key == "adadelta":
        eps = h.get("eps")
        v_new = np.asarray(after["square_avg"])
        lines.append(ema("v_t", r"\rho", ("v_{t-1}", before["square_avg"]), hv("rho"),
                         v_new, square=True))
        if eps is not None:
            delta = np.sqrt(np.asarray(before["acc_delta"]) + eps) / np.sqrt(v_new + eps) * g
        else:  # the step is −γΔ, so Δ follows from the recorded step when ε is unknown
            delta = -np.asarray(numbers["step"]) / (lr if lr else 1.0)
        lines.append(r"\Delta x_t &= \frac{\sqrt{u_{t-1}+\epsilon}}{\sqrt{v_t+\epsilon}}\,g_t = "
                     r"\frac{\sqrt{" + _tex_vec(before["acc_delta"]) + " + " + hv("eps")
                     + r"}}{\sqrt{" + _tex_vec(v_new) + " + " + hv("eps") + r"}}\cdot"
                     + _tex_vec(g) + " = " + _tex_vec(delta))
        lines.append(r"u_t &= \rho\,u_{t-1} + (1-\rho)\,\Delta x_t^2 = " + hv("rho") + r"\cdot"
                     + _tex_vec(before["acc_delta"]) + r" + (1-" + hv("rho") + r")\cdot"
                     + _tex_vec(np.square(delta)) + " = " + _tex_vec(after["acc_delta"]))
        lines.append(final + r"\theta_{t-1} - \gamma\,\Delta x_t = " + theta_prev + " - "
                     + gamma + r"\cdot" + _tex_vec(delta) + " = " + _tex_vec(new))
    elif key in ("adam", "adamw", "nadam", "adamax"):
        if key == "adamw" and wd != 0.0 and lr is not None:
            decayed = th * (1 - lr * wd)
            lines.append(r"\theta' &= \theta_{t-1}\,(1-\gamma\lambda) = " + theta_prev + r"\cdot(1-"
                         + gamma + r"\cdot" + _tex_num(wd) + ") = " + _tex_vec(decayed))
            theta_prev = _tex_vec(decayed)
        lines.append(ema("m_t", r"\beta_1", ("m_{t-1}", before["exp_avg"]), hv("beta1"),
                         after["exp_avg"]))
        b1, b2 = h.get("beta1"), h.get("beta2")
        tt = _tex_num(t_step)
        if key == "adamax":
            lines.append(r"u_t &= \max(\beta_2\,u_{t-1},\ |g_t|+\epsilon) = \max\left("
                         + hv("beta2") + r"\cdot" + _tex_vec(before["exp_inf"]) + r",\ "
                         + _tex_vec(np.abs(g)) + " + " + hv("eps") + r"\right) = "
                         + _tex_vec(after["exp_inf"]))
            lines.append(final + r"\theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,\frac{m_t}{u_t} = "
                         + theta_prev + r" - \frac{" + gamma + "}{1-" + hv("beta1") + "^{" + tt
                         + r"}}\cdot\frac{" + _tex_vec(after["exp_avg"]) + "}{"
                         + _tex_vec(after["exp_inf"]) + "} = " + _tex_vec(new))
            return r"\begin{aligned}" + r"\\ ".join(lines) + r"\end{aligned}"
        lines.append(ema("v_t", r"\beta_2", ("v_{t-1}", before["exp_avg_sq"]), hv("beta2"),
                         after["exp_avg_sq"], square=True))
        v_used = np.asarray(after["exp_avg_sq"])
        if key == "adam" and h.get("amsgrad", 0.0) and "max_exp_avg_sq" in after:
            v_used = np.asarray(after["max_exp_avg_sq"])
            lines.append(r"v^{\max}_t &= \max(v^{\max}_{t-1}, v_t) = " + _tex_vec(v_used))
        if key == "nadam":
            psi = h.get("momentum_decay")
            mu_t = mu_next = None
            if b1 is not None and psi is not None:
                mu_t = b1 * (1 - 0.5 * 0.96 ** (t_step * psi))
                mu_next = b1 * (1 - 0.5 * 0.96 ** ((t_step + 1) * psi))
                lines.append(r"\mu_t &= \beta_1(1-\tfrac12\,0.96^{t\psi}) = " + _tex_num(b1)
                             + r"\cdot(1-\tfrac12\cdot 0.96^{" + tt + r"\cdot" + _tex_num(psi)
                             + "}) = " + _tex_num(mu_t) + r", \quad \mu_{t+1} = "
                             + _tex_num(mu_next))
            prod = after["mu_product"][0]
            lines.append(r"\Pi_t &= \Pi_{t-1}\,\mu_t = " + _tex_num(before["mu_product"][0])
                         + r"\cdot" + (_tex_num(mu_t) if mu_t is not None else r"\mu_t") + " = "
                         + _tex_num(prod))
        if b2 is not None:
            v_hat = v_used / (1 - b2 ** t_step)
            lines.append(r"\hat v_t &= \frac{v_t}{1-\beta_2^t} = \frac{" + _tex_vec(v_used)
                         + "}{1-" + _tex_num(b2) + "^{" + tt + "}} = " + _tex_vec(v_hat))
        if key in ("adam", "adamw") and b1 is not None:
            m_hat = np.asarray(after["exp_avg"]) / (1 - b1 ** t_step)
            lines.append(r"\hat m_t &= \frac{m_t}{1-\beta_1^t} = \frac{"
                         + _tex_vec(after["exp_avg"]) + "}{1-" + _tex_num(b1) + "^{" + tt
                         + "}} = " + _tex_vec(m_hat))
        if key in ("adam", "adamw"):
            body = (r"\theta_{t-1} - \gamma\,\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon}"
                    if key == "adam" else r"\theta' - \gamma\,\frac{\hat m_t}{\sqrt{\hat v_t}"
                    r"+\epsilon}")
            lines.append(final + body + " = " + theta_prev + " - " + gamma + r"\cdot"
                         r"\frac{\hat m_t}{\sqrt{\hat v_t} + " + hv("eps") + "} = "
                         + _tex_vec(new))
        else:
            lines.append(final + r"\theta_{t-1} - \gamma\,\frac{\frac{1-\mu_t}{1-\Pi_t}\,g_t + "
                         r"\frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\,m_t}{\sqrt{\hat v_t}+\epsilon} = "
                         + theta_prev + " - " + gamma + r"\cdot(\dots) = " + _tex_vec(new))
    else:
        lines.append(final + r"\theta_{t-1} + \Delta\theta = " + theta_prev + " + "
                     + _tex_vec(numbers["step"]) + " = " + _tex_vec(new))
    return r"\begin{aligned}" + r"\\ ".join(lines) + r"\end{aligned}"
