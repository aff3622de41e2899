"""The race map's surface: sampled grid, the filled-contour picture, and map geometry.

Pure NumPy (plus a small PNG encoder): the picture depends only on the surface, so a page
makes it once per surface and the canvas receives it once per session. Geometry helpers:
the view box, the log colour transform, where a run leaves the map, and which iterates of a
path are worth drawing.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib

import numpy as np

__all__ = [
    "COLORSCALE",
    "KINDS",
    "KIND_STYLE",
    "exit_point",
    "kept_indices",
    "label_side",
    "log_ticks",
    "log_transform",
    "map_image",
    "min_f",
    "race_map_source",
    "surface_grid",
    "undefined_mask",
    "view_ranges",
]

KINDS = ("global", "local", "saddle", "max")


KIND_STYLE = {  # symbol, size, fill, outline
    "global": ("star", 20, "#FFD60A", "#000000"),
    "local": ("star", 15, "#FFFFFF", "#000000"),
    "saddle": ("hourglass", 14, "#FFFFFF", "#000000"),
    "max": ("triangle-up", 13, "#FFFFFF", "#000000"),
}


# Light neutral ramp (low = white): coloured paths stay the most saturated thing on screen.
COLORSCALE = [[0.0, "#FFFFFF"], [0.3, "#EDF0F3"], [0.65, "#D3D9E0"], [1.0, "#AAB5C2"]]


def view_ranges(surface, start=None) -> tuple[list[float], list[float]]:
    """Axis ranges: the surface domain, grown to include the start point, with 2 % margin."""
    (xmin, xmax), (ymin, ymax) = surface.domain
    xmin, xmax, ymin, ymax = float(xmin), float(xmax), float(ymin), float(ymax)
    if start is not None and np.isfinite(np.asarray(start, dtype=float)).all():
        sx, sy = float(start[0]), float(start[1])
        xmin, xmax, ymin, ymax = min(xmin, sx), max(xmax, sx), min(ymin, sy), max(ymax, sy)
    mx, my = 0.02 * (xmax - xmin), 0.02 * (ymax - ymin)
    return [xmin - mx, xmax + mx], [ymin - my, ymax + my]


def min_f(surface, Z: np.ndarray) -> float:
    """Lowest value among the grid and the listed minima (the bottom of the colour scale)."""
    listed = [p.f for p in surface.minima if p.kind in ("global", "local")]
    candidates = [float(np.min(Z))] + [float(v) for v in listed if math.isfinite(v)]
    return min(candidates)


def log_transform(values, f_min: float) -> np.ndarray:
    """L = log10(f − f_min + 1): 0 at the bottom, one unit per decade above it."""
    return np.log10(np.maximum(np.asarray(values, dtype=np.float64) - f_min, 0.0) + 1.0)


def log_ticks(l_max: float, f_min: float) -> tuple[list[float], list[str]]:
    """Colour-bar ticks at f − f_min = 0, 1, 10, 100, … (labelled in f − f_min)."""
    decades = int(math.floor(max(l_max, 0.0) + 1e-9))
    diffs = [0.0] + [10.0 ** k for k in range(0, decades + 1) if math.log10(10.0**k + 1) <= l_max]
    if len(diffs) < 3:  # narrow range: add the top
        diffs.append(10.0 ** l_max - 1.0)
    vals = [float(np.log10(d + 1.0)) for d in diffs]
    return vals, [f"{d:,.0f}" if 1 <= d < 1e7 else f"{d:.3g}" for d in diffs]


def label_side(x: float, y: float, xr, yr) -> str:
    """Text position that keeps a label next to (x, y) inside the map."""
    fx = (x - xr[0]) / (xr[1] - xr[0])
    fy = (y - yr[0]) / (yr[1] - yr[0])
    vertical = "bottom" if fy > 0.9 else "top"
    horizontal = "left" if fx > 0.8 else "right" if fx < 0.2 else "center"
    return f"{vertical} {horizontal}"


def exit_point(path: np.ndarray, n_valid: int, xr, yr) -> tuple[np.ndarray, int] | None:
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


def kept_indices(path: np.ndarray, n_valid: int, tol: float, cap: int | None = None
                 ) -> np.ndarray:
    """Indices of the iterates of one path (T+1, 2) worth drawing, ascending.

    The first of the ``n_valid`` leading valid iterates, the last one, and each iterate at
    which the path's travelled length (the sum of max(|Δx|, |Δy|) over its steps) crosses
    another multiple of ``tol`` (about a pixel): steps that move less than a pixel are
    merged, a zig-zag whose steps are each longer than ``tol`` keeps every iterate. With
    ``cap`` at most ``cap`` indices are returned, spread evenly over the kept ones (the
    first and last included). Vectorized: a 5000-step path costs microseconds.
    """
    last = max(int(n_valid), 1) - 1
    pts = np.asarray(path[: last + 1], dtype=np.float64)
    if last == 0:
        return np.zeros(1, dtype=np.int64)
    step = np.abs(np.diff(pts, axis=0)).max(axis=1)
    travelled = np.concatenate([[0.0], np.cumsum(step)])
    bucket = np.floor(travelled / max(float(tol), 1e-300))
    kept = np.flatnonzero(np.diff(bucket) > 0) + 1
    kept = np.unique(np.concatenate([[0], kept, [last]]))
    if cap is not None and kept.size > cap:
        kept = kept[np.unique(np.round(np.linspace(0, kept.size - 1, max(int(cap), 2))
                                       ).astype(np.int64))]
    return kept.astype(np.int64)


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


def undefined_mask(surface, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Where f has no value on the grid (NaN or ±inf: log of a negative number, a division
    by zero ...): bool (len(ys), len(xs)), True there. All False for the built-in surfaces."""
    gx, gy = np.meshgrid(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
    with np.errstate(all="ignore"):
        Z = np.asarray(surface.f(np.stack([gx, gy], axis=-1)), dtype=np.float64)
    return ~np.isfinite(Z.reshape(gx.shape))


HATCH = ((0xE9, 0xA3, 0xA3), (0xFF, 0xFF, 0xFF))  # stripes over the undefined region
HATCH_PERIOD = 10  # pixels


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
    """Colours of :data:`COLORSCALE` at u ∈ [0, 1] -> uint8 (..., 3)."""
    stops = np.array([s for s, _ in COLORSCALE])
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for _, c in COLORSCALE], float)
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
              size: int = 480, undefined: np.ndarray | None = None) -> str:
    """The filled-contour picture of a grid (row i = y_i, bottom row first) as a PNG data URI.

    ``bands`` equal steps between min and max of ``shown`` are filled with the colour scale
    at their middle; pixels where the band changes are darkened, which draws the level lines.
    The longer side has ``size`` pixels, the other follows ``aspect`` = height / width.
    ``undefined`` (bool, the grid's shape): cells where f has no value, drawn with diagonal
    rose-and-white stripes instead of a colour of the scale.
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
    if undefined is not None and np.any(undefined):
        mask = _resample(np.asarray(undefined, dtype=np.float64), rows, cols)[::-1] >= 0.5
        r, c = np.indices(mask.shape)
        stripe = ((r + c) // (HATCH_PERIOD // 2)) % 2 == 0
        rgb[mask & stripe] = HATCH[0]
        rgb[mask & ~stripe] = HATCH[1]
    encoded = base64.b64encode(_png(rgb.astype(np.uint8))).decode("ascii")
    return "data:image/png;base64," + encoded


def race_map_source(surface, grid: tuple[np.ndarray, np.ndarray, np.ndarray]) -> str:
    """The 2-D race map's picture (PNG data URI) for ``surface`` sampled on ``grid``."""
    xs, ys, Z = grid
    f_min = min_f(surface, Z)
    shown = log_transform(Z, f_min) if surface.log_color else Z
    return map_image(shown, aspect=(ys[-1] - ys[0]) / (xs[-1] - xs[0]),
                     undefined=undefined_mask(surface, xs, ys))
