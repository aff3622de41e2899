"""What the race page sends to the canvas (static/canvas/race.js): arrays, not figures.

Three parts, each JSON-ready (NumPy arrays become typed arrays in the canvas):

* :func:`surface_data` — the picture of the surface, its colour bar, critical points and
  view box. Depends on the surface only: the page sends it once (a canvas asset).
* :func:`run_data` — per optimizer of the race: the iterates worth drawing (step index,
  x, y, f), where a diverged run is marked, and the learning-rate choices of its slider.
* :func:`sweep_data` — per optimizer: the same race at every learning rate of its slider
  (one batched engine run), so the browser can morph the path while the slider moves.

A path keeps the iterates that move it by at least about a pixel
(:func:`viz.race_map.kept_indices`); a diverged run is cut at its last valid iterate and
gets a ✕ there, or on the map's edge where it left the map.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.descent import valid_rows
from texts import t
from viz.race_map import (
    COLORSCALE,
    KIND_STYLE,
    KINDS,
    exit_point,
    kept_indices,
    log_ticks,
    log_transform,
    map_image,
    min_f,
    undefined_mask,
    view_ranges,
)
from viz.style import OptimizerStyle, Words, num, point_label

__all__ = ["FAINT_LOCAL_MINIMA", "RACE_POINTS_MAX", "STOPS", "SWEEP_POINTS_MAX", "PathRecord",
           "path_record", "run_data", "surface_data", "surface_words", "sweep_data", "texts"]

PIXEL = 1 / 700  # of the map's wider side: the resolution paths are kept at
RACE_POINTS_MAX = 1500  # iterates drawn of one race path (5000-step zig-zags are thinned)
SWEEP_POINTS_MAX = 160  # iterates of one path of a sweep (a preview while dragging)
FAINT_LOCAL_MINIMA = 12  # more local minima than this (Rastrigin: 120) are drawn faintly


def texts() -> dict:
    """The words of the race canvas, in the current language."""
    return {
        "play": t("race_viz.play"), "pause": t("race_viz.pause"), "step": t("race_viz.step"),
        "step_of": t("race_canvas.step_of"), "step_slider": t("race_canvas.step_slider"),
        "speeds": {name: t(f"race_viz.speed_{name}") for name in ("slow", "normal", "fast")},
        "fullscreen": t("race_canvas.fullscreen"), "lr_slider": t("race_canvas.lr_slider"),
        "lr_symbol": "lr", "diverged_at": t("race_canvas.diverged_at"),
        "stopped_at": t("race_canvas.stopped_at"), "no_start": t("race_canvas.no_start"),
        "stopped_hover": t("race_canvas.stopped_hover"), "stops": list(STOPS),
        "final": t("race_canvas.final"), "cross": t("race_viz.diverged_short"),
        "cross_stopped": t("race_canvas.cross_stopped"),
        "cross_hover": t("race_viz.diverged_at"), "left_map": t("race_viz.diverged_left"),
        "click_hint": t("race.click_hint"),
    }


# ----------------------------------------------------------------------------- surface

SURFACE_WORDS = ("race_viz.colorbar_f", "race_viz.colorbar_log", "race_viz.colorbar_log_shift",
                 "race_viz.axis_f_log", "race_viz.axis_f", "race_viz.critical_hover",
                 *(f"race_viz.kind_{kind}" for kind in KINDS))


def surface_words() -> Words:
    """The words of :func:`surface_data` in the current language."""
    return Words.current(SURFACE_WORDS)


def surface_data(surface, grid, *, show_3d: bool = False, words: Words | None = None) -> dict:
    """The surface part of the race payload (everything that depends on the surface only).

    ``grid`` is :func:`viz.race_map.surface_grid`'s ``(xs, ys, Z)``. Colour is
    log10(f − f_min + 1) when ``surface.log_color`` (colour bar labelled in f − f_min).
    Where f has no value (a typed formula's hole) the picture is hatched. ``words``: the
    strings (:func:`surface_words`; the current language when not given).
    """
    w = words or surface_words()
    xs, ys, Z = grid
    xr, yr = view_ranges(surface)
    log_color = bool(surface.log_color)
    fmin = min_f(surface, Z)
    shown = log_transform(Z, fmin) if log_color else Z
    lo, hi = float(np.min(shown)), float(np.max(shown))
    colorbar = {"title": w.t("race_viz.colorbar_f"), "cmin": lo, "cmax": hi if hi > lo else lo + 1,
                "colorscale": COLORSCALE}
    if log_color:
        colorbar["tickvals"], colorbar["ticktext"] = log_ticks(hi, fmin)
        colorbar["title"] = (w.t("race_viz.colorbar_log") if fmin == 0 else
                             w.t("race_viz.colorbar_log_shift", fmin=num(fmin)))
    out = {
        "xrange": xr, "yrange": yr, "colorbar": colorbar, "critical": _critical(surface, w),
        "transform": {"log": log_color, "fmin": fmin,
                      "lift": 0.004 * (hi - lo + 1e-12)},  # paths float just above in 3-D
        "image": {"src": map_image(shown, aspect=(ys[-1] - ys[0]) / (xs[-1] - xs[0]),
                                   undefined=undefined_mask(surface, xs, ys)),
                  "x": float(xs[0]), "y": float(ys[-1]), "sizex": float(xs[-1] - xs[0]),
                  "sizey": float(ys[-1] - ys[0])},
        "three_d": None,
    }
    if show_3d:
        out["three_d"] = {"x": xs, "y": ys, "z": shown,
                          "z_title": w.t("race_viz.axis_f_log") if log_color
                          else w.t("race_viz.axis_f")}
    return out


def _critical(surface, w: Words) -> list[dict]:
    """Critical points, one group per kind present. Many local minima (a lattice of them)
    are drawn small and faint, so they do not bury the paths; hover still names each."""
    groups = []
    minima = list(surface.minima)
    for kind in KINDS:
        pts = [p for p in minima if p.kind == kind]
        if not pts:
            continue
        symbol, size, fill, edge = KIND_STYLE[kind]
        faint = kind == "local" and len(pts) > FAINT_LOCAL_MINIMA
        label = w.t(f"race_viz.kind_{kind}")
        groups.append({
            "kind": kind, "name": label, "symbol": symbol, "size": 8 if faint else size,
            "fill": fill, "edge": "#7A8699" if faint else edge, "width": 1 if faint else 1.5,
            "opacity": 0.55 if faint else 1.0,
            "x": np.array([p.x for p in pts]), "y": np.array([p.y for p in pts]),
            "f": np.array([p.f for p in pts]),
            "hover": [w.t("race_viz.critical_hover", kind=label, f=num(p.f),
                        point=point_label(p.x, p.y)) for p in pts],
        })
    return groups


# ----------------------------------------------------------------------------- paths

class PathRecord(dict):
    """One drawn path: ``step`` (kept iterate indices), ``x``, ``y``, ``loss`` (at those
    iterates), ``diverged_at`` (−1 if not), ``mark`` ((x, y) of its ✕ or None) and
    ``left_at`` (the step it left the map, −1 if it stayed on it)."""


def path_record(path: np.ndarray, loss: np.ndarray, diverged_at: int, view, cap: int
                ) -> PathRecord:
    """The drawable record of one run: ``path`` (T+1, 2) and ``loss`` (T+1,) as recorded by
    the engine (rows after a divergence repeat the last valid one)."""
    xr, yr = view
    steps = path.shape[0] - 1
    n_valid = int(valid_rows(diverged_at >= 0, diverged_at, steps))
    span = max(xr[1] - xr[0], yr[1] - yr[0])
    kept = kept_indices(path, n_valid, span * PIXEL, cap)
    mark, left_at = None, -1
    if diverged_at >= 0:
        mark = path[n_valid - 1]
        exit_ = exit_point(path, n_valid, xr, yr)
        if exit_ is not None:
            mark, left_at = exit_
        mark = [float(mark[0]), float(mark[1])]
    return PathRecord(step=kept, x=path[kept, 0], y=path[kept, 1], loss=loss[kept],
                      diverged_at=int(diverged_at), mark=mark, left_at=int(left_at))


# Why a path ended early, as the page's ``stop_reason`` says it (index = the code a sweep
# sends per column): it ran away, it stepped into a hole of a typed formula, or f has no
# value at the start itself.
STOPS = ("", "diverged", "undefined", "start")


def _stop_text(stop: str, name: str, step: int) -> str:
    """The hover of a path's ✕ (none for a start without a value: the page says that)."""
    if stop == "undefined":
        return t("race_canvas.stopped_hover", name=name, step=step)
    return t("race_viz.diverged_at", name=name, step=step) if stop == "diverged" else ""


def run_data(result, keys: Sequence[str], names: Sequence[str],
             styles: Sequence[OptimizerStyle], lrs: Sequence[float],
             lr_grids: Mapping[str, Sequence[float]], view,
             stops: Sequence[str | None]) -> list[dict]:
    """Per run of ``result`` (a race recorded with ``record="path"``): its path record,
    why it stopped (``stops[b]``, one of :data:`STOPS` or None), style, and learning-rate
    slider (``lr_values`` = the sweep's grid with the run's own learning rate in its place;
    ``sweep_column[j]`` = the sweep column of value j, −1 for the run's own value, whose
    path is the race's)."""
    runs = []
    for b, key in enumerate(keys):
        record = path_record(result.path[:, b], result.loss[:, b],
                             int(result.diverged_at[b]) if result.diverged[b] else -1, view,
                             RACE_POINTS_MAX)
        values, columns, own = _slider_values(float(lrs[b]), lr_grids.get(key, ()))
        stop = stops[b] or ""
        text = _stop_text(stop, names[b], record["diverged_at"])
        if text and record["left_at"] >= 0:
            text += "<br>" + t("race_viz.diverged_left", step=record["left_at"])
        style = styles[b]
        runs.append({
            "key": key, "name": names[b], "color": style.color, "symbol": style.symbol,
            "glyph": style.glyph, "dash": style.dash, "step": record["step"], "x": record["x"],
            "y": record["y"], "loss": record["loss"], "diverged_at": record["diverged_at"],
            "mark": record["mark"] if stop != "start" else None, "mark_text": text,
            "stop": stop, "lr_values": values,
            "lr_index": own, "sweep_column": columns,
        })
    return runs


def _slider_values(lr: float, grid: Sequence[float]) -> tuple[list[float], list[int], int]:
    """The slider's values: the grid with ``lr`` put in (or replacing an equal grid value);
    the sweep column of each value (−1 = the race's own run) and the position of ``lr``."""
    grid = [float(v) for v in grid]
    pairs = [(v, j) for j, v in enumerate(grid) if not np.isclose(v, lr, rtol=1e-9, atol=0)]
    pairs.append((lr, -1))
    pairs.sort()
    values = [v for v, _ in pairs]
    columns = [j for _, j in pairs]
    return values, columns, columns.index(-1)


def sweep_data(result, view, stops: Sequence[str | None]) -> dict:
    """A learning-rate sweep (one batched race of L runs, ``record="path"``) as flat
    arrays: path j is ``x[offsets[j]:offsets[j+1]]`` (and ``y``, ``step``, ``loss``), with
    ``diverged_at[j]``, why it stopped ``stop[j]`` (an index into :data:`STOPS`), its ✕ at
    (``mark_x[j]``, ``mark_y[j]``) and ``left_at[j]``."""
    n = result.path.shape[1]
    records = [path_record(result.path[:, j], result.loss[:, j],
                           int(result.diverged_at[j]) if result.diverged[j] else -1, view,
                           SWEEP_POINTS_MAX) for j in range(n)]
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([r["step"].size for r in records])
    marks = np.array([r["mark"] if r["mark"] is not None else [0.0, 0.0] for r in records])
    return {
        "offsets": offsets,
        "step": np.concatenate([r["step"] for r in records]),
        "x": np.concatenate([r["x"] for r in records]),
        "y": np.concatenate([r["y"] for r in records]),
        "loss": np.concatenate([r["loss"] for r in records]),
        "diverged_at": np.array([r["diverged_at"] for r in records], dtype=np.int64),
        "left_at": np.array([r["left_at"] for r in records], dtype=np.int64),
        "stop": np.array([STOPS.index(stop or "") for stop in stops], dtype=np.uint8),
        "mark_x": marks[:, 0].reshape(-1), "mark_y": marks[:, 1].reshape(-1),
    }
