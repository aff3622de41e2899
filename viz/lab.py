"""Figures of the learning-rate lab: phase diagrams, basin maps, learning-rate schedules.

Arrays from :mod:`engine.lab` / :func:`engine.descent.basin_map` in, ``go.Figure`` out.
Heat maps are drawn on index-free coordinates (log₁₀ of the learning rate on x, so every
cell has the same width) with tick labels in the real units; an invisible marker at every
cell centre carries the hover text and makes a click report the cell (Streamlit's point
selection). Nothing non-finite reaches a trace.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from texts import t
from viz.style import apply_fonts, fonts, num

__all__ = [
    "BASIN_COLORS",
    "DIVERGED_COLOR",
    "UNREACHED_COLOR",
    "basin_figure",
    "cell_at",
    "phase_figure",
    "schedule_figure",
]

INK = "#222222"
DIVERGED_COLOR = "#7F0000"
UNREACHED_COLOR = "#BDBDBD"
THEORY_COLOR = "#00E5FF"
SELECT_COLOR = "#FF00FF"
LOSS_SCALE = "Viridis"
BASIN_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
                "#8DD3C7", "#BEBADA", "#FB8072", "#80B1D3", "#B3DE69")
_HEIGHT = 560


def _decade_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Tick positions (log₁₀) and labels at 1, 2, 5 × 10^k inside [low, high] (log₁₀)."""
    values, labels = [], []
    for k in range(math.floor(low) - 1, math.ceil(high) + 1):
        for m in (1, 2, 5):
            v = math.log10(m) + k
            if low - 1e-9 <= v <= high + 1e-9:
                values.append(v)
                labels.append(f"{m * 10.0 ** k:g}")
    if len(values) > 9:  # a wide range: decades only
        keep = [i for i, label in enumerate(labels) if label.lstrip("0.").startswith("1")]
        values, labels = [values[i] for i in keep], [labels[i] for i in keep]
    return values, labels


def _masked(values: np.ndarray, keep: np.ndarray) -> list:
    """Rows of ``values`` as lists with None (a gap Plotly leaves blank) where ``keep`` is
    False or the value is not finite: no NaN or inf is sent to a chart."""
    values = np.asarray(values, dtype=float)
    ok = np.asarray(keep, bool) & np.isfinite(values)
    return [[float(v) if k else None for v, k in zip(row, oks, strict=True)]
            for row, oks in zip(values, ok, strict=True)]


def _legend_square(name: str, color: str) -> go.Scatter:
    """A legend entry for a colour used by a heat map (heat maps have none)."""
    return go.Scatter(x=[None], y=[None], mode="markers", name=name, showlegend=True,
                      marker=dict(symbol="square", size=16, color=color,
                                  line=dict(color=INK, width=1)), hoverinfo="skip")


