"""Learning-rate lab: phase diagrams, basins of attraction, schedules, and SGD on a real loss.

Four views (the URL's ``view``):

* phase — a heat map over learning rate × a second hyper-parameter of one optimizer on one
  surface (engine.lab.phase_diagram, one batched run); on a quadratic, GD / momentum / NAG
  get their closed-form stability limit drawn over it, and the page checks they agree; a
  click on a cell opens that run in the race;
* basins — which minimum each start reaches, two optimizers side by side
  (engine.descent.basin_map); a click on a start opens it in the race;
* schedules — lr(t) of every learning-rate schedule with its parameters;
* sgd — batch, mini-batch and stochastic gradient descent on linear or logistic regression
  (app_pages/lab_sgd.py).

Thin page: widgets (bound to the URL by app_pages/lesson_state.py) -> cached engine work
(app_pages/lab_compute.py) -> viz.lab figures -> st.plotly_chart.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import lab_compute as lc
from app_pages import lab_sgd
from app_pages import lesson_state as ls
from app_pages import race_compute as rcomp
from app_pages import race_state as rs
from app_pages import registry_texts as rt
from engine import expression, lab, optimizers, schedules
from engine.surfaces import SURFACES
from texts import t
from viz import lab as vl
from viz.style import PLOTLY_CONFIG, num

PREFIX = "lab"
VIEWS = ("phase", "basins", "schedules", "sgd")
PHASE, BASINS, SCHED = ("phase",), ("basins",), ("schedules",)
PLACE_VIEWS = ("phase", "schedules")
MULTI_MINIMA = tuple(k for k, s in SURFACES.items()
                     if sum(p.kind in ("global", "local") for p in s.minima) >= 2)
ALL_AXES = tuple(dict.fromkeys(n for k in optimizers.OPTIMIZERS for n in lab.second_axes(k)))
MAX_PAGE_STEPS = lab.MAX_PHASE_STEPS
F = ls.Field
FIELDS = [
    F("view", "phase", "choice", options=VIEWS),
    F("s", "elongated_bowl", "choice", options=(*SURFACES, rs.CUSTOM), views=PLACE_VIEWS),
    F("f", rs.DEFAULT_FORMULA, "text", max_length=rs.MAX_FORMULA, views=PLACE_VIEWS),
    *[F(f"d{i}", rs.DEFAULT_DOMAIN[i], low=-rs.DOMAIN_LIMIT, high=rs.DOMAIN_LIMIT,
        views=PLACE_VIEWS) for i in range(4)],
    F("o", "momentum", "choice", options=tuple(optimizers.OPTIMIZERS), views=PLACE_VIEWS),
    F("ax", "momentum", "choice", options=ALL_AXES, views=PHASE),
    F("lr0", 1e-3, low=1e-4, high=10.0, views=PHASE),
    F("lr1", 1.0, low=1e-4, high=10.0, views=PHASE),
    F("v0", 0.0, low=0.0, high=1.0, views=PHASE),
    F("v1", 0.99, low=0.0, high=1.0, views=PHASE),
    F("nlr", 40, "int", low=8, high=lab.MAX_AXIS, views=PHASE),
    F("nv", 24, "int", low=2, high=60, views=PHASE),
    F("n", 300, "int", low=10, high=MAX_PAGE_STEPS, views=PHASE),
    F("tol", 1e-3, low=1e-8, high=1.0, views=PHASE),
    F("x", -1.8, low=-rs.DOMAIN_LIMIT, high=rs.DOMAIN_LIMIT, views=PHASE),
    F("y", 1.0, low=-rs.DOMAIN_LIMIT, high=rs.DOMAIN_LIMIT, views=PHASE),
    F("col", "loss", "choice", options=("loss", "steps"), views=PHASE),
    F("ci", -1, "int", low=-1, high=lab.MAX_AXIS, views=PHASE),
    F("cj", -1, "int", low=-1, high=lab.MAX_AXIS, views=PHASE),
    F("bs", "two_wells", "choice", options=MULTI_MINIMA, views=BASINS),
    F("bo1", "gd", "choice", options=tuple(optimizers.OPTIMIZERS), views=BASINS),
    F("bo2", "momentum", "choice", options=tuple(optimizers.OPTIMIZERS), views=BASINS),
    F("blr1", 0.01, low=1e-4, high=10.0, views=BASINS),
    F("blr2", 0.01, low=1e-4, high=10.0, views=BASINS),
    F("bn", 50, "int", low=10, high=80, views=BASINS),
    F("bst", 300, "int", low=10, high=MAX_PAGE_STEPS, views=BASINS),
    F("bx", 0.0, low=-rs.DOMAIN_LIMIT, high=rs.DOMAIN_LIMIT, views=BASINS),
    F("by", 0.0, low=-rs.DOMAIN_LIMIT, high=rs.DOMAIN_LIMIT, views=BASINS),
    F("bsel", 0, "int", low=0, high=1, views=BASINS),
    F("st", 300, "int", low=10, high=rs.MAX_STEPS, views=SCHED),
    F("slr", 0.1, low=1e-4, high=10.0, views=SCHED),
    F("sy", "linear", "choice", options=("linear", "log"), views=SCHED),
    *[F(f"sp.{kind}.{p.name}", p.default, "int" if p.kind == "int" else "float",
        low=p.slider_min, high=p.slider_max, views=SCHED)
      for kind, spec in schedules.SCHEDULES.items() for p in spec.params],
    *lab_sgd.FIELDS,
]
ss = st.session_state
K = lambda name: ls.session_key(PREFIX, name)  # noqa: E731 - a short alias for widget keys
CHART_CONFIG = {**PLOTLY_CONFIG, "displayModeBar": False}  # the lab's maps need no zoom tools
TOLERANCES = (1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def notice(message: str) -> None:
    st.warning(message, icon=":material/link_off:")


def clamp_field(name: str, low: float, high: float, label: str | None = None) -> None:
    """Keep a session value in [low, high]; say so when the address asked for something
    else (a default that does not fit this surface or optimizer is moved silently)."""
    value = ss[K(name)]
    clean = type(value)(min(max(value, low), high))
    if clean != value:
        ss[K(name)] = clean
        if name in st.query_params:
            notice(t("lab.clamped", name=label or name, raw=str(value), value=str(clean)))


# ----------------------------------------------------------------------------- surfaces


def place_controls(container) -> lc.Place | None:
    """Surface select (and the typed formula with its domain): the Place, or None with a
    message when the formula cannot be used."""
    container.selectbox(t("lab.surface"), options=(*SURFACES, rs.CUSTOM), key=K("s"),
                        on_change=_on_surface,
                        format_func=lambda k: t("lab.custom_surface") if k == rs.CUSTOM
                        else rt.surface_title(k))
    if ss[K("s")] != rs.CUSTOM:
        return lc.Place(ss[K("s")])
    container.text_input(t("lab.formula"), key=K("f"), max_chars=rs.MAX_FORMULA,
                         help=t("lab.formula_help"))
    c1, c2 = container.columns(2)
    for i, (col, label) in enumerate(zip((c1, c2, c1, c2), ("x min", "x max", "y min", "y max"),
                                         strict=True)):
        col.number_input(label, key=K(f"d{i}"), format="%g", min_value=-rs.DOMAIN_LIMIT,
                         max_value=rs.DOMAIN_LIMIT)
    domain = custom_domain()
    xmin, xmax, ymin, ymax = domain
    if not (xmin < xmax and ymin < ymax):
        container.error(t("lab.bad_domain"), icon=":material/error:")
        return None
    place = lc.Place(rs.CUSTOM, str(ss[K("f")]).strip(), domain)
    try:
        place.get()
    except expression.ExpressionError as exc:
        container.error(t("lab.formula_refused", message=str(exc)), icon=":material/error:")
        return None
    return place


def custom_domain() -> tuple[float, float, float, float]:
    return tuple(float(ss[K(f"d{i}")]) for i in range(4))


def _on_surface() -> None:
    key = ss[K("s")]
    if key in SURFACES:
        ss[K("x")], ss[K("y")] = (float(v) for v in SURFACES[key].start)
    else:
        xmin, xmax, ymin, ymax = custom_domain()
        ss[K("x")], ss[K("y")] = xmin + 0.8 * (xmax - xmin), ymin + 0.8 * (ymax - ymin)
    for name in ("ci", "cj"):
        ss[K(name)] = -1


def _on_optimizer() -> None:
    axes = lab.second_axes(ss[K("o")])
    ss[K("ax")] = axes[0]
    _on_axis()


def _on_axis() -> None:
    ss[K("v0")], ss[K("v1")] = axis_bounds(ss[K("o")], ss[K("ax")])
    lr = optimizers.OPTIMIZERS[ss[K("o")]].hyper_spec("lr")
    ss[K("lr0")] = max(ss[K("lr0")], lr.slider_min)
    ss[K("lr1")] = min(ss[K("lr1")], lr.slider_max)
    ss[K("ci")] = ss[K("cj")] = -1


def axis_bounds(key: str, name: str) -> tuple[float, float]:
    """The range the second axis may span: the slider range, a decay factor up to 0.99."""
    spec = optimizers.OPTIMIZERS[key].hyper_spec(name)
    high = 0.99 if (spec.max == 1.0 and not spec.max_inclusive) else float(spec.slider_max)
    low = float(spec.slider_min)
    return low, high


# ----------------------------------------------------------------------------- phase view


def phase_sidebar() -> tuple[lc.PhaseSetting | None, str | None]:
    sb = st.sidebar
    sb.subheader(t("lab.setup"))
    place = place_controls(sb)
    sb.selectbox(t("lab.optimizer"), options=list(optimizers.OPTIMIZERS), key=K("o"),
                 format_func=rt.optimizer_title, on_change=_on_optimizer)
    key = ss[K("o")]
    axes = lab.second_axes(key)
    if ss[K("ax")] not in axes:
        notice(t("lab.axis_reset", name=ss[K("ax")], optimizer=rt.optimizer_title(key),
                 value=axes[0]))
        ss[K("ax")] = axes[0]
        _on_axis()
    sb.selectbox(t("lab.second_axis"), options=axes, key=K("ax"), on_change=_on_axis,
                 format_func=lambda n: axis_label(key, n))
    name = ss[K("ax")]
    lr_spec = optimizers.OPTIMIZERS[key].hyper_spec("lr")
    range_controls(sb, "lr0", "lr1", float(lr_spec.slider_min), float(lr_spec.slider_max), True,
                   t("lab.lr_from"), t("lab.lr_to"), "lr", t("lab.lr_range_help"))
    low, high = axis_bounds(key, name)
    spec = optimizers.OPTIMIZERS[key].hyper_spec(name)
    symbol = axis_symbol(key, name)
    range_controls(sb, "v0", "v1", low, high, spec.log_scale, t("lab.axis_from", name=symbol),
                   t("lab.axis_to", name=symbol), name)
    work = int(ss[K("nlr")]) * int(ss[K("nv")]) * int(ss[K("n")])
    if work > lab.MAX_PHASE_WORK:  # before the widgets: their values may still change
        steps = max(10, lab.MAX_PHASE_WORK // (int(ss[K("nlr")]) * int(ss[K("nv")])))
        notice(t("lab.too_much_work", work=f"{work:,}", limit=f"{lab.MAX_PHASE_WORK:,}",
                 steps=steps))
        ss[K("n")] = int(steps)
    c1, c2 = sb.columns(2)
    c1.slider(t("lab.n_lr"), min_value=8, max_value=lab.MAX_AXIS, key=K("nlr"))
    c2.slider(t("lab.n_values"), min_value=2, max_value=60, key=K("nv"))
    sb.number_input(t("lab.steps"), min_value=10, max_value=MAX_PAGE_STEPS, step=50, key=K("n"),
                    help=t("lab.steps_help", max=MAX_PAGE_STEPS))
    tol_options = sorted(set(TOLERANCES) | {float(ss[K("tol")])})
    sb.select_slider(t("lab.tolerance"), options=tol_options, key=K("tol"),
                     format_func=lambda v: f"{v:g}", help=t("lab.tolerance_help"))
    if place is None:
        return None, None
    (xmin, xmax), (ymin, ymax) = lc.domain_of(place)
    clamp_field("x", xmin, xmax, "x")
    clamp_field("y", ymin, ymax, "y")
    c1, c2 = sb.columns(2)
    c1.number_input(t("lab.start_x"), min_value=float(xmin), max_value=float(xmax), key=K("x"),
                    format="%.3f", step=0.1)
    c2.number_input(t("lab.start_y"), min_value=float(ymin), max_value=float(ymax), key=K("y"),
                    format="%.3f", step=0.1)
    lrs = lab.lr_values(ss[K("lr0")], ss[K("lr1")], int(ss[K("nlr")]))
    vlo, vhi = ss[K("v0")], ss[K("v1")]
    nv = int(ss[K("nv")]) if vhi > vlo else 1
    values = lab.axis_values(key, name, vlo, vhi, nv)
    setting = lc.PhaseSetting(place, key, name, tuple(float(v) for v in lrs),
                              tuple(float(v) for v in values),
                              (float(ss[K("x")]), float(ss[K("y")])), int(ss[K("n")]),
                              float(ss[K("tol")]))
    return setting, name


SYMBOLS = {r"\mu": "μ", r"\beta_1": "β₁", r"\beta_2": "β₂", r"\rho": "ρ", r"\epsilon": "ε",
           r"\lambda": "λ", r"\psi": "ψ", r"\tau": "τ", r"\alpha": "α"}


def range_controls(container, lo_name: str, hi_name: str, low: float, high: float, log: bool,
                   lo_label: str, hi_label: str, what: str, help_text: str | None = None) -> None:
    """Two sliders for a range [lo, hi] inside [low, high] (log-spaced choices for a log
    parameter); a link's values outside are clamped, an empty range is reset, both said."""
    clamp_field(lo_name, low, high, lo_name)
    clamp_field(hi_name, low, high, hi_name)
    if ss[K(lo_name)] > ss[K(hi_name)]:
        notice(t("lab.range_swapped", name=what))
        ss[K(lo_name)], ss[K(hi_name)] = ss[K(hi_name)], ss[K(lo_name)]
    elif ss[K(lo_name)] == ss[K(hi_name)]:
        notice(t("lab.range_reset", name=what))
        ss[K(lo_name)], ss[K(hi_name)] = low, high
    extra = (float(ss[K(lo_name)]), float(ss[K(hi_name)]))
    if log:
        options = rcomp.log_grid(low, high, *extra)
    else:
        options = sorted({float(round(v, 6)) for v in np.linspace(low, high, 100)} | set(extra))
    c1, c2 = container.columns(2)
    c1.select_slider(lo_label, options=options[:-1], key=K(lo_name), format_func=_fmt,
                     help=help_text)
    c2.select_slider(hi_label, options=options[1:], key=K(hi_name), format_func=_fmt)


