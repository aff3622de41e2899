"""A computational graph drawn step by step: Start / Back / Next / Play / All, the drawing
(``st.graphviz_chart``), and one sentence per step saying what was computed.

The step lives in the session under the page's URL field (e.g. ``bp_step``); ``-1`` means
"every step taken".  Play is an ``st.fragment`` with a timer that advances one node per tick
and stops by itself at the last step (then the page reruns once to drop the timer).  When the
lead's live canvas lands, the drawing could move without a round trip; until then every step
is one short fragment rerun.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import streamlit as st

from engine.graph import Backward, Edge, Graph, reveal, steps
from texts import t
from viz.graph import graph_css, graph_dot, step_lines

PLAY_SECONDS = 1.2   # one node per tick: time to read the sentence


def _current(step_key: str, n: int) -> int:
    step = int(st.session_state.get(step_key, -1))
    return n if step < 0 or step > n else step


def show(key: str, graph: Graph, values: Mapping, back: Backward, *, step_key: str,
         names: Mapping[str, str], result_label: str, output_name: str,
         on_step: Callable[[int, int], None], highlight: Iterable[Edge] = (),
         alt: str = "") -> None:
    """Draw ``graph`` with the controls; ``on_step(k, n)`` is called with the step shown and
    the number of steps (the page writes it to the URL)."""
    ss = st.session_state
    plan = steps(graph)
    n = len(plan)
    play_key = f"{key}_playing"
    timer = bool(ss.get(play_key))
    highlight = tuple(highlight)

    def go(k: int) -> None:
        ss[step_key] = max(0, min(k, n))
        ss[play_key] = False

    def play() -> None:
        if ss.get(play_key):
            ss[play_key] = False
            return
        if _current(step_key, n) >= n:
            ss[step_key] = 0
        ss[play_key] = True

    def panel() -> None:
        step = _current(step_key, n)
        if ss.get(play_key):
            if not timer:
                st.rerun(scope="app")   # start the timer
            step = min(step + 1, n)
            ss[step_key] = step
            if step >= n:
                ss[play_key] = False
        on_step(step, n)
        cols = st.columns([1, 1, 1, 1, 1, 3], gap="small", vertical_alignment="center")
        cols[0].button(t("stepper.first"), key=f"{key}_first", on_click=go, args=(0,),
                       icon=":material/first_page:", width="stretch", disabled=step == 0)
        cols[1].button(t("stepper.back"), key=f"{key}_back", on_click=go, args=(step - 1,),
                       icon=":material/chevron_left:", width="stretch", disabled=step == 0)
        cols[2].button(t("stepper.next"), key=f"{key}_next", on_click=go, args=(step + 1,),
                       icon=":material/chevron_right:", width="stretch", disabled=step >= n,
                       type="primary")
        playing = bool(ss.get(play_key))
        cols[3].button(t("stepper.pause") if playing else t("stepper.play"),
                       key=f"{key}_play", on_click=play, width="stretch", disabled=n == 0,
                       icon=":material/pause:" if playing else ":material/play_arrow:")
        cols[4].button(t("stepper.all"), key=f"{key}_last", on_click=go, args=(n,),
                       icon=":material/last_page:", width="stretch", disabled=step >= n)
        if step == 0:
            where = t("stepper.at_start")
        else:
            where = t(f"stepper.phase_{plan[step - 1].phase}")
        cols[5].markdown(t("stepper.position", step=step, n=n, where=where))
        shown = reveal(graph, step)
        dot = graph_dot(graph, values, back, shown, names=names, result_label=result_label,
                        highlight=highlight)
        with st.container(key=f"{key}_graph"):
            st.html(graph_css())
            st.graphviz_chart(dot, width="stretch", alt=alt or None)
        with st.container(key=f"{key}_explain"):
            for line in step_lines(graph, values, back, shown.current, names, output_name):
                st.markdown(line)
        if timer and not ss.get(play_key):
            st.rerun(scope="app")   # stop the timer

    st.fragment(panel, run_every=PLAY_SECONDS if timer else None)()
