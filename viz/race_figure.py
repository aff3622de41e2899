"""The race as one Plotly figure with animation frames: the standalone HTML download and
the zoomed map of "Explain this step".

The page itself draws the race with the canvas (viz/race_canvas.py); this figure is for
where a plain plotly.js file must work alone: Plotly frames replace only the path and
marker traces (``redraw=False`` in 2-D), the base figure shows the full paths, and the
contour is a picture under the axes (plotly.js deletes non-scatter traces on the first
frame without a redraw).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from engine.descent import valid_rows
from texts import t
from viz.encode import f32, figure_dict, merge, template
from viz.race_map import (
    COLORSCALE,
    KIND_STYLE,
    KINDS,
    exit_point,
    kept_indices,
    label_side,
    log_ticks,
    log_transform,
    map_image,
    min_f,
    view_ranges,
)
from viz.style import FONTS, num, point_label

__all__ = [
    "FRAME_BUDGET_BYTES",
    "MAX_FRAMES_3D",
    "PATH_MARKERS_MAX",
    "SPEEDS_MS",
    "race_figure",
    "race_figure_dict",
    "race_trace_indices",
]

SPEEDS_MS = {"slow": 120, "normal": 50, "fast": 15}


FRAME_BUDGET_BYTES = 680_000  # JSON bytes the frames may take (paths are float32 base64)


# A dot at every iterate shows the step sizes of a short path; on a long one the dots merge
# into a thick line and cost ~40 % of the browser's redraw (plotly.js in Chromium), so a 2-D
# path with more drawn points is a plain line (its current position keeps its big marker).
PATH_MARKERS_MAX = 60


RACE_HEIGHT = 620


MAX_FRAMES_3D = 60


# Scatter3d knows only a few marker symbols
_SYMBOLS_3D = {"star": "diamond", "hourglass": "cross", "triangle-up": "square-open",
               "circle-open-dot": "circle-open"}


_BASE_TRACES = 1 + len(KINDS) + 1  # surface, critical points per kind, start


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
    raw = b"".join(np.ascontiguousarray(f32(p)).tobytes() for p in xy)
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


def race_trace_indices(n_runs: int, show_3d: bool = False) -> dict[str, object]:
    """Positions of the traces in :func:`race_figure` (fixed, whatever the surface).

    0 surface; 1–4 critical points (global, local, saddle, max; empty when none); 5 start;
    then the B paths (6 … 5+B), then the B current-position markers (drawn above every
    path); then the divergence ✕ trace; in 2-D last the invisible click grid.
    """
    paths = [_BASE_TRACES + i for i in range(n_runs)]
    markers = [_BASE_TRACES + n_runs + i for i in range(n_runs)]
    diverged = _BASE_TRACES + 2 * n_runs
    out: dict[str, object] = {"surface": 0, "critical": list(range(1, 1 + len(KINDS))),
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
    return figure_dict(_race_spec(surface, grid, result, names, colors, start=start,
                                   max_frames=max_frames, show_3d=show_3d,
                                   click_grid_n=click_grid_n, title=title, symbols=symbols,
                                   map_source=map_source))


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
    n_valid = valid_rows(diverged, diverged_at, steps)
    if start is None:
        start = path[0, 0]
    xr, yr = view_ranges(surface, start)
    span = max(xr[1] - xr[0], yr[1] - yr[0])

    log_color = bool(surface.log_color)
    f_min = min_f(surface, Z)
    shown = log_transform(Z, f_min) if log_color else Z

    def height(values):  # z of a point in the 3-D view (the shown quantity, lifted a little)
        lifted = log_transform(values, f_min) if log_color else np.asarray(values, float)
        return lifted + 0.004 * (float(np.max(shown)) - float(np.min(shown)) + 1e-12)

    data: list[dict] = []
    layout: dict = {}
    # --- 0: the surface
    colorbar = dict(title=dict(text=t("race_viz.colorbar_f"), side="right",
                               font=dict(size=FONTS.label)), thickness=14, len=0.8,
                    tickfont=dict(size=FONTS.tick))
    if log_color:
        vals, texts_ = log_ticks(float(np.max(shown)), f_min)
        colorbar.update(tickvals=vals, ticktext=texts_)
        colorbar["title"]["text"] = (t("race_viz.colorbar_log") if f_min == 0 else
                                     t("race_viz.colorbar_log_shift", fmin=num(f_min)))
    if show_3d:
        data.append(dict(
            type="surface", x=f32(xs), y=f32(ys), z=f32(shown), colorscale=COLORSCALE,
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
            type="scatter", x=f32([xs[0]]), y=f32([ys[0]]), mode="markers", hoverinfo="skip",
            name=t("race_viz.surface"), showlegend=False,
            marker=dict(size=1, opacity=0, color=f32([lo]), cmin=lo,
                        cmax=hi if hi > lo else lo + 1.0, colorscale=COLORSCALE,
                        showscale=True, colorbar=colorbar)))
        if map_source is None:
            map_source = map_image(shown, aspect=(ys[-1] - ys[0]) / (xs[-1] - xs[0]))
        layout["images"] = [dict(
            source=map_source, xref="x", yref="y", x=float(xs[0]), y=float(ys[-1]),
            sizex=float(xs[-1] - xs[0]), sizey=float(ys[-1] - ys[0]), sizing="stretch",
            layer="below")]

    # --- 1–4: critical points by kind (empty trace when the surface has none of a kind)
    minima = list(surface.minima)
    for kind in KINDS:
        pts = [p for p in minima if p.kind == kind]
        symbol, size, fill, edge = KIND_STYLE[kind]
        label = t(f"race_viz.kind_{kind}")
        px = f32([p.x for p in pts])
        py = f32([p.y for p in pts])
        hover = [t("race_viz.critical_hover", kind=label, f=num(p.f), point=point_label(p.x, p.y))
                 for p in pts]
        common = dict(name=label, hovertext=hover, hoverinfo="text", showlegend=bool(pts),
                      marker=dict(symbol=symbol, size=size, color=fill,
                                  line=dict(color=edge, width=1.5)))
        if show_3d:
            common["marker"]["symbol"] = _SYMBOLS_3D[symbol]
            data.append(dict(type="scatter3d", x=px, y=py, z=f32(height([p.f for p in pts])),
                             mode="markers", **common))
        else:
            data.append(dict(type="scatter", x=px, y=py, mode="markers", cliponaxis=False,
                             **common))

    # --- 5: start
    s_hover = t("race_viz.start_hover", point=point_label(start[0], start[1]))
    s_common = dict(name=t("race_viz.start"), hovertext=[s_hover], hoverinfo="text",
                    marker=dict(symbol="circle-open-dot", size=18, color="#000000",
                                line=dict(width=3)))
    sx, sy = f32([start[0]]), f32([start[1]])
    if show_3d:
        s_common["marker"].update(symbol="circle-open", size=10)
        data.append(dict(type="scatter3d", x=sx, y=sy,
                         z=f32(height(surface.f(np.asarray(start))).reshape(1)),
                         mode="markers", **s_common))
    else:
        data.append(dict(type="scatter", x=sx, y=sy, mode="markers", **s_common))

    # --- paths and current-position markers
    tol = span / 700.0
    kept = [kept_indices(path[:, b], n_valid[b], tol) for b in range(n_runs)]
    path_hover = ("<b>%{fullData.name}</b><br>" + t("race_viz.step") + " %{customdata[0]}"
                  "<br>f = %{customdata[1]:.4g}<br>(x, y) = (%{x:.4g}, %{y:.4g})<extra></extra>")
    path_traces, marker_traces = [], []
    for b in range(n_runs):
        idx = kept[b]
        pts = path[idx, b]
        custom = f32(np.stack([idx, loss[idx, b]], axis=1))
        end = path[n_valid[b] - 1, b]
        if show_3d:
            path_traces.append(dict(
                type="scatter3d", x=f32(pts[:, 0]), y=f32(pts[:, 1]),
                z=f32(height(loss[idx, b])), customdata=custom, mode="lines+markers",
                name=names[b], legendgroup=f"r{b}", line=dict(color=colors[b], width=6),
                marker=dict(color=colors[b], size=3), hovertemplate=path_hover))
            marker_traces.append(dict(
                type="scatter3d", x=f32([end[0]]), y=f32([end[1]]),
                z=f32(height(loss[n_valid[b] - 1, b:b + 1])), mode="markers", name=names[b],
                legendgroup=f"r{b}", showlegend=False,
                marker=dict(color=colors[b], size=8, line=dict(color="#FFFFFF", width=2)),
                hoverinfo="skip"))
        else:
            path_traces.append(dict(
                type="scatter", x=f32(pts[:, 0]), y=f32(pts[:, 1]), customdata=custom,
                mode="lines+markers" if len(idx) <= PATH_MARKERS_MAX else "lines",
                name=names[b], legendgroup=f"r{b}",
                line=dict(color=colors[b], width=2.5),
                marker=dict(color=colors[b], size=5, symbol="circle"),
                hovertemplate=path_hover,
                # a click selects points; keep the paths fully drawn when that happens
                selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1))))
            marker_traces.append(dict(
                type="scatter", x=f32([end[0]]), y=f32([end[1]]), mode="markers",
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
        exit_ = None if show_3d else exit_point(path[:, b], n_valid[b], xr, yr)
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
        data.append(dict(type="scatter3d", x=f32(dx), y=f32(dy), z=f32(height(dz)),
                         mode="markers", **d_common))
    else:
        data.append(dict(type="scatter", x=f32(dx), y=f32(dy), mode="markers+text",
                         text=[t("race_viz.diverged_short") for _ in dtext],
                         textposition=[label_side(x, y, xr, yr)
                                       for x, y in zip(dx, dy, strict=True)],
                         cliponaxis=False, textfont=dict(size=FONTS.label, color="#C00000"),
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
            type="scatter", x=f32(gxy[:, 0]), y=f32(gxy[:, 1]),
            customdata=f32(np.column_stack([gxy, gf])),
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
    path32 = f32(path)  # converted once: the frames are slices of it
    for s in frame_steps:
        lines, heres = [], []
        for b in range(n_runs):
            cut = kept[b][: int(np.searchsorted(kept[b], s, side="right"))]
            here = path32[min(int(s), n_valid[b] - 1), b]
            line_xy = dict(type=kind, x=path32[cut, b, 0], y=path32[cut, b, 1])
            here_xy = dict(type=kind, x=here[0:1].copy(), y=here[1:2].copy())
            if show_3d:
                line_xy["z"] = f32(height(loss[cut, b]))
                here_xy["z"] = f32(height(loss[min(int(s), n_valid[b] - 1), b:b + 1]))
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
                          offset=6, font=dict(size=FONTS.label, color="#222222")),
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
        data[0]["colorbar"] = merge(data[0]["colorbar"], bar_place)
    else:
        data[0]["marker"]["colorbar"] = merge(data[0]["marker"]["colorbar"], bar_place)
    layout.update(
        template=template("plotly_white"),
        font=dict(size=FONTS.tick),
        height=RACE_HEIGHT,
        margin=dict(l=62, r=10, t=top, b=108),
        legend=dict(orientation="v", x=1.02, y=1.0, xanchor="left", yanchor="top",
                    font=dict(size=FONTS.legend), itemsizing="constant",
                    bgcolor="rgba(255,255,255,0.85)"),
        hovermode="closest",
        hoverlabel=dict(font=dict(size=FONTS.label, color="#111111"), bgcolor="#FFFFFF",
                        bordercolor="#555555"),
        updatemenus=[dict(type="buttons", direction="right", showactive=False, x=0.0,
                          y=0.0, xanchor="left", yanchor="top", pad=dict(t=86, r=6),
                          font=dict(size=FONTS.label - 1), buttons=buttons)],
        sliders=[slider],
        uirevision="race",
    )
    if not show_3d:
        layout["width"] = int(min(1600, max(640, 62 + plot_w + 300)))
    if title:
        layout["title"] = dict(text=title, font=dict(size=FONTS.title), x=0.01)
    if show_3d:
        z_title = t("race_viz.axis_f_log") if log_color else t("race_viz.axis_f")
        layout["scene"] = dict(
            xaxis=dict(title=dict(text="x"), range=xr), yaxis=dict(title=dict(text="y"), range=yr),
            zaxis=dict(title=dict(text=z_title)), aspectmode="manual",
            aspectratio=dict(x=1.0, y=(yr[1] - yr[0]) / (xr[1] - xr[0]), z=0.6))
    else:
        layout["xaxis"] = dict(range=xr, autorange=False,
                               title=dict(text="x", font=dict(size=FONTS.label)), showgrid=False,
                               zeroline=False, constrain="domain", constraintoward="right",
                               ticks="outside", tickfont=dict(size=FONTS.tick))
        layout["yaxis"] = dict(range=yr, autorange=False,
                               title=dict(text="y", font=dict(size=FONTS.label)), showgrid=False,
                               zeroline=False, scaleanchor="x", scaleratio=1,
                               constrain="domain", ticks="outside",
                               tickfont=dict(size=FONTS.tick))
    return dict(data=data, layout=layout, frames=frames)