def axis_symbol(key: str, name: str) -> str:
    """The rule's symbol of a hyper-parameter (μ, β₁, ρ, …), else its name."""
    return SYMBOLS.get(optimizers.OPTIMIZERS[key].hyper_spec(name).symbol.strip(), name)


def axis_label(key: str, name: str) -> str:
    """``μ (momentum)``: the rule's symbol, then the parameter's name."""
    symbol = SYMBOLS.get(optimizers.OPTIMIZERS[key].hyper_spec(name).symbol.strip())
    return f"{symbol} ({name})" if symbol else name


def closed_form(setting: lc.PhaseSetting):
    """(limit per row, the curvature L, the condition in LaTeX) when theory applies, else
    (None, L or None, reason key)."""
    hessian = lc.hessian_of(setting.place)
    if hessian is None:
        return None, None, "lab.no_theory_surface"
    eig = np.linalg.eigvalsh(hessian)
    if eig.min() <= 0:
        return None, float(eig.max()), "lab.no_theory_indefinite"
    if setting.key not in lab.CLOSED_FORM_KEYS:
        return None, float(eig.max()), "lab.no_theory_adaptive"
    if setting.name not in ("momentum", "weight_decay"):
        return None, float(eig.max()), "lab.no_theory_axis"
    defaults = optimizers.OPTIMIZERS[setting.key].defaults
    values = np.array(setting.values)
    mu = values if setting.name == "momentum" else defaults.get("momentum", 0.0)
    wd = values if setting.name == "weight_decay" else defaults.get("weight_decay", 0.0)
    limit = lab.stability_limit(setting.key, float(eig.max()), mu, wd)
    limit = np.broadcast_to(limit, values.shape)
    return limit, float(eig.max()), None


