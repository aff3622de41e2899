"""Seed statistics: how reliably a setting trains, over many random initialisations.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from texts import t
from viz.encode import f32
from viz.network_style import (
    BLUE,
    INK,
    NEUTRAL,
    SMALL_FONT,
    base_layout,
)

__all__ = ['seed_statistics_figure', 'seed_statistics_summary']


def seed_statistics_summary(epochs_to_solve) -> dict:
    """How reliably a setting trains, over many seeds.

    ``epochs_to_solve`` (N,) ints: the first epoch at which each seed's network solved the
    task, -1 if it never did. Returns ``success_rate`` (solved / N, in [0, 1]), ``median`` and
    ``p90`` — the median and 90th percentile (linear interpolation, numpy's default) of the
    epochs-to-solve of the SOLVED seeds, None when no seed solved — plus ``n_solved`` and ``n``.
    """
    e = np.asarray(epochs_to_solve).ravel()
    solved = e[e >= 0].astype(float)
    n = int(e.size)
    return {
        "n": n,
        "n_solved": int(solved.size),
        "success_rate": solved.size / n if n else 0.0,
        "median": float(np.median(solved)) if solved.size else None,
        "p90": float(np.percentile(solved, 90)) if solved.size else None,
    }


def seed_statistics_figure(epochs_to_solve, max_epochs: int, *, bins: int = 20,
                           title: str | None = None, height: int = 420) -> go.Figure:
    """Histogram of epochs-to-solve over seeds, a grey bar for the seeds that never solved,
    the median as a dashed line and "solved 87 / 100" written on the chart.

    Bins are computed here (numpy), so the figure holds the counts it shows.
    """
    e = np.asarray(epochs_to_solve).ravel()
    summary = seed_statistics_summary(e)
    solved = e[e >= 0].astype(float)
    max_epochs = max(int(max_epochs), 1)
    edges = np.linspace(0.0, float(max_epochs), bins + 1)
    counts, _ = np.histogram(np.clip(solved, 0, max_epochs), bins=edges)
    width = edges[1] - edges[0]
    fig = go.Figure()
    fig.add_trace(go.Bar(
        x=f32((edges[:-1] + edges[1:]) / 2), y=counts.astype(np.int32), width=width * 0.95,
        marker=dict(color=BLUE), name=t("network_viz.solved_bar"),
        customdata=f32(np.stack([edges[:-1], edges[1:]], axis=1)),
        hovertemplate=(t("network_viz.bin_hover")
                       + "<extra></extra>")))
    never = summary["n"] - summary["n_solved"]
    never_x = max_epochs + 1.5 * width
    fig.add_trace(go.Bar(x=f32([never_x]), y=np.array([never], dtype=np.int32),
                         width=width * 1.5, marker=dict(color=NEUTRAL),
                         name=t("network_viz.never_solved"),
                         hovertemplate=f"{t('network_viz.never_solved')}: %{{y}}<extra></extra>"))
    if summary["median"] is not None:
        fig.add_vline(x=summary["median"], line=dict(color=INK, width=2, dash="dash"),
                      annotation=dict(text=t("network_viz.median", v=summary["median"]),
                                      font=SMALL_FONT), annotation_position="top right")
    fig.add_annotation(
        xref="paper", yref="paper", x=0.0, y=1.02, xanchor="left", yanchor="bottom",
        showarrow=False, font=dict(size=18, color=INK),
        text=t("network_viz.solved_of", solved=summary["n_solved"], total=summary["n"]))
    fig.update_xaxes(title=dict(text=t("network_viz.epochs_to_solve")),
                     range=[0, never_x + width], tickvals=None)
    tallest = max(int(counts.max()) if counts.size else 0, never, 1)
    # headroom: the median's label sits above the tallest bar, not on it
    fig.update_yaxes(title=dict(text=t("network_viz.seed_count")), range=[0, tallest * 1.18])
    base_layout(fig, title, height)
    fig.update_layout(bargap=0.0, margin=dict(t=90 if title else 60),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1.0,
                                  xanchor="right"))
    return fig
