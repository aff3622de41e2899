"""The Neural-network page's live panel: train while the charts change in place.

One ``st.fragment`` reruns for each tick while playing. The browser asks for the tick
(the decision map's payload carries ``tick``: the canvas sends the ``tick`` event that
long after the answer arrived), so a session never has more than one tick waiting and a
busy server is not asked again before it answered. The period comes from
:mod:`app_pages.live_pace`: 0.6 s for a student alone, longer when many train on the same
process, so that live training keeps to its share of the core and clicks stay quick.

Each tick trains the epochs owed at the chosen speed since the last one and sends only what
is new to the canvases (app_pages/canvas.py): snapshots of the decision map (its heat-map
values, float32) that the browser shows one after another until the next tick, the new loss
and accuracy points, the new per-layer gradient norms. The plots stay the same DOM nodes:
no blank frame, hover and zoom keep working while it trains.

Pause means pause: the Pause click stops training in the run it causes (callbacks run
before the fragment), a tick that arrives after it trains nothing, and the pictures show
the epoch the counter shows.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from app_pages import canvas, live_pace, present
from app_pages import network_model as nm
from app_pages import network_run as nr
from app_pages import registry_texts as rt
from texts import current_language, t
from viz import network_curves, network_inside, network_map

FRAME_RATE = 16          # decision-map snapshots per second of the tick period
MAX_FRAMES = 12          # per tick: a slow pace shows fewer frames a second, not more work
TRAIN_BUDGET_S = 0.08    # training time per tick (the chunk size adapts to it)
LIVE_HEIGHT = 420        # CSS px of the decision map and the curves
DIAGRAM_EVERY_S = 1.0    # the network diagram while playing: redrawn at most this often
NONLINEAR = {"xor", "xor_cloud", "circle", "moons", "spiral"}


def current_run(exp: nm.Experiment, key: str) -> nr.Run:
    run = st.session_state.get("nn_run")
    seed = int(exp.config["wseed"])
    if run is None or run.key != key or run.weight_seed != seed:
        run = nr.new_run(exp, key, seed)
        st.session_state["nn_run"] = run
    return run


# Button callbacks set values instead of toggling or counting: after st.rerun() a button's
# callback can fire a second time with the same click, and must then change nothing more.


def _set_playing(value: bool) -> None:
    st.session_state["nn_playing"] = value
    st.session_state.pop("nn_tick", None)
    st.session_state["nn_credit"] = 0.0


def _on_tick(_value) -> None:
    """The browser asks for the next tick (the decision map's ``tick`` event)."""
    st.session_state["nn_tick_due"] = True


def _on_step() -> None:
    _set_playing(False)
    st.session_state["nn_step"] = True


def _on_reset() -> None:
    _set_playing(False)
    st.session_state.pop("nn_run", None)


def _on_new_weights(seed: int) -> None:
    _set_playing(False)
    st.session_state.pop("nn_run", None)
    st.session_state["wseed"] = seed
    st.session_state["nn_full_rerun"] = True  # the sidebar shows the seed: redraw it


# --------------------------------------------------------------------------- what is drawn


def map_values(exp: nm.Experiment, theta: np.ndarray) -> np.ndarray:
    """What the decision map shows for network ``theta`` (1, P): the clipped regression
    curve (nx,), P(class 1) (ny, nx) or normalised class probabilities (ny, nx, k)."""
    return map_values_of(exp, theta)[0]


def map_values_of(exp: nm.Experiment, thetas: np.ndarray) -> np.ndarray:
    """:func:`map_values` of B networks ``thetas`` (B, P), in one forward pass (the
    snapshots of a live tick)."""
    if not exp.is_regression:
        return nm.class_probabilities_of(exp, thetas)
    out = nm.predictions(exp, thetas, exp.grid[2])
    # keep a wild curve (a diverging run) inside a readable band around the data
    lo, hi = float(np.min(exp.y_train)), float(np.max(exp.y_train))
    span = max(hi - lo, 1e-6)
    return np.clip(np.nan_to_num(out[:, :, 0]), lo - 2 * span, hi + 2 * span)


def test_split(exp: nm.Experiment, column: int | None = None):
    if exp.X_test is None:
        return None, exp.y_test
    return (exp.X_test if column is None else exp.X_test[:, column]), exp.y_test


def boundary(exp: nm.Experiment, theta: np.ndarray, height: int = LIVE_HEIGHT):
    """The decision map (or the 1-D fit) of the network ``theta``."""
    xs, ys, _ = exp.grid
    values = map_values(exp, theta)
    if exp.is_regression:
        return network_map.regression_figure(xs, values, exp.X_train[:, 0], exp.y_train,
                                             *test_split(exp, 0), height=height)
    return network_map.boundary_figure(xs, ys, values, exp.X_train, exp.y_train,
                                       *test_split(exp), task=exp.task, height=height)


def _map_updates(exp: nm.Experiment, thetas: np.ndarray) -> list[dict]:
    """The decision map's restyles for networks ``thetas`` (B, P), one each."""
    xs, ys, _ = exp.grid
    task = "regression" if exp.is_regression else exp.task
    return [network_map.map_update(xs, ys, values, task)
            for values in map_values_of(exp, thetas)]


@st.cache_resource(max_entries=64, show_spinner=False)
def _shared(kind: str, experiment: str, seed: int, lang: str, _build: Callable[[], Any]):
    """A figure every session shows alike, built once per server: ``kind`` of figure, at
    the start of the run of ``experiment`` (its configuration hash) from weight seed
    ``seed``, in language ``lang``: everything it depends on. A class that opens the
    teacher's link asks for the same figures thirty times at once; this builds them once.
    Keyed by the language code, not by the figure's words: the network figures fetch
    their words themselves (``viz.network_*`` call ``t``). Shared, not copied: callers
    must not change it."""
    return _build()


def _at_start(kind: str, run: nr.Run, build: Callable[[], Any]):
    """``build()``, shared between sessions while ``run`` is at epoch 0, when it depends
    only on the experiment, the seed and the language."""
    if run.epoch:
        return build()
    return _shared(kind, run.key, run.weight_seed, current_language(), build)


def _doc(run: nr.Run) -> str:
    return f"{run.key}:{run.weight_seed}:{run.uid}"


def map_canvas(exp: nm.Experiment, run: nr.Run, snapshots: list,
               period: float | None = None) -> None:
    """The decision map: the whole figure when the canvas does not show this run yet,
    afterwards the new heat-map values only (several snapshots while playing, shown over
    ``period`` seconds). While playing (``period`` set) the payload asks the browser for
    the next tick ``period`` seconds after it arrives."""
    doc = _doc(run)
    xs, ys, _ = exp.grid
    # the map fills its column at the data's aspect (a 1-D fit: 0.75)
    aspect = 0.75 if ys is None else float((ys[-1] - ys[0]) / (xs[-1] - xs[0]))
    # margins: axes and ticks, the colour bar at the right, the legend's row on top
    payload: dict = {"view": "plot", "doc": doc,
                     "fit": {"aspect": aspect, "width": 150, "height": 110, "max": 640}}
    if not canvas.holds("nn_map", doc):
        payload["figure"] = _at_start("map", run, lambda: boundary(exp, run.theta).to_dict())
    elif len(snapshots) > 1:
        payload["frames"] = {"doc": doc, "interval": 1000 * (period or live_pace.MIN_PERIOD)
                             / len(snapshots),
                             "steps": _map_updates(exp, np.concatenate(
                                 [theta for _, theta in snapshots]))}
    else:
        payload["restyle"] = {"doc": doc, **_map_updates(exp, run.theta)[0]}
    if period is not None:
        # a number that changes with every run, so the browser sees a new payload
        n = st.session_state["nn_tick_n"] = st.session_state.get("nn_tick_n", 0) + 1
        payload["tick"] = {"after": round(1000 * period), "n": n}
    canvas.mount("nn_map", payload, events={"tick": _on_tick})


def curves_canvas(exp: nm.Experiment, run: nr.Run) -> None:
    """Loss and accuracy: the figure once per run, then the points that are new."""
    history = nr.history_arrays(run, exp.is_regression)
    # a single point (epoch 0) is drawn with a marker; from the second on, lines only: a
    # new document then, so the figure is sent again in its "lines" form
    doc = f"{_doc(run)}:{min(len(history['epoch']), 2)}"
    payload: dict = {"view": "plot", "doc": doc,
                     "height": 560 if present.on(st.session_state) else LIVE_HEIGHT}
    if not canvas.holds("nn_curves", doc):
        payload["figure"] = _at_start("curves", run, lambda: network_curves.curves_figure(
            history, height=LIVE_HEIGHT).to_dict())
        xs, ys = network_curves.curves_series(history)
        canvas.series("nn_curves", doc, xs, ys)  # the figure holds these points
    else:
        xs, ys = network_curves.curves_series(history)
        payload["series"] = canvas.series("nn_curves", doc, xs, ys)
        payload["relayout"] = network_curves.curves_axes(history)
    canvas.mount("nn_curves", payload)


def grad_norm_canvas(run: nr.Run, names: list[str]) -> None:
    doc = _doc(run)
    norms = np.asarray(run.grad_norms)
    epochs = np.arange(1, len(norms) + 1)
    payload: dict = {"view": "plot", "doc": doc, "height": 380}
    xs, ys = network_curves.grad_norm_series(epochs, norms)
    if not canvas.holds("nn_gradnorm", doc):
        payload["figure"] = network_curves.layer_grad_norm_figure(
            epochs, norms, names, height=380).to_dict()
    else:
        payload["relayout"] = {f"yaxis.{k}": v for k, v in
                               network_curves.log_axis(ys).items()}
    payload["series"] = canvas.series("nn_gradnorm", doc, xs, ys)
    canvas.mount("nn_gradnorm", payload)


# --------------------------------------------------------------------------- the panel


def _metric_text(value: float, percent: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "—"
    return f"{100 * value:.0f}\u00a0%" if percent else f"{value:.4g}"  # no break before %


def status_text(exp: nm.Experiment, run: nr.Run, stop_at: int) -> str:
    """Epoch counter and the latest metrics as one line (the tests read it)."""
    h = run.history
    parts = [t("network.status_epoch", epoch=run.epoch, n=stop_at),
             t("network.status_loss", v=_metric_text(h["train_loss"][-1]))]
    if not exp.is_regression:
        parts.append(t("network.status_train_acc", v=_metric_text(h["train_acc"][-1], True)))
        if exp.X_test is not None:
            parts.append(t("network.status_test_acc",
                           v=_metric_text(h["test_acc"][-1], True)))
    elif exp.X_test is not None:
        parts.append(t("network.status_test_loss", v=_metric_text(h["test_loss"][-1])))
    return " · ".join(parts)


def _train_tick(exp: nm.Experiment, run: nr.Run, stop_at: int, period: float) -> list:
    """Train the epochs owed at the chosen speed since the last tick, never more than fit
    in the time budget; the snapshots to show over the next ``period``.

    Epochs owed but not trained (a chunk the budget cut short) are owed still, up to one
    slow period's worth: a tick that comes late (a hidden tab, a full server) or a network
    too large for the speed does not pile up a debt to catch up at once.
    """
    state = st.session_state
    now = time.perf_counter()
    last = state.get("nn_tick")
    speed = float(state["nn_speed"])
    elapsed = period if last is None else now - last
    credit = min(state.get("nn_credit", 0.0) + speed * elapsed,
                 speed * (live_pace.MAX_PERIOD + 1.0))
    state["nn_tick"] = now
    due = min(int(credit), stop_at - run.epoch)
    if due < 1:
        state["nn_credit"] = credit
        return []
    before = run.epoch
    nr.advance_for(exp, run, TRAIN_BUDGET_S, max_epochs=due)
    state["nn_credit"] = credit - (run.epoch - before)
    chunk = run.chunk
    frames = min(MAX_FRAMES, max(1, round(FRAME_RATE * period)))
    if len(chunk) <= frames:
        return chunk
    picks = np.unique(np.round(np.linspace(0, len(chunk) - 1, frames + 1)[1:]).astype(int))
    return [chunk[i] for i in picks]


def live_panel(exp: nm.Experiment, key: str, tabs) -> None:
    """Buttons, counters, decision map and curves; then ``tabs(exp, run, playing)`` (the
    page's tabs: "See inside", formulas, downloads). Reruns alone, a tick at a time."""
    state = st.session_state
    if state.pop("nn_full_rerun", False):
        st.rerun()  # the sidebar shows what changed (a new weight seed): rerun the page
    cpu_at_start = time.thread_time()
    run = current_run(exp, key)
    stop_at = int(exp.config["ep"])
    snapshots: list = []
    ticked = state.pop("nn_tick_due", False) and state["nn_playing"]
    period = live_pace.PACE.period()
    if state.pop("nn_step", False):
        nr.advance(exp, run, 1)
    elif state["nn_playing"]:
        if run.diverged or run.epoch >= stop_at:
            _set_playing(False)
        elif ticked:
            snapshots = _train_tick(exp, run, stop_at, period)

    playing = state["nn_playing"]
    cols = st.columns([1, 1, 1, 1.45, 3.2], vertical_alignment="center")
    # two buttons with their own keys, not one that toggles: a click re-delivered after a
    # rerun then reaches the same action again instead of its opposite
    if playing:
        cols[0].button(t("network.pause"), key="nn_pause", on_click=_set_playing,
                       args=(False,), type="primary", width="stretch",
                       icon=":material/pause:")
    else:
        cols[0].button(t("network.play"), key="nn_play", on_click=_set_playing, args=(True,),
                       type="primary", width="stretch", icon=":material/play_arrow:",
                       disabled=run.diverged or run.epoch >= stop_at)
    cols[1].button(t("network.step"), key="nn_step_btn", on_click=_on_step, width="stretch",
                   icon=":material/skip_next:", help=t("network.step_help"),
                   disabled=run.diverged or run.epoch >= stop_at)
    cols[2].button(t("network.reset"), key="nn_reset", on_click=_on_reset, width="stretch",
                   icon=":material/restart_alt:", help=t("network.reset_help"))
    cols[3].button(t("network.new_weights"), key="nn_new", on_click=_on_new_weights,
                   args=((run.weight_seed + 1) % 10_000,), width="stretch",
                   icon=":material/casino:", help=t("network.new_help"))
    with cols[4].container(key="nn_status"):
        st.markdown(status_text(exp, run, stop_at))

    status_messages(exp, run, stop_at)

    left, right = st.columns([1.2, 1], gap="medium")
    with left:
        map_canvas(exp, run, snapshots, period if playing else None)
    with right:
        curves_canvas(exp, run)
    tabs(exp, run, playing)
    if ticked:  # what this tick cost the process: the pace of every live session
        if "nn_pace_id" not in state:
            state["nn_pace_id"] = uuid.uuid4().hex
        live_pace.PACE.record(state["nn_pace_id"], time.thread_time() - cpu_at_start)


def status_messages(exp: nm.Experiment, run: nr.Run, stop_at: int) -> None:
    if run.diverged:
        st.error(t("network.diverged", epoch=run.diverged_at), icon=":material/warning:")
        return
    cfg = exp.config
    acc = run.history["train_acc"][-1]
    if (cfg["hl"] == 0 and cfg["ds"] in NONLINEAR and run.epoch >= 20
            and not exp.is_regression and acc < 1.0):
        st.warning(t("network.perceptron_fails"), icon=":material/block:")
    if run.epoch >= stop_at:
        st.success(t("network.stopped", n=stop_at), icon=":material/flag:")


# --------------------------------------------------------------------------- see inside


def see_inside(exp: nm.Experiment, run: nr.Run, playing: bool) -> None:
    net = exp.net
    weights = [(W[0], b[0]) for W, b in net.unpack(run.theta)]
    names = [t("network.layer_name", n=i + 1) for i in range(net.n_layers)]
    a, b = st.columns(2, gap="medium")
    with a:
        st.markdown(f"**{t('network.diagram_title')}**")
        # the whole (small) figure, Plotly.react changes the line widths in place; while
        # playing at most once a second (a weight's width does not move faster than that)
        now = time.monotonic()
        state = st.session_state
        if not playing or now - state.get("nn_diagram_at", 0.0) >= DIAGRAM_EVERY_S:
            state["nn_diagram_at"] = now
            state["nn_diagram"] = network_inside.network_diagram_dict(net.sizes, weights,
                                                                      height=380)
            state["nn_diagram_n"] = state.get("nn_diagram_n", 0) + 1
        # between redraws the browser keeps what it shows: the figure is not sent again
        doc = f"diagram:{state['nn_diagram_n']}"
        payload = {"view": "plot", "height": 380, "doc": doc}
        if not canvas.holds("nn_diagram", doc):
            payload["figure"] = state["nn_diagram"]
        canvas.mount("nn_diagram", payload)
        st.caption(t("network.diagram_caption"))
    with b:
        st.markdown(f"**{t('network.grad_norm_title')}**")
        if run.grad_norms:
            grad_norm_canvas(run, names)
            _vanishing_note(np.asarray(run.grad_norms)[-1])
        else:
            st.info(t("network.grad_norm_empty"))
    if net.n_hidden == 0:
        st.caption(t("network.no_hidden_maps"))
    elif exp.is_regression:
        pass
    elif playing:
        st.caption(t("network.pause_for_maps"))
    else:
        xs, ys, _ = exp.grid
        st.markdown(f"**{t('network.maps_title')}**")
        maps = _at_start("neurons", run, lambda: network_inside.neuron_maps(
            xs, ys, nm.hidden_maps(exp, run.theta), max_columns=6))
        st.plotly_chart(maps, key="nn_maps", width="stretch", config={"displayModeBar": False})
    if net.n_hidden and not playing:
        with st.expander(t("network.activation_title", name=rt.activation_title(net.activation))):
            figure = _shared("activation", net.activation, 0, current_language(),
                             lambda: network_inside.activation_figure(net.activation, height=320))
            st.plotly_chart(figure, key="nn_act", width="stretch",
                            config={"displayModeBar": False})


def _vanishing_note(last_norms: np.ndarray) -> None:
    if len(last_norms) >= 3 and last_norms[-1] > 0:
        ratio = last_norms[0] / last_norms[-1]
        if ratio < 1e-2:
            st.warning(t("network.vanishing", ratio=f"{ratio:.1e}"))