THEORY_LATEX = {
    "gd": r"\gamma < \frac{2}{L + \lambda}",
    "momentum": r"\gamma < \frac{2(1+\mu)}{L + \lambda}",
    "nag": r"\gamma < \frac{2(1+\mu)}{(1+2\mu)(L + \lambda)}",
}


def boundary_agreement(sweep, limit) -> tuple[int, int]:
    """(rows whose measured divergence boundary lies within one cell of theory, rows)."""
    lrs = np.asarray(sweep.lrs)
    ratio = lrs[1] / lrs[0] if lrs.size > 1 else 1.0
    good = 0
    for i, lim in enumerate(limit):
        unstable = lrs > lim
        clear = (lrs > lim * ratio) | (lrs < lim / ratio)
        good += bool(np.array_equal(sweep.diverged[i][clear], unstable[clear]))
    return good, len(limit)


def handle_cell_click(sweep) -> None:
    event = ss.get("lab_phase_chart")
    try:
        points = list(event["selection"]["points"]) if event else []
    except (KeyError, TypeError):
        points = []
    if not points:
        return
    point = points[-1]
    stamp = (point.get("x"), point.get("y"))
    if stamp == ss.get("lab_last_cell") or not all(isinstance(v, int | float) for v in stamp):
        return
    ss["lab_last_cell"] = stamp
    log_values = optimizers.OPTIMIZERS[ss[K("o")]].hyper_spec(sweep.momentum_name).log_scale
    ys = np.log10(np.maximum(sweep.momenta, 1e-300)) if log_values else sweep.momenta
    i, j = vl.cell_at(stamp[0], stamp[1], np.log10(sweep.lrs), ys)
    ss[K("ci")], ss[K("cj")] = i, j


