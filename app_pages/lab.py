"""Learning-rate lab: phase diagrams, basins of attraction, schedules, and SGD on a real loss.

Four views (the URL's ``view``):

* phase — a heat map over learning rate × a second hyper-parameter of one optimizer on one
  surface (engine.lab.phase_diagram, one batched run); on a quadratic, GD / momentum / NAG
  get their closed-form stability limit drawn over it, and the page checks they agree; a
  click on a cell opens that run in the race;
* basins — which minimum each start reaches, two optimizers side by side
  (engine.descent.basin_map); a click on a start opens it in the race
  (app_pages/lab_basins.py);
* schedules — lr(t) of every learning-rate schedule with its parameters
  (app_pages/lab_schedules.py);
* sgd — batch, mini-batch and stochastic gradient descent on linear or logistic regression
  (app_pages/lab_sgd.py).

Thin page: widgets (bound to the URL by app_pages/lesson_state.py; the phase view's here,
the others' in their modules) -> cached engine work (app_pages/lab_compute.py) -> viz.lab
and viz.regression figures -> st.plotly_chart. Shared widget helpers: lab_widgets.py.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from app_pages import lab_basins, lab_schedules, lab_sgd, race_work, share
from app_pages import lab_compute as lc
from app_pages import lesson_state as ls
from app_pages import race_state as rs
from app_pages import registry_texts as rt
from app_pages.lab_widgets import (
    CHART_CONFIG,
    PREFIX,
    K,
    clamp_field,
    custom_domain,
    fmt,
    new_click,
    notice,
    ss,
)
from engine import expression, lab, optimizers
from engine.surfaces import SURFACES
from texts import t
from viz import lab as vl
from viz.style import num

VIEWS = ("phase", "basins", "schedules", "sgd")
PHASE = ("phase",)
PLACE_VIEWS = ("phase", "schedules")
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
    *lab_basins.FIELDS,
    *lab_schedules.FIELDS,
    *lab_sgd.FIELDS,
]
TOLERANCES = (1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1)


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
        container.error(t("lab.formula_refused", message=rt.error_message(exc)),
                        icon=":material/error:")
        return None
    return place


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
        options = race_work.log_grid(low, high, *extra)
    else:
        options = sorted({float(round(v, 6)) for v in np.linspace(low, high, 100)} | set(extra))
    c1, c2 = container.columns(2)
    c1.select_slider(lo_label, options=options[:-1], key=K(lo_name), format_func=fmt,
                     help=help_text)
    c2.select_slider(hi_label, options=options[1:], key=K(hi_name), format_func=fmt)


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
    stamp = new_click("lab_phase_chart", "lab_last_cell")
    if stamp is None:
        return
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


# ----------------------------------------------------------------------------- page

VIEW_FUNCTIONS = {"phase": phase_view, "basins": lab_basins.view,
                  "schedules": lab_schedules.view, "sgd": lab_sgd.view}


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
    lab_basins.complete_link(query)


def main() -> None:
    before = ss.get(f"{PREFIX}__written")
    notes = ls.sync(PREFIX, FIELDS)
    if ss.get(f"{PREFIX}__written") is not before:  # a link was just loaded
        complete_link(st.query_params.to_dict())
    st.html("<style>[data-testid='stMainBlockContainer']{padding:2rem 1.5rem 2rem 1.5rem}"
            "</style>")
    top_left, top_right = st.columns([4, 1.4], vertical_alignment="center")
    top_left.markdown(f"#### {t('lab.title')}")
    with top_right.container(horizontal=True, vertical_alignment="center"):
        st.button(t("lesson.reset"), key="lab_reset_defaults", on_click=_reset,
                  icon=":material/restart_alt:")
        share.button()
    st.segmented_control(t("lab.view"), options=VIEWS, key=K("view"), required=True,
                         format_func=lambda v: t(f"lab.view_{v}"), label_visibility="collapsed")
    for name, what, raw, value in notes:
        notice(t(f"lesson.url_{what}", name=name, raw=raw, value=value))
    view = ss[K("view")] if ss[K("view")] in VIEWS else "phase"
    VIEW_FUNCTIONS[view]()
    ls.publish(PREFIX, FIELDS, view)


main()
