"""Optimizer race: optimizers descend a loss surface side by side, animated in the browser.

Thin page: widgets (app_pages/race_controls.py, URL layer race_state.py) -> engine
(descent.run, cached) -> viz.race figures -> st.*.  The animation is Plotly frames, so
Play, Pause, the frame slider and the speed buttons never call the server.
"""

from __future__ import annotations

import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages import race_controls as rc
from app_pages import race_state as rs
from app_pages import registry_texts as rt
from engine import optimizers
from engine.scenarios import SCENARIOS
from engine.surfaces import SURFACES
from texts import current_language, t
from viz import race as vr

ss = st.session_state


# ----------------------------------------------------------------------------- cached work


def _core(exp: rs.Experiment) -> rs.Experiment:
    """The part of the experiment that changes the numbers (not the scenario label)."""
    return replace(exp, scenario="")


# The cached computations live in race_controls (a module, imported once): decorating a
# function with st.cache_data inside the page would rebuild its cache key from the source on
# every rerun.
run_race = rc.run_race
surface_grid = rc.surface_grid
race_figure_dict = rc.race_figure_dict
curve_dicts = rc.curve_dicts


class PrebuiltFigure(go.Figure):
    """A figure whose ``to_dict`` is a cached dict: st.plotly_chart skips re-validating it."""

    def __init__(self, figure_dict: dict):
        # no go.Figure.__init__: it builds a default template (~5 ms a chart) that
        # st.plotly_chart never reads; it calls only to_dict
        object.__setattr__(self, "_prebuilt", figure_dict)

    def to_dict(self) -> dict:
        return self._prebuilt


@st.cache_data(max_entries=64, show_spinner=False)
def step_figure_dict(exp: rs.Experiment, names: tuple, b: int, k: int, lang: str) -> dict:
    """The zoomed step map (``lang`` keys the cache: its labels are in that language)."""
    result = run_race(exp, "full")
    key = exp.optimizer_keys[b]
    numbers = vr.step_numbers(result, k, b, 0, key, hyper=exp.hyper(key))
    return step_figure(exp, rc.surface_of(exp), result, b, key, numbers).to_dict()


def build_race_figure(exp: rs.Experiment, names: tuple, show_3d: bool) -> go.Figure:
    """The race map as a go.Figure (the HTML download): the same dict the page shows."""
    return go.Figure(race_figure_dict(exp, names, show_3d, current_language()))


# ----------------------------------------------------------------------------- helpers


SHORT_NAMES = {"gd": "GD", "nag": "NAG"}  # the long titles would not fit one legend line


def names_of(exp: rs.Experiment) -> tuple[str, ...]:
    return tuple(SHORT_NAMES.get(k) or rt.optimizer_title(k) for k in exp.optimizer_keys)


def handle_map_click(exp_domain) -> None:
    """A click on the map (the invisible grid, or any point) moves the start there."""
    event = ss.get("map")
    points = []
    try:
        points = list(event["selection"]["points"]) if event else []
    except (KeyError, TypeError):
        points = []
    if not points:
        return
    point = points[-1]
    stamp = (point.get("x"), point.get("y"), point.get("curve_number"))
    if stamp == ss.get("race_last_click"):
        return
    ss["race_last_click"] = stamp
    x, y = point.get("x"), point.get("y")
    if isinstance(x, int | float) and isinstance(y, int | float):
        rc.apply_click(ss, float(x), float(y), exp_domain)


def sync_url(exp: rs.Experiment) -> None:
    current = st.query_params.to_dict()
    wanted = {k: v for k, v in current.items() if k in rs.FOREIGN}
    wanted.update(rs.to_query(exp))
    if wanted != current:
        st.query_params.from_dict(wanted)


def suggest_lr(exp: rs.Experiment, key: str) -> str:
    lr = exp.hyper(key).get("lr", 0.0)
    return f"{lr / 4:.2g}"