def phase_view() -> None:
    setting, name = phase_sidebar()
    if setting is None:
        st.info(t("lab.fix_formula"))
        return
    key = setting.key
    bar = st.progress(0.0, text=t("lab.computing")) if setting.work > lc.PROGRESS_WORK else None
    began = time.perf_counter()
    try:
        sweep = lc.phase(setting, None if bar is None else
                         lambda f: bar.progress(f, text=t("lab.computing")))
    except ValueError as exc:
        st.error(t("lab.engine_refused", message=str(exc)), icon=":material/error:")
        return
    seconds = time.perf_counter() - began
    if bar is not None:
        bar.empty()
    handle_cell_click(sweep)
    limit, curvature, reason = closed_form(setting)
    spec = optimizers.OPTIMIZERS[key].hyper_spec(name)
    label = axis_label(key, name)
    ci, cj = int(ss[K("ci")]), int(ss[K("cj")])
    selected = (ci, cj) if 0 <= ci < len(setting.values) and 0 <= cj < len(setting.lrs) \
        else None
    left, right = st.columns([5, 3], gap="medium")
    with left:
        st.segmented_control(t("lab.color_by"), options=("loss", "steps"), key=K("col"),
                             required=True, format_func=lambda v: t(f"lab.color_{v}"))
        fig = vl.phase_figure(sweep, color_by=ss[K("col")] or "loss", axis_label=label,
                              limit=limit, limit_label=t("lab.theory_line"),
                              selected=selected, log_values=spec.log_scale, height=520)
        st.plotly_chart(fig, key="lab_phase_chart", on_select="rerun",
                        selection_mode="points", config=CHART_CONFIG)
        st.caption(t("lab.phase_caption", cells=f"{sweep.diverged.size:,}", steps=setting.steps,
                     work=f"{setting.work:,}", seconds=f"{seconds:.2f}"))
    with right:
        st.markdown(t("lab.phase_intro"))
        if selected is None:
            st.info(t("lab.click_a_cell"), icon=":material/ads_click:")
        else:
            selected_cell(setting, sweep, ci, cj, label)
        n_div = int(sweep.diverged.sum())
        reached = int((sweep.steps_to_tol >= 0).sum())
        st.markdown(t("lab.summary", optimizer=rt.optimizer_title(key), x=num(setting.start[0]),
                      y=num(setting.start[1]), steps=setting.steps, diverged=n_div,
                      reached=reached, cells=sweep.diverged.size, tol=f"{setting.tol:g}",
                      target=num(sweep.target_f)))
        with st.container(border=True, key="lab_theory"):
            if limit is not None:
                st.markdown(t("lab.theory_title", L=num(curvature)))
                st.latex(THEORY_LATEX[key])
                good, rows = boundary_agreement(sweep, limit)
                if good == rows:
                    st.success(t("lab.theory_agrees", rows=rows), icon=":material/check_circle:")
                else:
                    st.warning(t("lab.theory_disagrees", good=good, rows=rows),
                               icon=":material/warning:")
                st.caption(t("lab.theory_caption"))
            else:
                st.markdown(t(reason, L=num(curvature) if curvature is not None else ""))


