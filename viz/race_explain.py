""""Explain this step": the numbers of one update, the rule with them put in, and arrows.

:func:`step_numbers` reads one step of a race recorded with ``record="full"``;
:func:`latex_with_numbers` writes the optimizer's implemented rule with those numbers;
:func:`add_step_arrows` draws −γ·g, the momentum part, NAG's look-ahead and the real step
on a zoomed map, named in the legend.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go

from engine import optimizers
from texts import t
from viz.race_figure import race_figure, race_trace_indices
from viz.style import FONTS, OptimizerStyle, num, tex_num

__all__ = ["add_step_arrows", "latex_with_numbers", "quantities_table", "step_figure",
           "step_numbers"]

def _floats(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def step_numbers(result, k: int, group_index: int, run_index_in_group: int,
                 optimizer_key: str, hyper: Mapping[str, object]) -> dict:
    """The numbers of step k (x_k -> x_{k+1}) of one run, as plain floats.

    Keys: ``optimizer``, ``k``, ``theta`` (x_k), ``grad`` (g_k as used, noise included,
    weight decay not), ``loss``, ``before``/``after`` (state fields s_k and s_{k+1}),
    ``effective_lr`` (from s_{k+1}), ``lr_multiplier`` (schedule η(k)), ``step``,
    ``new_theta``, ``new_loss``, ``lookahead``, ``hyper`` (floats of ``hyper`` for this
    run: the optimizer's hyper-parameters, e.g. ``opt.hyper``, one value per run or one
    for all) and ``quantities``: every named quantity of the step as the engine computes
    it (:meth:`engine.optimizers.Optimizer.explain` on the recorded point, gradient and
    state). Needs a result recorded with ``record="full"``.
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
    for name, value in hyper.items():
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        hyper_floats[name] = float(arr[run_index_in_group] if arr.size > 1 else arr[0])
    elr = result.effective_lr[group_index][k + 1, run_index_in_group] if result.effective_lr \
        else np.zeros(2)
    scale = float(result.lr_multiplier[k]) if len(result.lr_multiplier) else 1.0
    opt = optimizers.make(optimizer_key, **hyper_floats)
    i = run_index_in_group
    before = opt.State(*(np.asarray(state[f][k, i:i + 1], dtype=np.float64)
                         for f in opt.State._fields))
    quantities = opt.explain(result.path[k, b][None, :], result.grad[k, b][None, :], before,
                             lr_scale=scale)
    return {
        "optimizer": optimizer_key,
        "k": int(k),
        "theta": _floats(result.path[k, b]),
        "grad": _floats(result.grad[k, b]),
        "loss": float(result.loss[k, b]),
        "before": {f: _floats(v[k, i]) for f, v in state.items()},
        "after": {f: _floats(v[k + 1, i]) for f, v in state.items()},
        "effective_lr": _floats(elr),
        "lr_multiplier": scale,
        "step": _floats(result.step[k, b]),
        "new_theta": _floats(result.path[k + 1, b]),
        "new_loss": float(result.loss[k + 1, b]),
        "lookahead": _floats(result.lookahead[k, b]),
        "hyper": hyper_floats,
        "quantities": {name: _floats(value) for name, value in quantities.items()},
    }


def _tex_vec(values) -> str:
    vals = list(values)
    if len(vals) == 1:
        return tex_num(vals[0])
    return r"\left(" + r",\ ".join(tex_num(v) for v in vals) + r"\right)"


_PLACEHOLDER = re.compile("«([A-Za-z_0-9]+)»")


def latex_with_numbers(spec, numbers: Mapping) -> str:
    """The implemented rule of ``spec`` (an OptimizerSpec) with this step's numbers put in.

    One line per ``spec.explain`` line (a LaTeX ``aligned`` block): the rule, the numbers
    substituted, and the value the engine computed. Every number is the engine's
    (``numbers["quantities"]`` from :func:`step_numbers`, the hyper-parameters from
    ``numbers["hyper"]``); nothing is recomputed here, so a new optimizer needs only its
    registry entry.
    """
    values: dict[str, list[float]] = {name: [v] for name, v in numbers["hyper"].items()}
    values.update(numbers["quantities"])

    def shown(line) -> bool:
        if not line.when:
            return True
        name = line.when.lstrip("!")
        nonzero = any(v != 0.0 for v in values.get(name, [0.0]))
        return nonzero != line.when.startswith("!")

    def number(match: re.Match) -> str:
        return _tex_vec(values[match.group(1)])

    lines = [_PLACEHOLDER.sub(number, line.latex) for line in spec.explain if shown(line)]
    return r"\begin{aligned}" + r"\\ ".join(lines) + r"\end{aligned}"


def quantities_table(spec, numbers: Mapping) -> str:
    """The step's vectors as a Markdown table (x and y columns): the point, the gradient,
    the effective learning rate, the step, the new point and each state field after the
    step under its symbol (``spec.state_symbols``, LaTeX that Markdown renders)."""
    q = numbers["quantities"]
    rows = [(t("race.q_point"), numbers["theta"]), (t("race.q_grad"), numbers["grad"])]
    if q["g"] != numbers["grad"]:  # the coupled weight decay is part of the rule's g
        rows.append((t("teach.q_grad_wd"), q["g"]))
    rows += [(t("race.q_elr"), numbers["effective_lr"]), (t("race.q_step"), numbers["step"]),
             (t("race.q_new"), numbers["new_theta"])]
    for field, value in numbers["after"].items():
        if len(value) == 2:
            rows.append((t("race.q_state", name=f"${spec.state_symbol(field)}$"), value))
    lines = ["| | x | y |", "|---|---|---|"]
    lines += [f"| {label} | {num(v[0])} | {num(v[1])} |" for label, v in rows]
    return "\n".join(lines)


