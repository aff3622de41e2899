"""The lab's "Schedules" view: lr(t) = γ·s(t) of every learning-rate schedule of
engine.schedules with its parameters, and links that race the first view's optimizer and
surface with each schedule."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import lab_compute as lc
from app_pages import lesson_state as ls
from app_pages import race_state as rs
from app_pages import race_work
from app_pages import registry_texts as rt
from app_pages.lab_widgets import CHART_CONFIG, K, clamp_field, current_place, fmt, ss
from engine import schedules
from engine.surfaces import SURFACES
from texts import t
from viz import lab as vl
from viz.style import num

SCHED = ("schedules",)
F = ls.Field
FIELDS = [
    F("st", 300, "int", low=10, high=rs.MAX_STEPS, views=SCHED),
    F("slr", 0.1, low=1e-4, high=10.0, views=SCHED),
    F("sy", "linear", "choice", options=("linear", "log"), views=SCHED),
    *[F(f"sp.{kind}.{p.name}", p.default, "int" if p.kind == "int" else "float",
        low=p.slider_min, high=p.slider_max, views=SCHED)
      for kind, spec in schedules.SCHEDULES.items() for p in spec.hyper],
]

SCHEDULE_COLORS = {"constant": "#222222", "step": "#D55E00", "exponential": "#0072B2",
                   "inverse_time": "#009E73", "cosine": "#CC79A7"}


def view() -> None:
    sb = st.sidebar
    sb.subheader(t("lab.setup"))
    sb.number_input(t("lab.sched_steps"), min_value=10, max_value=rs.MAX_STEPS, step=50,
                    key=K("st"), help=t("lab.sched_steps_help"))
    clamp_field("slr", 1e-4, 10.0, "slr")
    sb.select_slider(t("lab.sched_lr"), options=race_work.log_grid(1e-4, 10.0, float(ss[K("slr")])),
                     key=K("slr"), format_func=fmt)
    steps, base = int(ss[K("st")]), float(ss[K("slr")])
    curves, params_of = {}, {}
    for kind, spec in schedules.SCHEDULES.items():
        params = {}
        with sb.expander(rt.schedule_title(kind), expanded=kind == "step"):
            for p in spec.hyper:
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
        place = current_place()
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