def explain_step(exp, surface, result) -> None:
    keys = exp.optimizer_keys
    c1, c2 = st.columns([1, 2], gap="medium")
    b = c1.selectbox(t("race.explain_optimizer"), options=range(len(keys)), key="ex_opt",
                     format_func=lambda i: rt.optimizer_title(keys[i]))
    b = 0 if b is None or b >= len(keys) else b
    key = keys[b]
    spec = optimizers.OPTIMIZERS[key]
    last = int(result.n_valid[b]) - 2  # last step whose end point is finite
    if last < 0:
        st.info(t("race.explain_none"))
        return
    if ss.get("ex_k", 0) > last:
        ss["ex_k"] = last
    k = c2.slider(t("race.explain_step"), min_value=0, max_value=max(last, 1), key="ex_k",
                  disabled=last < 1)
    k = min(k, last)
    numbers = vr.step_numbers(result, k, b, 0, key, hyper=exp.hyper(key))
    # the rule and its numbers use the full width: the substituted lines are long
    st.markdown(t("race.explain_rule", title=rt.optimizer_title(key)))
    st.latex(spec.latex)
    st.markdown(t("race.explain_numbers", k=k))
    st.latex(vr.latex_with_numbers(spec, numbers))
    c1, c2 = st.columns([1, 1], gap="medium")
    with c1:
        st.plotly_chart(PrebuiltFigure(step_figure_dict(_core(exp), names_of(exp), b, k,
                                                         current_language())),
                        key="ex_map", config=vr.PLOTLY_CONFIG)
    with c2:
        rows = {
            t("race.q_point"): numbers["theta"],
            t("race.q_grad"): numbers["grad"],
            t("race.q_elr"): numbers["effective_lr"],
            t("race.q_step"): numbers["step"],
            t("race.q_new"): numbers["new_theta"],
        }
        for field, value in numbers["after"].items():
            if len(value) == 2:
                rows[t("race.q_state", name=field)] = value
        table = pd.DataFrame(rows, index=["x", "y"]).T
        st.dataframe(table, width="stretch", column_config={
            c: st.column_config.NumberColumn(format="%.4g") for c in ("x", "y")})
        st.caption(t("race.explain_loss", k=k, before=f"{numbers['loss']:.5g}",
                     after=f"{numbers['new_loss']:.5g}"))
        if spec.notes_diff:
            with st.container(border=True):
                st.markdown(t("race.notes_diff") + " " + spec.notes_diff)


def step_figure(exp, surface, result, b, key, numbers):
    """The map zoomed on step k with −γ·g, the momentum part / look-ahead and the real step.

    Only the explained run is drawn, on a contour sampled over the zoomed window (so the
    contour lines, perpendicular to the gradient, are visible at any zoom).
    """
    p = np.asarray(numbers["theta"])
    g = np.asarray(numbers["grad"])
    lr = exp.hyper(key)["lr"] * numbers.get("lr_multiplier", 1.0)
    step = np.asarray(numbers["step"])
    momentum = lookahead = None
    if key in ("momentum", "nag"):
        momentum = -lr * exp.hyper(key)["momentum"] * np.asarray(numbers["before"]["buf"])
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
    fig = vr.race_figure(surface, (xs, ys, z), one, [names_of(exp)[b]],
                         [vr.OPTIMIZER_COLORS[key]], start=exp.start, max_frames=2,
                         click_grid_n=2, symbols=[vr.OPTIMIZER_SYMBOLS[key]])
    fig.frames = ()
    fig.layout.updatemenus = ()
    fig.layout.sliders = ()
    idx = vr.race_trace_indices(1)
    for i in [*idx["critical"], idx["start"]]:
        fig.data[i].showlegend = False
    fig.update_layout(height=430, margin=dict(l=60, r=10, t=40, b=50),
                      legend=dict(orientation="h", x=0.0, y=1.0, yanchor="bottom"))
    fig.update_xaxes(range=[p[0] - half, p[0] + half])
    fig.update_yaxes(range=[p[1] - half, p[1] + half])
    vr.add_step_arrows(fig, p, g, momentum=momentum, lookahead=lookahead, step=step, scale=lr)
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


def about(exp, surface) -> None:
    if exp.surface in SURFACES:
        title, story = rt.surface_title(exp.surface), rt.surface_story(exp.surface)
    else:  # a typed formula: its title is the formula itself
        title, story = surface.title, surface.story
    st.markdown(t("race.about_surface", title=title, story=story))
    for key in exp.optimizer_keys:
        st.markdown(f"**{rt.optimizer_title(key)}** — {rt.optimizer_summary(key)}")
        st.latex(optimizers.OPTIMIZERS[key].latex)
    st.markdown(t("race.about_reading"))


# ----------------------------------------------------------------------------- page

if "race_exp" not in ss:
    loaded, url_notes = rs.from_query(st.query_params.to_dict(), rc.schedule_specs())
    rc.load(ss, loaded)
    ss["race_exp"] = ss["race_loaded"] = loaded
    ss["race_notes"] = url_notes
else:
    rc.fill_missing(ss, ss["race_exp"])

handle_map_click(rc.domain_of(ss["race_exp"]))
formula_error = rc.sidebar(ss)
exp = rc.experiment_from_widgets(ss)
ss["race_exp"] = exp
sync_url(exp)