_ARROW_COLORS = {"grad": "#C00000", "momentum": "#0072B2", "lookahead": "#7B3294",
                 "step": "#000000"}
# told apart without colour too: each arrow's width, and its legend entry's dash
_ARROW_WIDTHS = {"grad": 3, "momentum": 3, "lookahead": 3, "step": 4.5}
_ARROW_DASHES = {"grad": "dot", "momentum": "dash", "lookahead": "dashdot", "step": "solid"}


def add_step_arrows(fig: go.Figure, point, grad, momentum=None, lookahead=None, step=None,
                    scale: float | None = None) -> go.Figure:
    """Draw the anatomy of one step on a 2-D race map: arrows as annotations, and their
    names in the legend (a label at an arrow's head covered that arrow, the others ending
    there, and the axis ticks near the edge).

    Arrows start at ``point``: −scale·grad (with ``scale`` = the learning rate it is the
    step plain GD would take; ``None`` scales it to a fifth of the map and labels it as a
    direction), ``momentum`` (a displacement, e.g. −γμb), the look-ahead point (an
    absolute position, NAG) and ``step`` (the actual displacement x_{t+1} − x_t). Each name
    is a legend-only trace (no point, so nothing on the map catches a click), in the
    arrow's colour. Returns ``fig`` (modified in place, like Plotly's own add_* methods).
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
    # the actual step first: −γ∇f, which GD's step equals, is drawn over it and stays seen
    for kind, head, label in sorted(arrows, key=lambda a: a[0] != "step"):
        vec = np.nan_to_num(np.asarray(head, dtype=np.float64) - p, nan=0.0, posinf=0.0,
                            neginf=0.0)
        length = float(np.hypot(*vec))
        if length > longest:
            label = label + " " + t("race_viz.arrow_shortened", factor=num(length / longest))
            vec = vec * (longest / length)
        head = p + vec
        color = _ARROW_COLORS[kind]
        fig.add_annotation(x=float(head[0]), y=float(head[1]), ax=float(p[0]), ay=float(p[1]),
                           xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=3, arrowsize=1.3, arrowwidth=_ARROW_WIDTHS[kind],
                           arrowcolor=color, text="")
        fig.add_scatter(x=[None], y=[None], mode="lines", name=f"<b>{label}</b>",
                        legendgroup="arrows", showlegend=True, hoverinfo="skip",
                        line=dict(color=color, width=_ARROW_WIDTHS[kind],
                                  dash=_ARROW_DASHES[kind]))
    return fig


def step_figure(surface, result, b: int, name: str, style: OptimizerStyle, numbers: Mapping,
                start) -> go.Figure:
    """The map zoomed on step k of run b with −γ·g, the momentum part / look-ahead and the
    real step (``numbers`` from :func:`step_numbers`).

    Only the explained run is drawn, on a contour sampled over the zoomed window (so the
    contour lines, perpendicular to the gradient, are visible at any zoom).
    """
    q = numbers["quantities"]
    p = np.asarray(numbers["theta"])
    g = np.asarray(numbers["grad"])
    lr = q["lr_t"][0]
    step = np.asarray(numbers["step"])
    # drawn when the rule has them (momentum's −γμb_{t−1}, NAG's look-ahead point)
    momentum = np.asarray(q["momentum_step"]) if "momentum_step" in q else None
    lookahead = np.asarray(q["lookahead"]) if "lookahead" in q else None
    pieces = [lr * g, step] + ([momentum] if momentum is not None else [])
    if lookahead is not None:
        pieces.append(lookahead - p)
    extent = float(np.max(np.abs(np.asarray(pieces))))
    (xmin, xmax), (ymin, ymax) = surface.domain
    half = min(max(extent * 1.5, 1e-6), 0.5 * max(xmax - xmin, ymax - ymin))
    xs = np.linspace(p[0] - half, p[0] + half, 61)
    ys = np.linspace(p[1] - half, p[1] + half, 61)
    gx, gy = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):
        z = np.asarray(surface.f(np.stack([gx, gy], axis=-1)), dtype=np.float64)
    z = np.where(np.isfinite(z), z, np.nanmax(np.where(np.isfinite(z), z, -np.inf)))
    one = SimpleNamespace(path=result.path[:, b:b + 1], loss=result.loss[:, b:b + 1],
                          diverged=result.diverged[b:b + 1],
                          diverged_at=result.diverged_at[b:b + 1])
    fig = race_figure(surface, (xs, ys, z), one, [name], [style.color], start=start,
                      max_frames=2, click_grid_n=2, symbols=[style.symbol])
    fig.frames = ()
    fig.layout.updatemenus = ()
    fig.layout.sliders = ()
    idx = race_trace_indices(1)
    for i in [*idx["critical"], idx["start"], idx["click_grid"]]:
        fig.data[i].showlegend = False
    fig.data[idx["click_grid"]].visible = False
    # the legend names the run and the arrows, above the map (nothing covers an arrow)
    fig.update_layout(height=480, width=None, margin=dict(l=60, r=10, t=40, b=50),
                      legend=dict(orientation="h", x=0.0, y=1.0, yanchor="bottom",
                                  font=dict(size=FONTS.legend)))
    fig.update_xaxes(range=[p[0] - half, p[0] + half])
    fig.update_yaxes(range=[p[1] - half, p[1] + half])
    add_step_arrows(fig, p, g, momentum=momentum, lookahead=lookahead, step=step, scale=lr)
    return fig
