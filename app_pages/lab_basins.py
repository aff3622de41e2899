"""The lab's "Basins of attraction" view: which listed minimum each start of a grid reaches,
two optimizers side by side (engine.descent.basin_map); a click on a start links both
optimizers' race from it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import lab_compute as lc
from app_pages import lesson_state as ls
from app_pages import race_state as rs
from app_pages import race_work
from app_pages import registry_texts as rt
from app_pages.lab_widgets import CHART_CONFIG, K, clamp_field, fmt, new_click, ss
from engine import lab, optimizers
from engine.surfaces import SURFACES
from texts import t
from viz import lab as vl
from viz.style import num

BASINS = ("basins",)
MULTI_MINIMA = tuple(k for k, s in SURFACES.items()
                     if sum(p.kind in ("global", "local") for p in s.minima) >= 2)
F = ls.Field
FIELDS = [
    F("bs", "two_wells", "choice", options=MULTI_MINIMA, views=BASINS),
    F("bo1", "gd", "choice", options=tuple(optimizers.OPTIMIZERS), views=BASINS),
    F("bo2", "momentum", "choice", options=tuple(optimizers.OPTIMIZERS), views=BASINS),
    F("blr1", 0.01, low=1e-4, high=10.0, views=BASINS),
    F("blr2", 0.01, low=1e-4, high=10.0, views=BASINS),
    F("bn", 50, "int", low=10, high=80, views=BASINS),
    F("bst", 300, "int", low=10, high=lab.MAX_PHASE_STEPS, views=BASINS),
    F("bx", 0.0, low=-rs.DOMAIN_LIMIT, high=rs.DOMAIN_LIMIT, views=BASINS),
    F("by", 0.0, low=-rs.DOMAIN_LIMIT, high=rs.DOMAIN_LIMIT, views=BASINS),
    F("bsel", 0, "int", low=0, high=1, views=BASINS),
]


def complete_link(query: dict) -> None:
    """A link naming the surface but not the learning rates or steps gets the surface's."""
    if "bs" not in query:
        return
    surface = SURFACES[ss[K("bs")]]
    for slot in ("1", "2"):
        if f"blr{slot}" not in query:
            ss[K(f"blr{slot}")] = rs.default_hypers(ss[K(f"bo{slot}")], surface)["lr"]
    if "bst" not in query:
        ss[K("bst")] = int(surface.default_steps)


def _on_basin_surface() -> None:
    surface = SURFACES[ss[K("bs")]]
    for slot in ("1", "2"):
        ss[K(f"blr{slot}")] = rs.default_hypers(ss[K(f"bo{slot}")], surface)["lr"]
    ss[K("bst")] = int(surface.default_steps)
    ss[K("bsel")] = 0


def _on_basin_optimizer(slot: str) -> None:
    surface = SURFACES[ss[K("bs")]]
    ss[K(f"blr{slot}")] = rs.default_hypers(ss[K(f"bo{slot}")], surface)["lr"]


def view() -> None:
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
        grid = race_work.log_grid(float(spec.slider_min), float(spec.slider_max),
                              float(ss[K(f"blr{slot}")]))
        sb.select_slider(t("lab.basin_lr", name=rt.optimizer_title(ss[K(f"bo{slot}")])),
                         options=grid, key=K(f"blr{slot}"), format_func=fmt)
    sb.slider(t("lab.basin_grid"), min_value=10, max_value=80, key=K("bn"),
              help=t("lab.basin_grid_help"))
    sb.number_input(t("lab.steps"), min_value=10, max_value=lab.MAX_PHASE_STEPS, step=50,
                    key=K("bst"), help=t("lab.steps_help", max=lab.MAX_PHASE_STEPS))
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
    stamp = new_click("lab_basin_chart", "lab_last_start")
    if stamp is None:
        return
    ss[K("bx")], ss[K("by")] = round(float(stamp[0]), 4), round(float(stamp[1]), 4)
    ss[K("bsel")] = 1