def selected_cell(setting: lc.PhaseSetting, sweep, i: int, j: int, label: str) -> None:
    lr, value = setting.lrs[j], setting.values[i]
    with st.container(border=True, key="lab_cell"):
        st.markdown(t("lab.cell_title", lr=num(lr), name=label, value=num(value)))
        if sweep.diverged[i, j]:
            st.markdown(t("lab.cell_diverged"))
        else:
            steps = int(sweep.steps_to_tol[i, j])
            st.markdown(t("lab.cell_loss", loss=f"{sweep.final_loss[i, j]:.6g}",
                          reached=t("lab.cell_reached", steps=steps) if steps >= 0
                          else t("lab.cell_unreached", tol=f"{setting.tol:g}")))
        url = lc.race_link(setting.place, [(setting.key, {"lr": lr, setting.name: value})],
                           setting.start, setting.steps)
        st.link_button(t("lab.open_race"), url, icon=":material/open_in_new:",
                       key="lab_cell_race", width="stretch")
        st.caption(t("lab.open_race_help"))


# ----------------------------------------------------------------------------- basins


def _on_basin_surface() -> None:
    surface = SURFACES[ss[K("bs")]]
    for slot in ("1", "2"):
        ss[K(f"blr{slot}")] = rs.default_hypers(ss[K(f"bo{slot}")], surface)["lr"]
    ss[K("bst")] = int(surface.default_steps)
    ss[K("bsel")] = 0


