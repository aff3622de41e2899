"""Loss and gradient-norm curves of a race: f(x_t) and ‖∇f(x_t)‖ against the step t.

One figure spec per chart (plain values and NumPy arrays), drawn by the canvas on the race
page and as ``go.Figure`` in notebooks. A run that diverged is cut at its last valid row
and marked with a ✕; nothing non-finite reaches a chart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from viz.encode import f32, figure_dict, template
from viz.style import OptimizerStyle, Words, fonts, log_axis_ticks, num

__all__ = [
    "CURVE_WORDS",
    "curve_words",
    "grad_norm_figure",
    "grad_norm_figure_dict",
    "loss_figure",
    "loss_figure_dict",
    "loss_shift",
    "valid_rows",
]

CURVE_WORDS = ("race_viz.step", "race_viz.diverged_legend", "race_viz.diverged_at",
               "race_viz.axis_loss", "race_viz.axis_loss_gap", "race_viz.axis_grad",
               "teach.curve_below", "teach.curve_above", "race_readable.gap_hover")


def curve_words() -> Words:
    """The words of the curve figures in the current language."""
    return Words.current(CURVE_WORDS)


def valid_rows(result, b: int) -> int:
    """Rows of run b to draw: the engine's :func:`engine.descent.valid_rows`."""
    return int(result.n_valid[b])


def _curve_layout(y_title: str, log_y: bool, present: bool, w: Words) -> dict:
    f = fonts(present)
    return dict(
        template=template("plotly_white"), font=dict(size=f.tick), height=360,
        margin=dict(l=70, r=16, t=36, b=52), hovermode="x unified",
        legend=dict(orientation="h", x=0.0, y=1.02, xanchor="left", yanchor="bottom",
                    font=dict(size=f.legend)),
        xaxis=dict(title=dict(text=w.t("race_viz.step"), font=dict(size=f.label)),
                   tickfont=dict(size=f.tick)),
        # the scale's note on a second line: one line was taller than the plot and cut
        yaxis=dict(title=dict(text=y_title.replace(" (", "<br>(", 1), font=dict(size=f.label)),
                   automargin=True,
                   type="log" if log_y else "linear", exponentformat="power",
                   tickfont=dict(size=f.tick)),
    )


def _curves(result, names, styles: Sequence[OptimizerStyle], values: np.ndarray,
            y_title: str, log_y: bool, value_label: str, present: bool, w: Words) -> dict:
    """One line per run over steps 0 … (last valid row), the step as x0 + i·dx (no x
    array is sent), dashed per optimizer; a ✕ at the last valid row of a diverged run."""
    data = []
    hover = f"%{{fullData.name}}: {value_label} = %{{y:.4g}}<extra></extra>"
    drawn = [values[:valid_rows(result, b), b] for b in range(values.shape[1])]
    for b in range(values.shape[1]):
        n = valid_rows(result, b)
        data.append(dict(type="scatter", x0=0, dx=1, y=f32(values[:n, b]), mode="lines",
                         name=names[b], legendgroup=f"r{b}", hovertemplate=hover,
                         line=dict(color=styles[b].color, width=2.6, dash=styles[b].dash)))
    div = np.flatnonzero(np.asarray(result.diverged, dtype=bool))
    data.append(dict(
        type="scatter",
        x=f32([valid_rows(result, b) - 1 for b in div]),
        y=f32([values[valid_rows(result, b) - 1, b] for b in div]),
        mode="markers", name=w.t("race_viz.diverged_legend"), showlegend=bool(div.size),
        marker=dict(symbol="x", size=16, color="#C00000"),
        hovertext=[w.t("race_viz.diverged_at", name=names[b], step=int(result.diverged_at[b]))
                   for b in div], hoverinfo="text"))
    layout = _curve_layout(y_title, log_y, present, w)
    if log_y:  # numbers on the axis at every range (Plotly's own show none under a decade)
        layout["yaxis"].update({k: v for k, v in log_axis_ticks(
            np.concatenate(drawn) if drawn else []).items() if v is not None})
    return dict(data=data, layout=layout)


def loss_shift(result, log_y: bool, f_min: float | None) -> float | None:
    """What the log loss axis subtracts from f: the known minimum f* (or the lowest valid
    loss if lower), whenever f can reach 0 or below; None when f itself is plotted."""
    if not log_y:
        return None
    loss = np.asarray(result.loss, dtype=np.float64)
    valid = np.concatenate([loss[:valid_rows(result, b), b] for b in range(loss.shape[1])])
    low = float(valid.min()) if valid.size else 0.0
    if f_min is None and low > 0:
        return None
    return min(low, float(f_min) if f_min is not None else low)


LOG_GAP_FLOOR = 1e-12  # f − f* is drawn from here: a log axis cannot show 0