# a projector has 720 px: less empty space above the title, so the map and Play fit
st.html("<style>[data-testid='stMainBlockContainer']{padding:2.6rem 1.5rem 2rem 1.5rem}</style>")
st.markdown(f"#### {t('race.title')}")
if ss.get("race_notes") and exp == ss.get("race_loaded"):
    st.warning(t("common.bad_url", names=", ".join(ss["race_notes"])), icon=":material/link_off:")

if not exp.optimizers:
    st.info(t("race.no_optimizer"))
    st.stop()

# a typed formula that cannot be used: keep racing on the last surface that worked
shown = exp
if formula_error:
    shown = ss.get("race_last_ok") or rs.default_experiment()
    shown = replace(shown, optimizers=exp.optimizers, steps=exp.steps, noise=exp.noise,
                    seed=exp.seed, schedule=exp.schedule, scenario="")
    st.error(t("race.formula_fallback"), icon=":material/error:")
surface = rc.surface_of(shown)
core = _core(shown)
grid = surface_grid(shown.surface, shown.formula, shown.domain)
if not np.isfinite(surface.f(np.asarray(shown.start, dtype=float))):
    st.error(t("race.start_undefined"), icon=":material/error:")
if not formula_error:
    ss["race_last_ok"] = exp

result = run_race(core)
names = names_of(shown)
show_3d = bool(ss.get("v3d", False))
colors = [vr.OPTIMIZER_COLORS[k] for k in shown.optimizer_keys]

left, right = st.columns([5, 3], gap="small")
with left:
    race_fig = PrebuiltFigure(race_figure_dict(core, names, show_3d, current_language()))
    if show_3d:
        st.plotly_chart(race_fig, key="map3d", config=vr.PLOTLY_CONFIG)
    else:
        st.plotly_chart(race_fig, key="map", on_select="rerun", selection_mode="points",
                        config=vr.PLOTLY_CONFIG)

with right:
    if shown.scenario in SCENARIOS:
        st.info(f"**{rt.scenario_title(shown.scenario)}** — {rt.scenario_watch(shown.scenario)}",
                icon=":material/visibility:")
    for b in np.flatnonzero(result.diverged):
        key = shown.optimizer_keys[b]
        st.warning(t("race.diverged_note", name=names[b], step=int(result.diverged_at[b]),
                     lr=suggest_lr(shown, key)), icon=":material/close:")
    # lazy tabs: only the open one is computed and drawn (a slider change redraws less)
    tab_loss, tab_grad, tab_table = st.tabs(
        [t("race.tab_loss"), t("race.tab_grad"), t("race.tab_table")], key="tab",
        on_change="rerun")
    if tab_loss.open or tab_grad.open:
        loss_dict, grad_dict = curve_dicts(core, names, current_language())
    if tab_loss.open:
        with tab_loss:
            st.plotly_chart(PrebuiltFigure(loss_dict), key="loss", config=vr.PLOTLY_CONFIG)
    if tab_grad.open:
        with tab_grad:
            st.plotly_chart(PrebuiltFigure(grad_dict), key="gradnorm", config=vr.PLOTLY_CONFIG)
    if tab_table.open:
        with tab_table:
            tol = st.select_slider(t("race.tolerance"),
                                   options=[1e-6, 1e-4, 1e-3, 1e-2, 1e-1], value=1e-3,
                                   key="tol", format_func=lambda v: f"{v:g}")
            st.dataframe(vr.summary_frame(surface, result, list(names), tol=tol),
                         hide_index=True, width="stretch")
    d1, d2 = st.columns(2)
    d1.download_button(t("race.download_csv"), data=lambda: vr.runs_csv(result, list(names)),
                       file_name="descent_lab_race.csv", mime="text/csv", on_click="ignore",
                       icon=":material/download:", width="stretch", key="dl_csv")
    d2.download_button(t("race.download_html"),
                       data=lambda: vr.standalone_html(build_race_figure(core, names, False)),
                       file_name="descent_lab_race.html", mime="text/html", on_click="ignore",
                       icon=":material/download:", width="stretch", key="dl_html")
    st.caption(t("race.share_hint"))

# lazy: the contents run only while open, and the open state survives reruns (key)
explain_box = st.expander(t("race.explain"), icon=":material/school:", key="ex_open",
                          on_change="rerun")
if explain_box.open:
    with explain_box:
        # the optimizer states are recorded only for this panel (record="full")
        explain_step(shown, surface, run_race(core, "full"))

about_box = st.expander(t("race.about"), icon=":material/menu_book:", key="about_open",
                        on_change="rerun")
if about_box.open:
    with about_box:
        about(shown, surface)