def _on_basin_optimizer(slot: str) -> None:
    surface = SURFACES[ss[K("bs")]]
    ss[K(f"blr{slot}")] = rs.default_hypers(ss[K(f"bo{slot}")], surface)["lr"]


def basins_view() -> None:
    sb = st.sidebar
    sb.subheader(t("lab.setup"))
    sb.selectbox(t("lab.surface"), options=MULTI_MINIMA, key=K("bs"), format_func=rt.surface_title,
                 on_change=_on_basin_surface, help=t("lab.basin_surface_help"))
    surface = SURFACES[ss[K("bs")]]
    for slot in ("1", "2"):
        sb.selectbox(t(f"lab.basin_optimizer{slot}"), options=list(optimizers.OPTIMIZERS),
                     key=K(f"bo{slot}"), format_func=rt.optimizer_title,
                     on_change=_on_basin_optimizer, args=(slot,))
        spec = optimizers.OPTIMIZERS[ss[K(f"bo{slot}")]].hyper_spec("lr")
        clamp_field(f"blr{slot}", spec.slider_min, spec.slider_max, f"blr{slot}")
        grid = rcomp.log_grid(float(spec.slider_min), float(spec.slider_max),
                              float(ss[K(f"blr{slot}")]))
        sb.select_slider(t("lab.basin_lr", name=rt.optimizer_title(ss[K(f"bo{slot}")])),
                         options=grid, key=K(f"blr{slot}"), format_func=_fmt)
    sb.slider(t("lab.basin_grid"), min_value=10, max_value=80, key=K("bn"),
              help=t("lab.basin_grid_help"))
    sb.number_input(t("lab.steps"), min_value=10, max_value=MAX_PAGE_STEPS, step=50,
                    key=K("bst"), help=t("lab.steps_help", max=MAX_PAGE_STEPS))
    st.markdown(t("lab.basins_intro"))
    keys = (ss[K("bo1")], ss[K("bo2")])
    lrs = (float(ss[K("blr1")]), float(ss[K("blr2")]))
    grid_n, steps = int(ss[K("bn")]), int(ss[K("bst")])
    maps = lc.with_progress([lambda k=k, lr=lr: lc.basin(ss[K("bs")], k, lr, grid_n, steps)
                             for k, lr in zip(keys, lrs, strict=True)],
                            2 * grid_n * grid_n * steps, t("lab.computing"))
    handle_basin_click(surface)
    (xmin, xmax), (ymin, ymax) = surface.domain
    chosen = None
    if ss[K("bsel")]:
        clamp_field("bx", xmin, xmax, "bx")
        clamp_field("by", ymin, ymax, "by")
        chosen = (float(ss[K("bx")]), float(ss[K("by")]))
    titles = [f"{rt.optimizer_title(k)} (γ = {num(lr)})" for k, lr in zip(keys, lrs, strict=True)]
    fig = vl.basin_figure(surface, maps, titles, selected=chosen, height=520)
    st.plotly_chart(fig, key="lab_basin_chart", on_select="rerun", selection_mode="points",
                    config=CHART_CONFIG)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        st.dataframe(basin_table(surface, maps, keys), hide_index=True, width="stretch")
        st.caption(t("lab.basin_caption", radius=num(maps[0].radius)))
    with right:
        if chosen is None:
            st.info(t("lab.click_a_start"), icon=":material/ads_click:")
        else:
            with st.container(border=True, key="lab_start_box"):
                st.markdown(t("lab.start_title", x=num(chosen[0]), y=num(chosen[1])))
                url = lc.race_link(lc.Place(ss[K("bs")]),
                                   [(k, {"lr": lr}) for k, lr in zip(keys, lrs, strict=True)],
                                   chosen, int(ss[K("bst")]))
                st.link_button(t("lab.open_race"), url, icon=":material/open_in_new:",
                               key="lab_start_race", width="stretch")
                st.caption(t("lab.open_race_help"))
        st.markdown(t("lab.notes_global_claim"))