def cell_at(x: float, y: float, xs: Sequence[float], ys: Sequence[float]) -> tuple[int, int]:
    """(row i, column j) of the cell whose centre (xs[j], ys[i]) is nearest to (x, y)
    (distances in units of each axis' cell size)."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    dx = np.ptp(xs) / max(xs.size - 1, 1) or 1.0
    dy = np.ptp(ys) / max(ys.size - 1, 1) or 1.0
    return int(np.argmin(np.abs(ys - y) / dy)), int(np.argmin(np.abs(xs - x) / dx))


# ----------------------------------------------------------------------------- phase diagram


def phase_figure(sweep, *, color_by: str, axis_label: str, limit=None, limit_label: str = "",
                 selected: tuple[int, int] | None = None, log_values: bool = False,
                 present: bool = False, height: int = _HEIGHT) -> go.Figure:
    """The phase diagram of a :class:`engine.descent.SweepResult`.

    ``color_by`` "loss": log₁₀(f_final − f*) (linear f when some final loss lies below f*);
    "steps": the first step within tol of f* (grey where never).  Diverged cells are dark
    red.  ``limit`` (one learning rate per row, or None): the closed-form stability limit,
    drawn as a line.  ``selected`` (i, j) is outlined.  ``log_values``: the second axis is
    log-spaced (ε): its cells are placed by log₁₀ too.
    """
    lrs, values = np.asarray(sweep.lrs, float), np.asarray(sweep.momenta, float)
    xs = np.log10(lrs)
    ys = np.log10(values) if log_values else values
    diverged = np.asarray(sweep.diverged, bool)
    final = np.asarray(sweep.final_loss, float)
    steps = np.asarray(sweep.steps_to_tol)
    gap = final - sweep.target_f
    fig = go.Figure()
    log_gap = bool(np.all(gap[~diverged] > -1e-9 * max(1.0, abs(sweep.target_f))))
    if color_by == "steps":
        shown, z = ~diverged & (steps >= 0), steps.astype(float)
        color_title = t("lab_viz.steps_to_tol", tol=num(sweep.tol))
        colorscale = "Viridis_r"
    elif log_gap:
        shown, z = ~diverged, np.log10(np.maximum(gap, 1e-16))
        color_title = t("lab_viz.log_gap")
        colorscale = LOSS_SCALE
    else:
        shown, z = ~diverged, final
        color_title = t("lab_viz.final_loss")
        colorscale = LOSS_SCALE
    f = fonts(present)
    if (shown & np.isfinite(z)).any():
        fig.add_trace(go.Heatmap(
            x=xs, y=ys, z=_masked(z, shown), colorscale=colorscale, hoverinfo="skip",
            name=color_title,
            colorbar=dict(title=dict(text=color_title, side="right", font=dict(size=f.label)),
                          tickfont=dict(size=f.tick), thickness=16)))
    if color_by == "steps":
        unreached = ~diverged & (steps < 0)
        if unreached.any():
            fig.add_trace(go.Heatmap(x=xs, y=ys, z=_masked(np.ones(steps.shape), unreached),
                                     showscale=False,
                                     colorscale=[[0, UNREACHED_COLOR], [1, UNREACHED_COLOR]],
                                     hoverinfo="skip"))
            fig.add_trace(_legend_square(t("lab_viz.unreached"), UNREACHED_COLOR))
    if diverged.any():
        fig.add_trace(go.Heatmap(x=xs, y=ys, z=_masked(np.ones(diverged.shape), diverged),
                                 showscale=False, hoverinfo="skip",
                                 colorscale=[[0, DIVERGED_COLOR], [1, DIVERGED_COLOR]]))
        fig.add_trace(_legend_square(t("lab_viz.diverged"), DIVERGED_COLOR))
    if limit is not None:
        lim = np.log10(np.clip(np.asarray(limit, float), 1e-300, 1e300))
        inside = (lim >= xs[0] - 0.5 * (xs[1] - xs[0])) & (lim <= xs[-1] + 0.5 * (xs[1] - xs[0]))
        fig.add_trace(go.Scatter(
            x=_masked(lim[None, :], inside[None, :])[0], y=ys, mode="lines", name=limit_label,
            line=dict(color=THEORY_COLOR, width=4, dash="dash"), hoverinfo="skip",
            connectgaps=False))
    # the hover and click layer: an almost invisible marker at every cell centre
    gx, gy = np.meshgrid(xs, ys)
    li, vi = np.meshgrid(lrs, values)
    state = np.where(diverged, t("lab_viz.diverged"),
                     np.where(steps >= 0, np.char.add(t("lab_viz.reached_at") + " ",
                                                      steps.astype(str)),
                              t("lab_viz.unreached")))
    custom = np.stack([li, vi, np.where(diverged, 0.0, final)], axis=-1).reshape(-1, 3)
    fig.add_trace(go.Scatter(
        x=gx.ravel(), y=gy.ravel(), mode="markers", showlegend=False, name="cells",
        marker=dict(size=10, color="#000000", opacity=0.01, symbol="square"),
        selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)),
        customdata=custom, text=state.ravel(),
        hovertemplate=("γ = %{customdata[0]:.4g}<br>" + axis_label
                       + " = %{customdata[1]:.4g}<br>" + t("lab_viz.final_loss")
                       + " = %{customdata[2]:.5g}<br>%{text}<br><i>"
                       + t("lab_viz.click_cell") + "</i><extra></extra>")))
    if selected is not None:
        i, j = selected
        if 0 <= i < ys.size and 0 <= j < xs.size:
            fig.add_trace(go.Scatter(
                x=[xs[j]], y=[ys[i]], mode="markers", name=t("lab_viz.selected"),
                marker=dict(symbol="square-open", size=22, color=SELECT_COLOR,
                            line=dict(width=4, color=SELECT_COLOR)), hoverinfo="skip"))
    tickvals, ticktext = _decade_ticks(xs[0], xs[-1])
    half_x = 0.5 * (xs[1] - xs[0]) if xs.size > 1 else 0.5
    half_y = 0.5 * (ys[1] - ys[0]) if ys.size > 1 else 0.5
    fig.update_xaxes(title_text=t("lab_viz.lr_axis"), tickvals=tickvals, ticktext=ticktext,
                     range=[xs[0] - half_x, xs[-1] + half_x], showgrid=False)
    y_axis = dict(title_text=axis_label, range=[ys[0] - half_y, ys[-1] + half_y],
                  showgrid=False)
    if log_values:
        y_axis["tickvals"], y_axis["ticktext"] = _decade_ticks(ys[0], ys[-1])
    fig.update_yaxes(**y_axis)
    fig.update_layout(height=height, margin=dict(l=80, r=20, t=50, b=60), clickmode="event",
                      dragmode=False)
    apply_fonts(fig, present)
    return fig


# ----------------------------------------------------------------------------- basin maps


def _discrete_scale(colors: Sequence[str]) -> list:
    n = len(colors)
    scale = []
    for k, c in enumerate(colors):
        scale += [[k / n, c], [(k + 1) / n, c]]
    return scale


def basin_figure(surface, maps: Sequence, titles: Sequence[str], *,
                 selected: tuple[float, float] | None = None, present: bool = False,
                 height: int = _HEIGHT) -> go.Figure:
    """Basin maps side by side (one per optimizer), the same colour for the same minimum.

    Each start is coloured by the listed minimum its run ends at (within the map's radius),
    light grey when it ends elsewhere (not converged), dark red when it diverged.  The minima
    are stars labelled by their letter; hovering a start tells where its run went.
    """
    minima = list(surface.minima)
    reached = sorted({int(v) for bm in maps for v in np.unique(bm.index) if v >= 0})
    letter = {m: chr(ord("A") + k) if k < 26 else str(k + 1) for k, m in enumerate(reached)}
    palette = [BASIN_COLORS[k % len(BASIN_COLORS)] for k in range(len(reached))]
    colors = palette + [UNREACHED_COLOR, DIVERGED_COLOR]
    n_codes = len(colors)
    fig = make_subplots(rows=1, cols=len(maps), subplot_titles=list(titles),
                        horizontal_spacing=0.06, shared_yaxes=True)
    (xmin, xmax), (ymin, ymax) = surface.domain
    code_of = np.zeros(max(len(minima), 1), dtype=int)  # minimum index -> colour code
    code_of[reached] = np.arange(len(reached))
    reached_text = np.array([t("lab_viz.basin_reached", name=letter.get(m, "?"))
                             for m in range(max(len(minima), 1))])
    for col, bm in enumerate(maps, start=1):
        index = np.asarray(bm.index)
        safe = np.maximum(index, 0)
        codes = np.where(index >= 0, code_of[safe],
                         np.where(bm.diverged, n_codes - 1, n_codes - 2))
        fig.add_trace(go.Heatmap(x=bm.xs, y=bm.ys, z=codes, zmin=-0.5, zmax=n_codes - 0.5,
                                 colorscale=_discrete_scale(colors), showscale=False,
                                 hoverinfo="skip"), row=1, col=col)
        gx, gy = np.meshgrid(bm.xs, bm.ys)
        fin = np.asarray(bm.final_position)
        where = np.where(index >= 0, reached_text[safe],
                         np.where(bm.diverged, t("lab_viz.diverged"), t("lab_viz.unconverged")))
        custom = np.stack([fin[..., 0], fin[..., 1], np.asarray(bm.final_loss)], axis=-1)
        fig.add_trace(go.Scatter(
            x=gx.ravel(), y=gy.ravel(), mode="markers", showlegend=False, name="starts",
            marker=dict(size=8, color="#000000", opacity=0.01, symbol="square"),
            selected=dict(marker=dict(opacity=0.01)), unselected=dict(marker=dict(opacity=0.01)),
            customdata=custom.reshape(-1, 3), text=where.ravel(),
            hovertemplate=(t("lab_viz.start") + " (%{x:.3g}, %{y:.3g})<br>%{text}<br>"
                           + t("lab_viz.end") + " (%{customdata[0]:.3g}, %{customdata[1]:.3g})"
                           + ", f = %{customdata[2]:.4g}<br><i>" + t("lab_viz.click_start")
                           + "</i><extra></extra>")), row=1, col=col)
        mx = [minima[m].x for m in reached]
        my = [minima[m].y for m in reached]
        fig.add_trace(go.Scatter(
            x=mx, y=my, mode="markers+text", text=[letter[m] for m in reached],
            textposition="top center", showlegend=False, cliponaxis=False,
            textfont=dict(size=fonts(present).label, color=INK),
            marker=dict(symbol="star", size=18, color="#FFFFFF",  # white: seen on its basin
                        line=dict(color=INK, width=1.5)),
            hovertemplate="%{text}: (%{x:.3g}, %{y:.3g})<extra></extra>"), row=1, col=col)
        if selected is not None:
            fig.add_trace(go.Scatter(x=[selected[0]], y=[selected[1]], mode="markers",
                                     showlegend=col == 1, name=t("lab_viz.selected"),
                                     marker=dict(symbol="circle-open", size=18,
                                                 color=SELECT_COLOR,
                                                 line=dict(width=4, color=SELECT_COLOR)),
                                     hoverinfo="skip"), row=1, col=col)
        fig.update_xaxes(range=[xmin, xmax], title_text="x", showgrid=False, row=1, col=col,
                         constrain="domain")
        fig.update_yaxes(range=[ymin, ymax], showgrid=False, row=1, col=col,
                         scaleanchor=f"x{'' if col == 1 else col}", scaleratio=1)
    fig.update_yaxes(title_text="y", row=1, col=1)
    for m in reached:
        fig.add_trace(_legend_square(
            t("lab_viz.basin_legend", name=letter[m], x=num(minima[m].x), y=num(minima[m].y),
              f=num(minima[m].f)), palette[reached.index(m)]))
    fig.add_trace(_legend_square(t("lab_viz.unconverged"), UNREACHED_COLOR))
    fig.add_trace(_legend_square(t("lab_viz.diverged"), DIVERGED_COLOR))
    fig.update_layout(height=height, margin=dict(l=60, r=20, t=40, b=100), dragmode=False,
                      clickmode="event")
    apply_fonts(fig, present)
    fig.update_layout(legend=dict(orientation="h", x=0.0, y=-0.16, yanchor="top"))
    return fig


# ----------------------------------------------------------------------------- schedules


def schedule_figure(curves: Mapping[str, np.ndarray], colors: Mapping[str, str], *,
                    base_lr: float, log_y: bool = False, present: bool = False,
                    height: int = 420) -> go.Figure:
    """lr(t) = base_lr · s(t) of each schedule over the steps t = 0 … T−1."""
    fig = go.Figure()
    for name, values in curves.items():
        values = np.asarray(values, float)
        fig.add_trace(go.Scatter(
            x0=0, dx=1, y=np.maximum(values, 1e-300) if log_y else values, mode="lines",
            name=name, line=dict(color=colors.get(name, INK), width=3),
            hovertemplate=name + ": t = %{x}, γ(t) = %{y:.4g}<extra></extra>"))
    fig.update_xaxes(title_text=t("lab_viz.step"), showgrid=True, gridcolor="#E5E7EB")
    fig.update_yaxes(title_text=t("lab_viz.lr_of_t"), type="log" if log_y else "linear",
                     showgrid=True, gridcolor="#E5E7EB", exponentformat="power",
                     rangemode="tozero" if not log_y else None)
    fig.add_hline(y=base_lr, line=dict(color="#9A9A9A", dash="dot", width=1.5))
    fig.update_layout(height=height, margin=dict(l=80, r=20, t=40, b=60),
                      hovermode="x unified")
    apply_fonts(fig, present)
    return fig
