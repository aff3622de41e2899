"""Pieces shared by the Learning-rate lab's views: widget keys, notices, the surface the
links point to. The settings themselves are the lab page's URL fields (app_pages/lab.py)."""

from __future__ import annotations

import streamlit as st

from app_pages import lab_compute as lc
from app_pages import lesson_state as ls
from app_pages import race_state as rs
from texts import t
from viz.style import PLOTLY_CONFIG

PREFIX = "lab"
ss = st.session_state
K = lambda name: ls.session_key(PREFIX, name)  # noqa: E731 - a short alias for widget keys
CHART_CONFIG = {**PLOTLY_CONFIG, "displayModeBar": False}  # the lab's maps need no zoom tools


def fmt(value: float) -> str:
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


def custom_domain() -> tuple[float, float, float, float]:
    return tuple(float(ss[K(f"d{i}")]) for i in range(4))


def current_place() -> lc.Place:
    if ss[K("s")] == rs.CUSTOM:
        return lc.Place(rs.CUSTOM, str(ss[K("f")]).strip(), custom_domain())
    return lc.Place(ss[K("s")])


def new_click(chart_key: str, last_key: str) -> tuple[float, float] | None:
    """(x, y) of the point a click on chart ``chart_key`` selected, or None when nothing
    new was clicked (no selection, a malformed event, or the click already handled: the
    selection stays in the chart's state across reruns, ``last_key`` remembers it)."""
    event = ss.get(chart_key)
    try:
        points = list(event["selection"]["points"]) if event else []
    except (KeyError, TypeError):
        points = []
    if not points:
        return None
    stamp = (points[-1].get("x"), points[-1].get("y"))
    if stamp == ss.get(last_key) or not all(isinstance(v, int | float) for v in stamp):
        return None
    ss[last_key] = stamp
    return stamp