def basin_table(surface, maps, keys) -> pd.DataFrame:
    rows = []
    kinds = {i: p for i, p in enumerate(surface.minima)}
    for key, bm in zip(keys, maps, strict=True):
        total = bm.index.size
        glob = sum(int((bm.index == i).sum()) for i, p in kinds.items() if p.kind == "global")
        local = sum(int((bm.index == i).sum()) for i, p in kinds.items() if p.kind == "local")
        div = int(bm.diverged.sum())
        elsewhere = total - glob - local - div
        rows.append({t("lab.col_optimizer"): rt.optimizer_title(key),
                     t("lab.col_global"): f"{100 * glob / total:.0f} %",
                     t("lab.col_local"): f"{100 * local / total:.0f} %",
                     t("lab.col_unconverged"): f"{100 * elsewhere / total:.0f} %",
                     t("lab.col_diverged"): f"{100 * div / total:.0f} %"})
    return pd.DataFrame(rows)


def handle_basin_click(surface) -> None:
    event = ss.get("lab_basin_chart")
    try:
        points = list(event["selection"]["points"]) if event else []
    except (KeyError, TypeError):
        points = []
    if not points:
        return
    point = points[-1]
    stamp = (point.get("x"), point.get("y"))
    if stamp == ss.get("lab_last_start") or not all(isinstance(v, int | float) for v in stamp):
        return
    ss["lab_last_start"] = stamp
    ss[K("bx")], ss[K("by")] = round(float(stamp[0]), 4), round(float(stamp[1]), 4)
    ss[K("bsel")] = 1


# ----------------------------------------------------------------------------- schedules


SCHEDULE_COLORS = {"constant": "#222222", "step": "#D55E00", "exponential": "#0072B2",
                   "inverse_time": "#009E73", "cosine": "#CC79A7"}


def schedules_view() -> None:
    sb = st.sidebar
    sb.subheader(t("lab.setup"))
    sb.number_input(t("lab.sched_steps"), min_value=10, max_value=rs.MAX_STEPS, step=50,
                    key=K("st"), help=t("lab.sched_steps_help"))
    clamp_field("slr", 1e-4, 10.0, "slr")
    sb.select_slider(t("lab.sched_lr"), options=rcomp.log_grid(1e-4, 10.0, float(ss[K("slr")])),
                     key=K("slr"), format_func=_fmt)
    steps, base = int(ss[K("st")]), float(ss[K("slr")])
    curves, params_of = {}, {}
    for kind, spec in schedules.SCHEDULES.items():
        params = {}
        with sb.expander(rt.schedule_title(kind), expanded=kind == "step"):
            for p in spec.params:
                wkey = K(f"sp.{kind}.{p.name}")
                if p.kind == "int":
                    ss[wkey] = int(round(ss[wkey]))
                    st.slider(p.name, min_value=int(p.slider_min), max_value=int(p.slider_max),
                              key=wkey, help=rt.schedule_help(kind, p))
                else:
                    span = float(p.slider_max - p.slider_min)  # a round step: 0.001, 0.01…
                    st.slider(p.name, min_value=float(p.slider_min),
                              max_value=float(p.slider_max), key=wkey, format="%.4g",
                              step=10.0 ** np.floor(np.log10(span / 100.0)),
                              help=rt.schedule_help(kind, p))
                params[p.name] = ss[wkey]
        params_of[kind] = params
        curves[rt.schedule_title(kind)] = base * schedules.make(kind, **params)(np.arange(steps))
    st.markdown(t("lab.sched_intro"))
    left, right = st.columns([5, 3], gap="medium")
    with left:
        st.segmented_control(t("lab.sched_axis"), options=("linear", "log"), key=K("sy"),
                             required=True, format_func=lambda v: t(f"lab.sched_axis_{v}"))
        colors = {rt.schedule_title(k): c for k, c in SCHEDULE_COLORS.items()}
        st.plotly_chart(vl.schedule_figure(curves, colors, base_lr=base,
                                           log_y=ss[K("sy")] == "log"),
                        key="lab_sched_chart", config=CHART_CONFIG)
    with right:
        place = current_place_for_links()
        key = ss[K("o")]
        start = SURFACES[place.surface].start if place.surface in SURFACES else (0.0, 0.0)
        for kind, spec in schedules.SCHEDULES.items():
            with st.container(border=True, key=f"lab_sched_{kind}"):
                st.markdown(f"**{rt.schedule_title(kind)}** — "
                            + t("lab.sched_end", value=num(curves[rt.schedule_title(kind)][-1])))
                st.latex(spec.latex)
        st.markdown(t("lab.sched_race", optimizer=rt.optimizer_title(key),
                      surface=rt.surface_title(place.surface) if place.surface in SURFACES
                      else place.formula))
        cols = st.columns(2)
        for n, kind in enumerate(schedules.SCHEDULES):
            url = lc.race_link(place, [(key, {"lr": base})], start, steps,
                               schedule=lc.schedule_pairs(kind, params_of[kind]))
            cols[n % 2].link_button(rt.schedule_title(kind), url, icon=":material/open_in_new:",
                                    key=f"lab_sched_race_{kind}", width="stretch")


