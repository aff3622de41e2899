"""What a student takes home from a race: the results table, every iterate as CSV, and
the race as a standalone HTML page (plotly.js inline, animation included, works offline).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from texts import t
from viz.style import PLOTLY_CONFIG

__all__ = ["runs_csv", "standalone_html", "summary_frame"]

def summary_frame(surface, result, names, tol: float = 1e-3) -> pd.DataFrame:
    """One row per run: final loss, nearest listed critical point, distance to it, steps until
    f ≤ f(that point) + tol (first such iterate t; "—" if never or diverged), divergence."""
    final = np.asarray(result.path)[-1]
    final_loss = np.asarray(result.loss)[-1]
    points = list(surface.minima)
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


def runs_csv(result, names, header: Sequence[str] = ()) -> str:
    """Every iterate of every run as CSV (long format): step, optimizer, x, y, loss,
    grad_norm, diverged (True from the divergence step on).

    ``header``: lines written first as ``# `` comments (the settings that reproduce the
    runs, :func:`app_pages.race_state.settings_lines`); read the file with
    ``pandas.read_csv(path, comment="#")``."""
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
    for line in header:
        buffer.write(f"# {line}\n")
    frame.to_csv(buffer, index=False, float_format="%.10g")
    return buffer.getvalue()


def standalone_html(fig: go.Figure) -> str:
    """A complete HTML page with plotly.js inline: opens offline, animation included."""
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False,
                       config=PLOTLY_CONFIG)
