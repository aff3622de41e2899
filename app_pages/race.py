"""Optimizer race: optimizers descend a loss surface side by side, animated in the browser.

Thin page. The sidebar sets up the race (app_pages/race_controls.py; a change reruns the
page). Everything in the main area is one fragment, so a learning rate, an optimizer or
the start reruns only it: widgets -> engine (cached, app_pages/race_compute.py) -> arrays
-> the canvas (app_pages/canvas.py), which keeps the map and the curves alive in the
browser. Play, Pause, the step slider, the speeds and the learning-rate scrub run there
without the server.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app_pages import canvas, present, race_work, share
from app_pages import race_compute as rcomp
from app_pages import race_controls as rc
from app_pages import race_state as rs
from app_pages import registry_texts as rt
from app_pages import url_values as uv
from engine import optimizers
from engine.scenarios import SCENARIOS
from engine.surfaces import SURFACES
from texts import t
from viz import race_canvas, race_curves, race_explain, race_export, race_figure, race_map
from viz.style import PLOTLY_CONFIG, fonts

ss = st.session_state
SHORT_NAMES = {"gd": "GD", "nag": "NAG"}  # the long titles would not fit one legend line


def names_of(exp: rs.Experiment) -> tuple[str, ...]:
    return tuple(SHORT_NAMES.get(k) or rt.optimizer_title(k) for k in exp.optimizer_keys)


def sync_url(exp: rs.Experiment) -> None:
    current = st.query_params.to_dict()
    wanted = {k: v for k, v in current.items() if k in rs.FOREIGN}
    wanted.update(rs.to_query(exp))
    present.sync_url(wanted, ss)
    if wanted != current:
        st.query_params.from_dict(wanted)


def suggest_lr(exp: rs.Experiment, key: str) -> str:
    lr = exp.hyper(key).get("lr", 0.0)
    return f"{lr / 4:.2g}"


# ----------------------------------------------------------------------------- canvas


def on_lr(value) -> None:
    if isinstance(value, dict):
        rc.apply_lr(ss, str(value.get("key")), float(value.get("value", np.nan)))


def on_click(value) -> None:
    if isinstance(value, dict) and "race_exp" in ss:
        x, y = value.get("x"), value.get("y")
        if isinstance(x, int | float) and isinstance(y, int | float):
            rc.apply_click(ss, float(x), float(y), rcomp.domain_of(ss["race_exp"]))


def race_map_canvas(shown: rs.Experiment, result, names, presenting: bool) -> None:
    """The map, its playback bar and the learning-rate sliders: one canvas."""
    core = rcomp.core(shown)
    surface = rcomp.surface_of(shown)
    show_3d = bool(ss.get("v3d", False))
    keys = shown.optimizer_keys
    grids = {k: race_work.lr_grid(k) for k in keys}
    lrs = [shown.hyper(k)["lr"] for k in keys]
    view = race_map.view_ranges(surface)
    stops = [race_work.stop_reason(surface, result, b) for b in range(len(keys))]
    runs = race_canvas.run_data(result, keys, names, rcomp.styles_of(shown), lrs, grids, view,
                                stops)
    for run, key in zip(runs, keys, strict=True):
        run["sweep"] = rcomp.sweep_asset(rcomp.sweep_setting(core, key))
    surface_asset = rcomp.surface_asset(shown.surface, shown.formula, shown.domain, show_3d,
                                        race_canvas.surface_words())
    start_f = float(np.nan_to_num(surface.f(np.asarray(shown.start, dtype=float))))
    f = fonts(presenting)
    payload = {
        "view": "race",
        "sig": repr(core) + str(show_3d),
        "surface_id": surface_asset.id,
        "surface": surface_asset,
        "start": {"x": shown.start[0], "y": shown.start[1], "f": start_f,
                  "hover": t("race_viz.start_hover",
                             point=f"({shown.start[0]:.3g}, {shown.start[1]:.3g})")},
        "steps": shown.steps,
        "runs": runs,
        "present": presenting,
        "fonts": {"tick": f.tick, "label": f.label, "legend": f.legend},
        "text": race_canvas.texts(),
    }
    canvas.mount("race_map", payload, events={"lr": on_lr, "click": on_click})


def curves_canvas(key: str, figure: dict, scrub: str | None, presenting: bool) -> None:
    """A curve chart that follows the map: a cursor at the played step and, for the loss,
    the path being previewed on a learning-rate slider."""
    payload = {"view": "plot", "figure": figure, "height": 380 if presenting else 330,
               "race": {"scrub": scrub,
                        "f_star": figure["layout"].get("meta", {}).get("f_star")}}
    canvas.mount(key, payload)


# ----------------------------------------------------------------------------- panels


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
    numbers = race_explain.step_numbers(result, k, b, 0, key, hyper=exp.hyper(key))
    # the rule and its numbers use the full width: the substituted lines are long
    st.markdown(t("race.explain_rule", title=rt.optimizer_title(key)))
    st.latex(spec.latex)
    st.markdown(t("race.explain_numbers", k=k))
    st.latex(race_explain.latex_with_numbers(spec, numbers))
    c1, c2 = st.columns([1, 1], gap="medium")
    with c1:
        style = rcomp.styles_of(exp)[b]
        st.plotly_chart(race_explain.step_figure(surface, result, b, names_of(exp)[b], style,
                                                 numbers, exp.start),
                        key="ex_map", config=PLOTLY_CONFIG)
    with c2:
        st.markdown(race_explain.quantities_table(spec, numbers))
        st.caption(t("race.explain_loss", k=k, before=f"{numbers['loss']:.5g}",
                     after=f"{numbers['new_loss']:.5g}"))
        st.caption(t("teach.symbols_note"))
        if rt.optimizer_notes_diff(key):
            with st.container(border=True):
                st.markdown(t("race.notes_diff") + " " + rt.optimizer_notes_diff(key))


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


def page_style() -> None:
    # a projector has 720 px: little empty space above the title, so the map and Play fit;
    # in a narrow window (browser zoom) the title row breaks into two (title and Present,
    # then the optimizers on a line of their own) and the curves go under the map
    st.html("<style>[data-testid='stMainBlockContainer']{padding:2rem 1.5rem}"
            "@media (max-width:1100px){.st-key-race_header [data-testid='stHorizontalBlock']"
            "{flex-wrap:wrap}.st-key-race_header [data-testid='stColumn']:nth-child(2)"
            "{order:3;flex:1 1 100%;min-width:100%}}"
            # below 1000 px the curves go under the map: side by side they had 210 px
            "@media (max-width:1000px){.st-key-race_body>div>[data-testid='stHorizontalBlock']"
            "{flex-wrap:wrap}.st-key-race_body>div>[data-testid='stHorizontalBlock']>"
            "[data-testid='stColumn']{flex:1 1 100%;min-width:100%}}"
            ".st-key-race_watch [data-testid='stAlertContainer']{max-height:36vh;"
            "overflow-y:auto}</style>")
    present.style(ss)


def header() -> None:
    """Title, the optimizers in the race, and Present: one row, so the map starts high.
    A change here reruns the page (the fragment reads the optimizers from the state)."""
    with st.container(key="race_header"):
        title, picker, toggle = st.columns([1.25, 3.35, 1.2], vertical_alignment="center")
    # the title wraps between words rather than being cut ("Opti…" at 150 % zoom)
    title.markdown(f"<h4 style='margin:0'>{t('race.title')}</h4>", unsafe_allow_html=True)
    with picker:
        rc.optimizer_picker()
    with toggle.container(horizontal=True, vertical_alignment="center"):
        present.toggle()
        share.button()


# ----------------------------------------------------------------------------- the fragment


@st.fragment
def race_panel() -> None:
    rc.fill_missing(ss, ss["race_exp"])
    exp = rc.experiment_from_widgets(ss)
    ss["race_exp"] = exp
    presenting = present.on(ss)
    sync_url(exp)
    if ss.get("race_notes") and exp == ss.get("race_loaded"):
        st.warning(uv.messages(ss["race_notes"]), icon=":material/link_off:")

    formula_error = ss.get("race_formula_error")
    shown = exp
    if formula_error:  # a typed formula that cannot be used: the last surface that worked
        last_ok = ss.get("race_last_ok")
        shown = last_ok or rs.default_experiment()
        shown = replace(shown, optimizers=exp.optimizers, steps=exp.steps, noise=exp.noise,
                        seed=exp.seed, schedule=exp.schedule, scenario="")
        st.error(t("race.formula_fallback") if last_ok else t(
            "teach.formula_fallback_default", surface=rt.surface_title(shown.surface)),
                 icon=":material/error:")
    elif exp.optimizers:
        ss["race_last_ok"] = exp
    surface = rcomp.surface_of(shown)
    if not np.isfinite(surface.f(np.asarray(shown.start, dtype=float))):
        st.error(t("race.start_undefined"), icon=":material/error:")

    if not shown.optimizers:
        st.info(t("race.no_optimizer"))
        return
    with st.container(key="race_body"):
        left, right = st.columns([3, 2] if presenting else [5, 3], gap="small")
    core = rcomp.core(shown)
    result = rcomp.run_race(core)
    names = names_of(shown)
    with left:
        race_map_canvas(shown, result, names, presenting)
        if not presenting:
            rc.start_controls()

    with right:
        if shown.scenario in SCENARIOS:
            # a long story scrolls inside its box: the curves' tabs stay on a 720 p screen
            with st.container(key="race_watch"):
                st.info(f"**{rt.scenario_title(shown.scenario)}** — "
                        f"{rt.scenario_watch(shown.scenario)}", icon=":material/visibility:")
        for b in np.flatnonzero(result.diverged):
            key = shown.optimizer_keys[b]
            reason = race_work.stop_reason(surface, result, b)  # "start": said above already
            if reason == "diverged":
                st.warning(t("race.diverged_note", name=names[b], step=int(result.diverged_at[b]),
                             lr=suggest_lr(shown, key)), icon=":material/close:")
            elif reason == "undefined":
                st.warning(t("teach.stopped_undefined", name=names[b],
                             step=int(result.diverged_at[b])), icon=":material/block:")
        # lazy tabs: only the open one is computed and drawn (a change redraws less)
        tab_loss, tab_grad, tab_table, tab_settings = st.tabs(
            [t("race.tab_loss"), t("race.tab_grad"), t("race.tab_table"),
             t("race.tab_settings")], key="tab", on_change="rerun")
        if tab_loss.open or tab_grad.open:
            loss_dict, grad_dict = rcomp.curve_dicts(core, names, presenting,
                                                     race_curves.curve_words())
        if tab_loss.open:
            with tab_loss:
                curves_canvas("race_loss", loss_dict, "loss", presenting)
        if tab_grad.open:
            with tab_grad:
                curves_canvas("race_grad", grad_dict, None, presenting)
        if tab_table.open:
            with tab_table:
                tol = st.select_slider(t("race.tolerance"),
                                       options=[1e-6, 1e-4, 1e-3, 1e-2, 1e-1], value=1e-3,
                                       key="tol", format_func=lambda v: f"{v:g}")
                # a table that wraps its headers to the column's width (a scrolling grid cut
                # its last column off at 1280×720)
                frame = race_export.summary_frame(surface, result, list(names), tol=tol)
                if not result.diverged.any():  # a column of "no": the warnings above say it
                    frame = frame.drop(columns=t("race_viz.col_diverged"))
                numeric = frame.select_dtypes("number").columns
                st.table(frame.style.format("{:.4g}", subset=numeric, na_rep="—")
                         .hide(axis="index"))
        if tab_settings.open:
            with tab_settings:
                st.caption(t("race.settings_intro"))
                rc.optimizer_settings()
        if not presenting:
            d1, d2 = st.columns(2)
            d1.download_button(t("race.download_csv"),
                               data=lambda: race_export.runs_csv(
                                   result, list(names), rs.settings_lines(core, st.context.url)),
                               file_name="descent_lab_race.csv", mime="text/csv",
                               on_click="ignore", icon=":material/download:", width="stretch",
                               key="dl_csv")
            d2.download_button(t("race.download_html"),
                               data=lambda: race_export.standalone_html(
                                   standalone_figure(core, names)),
                               file_name="descent_lab_race.html", mime="text/html",
                               on_click="ignore", icon=":material/download:", width="stretch",
                               key="dl_html")
            st.caption(t("race.share_hint"))

    if presenting:
        return
    # lazy: the contents run only while open, and the open state survives reruns (key)
    explain_box = st.expander(t("race.explain"), icon=":material/school:", key="ex_open",
                              on_change="rerun")
    if explain_box.open:
        with explain_box:
            # the optimizer states are recorded only for this panel (record="full")
            explain_step(shown, surface, rcomp.run_race(core, "full"))
    about_box = st.expander(t("race.about"), icon=":material/menu_book:", key="about_open",
                            on_change="rerun")
    if about_box.open:
        with about_box:
            about(shown, surface)


def standalone_figure(exp: rs.Experiment, names) -> go.Figure:
    """The race with Plotly frames: a page that works alone, offline (the HTML download)."""
    surface = rcomp.surface_of(exp)
    styles = rcomp.styles_of(exp)
    return race_figure.race_figure(
        surface, rcomp.surface_grid(exp.surface, exp.formula, exp.domain),
        rcomp.run_race(exp), list(names), [s.color for s in styles], start=exp.start,
        symbols=[s.symbol for s in styles], max_frames=100,
        title=rt.surface_title(exp.surface) if exp.surface in SURFACES else exp.formula)


# ----------------------------------------------------------------------------- page

if "race_exp" not in ss:
    loaded, url_notes = rs.from_query(st.query_params.to_dict(), rc.schedule_specs())
    rc.load(ss, loaded)
    ss["race_exp"] = ss["race_loaded"] = loaded
    ss["race_notes"] = url_notes
else:
    rc.fill_missing(ss, ss["race_exp"])

present.init(ss, st.query_params)
ss["race_formula_error"] = rc.sidebar(ss)
# outside the fragment: the title row changes the whole page (optimizers, Present), and a
# fragment rerun (a learning rate, the start) then redraws less
page_style()
header()
race_panel()
