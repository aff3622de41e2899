""""Explain this step": the numbers of one update, the rule with them put in, and arrows.

:func:`step_numbers` reads one step of a race recorded with ``record="full"``;
:func:`latex_with_numbers` writes the optimizer's implemented rule with those numbers;
:func:`add_step_arrows` draws −γ·g, the momentum part, NAG's look-ahead and the real step
on a zoomed map.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go

from texts import t
from viz.race_figure import race_figure, race_trace_indices
from viz.style import FONTS, OptimizerStyle, num, tex_num

__all__ = ["add_step_arrows", "latex_with_numbers", "step_figure", "step_numbers"]

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


def _tex_vec(values) -> str:
    vals = list(values)
    if len(vals) == 1:
        return tex_num(vals[0])
    return r"\left(" + r",\ ".join(tex_num(v) for v in vals) + r"\right)"


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
        return tex_num(h[name]) if name in h else symbols.get(name, name)

    lr = (h["lr"] * mult) if "lr" in h else None
    gamma = tex_num(lr) if lr is not None else r"\gamma"
    wd = float(h.get("weight_decay", 0.0))
    lines = []
    if mult != 1.0:
        lines.append(r"\gamma_t &= \gamma\,\eta(t) = " + hv("lr") + r"\cdot " + tex_num(mult)
                     + " = " + gamma)
    g = g_raw
    if wd != 0.0 and key != "adamw":
        g = g_raw + wd * th
        lines.append(r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} = " + _tex_vec(g_raw)
                     + " + " + tex_num(wd) + r"\cdot" + _tex_vec(th) + " = " + _tex_vec(g))
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
                         + gamma + r"\cdot" + tex_num(wd) + ") = " + _tex_vec(decayed))
            theta_prev = _tex_vec(decayed)
        lines.append(ema("m_t", r"\beta_1", ("m_{t-1}", before["exp_avg"]), hv("beta1"),
                         after["exp_avg"]))
        b1, b2 = h.get("beta1"), h.get("beta2")
        tt = tex_num(t_step)
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
                lines.append(r"\mu_t &= \beta_1(1-\tfrac12\,0.96^{t\psi}) = " + tex_num(b1)
                             + r"\cdot(1-\tfrac12\cdot 0.96^{" + tt + r"\cdot" + tex_num(psi)
                             + "}) = " + tex_num(mu_t) + r", \quad \mu_{t+1} = "
                             + tex_num(mu_next))
            prod = after["mu_product"][0]
            lines.append(r"\Pi_t &= \Pi_{t-1}\,\mu_t = " + tex_num(before["mu_product"][0])
                         + r"\cdot" + (tex_num(mu_t) if mu_t is not None else r"\mu_t") + " = "
                         + tex_num(prod))
        if b2 is not None:
            v_hat = v_used / (1 - b2 ** t_step)
            lines.append(r"\hat v_t &= \frac{v_t}{1-\beta_2^t} = \frac{" + _tex_vec(v_used)
                         + "}{1-" + tex_num(b2) + "^{" + tt + "}} = " + _tex_vec(v_hat))
        if key in ("adam", "adamw") and b1 is not None:
            m_hat = np.asarray(after["exp_avg"]) / (1 - b1 ** t_step)
            lines.append(r"\hat m_t &= \frac{m_t}{1-\beta_1^t} = \frac{"
                         + _tex_vec(after["exp_avg"]) + "}{1-" + tex_num(b1) + "^{" + tt
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
            label = label + " " + t("race_viz.arrow_shortened", factor=num(length / longest))
            vec = vec * (longest / length)
        head = p + vec
        color = _ARROW_COLORS[kind]
        fig.add_annotation(x=float(head[0]), y=float(head[1]), ax=float(p[0]), ay=float(p[1]),
                           xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=3, arrowsize=1.3, arrowwidth=3, arrowcolor=color, text="")
        fig.add_annotation(x=float(head[0]), y=float(head[1]), xref="x", yref="y",
                           text=f"<b>{label}</b>", showarrow=False, yshift=14,
                           font=dict(size=FONTS.label, color=color),
                           bgcolor="rgba(255,255,255,0.8)")
    return fig


def step_figure(surface, result, b: int, name: str, style: OptimizerStyle, numbers: Mapping,
                hyper: Mapping[str, float], start) -> go.Figure:
    """The map zoomed on step k of run b with −γ·g, the momentum part / look-ahead and the
    real step (``numbers`` from :func:`step_numbers`, ``hyper`` the run's settings).

    Only the explained run is drawn, on a contour sampled over the zoomed window (so the
    contour lines, perpendicular to the gradient, are visible at any zoom).
    """
    key = numbers["optimizer"]
    p = np.asarray(numbers["theta"])
    g = np.asarray(numbers["grad"])
    lr = hyper["lr"] * numbers.get("lr_multiplier", 1.0)
    step = np.asarray(numbers["step"])
    momentum = lookahead = None
    if key in ("momentum", "nag"):
        momentum = -lr * hyper["momentum"] * np.asarray(numbers["before"]["buf"])
        if key == "nag":
            lookahead = np.asarray(numbers["lookahead"])
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
    fig.update_layout(height=430, width=None, margin=dict(l=60, r=10, t=40, b=50),
                      legend=dict(orientation="h", x=0.0, y=1.0, yanchor="bottom"))
    fig.update_xaxes(range=[p[0] - half, p[0] + half])
    fig.update_yaxes(range=[p[1] - half, p[1] + half])
    add_step_arrows(fig, p, g, momentum=momentum, lookahead=lookahead, step=step, scale=lr)
    # labels of arrows that end at the same point (GD: −γ·g is the step) must not overlap
    seen: list[tuple[float, float]] = []
    for ann in fig.layout.annotations:
        if ann.text:
            here = (ann.x, ann.y)
            if any(math.hypot(here[0] - a, here[1] - c) < 0.08 * half for a, c in seen):
                ann.yshift = -14 - 18 * sum(
                    math.hypot(here[0] - a, here[1] - c) < 0.08 * half for a, c in seen)
            seen.append(here)
    return fig