def current_place_for_links() -> lc.Place:
    if ss[K("s")] == rs.CUSTOM:
        return lc.Place(rs.CUSTOM, str(ss[K("f")]).strip(), custom_domain())
    return lc.Place(ss[K("s")])


# ----------------------------------------------------------------------------- page

VIEW_FUNCTIONS = {"phase": phase_view, "basins": basins_view, "schedules": schedules_view,
                  "sgd": lab_sgd.view}


def _reset() -> None:
    ls.reset(PREFIX, FIELDS, keep=("view",))
    for key in ("lab_last_cell", "lab_last_start"):
        ss.pop(key, None)


def complete_link(query: dict) -> None:
    """A link that names a surface or optimizer but not what depends on it gets the values
    the page would choose itself (the surface's start, its suggested learning rates, the
    optimizer's own second axis and range) instead of the other surface's defaults."""
    if "s" in query and not {"x", "y"} & set(query):
        _on_surface()
    if "o" in query and "ax" not in query:
        ss[K("ax")] = lab.second_axes(ss[K("o")])[0]
    if ("o" in query or "ax" in query) and not {"v0", "v1"} & set(query) \
            and ss[K("ax")] in lab.second_axes(ss[K("o")]):
        ss[K("v0")], ss[K("v1")] = axis_bounds(ss[K("o")], ss[K("ax")])
    if "bs" in query:
        surface = SURFACES[ss[K("bs")]]
        for slot in ("1", "2"):
            if f"blr{slot}" not in query:
                ss[K(f"blr{slot}")] = rs.default_hypers(ss[K(f"bo{slot}")], surface)["lr"]
        if "bst" not in query:
            ss[K("bst")] = int(surface.default_steps)


def main() -> None:
    before = ss.get(f"{PREFIX}__written")
    notes = ls.sync(PREFIX, FIELDS)
    if ss.get(f"{PREFIX}__written") is not before:  # a link was just loaded
        complete_link(st.query_params.to_dict())
    st.html("<style>[data-testid='stMainBlockContainer']{padding:2rem 1.5rem 2rem 1.5rem}"
            "</style>")
    top_left, top_right = st.columns([4, 1], vertical_alignment="center")
    top_left.markdown(f"#### {t('lab.title')}")
    top_right.button(t("lesson.reset"), key="lab_reset_defaults", on_click=_reset,
                     icon=":material/restart_alt:", width="stretch")
    st.segmented_control(t("lab.view"), options=VIEWS, key=K("view"), required=True,
                         format_func=lambda v: t(f"lab.view_{v}"), label_visibility="collapsed")
    for name, what, raw, value in notes:
        notice(t(f"lesson.url_{what}", name=name, raw=raw, value=value))
    view = ss[K("view")] if ss[K("view")] in VIEWS else "phase"
    VIEW_FUNCTIONS[view]()
    ls.publish(PREFIX, FIELDS, view)


main()