def _clip(spec: dict, result, names, loss: np.ndarray, y_range, present: bool,
          w: Words) -> None:
    """Fix a linear axis to ``y_range`` (lo, hi) with a margin; for every run whose valid
    losses leave it, say where they go (a note stacked in the plot's corner), so one run
    falling to −5·10⁵ does not flatten the others onto a line."""
    lo, hi = (float(v) for v in y_range)
    pad = 0.08 * (hi - lo) if hi > lo else 1.0
    spec["layout"]["yaxis"].update(range=[lo - pad, hi + pad], autorange=False)
    notes = []
    for b in range(loss.shape[1]):
        rows = loss[:valid_rows(result, b), b]
        low, high = int(np.argmin(rows)), int(np.argmax(rows))
        if rows[low] < lo - pad:
            notes.append(("bottom", w.t("teach.curve_below", name=names[b], f=num(rows[low]),
                                        step=low)))
        if rows[high] > hi + pad:
            notes.append(("top", w.t("teach.curve_above", name=names[b], f=num(rows[high]),
                                     step=high)))
    f = fonts(present)
    for side in ("bottom", "top"):
        lines = [text for where, text in notes if where == side]
        if lines:
            spec["layout"].setdefault("annotations", []).append(dict(
                xref="paper", yref="paper", x=0.01, y=0.02 if side == "bottom" else 0.98,
                xanchor="left", yanchor=side, align="left", showarrow=False,
                text="<br>".join(lines), font=dict(size=f.legend - 1),
                bgcolor="rgba(255,255,255,0.85)"))


def _loss_spec(result, names, styles, log_y: bool, f_min: float | None,
               present: bool = False, y_range=None, words: Words | None = None) -> dict:
    w = words or curve_words()
    loss = np.asarray(result.loss, dtype=np.float64)
    shift = loss_shift(result, log_y, f_min)
    if shift is None:
        spec = _curves(result, names, styles, loss, w.t("race_viz.axis_loss"), log_y, "f",
                       present, w)
        if y_range is not None and not log_y:
            _clip(spec, result, names, loss, y_range, present, w)
        return spec
    # the title says what the curve is; the hover gives the exact offset
    spec = _curves(result, names, styles, loss - shift + LOG_GAP_FLOOR,
                   w.t("race_viz.axis_loss_gap"), log_y,
                   w.t("race_readable.gap_hover", fstar=num(shift)), present, w)
    spec["layout"]["meta"] = {"f_star": shift}
    return spec


def _grad_norm_spec(result, names, styles, present: bool = False,
                    words: Words | None = None) -> dict:
    w = words or curve_words()
    grad = np.asarray(result.grad, dtype=np.float64)
    norms = np.maximum(np.hypot(grad[..., 0], grad[..., 1]), 1e-16)
    return _curves(result, names, styles, norms, w.t("race_viz.axis_grad"), True, "‖∇f‖",
                   present, w)


def loss_figure(result, names, styles, *, log_y: bool = True, f_min: float | None = None,
                present: bool = False, y_range=None, words: Words | None = None) -> go.Figure:
    """Loss against step, one line per run (cut at divergence, with a ✕ there).

    ``styles``: one :class:`viz.style.OptimizerStyle` per run. With ``log_y`` the plotted
    value is the gap f − f* + 1e-12 whenever the losses can reach 0 or below (``f_min``
    given, or a non-positive loss): f* = min(f_min, lowest loss) (:func:`loss_shift`),
    stored in ``layout.meta.f_star``. Otherwise f itself, on a linear axis fixed to
    ``y_range`` (lo, hi) when given, with a note for each run that leaves it. ``words``:
    :func:`curve_words` (the current language when not given).
    """
    return go.Figure(_loss_spec(result, names, styles, log_y, f_min, present, y_range, words))


def loss_figure_dict(result, names, styles, *, log_y: bool = True,
                     f_min: float | None = None, present: bool = False, y_range=None,
                     words: Words | None = None) -> dict:
    """:func:`loss_figure` as a JSON-ready dict (same figure, no Plotly objects built)."""
    return figure_dict(_loss_spec(result, names, styles, log_y, f_min, present, y_range,
                                  words))


def grad_norm_figure(result, names, styles, *, present: bool = False,
                     words: Words | None = None) -> go.Figure:
    """‖∇f(x_t)‖ against step on a log axis (an exact 0 is drawn at 1e-16)."""
    return go.Figure(_grad_norm_spec(result, names, styles, present, words))


def grad_norm_figure_dict(result, names, styles, *, present: bool = False,
                          words: Words | None = None) -> dict:
    """:func:`grad_norm_figure` as a JSON-ready dict (same figure, no Plotly objects)."""
    return figure_dict(_grad_norm_spec(result, names, styles, present, words))
