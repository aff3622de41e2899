"""Neural network: train a small MLP live, from the perceptron to XOR and beyond.

Thin page: sidebar widgets -> a config dict -> ``network_model`` (engine calls) -> ``viz``
figures -> st.*. Training state (theta, optimizer state, history) lives in
``st.session_state["nn_run"]`` keyed by a hash of the configuration, so any change of the
experiment starts a fresh run; the live panel is an ``st.fragment`` that reruns on its own
timer while playing, training a time-bounded chunk of epochs per redraw. While playing, the
map, the curves and the gradient norms are PNG pictures (``viz.network.*_frame_png``) that
the browser swaps in place; on pause the interactive Plotly figures come back.
"""

from __future__ import annotations

import base64
import math
import time

import numpy as np
import streamlit as st

import viz.network as nv
from app_pages import network_model as nm
from app_pages import registry_texts as rt
from app_pages.network_explain import backprop_latex, forward_latex, update_latex
from engine import datasets, mlp, optimizers
from texts import t

REDRAW_S = 0.2            # fragment timer while playing: at most 5 redraws a second
TRAIN_BUDGET_S = 0.08     # training time per redraw (the chunk size adapts to it)
LIVE_HEIGHT = 420         # CSS px of the Plotly map and curves
# The live pictures fill their columns (about 340 and 400 px at 1280x720 with the sidebar
# open); drawn at about that size so their text stays as large as the charts'.
LIVE_MAP_SIZE = (360, 400)
LIVE_CURVES_SIZE = (420, 400)
# target training speed in epochs per second, independent of how fast the browser redraws
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)
NONLINEAR = {"xor", "xor_cloud", "circle", "moons", "spiral"}
PRESETS = {
    "perceptron": dict(ds="xor", hl=0, act="tanh", pair="sigmoid_bce", opt="adam",
                       hyper={"lr": 0.05}, ep=1000),
    "tanh241": dict(ds="xor", hl=1, w=4, act="tanh", pair="sigmoid_bce", opt="adam",
                    hyper={"lr": 0.01}, ep=1000),
    # small initial weights make the product of sigmoid' (<= 0.25) and W shrink fast
    "deep_sigmoid": dict(ds="circle", hl=4, w=8, act="sigmoid", pair="sigmoid_bce",
                         opt="gd", hyper={"lr": 0.5}, ep=3000, init="normal"),
    "spiral": dict(ds="spiral", hl=3, w=12, act="relu", pair="sigmoid_bce", opt="adam",
                   hyper={"lr": 0.01}, ep=2000, init="he", noise=0.05, n=300),
    "too_large_lr": dict(ds="xor", hl=1, w=4, act="tanh", pair="linear_mse", opt="gd",
                         hyper={"lr": 3.0}, ep=1000),
}


# --------------------------------------------------------------------------- state


def _apply_preset() -> None:
    """Callback of the scenario pills: reset every control, then set the scenario's."""
    name = st.session_state.get("nn_preset")
    if name not in PRESETS:
        return
    preset = PRESETS[name]
    for f in nm.base_fields():
        st.session_state[f.key] = preset.get(f.key, f.default)
    opt = preset.get("opt", "adam")
    for spec in nm.optimizer_hypers(opt):
        value = preset.get("hyper", {}).get(spec.name, nm.hyper_default(opt, spec))
        st.session_state[nm.hyper_session_key(opt, spec.name)] = value
    st.session_state["nn_playing"] = False
    st.session_state["nn_preset_sig"] = _signature()


def _signature() -> tuple:
    """The experiment-defining controls as they stand (to notice edits after a preset)."""
    state = st.session_state
    opt = state.get("opt", "adam")
    return (tuple(state.get(f.key) for f in nm.base_fields() if f.key not in ("ep", "wseed")),
            state.get(nm.hyper_session_key(opt, "lr")))


def _forget_edited_preset() -> None:
    """Once a control differs from what the scenario set, its "what to watch" text no
    longer describes the screen: unselect the scenario (before its pills are drawn)."""
    if st.session_state.get("nn_preset") and st.session_state.get("nn_preset_sig") not in (
            None, _signature()):
        st.session_state["nn_preset"] = None
        st.session_state["nn_preset_sig"] = None


def _init_state() -> None:
    """Once per session: read the URL (validated); always: defaults for missing keys."""
    if not st.session_state.get("nn_url_done"):
        values, reset = nm.parse_query(st.query_params.to_dict())
        st.session_state.update(values)
        st.session_state["nn_url_reset"] = reset
        st.session_state["nn_url_done"] = True
    for f in nm.base_fields():
        st.session_state.setdefault(f.key, f.default)
    st.session_state.setdefault("nn_playing", False)
    st.session_state.setdefault("nn_speed", 20)


def _write_url(config: dict) -> None:
    """Mirror the configuration into the address bar (only values that differ from the
    defaults), leaving parameters that other parts of the app own (language) alone."""
    query = nm.to_query(config)
    for key in nm.url_keys(config["opt"], config["sched"]):
        if key in st.query_params and key not in query:
            del st.query_params[key]
    for key, value in query.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


# --------------------------------------------------------------------------- sidebar


def _hyper_widget(opt: str, spec) -> object:
    key = nm.hyper_session_key(opt, spec.name)
    help_text = rt.hyper_help(opt, spec)
    st.session_state.setdefault(key, nm.hyper_default(opt, spec))
    label = f"{spec.name} (${spec.symbol}$)"
    if spec.kind == "bool":
        return st.checkbox(label, key=key, help=help_text)
    if spec.log_scale:
        low = spec.min if spec.min_inclusive else 0.0
        return st.number_input(label, min_value=max(low, 1e-12), max_value=1e3, key=key,
                               format="%.4g", step=None if spec.name != "lr" else 0.01,
                               help=f"{help_text} ({spec.range_text()})")
    return st.slider(label, min_value=float(spec.slider_min),
                     max_value=float(spec.slider_max), step=0.001, key=key,
                     format="%.3f", help=f"{help_text} ({spec.range_text()})")


def _sched_widget(kind: str, spec) -> object:
    key = nm.sched_session_key(kind, spec.name)
    default = int(spec.default) if spec.kind == "int" else float(spec.default)
    st.session_state.setdefault(key, default)
    label = f"{spec.name} (${spec.symbol}$)"
    if spec.kind == "int":
        return st.number_input(label, min_value=int(max(spec.min, 0)),
                               max_value=int(min(spec.max, nm.MAX_EPOCHS)), step=1, key=key,
                               help=rt.schedule_help(kind, spec))
    return st.number_input(label, min_value=float(spec.min),
                           max_value=float(min(spec.max, 1e6)), key=key, format="%.4g",
                           help=rt.schedule_help(kind, spec))


def sidebar() -> tuple[dict, tuple | None, str | None]:
    """All controls -> (config, uploaded data or None, problem with the upload or None)."""
    uploaded, upload_error = None, None
    with st.sidebar:
        with st.expander(t("network.group_data"), expanded=True):
            ds = st.selectbox(t("network.dataset"), nm.dataset_keys(), key="ds",
                              format_func=_dataset_title, on_change=_on_dataset)
            if ds == nm.UPLOAD:
                file = st.file_uploader(t("network.upload"), type=["csv", "txt"],
                                        key="nn_csv", help=t("network.upload_help"))
                if file is None:
                    upload_error = t("network.upload_missing")
                else:
                    try:
                        uploaded = datasets.parse_csv(file.getvalue())
                        if int(np.max(uploaded[1])) > 2:
                            raise datasets.DatasetError(t("network.too_many_classes"))
                        if len(uploaded[0]) > nm.MAX_POINTS:
                            raise datasets.DatasetError(
                                t("network.too_many_points", n=nm.MAX_POINTS))
                    except datasets.DatasetError as exc:
                        upload_error = t("network.upload_bad", problem=str(exc))
                        uploaded = None
            else:
                st.caption(rt.dataset_story(ds))
            fixed = ds in datasets.DATASETS and datasets.DATASETS[ds].default_n == 4
            st.slider(t("network.noise"), 0.0, 0.5, step=0.01, key="noise",
                      disabled=fixed or ds == nm.UPLOAD)
            st.slider(t("network.n_points"), 10, nm.MAX_POINTS, step=10, key="n",
                      disabled=fixed or ds == nm.UPLOAD)
            st.slider(t("network.test_split"), 0.0, 0.5, step=0.05, key="test",
                      format="%.2f", disabled=fixed, help=t("network.test_help"))
            st.number_input(t("network.data_seed"), 0, 9999, key="dseed")

        task = nm.dataset_task(ds)
        with st.expander(t("network.group_network"), expanded=True):
            hl = st.slider(t("network.hidden_layers"), 0, nm.MAX_HIDDEN_LAYERS, key="hl",
                           help=t("network.hidden_help"))
            st.slider(t("network.width"), 1, nm.MAX_WIDTH, key="w", disabled=hl == 0)
            st.selectbox(t("network.activation"), list(mlp.ACTIVATIONS), key="act",
                         format_func=rt.activation_title, disabled=hl == 0)
            pairs = nm.pairs_for(task)
            if st.session_state["pair"] not in pairs:
                st.session_state["pair"] = pairs[0]
            st.selectbox(t("network.output_loss"), pairs, key="pair",
                         format_func=lambda k: t(f"network.pair_{k}"),
                         help=t("network.pair_help"))
            st.selectbox(t("network.init"), list(mlp.INIT_SCHEMES), key="init",
                         format_func=lambda k: t(f"network.init_{k}"))

        with st.expander(t("network.group_training"), expanded=False):
            opt = st.selectbox(t("network.optimizer"), list(optimizers.OPTIMIZERS), key="opt",
                               format_func=rt.optimizer_title)
            hyper = {spec.name: _hyper_widget(opt, spec) for spec in nm.optimizer_hypers(opt)}
            st.select_slider(t("network.batch_size"), nm.BATCH_OPTIONS, key="bs",
                             format_func=lambda b: t("network.batch_all") if b == 0 else str(b),
                             help=t("network.batch_help"))
            sched = st.selectbox(t("network.schedule"), nm.schedule_keys(), key="sched",
                                 format_func=_schedule_title)
            sched_hyper = {spec.name: _sched_widget(sched, spec)
                           for spec in nm.schedule_hypers(sched)}
            st.caption(t("network.schedule_note"))
            st.number_input(t("network.stop_after"), 1, nm.MAX_EPOCHS, step=100, key="ep")
            st.select_slider(t("network.speed"), SPEEDS, key="nn_speed",
                             help=t("network.speed_help"))
            st.number_input(t("network.weight_seed"), 0, 9999, key="wseed",
                            help=t("network.weight_seed_help"))

        with st.expander(t("network.group_regularisation"), expanded=False):
            st.number_input(t("network.l1"), 0.0, 0.1, step=0.0001, format="%.4f", key="l1")
            st.number_input(t("network.l2"), 0.0, 0.1, step=0.0001, format="%.4f", key="l2")
            st.slider(t("network.dropout"), 0.0, 0.9, step=0.05, key="drop",
                      disabled=hl == 0)
            st.toggle(t("network.batch_norm"), key="bn", disabled=hl == 0)

    config = {f.key: st.session_state[f.key] for f in nm.base_fields()}
    config["hyper"] = hyper
    config["sched_hyper"] = sched_hyper
    return config, uploaded, upload_error


def _on_dataset() -> None:
    """A newly picked dataset starts from its own size and noise (spiral 300 points...)."""
    spec = datasets.DATASETS.get(st.session_state["ds"])
    if spec is not None and spec.default_n > 4:
        st.session_state["n"] = int(min(max(spec.default_n, 10), nm.MAX_POINTS))
        st.session_state["noise"] = float(min(spec.default_noise, 0.5))


def _dataset_title(key: str) -> str:
    if key == nm.UPLOAD:
        return t("network.dataset_upload")
    return rt.dataset_title(key)


def _schedule_title(key: str) -> str:
    return t("network.schedule_constant") if key == "constant" else rt.schedule_title(key)


# --------------------------------------------------------------------------- live panel


def _current_run(exp: nm.Experiment, key: str) -> nm.Run:
    run = st.session_state.get("nn_run")
    seed = int(exp.config["wseed"])
    if run is None or run.key != key or run.weight_seed != seed:
        run = nm.new_run(exp, key, seed)
        st.session_state["nn_run"] = run
    return run


# Button callbacks set values instead of toggling or counting: after st.rerun() a button's
# callback can fire a second time with the same click, and must then change nothing more.


def _set_playing(value: bool) -> None:
    st.session_state["nn_playing"] = value
    st.session_state.pop("nn_tick", None)


def _on_step() -> None:
    st.session_state["nn_playing"] = False
    st.session_state["nn_step"] = True


def _on_reset() -> None:
    st.session_state["nn_playing"] = False
    st.session_state.pop("nn_run", None)


def _on_new_weights(seed: int) -> None:
    st.session_state["nn_playing"] = False
    st.session_state.pop("nn_run", None)
    st.session_state["wseed"] = seed
    st.session_state["nn_full_rerun"] = True  # the sidebar shows the seed: redraw it


def _grid_output(exp: nm.Experiment, theta: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return exp.net.predict(theta, exp.grid[2])[0]


def _map_values(exp: nm.Experiment, theta: np.ndarray) -> np.ndarray:
    """What the decision map shows: the clipped regression curve (nx,), P(class 1) (ny, nx)
    or normalised class probabilities (ny, nx, k)."""
    xs, ys, _ = exp.grid
    out = _grid_output(exp, theta)
    if exp.is_regression:
        # keep a wild curve (a diverging run) inside a readable band around the data
        lo, hi = float(np.min(exp.y_train)), float(np.max(exp.y_train))
        span = max(hi - lo, 1e-6)
        return np.clip(np.nan_to_num(out[:, 0]), lo - 2 * span, hi + 2 * span)
    probs = out.reshape(len(ys), len(xs), -1)
    if exp.task == "binary":
        probs = probs[..., 0] if probs.shape[2] == 1 else probs[..., 1]
        return np.clip(probs, 0.0, 1.0)  # a linear (MSE) output is a score, not a probability
    probs = np.clip(probs, 0.0, None)
    return probs / np.maximum(probs.sum(axis=2, keepdims=True), 1e-12)


def _test_split(exp: nm.Experiment, column: int | None = None):
    if exp.X_test is None:
        return None, exp.y_test
    return (exp.X_test if column is None else exp.X_test[:, column]), exp.y_test


def _boundary(exp: nm.Experiment, theta: np.ndarray, height: int = 470):
    """The interactive decision map (Plotly): shown while paused."""
    xs, ys, _ = exp.grid
    values = _map_values(exp, theta)
    if exp.is_regression:
        return nv.regression_figure(xs, values, exp.X_train[:, 0], exp.y_train,
                                    *_test_split(exp, 0), height=height)
    return nv.boundary_figure(xs, ys, values, exp.X_train, exp.y_train, *_test_split(exp),
                              task=exp.task, height=height)


def _boundary_png(exp: nm.Experiment, theta: np.ndarray) -> bytes:
    """The same map as a picture: shown while playing (updates in place, never blank)."""
    xs, ys, _ = exp.grid
    values = _map_values(exp, theta)
    width, height = LIVE_MAP_SIZE
    if exp.is_regression:
        return nv.regression_frame_png(xs, values, exp.X_train[:, 0], exp.y_train,
                                       *_test_split(exp, 0), width=width, height=height)
    return nv.boundary_frame_png(xs, ys, values, exp.X_train, exp.y_train, *_test_split(exp),
                                 task=exp.task, width=width, height=height)


def _data_uri(png: bytes) -> str:
    """A picture inside the page itself. As a media file (st.image of bytes) each frame would
    be a URL the browser fetches afterwards, and the next fragment run deletes the previous
    file: a browser that fetches late gets a 404 and shows a broken image. (Bytes would also
    be re-encoded as JPEG.)"""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _metric_text(value: float, percent: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{100 * value:.0f}\u00a0%" if percent else f"{value:.4g}"  # no break before %


def _status_text(exp: nm.Experiment, run: nm.Run, stop_at: int) -> str:
    """Epoch counter and the latest metrics as one line (the test reads it)."""
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


def live_panel(exp: nm.Experiment, key: str, playing_at_start: bool) -> None:
    """Buttons, counters, decision map and curves; "See inside" below. Reruns alone."""
    state = st.session_state
    if state.pop("nn_full_rerun", False) or state["nn_playing"] != playing_at_start:
        st.rerun()  # the timer (run_every) or the sidebar must change: rerun the page
    run = _current_run(exp, key)
    stop_at = int(exp.config["ep"])
    if state.pop("nn_step", False):
        nm.advance(exp, run, 1)
    elif state["nn_playing"]:
        if run.diverged or run.epoch >= stop_at:
            state["nn_playing"] = False
            st.rerun()
        # epochs owed at the chosen speed since the last redraw (fractions carry over), but
        # never more than fit in the time budget: a slow redraw never means a long stall
        now = time.perf_counter()
        last = state.get("nn_tick")
        elapsed = REDRAW_S if last is None else min(now - last, 1.0)
        credit = state.get("nn_credit", 0.0) + float(state["nn_speed"]) * elapsed
        due = int(credit)
        state["nn_credit"] = credit - due
        state["nn_tick"] = now
        if due >= 1:
            nm.advance_for(exp, run, TRAIN_BUDGET_S, max_epochs=due)

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
        st.markdown(_status_text(exp, run, stop_at))

    _status_messages(exp, run, stop_at)

    left, right = st.columns([1, 1.15], gap="medium")
    history = nm.history_arrays(run, exp.is_regression)
    if playing:
        # Pictures while playing: Streamlit gives a Plotly chart a new element ID whenever its
        # figure changes, so each redraw would remount it and plotly.js would draw it from
        # scratch (blank in between); an image's <img> stays and swaps its picture in place.
        with left.container(key="nn_live_map"):
            st.image(_data_uri(_boundary_png(exp, run.theta)), width="stretch")
        with right.container(key="nn_live_curves"):
            width, height = LIVE_CURVES_SIZE
            st.image(_data_uri(nv.curves_frame_png(history, width=width, height=height)),
                     width="stretch")
    else:
        left.plotly_chart(_boundary(exp, run.theta, height=LIVE_HEIGHT), key="nn_boundary",
                          width="stretch", config={"displayModeBar": False})
        right.plotly_chart(nv.curves_figure(history, height=LIVE_HEIGHT), key="nn_curves",
                           width="stretch", config={"displayModeBar": False})

    # only the open tab is drawn: a redraw while playing stays cheap
    inside, formulas, download = st.tabs(
        [t("network.tab_inside"), t("network.tab_formulas"), t("network.tab_download")],
        key="nn_tab", on_change="rerun")
    if inside.open:
        with inside:
            see_inside(exp, run, playing)
    if formulas.open:
        with formulas:
            if playing:
                st.info(t("network.pause_for_numbers"))
            else:
                formulas_panel(exp, run)
    if download.open:
        with download:
            download_panel(exp, run)


def _status_messages(exp: nm.Experiment, run: nm.Run, stop_at: int) -> None:
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


def see_inside(exp: nm.Experiment, run: nm.Run, playing: bool) -> None:
    net = exp.net
    weights = [(W[0], b[0]) for W, b in net.unpack(run.theta)]
    names = [t("network.layer_name", n=i + 1) for i in range(net.n_layers)]
    a, b = st.columns(2, gap="medium")
    with a:
        st.markdown(f"**{t('network.diagram_title')}**")
        st.plotly_chart(nv.network_diagram(net.sizes, weights, height=380), key="nn_diagram",
                        width="stretch", config={"displayModeBar": False})
        st.caption(t("network.diagram_caption"))
    with b:
        st.markdown(f"**{t('network.grad_norm_title')}**")
        if run.grad_norms:
            norms = np.asarray(run.grad_norms)
            epochs = np.arange(1, len(norms) + 1)
            if playing:  # a picture, as the map and the curves (no remount per redraw)
                with st.container(key="nn_live_gradnorm"):
                    st.image(_data_uri(nv.grad_norm_frame_png(epochs, norms, names, width=420,
                                                              height=380)), width="stretch")
            else:
                st.plotly_chart(nv.layer_grad_norm_figure(epochs, norms, names, height=380),
                                key="nn_gradnorm", width="stretch",
                                config={"displayModeBar": False})
            _vanishing_note(norms[-1])
        else:
            st.info(t("network.grad_norm_empty"))
    if net.n_hidden == 0:
        st.caption(t("network.no_hidden_maps"))
    elif exp.is_regression:
        pass
    elif playing:
        st.caption(t("network.pause_for_maps"))
    else:
        xs, ys, points = exp.grid
        with np.errstate(all="ignore"):
            _, hidden = net.forward(run.theta, points)
        maps = [h[0].reshape(len(ys), len(xs), -1) for h in hidden]
        st.markdown(f"**{t('network.maps_title')}**")
        st.plotly_chart(nv.neuron_maps(xs, ys, maps, max_columns=6), key="nn_maps",
                        width="stretch",
                        config={"displayModeBar": False})
    if net.n_hidden and not playing:
        with st.expander(t("network.activation_title", name=rt.activation_title(net.activation))):
            st.plotly_chart(nv.activation_figure(net.activation, height=320), key="nn_act",
                            width="stretch", config={"displayModeBar": False})


def _vanishing_note(last_norms: np.ndarray) -> None:
    if len(last_norms) >= 3 and last_norms[-1] > 0:
        ratio = last_norms[0] / last_norms[-1]
        if ratio < 1e-2:
            st.warning(t("network.vanishing", ratio=f"{ratio:.1e}"))


def formulas_panel(exp: nm.Experiment, run: nm.Run) -> None:
    st.markdown(t("network.formulas_intro"))
    st.markdown(f"**{t('network.forward_title')}**")
    for line in forward_latex(exp, run.theta):
        st.latex(line)
    st.markdown(f"**{t('network.backprop_title')}**")
    for line in backprop_latex(exp, run.theta):
        st.latex(line)
    st.markdown(f"**{t('network.update_title')}**")
    spec = optimizers.OPTIMIZERS[exp.config["opt"]]
    st.latex(spec.latex)
    if spec.notes_diff:
        st.caption(t("network.notes_diff", text=spec.notes_diff))
    for line in update_latex(exp, run):
        st.latex(line)


def download_panel(exp: nm.Experiment, run: nm.Run) -> None:
    cfg = {k: v for k, v in exp.config.items()}
    history = nm.history_arrays(run, exp.is_regression)
    if run.grad_norms:
        history = dict(history, grad_norm=np.vstack([np.full(exp.net.n_layers, np.nan),
                                                     np.asarray(run.grad_norms)])[
                                                         :len(history["epoch"])])
    a, b = st.columns(2)
    a.download_button(t("network.download_weights"), data=nv.weights_json(exp.net, run.theta[0],
                                                                           cfg),
                      file_name="network_weights.json", mime="application/json",
                      key="nn_dl_weights", on_click="ignore", icon=":material/download:",
                      width="stretch")
    b.download_button(t("network.download_history"), data=nv.history_csv(history),
                      file_name="loss_history.csv", mime="text/csv", key="nn_dl_history",
                      on_click="ignore", icon=":material/download:", width="stretch")
    st.caption(t("network.link_note"))


# --------------------------------------------------------------------------- experiments


def _clamp_state(key: str, default: int, high: int) -> None:
    """A slider's value (set before the slider exists) within its current range."""
    st.session_state[key] = int(min(st.session_state.get(key, default), high))


def compare_panel(exp: nm.Experiment, key: str) -> None:
    st.markdown(t("network.compare_intro"))
    chosen = st.multiselect(t("network.compare_pick"), list(optimizers.OPTIMIZERS),
                            default=["gd", "momentum", "adam"], max_selections=nm.MAX_COMPARE,
                            format_func=rt.optimizer_title, key="nn_cmp_opts")
    cap = nm.epoch_cap(exp, 1, max(len(chosen), 2), nm.COMPARE_MAX_EPOCHS)
    _clamp_state("nn_cmp_epochs", min(500, int(exp.config["ep"])), max(cap, 20))
    epochs = st.slider(t("network.compare_epochs"), 10, max(cap, 20), step=10,
                       key="nn_cmp_epochs")
    if cap < nm.COMPARE_MAX_EPOCHS:
        st.caption(t("network.work_cap", n=cap))
    if st.button(t("network.compare_run"), key="nn_cmp_go", icon=":material/compare_arrows:",
                 disabled=len(chosen) < 2):
        run = _current_run(exp, key)
        hypers = {}
        for opt in chosen:
            hypers[opt] = {spec.name: st.session_state.get(nm.hyper_session_key(opt, spec.name),
                                                           nm.hyper_default(opt, spec))
                           for spec in nm.optimizer_hypers(opt)}
        with st.spinner(t("network.compare_running")):
            result = nm.compare(exp, run.theta0, hypers, epochs, run.weight_seed)
        st.session_state["nn_cmp"] = (key, chosen, hypers, result)
    stored = st.session_state.get("nn_cmp")
    if stored is None or stored[0] != key:
        if len(chosen) < 2:
            st.caption(t("network.compare_need_two"))
        return
    _, keys, hypers, result = stored
    colors = {optimizers.OPTIMIZERS[k].title: nv.OPTIMIZER_COLORS.get(k, "#444") for k in keys}
    st.caption(", ".join(f"{rt.optimizer_title(k)}: lr = {hypers[k].get('lr', 0):g}"
                         for k in keys))
    st.plotly_chart(nv.compare_loss_figure(result.epochs, result.losses, colors,
                                           result.diverged_at, height=380),
                    key="nn_cmp_loss", width="stretch", config={"displayModeBar": False})
    if not exp.is_regression:
        xs, ys, points = exp.grid
        probs = {}
        for name, theta in result.thetas.items():
            with np.errstate(all="ignore"):
                out = exp.net.predict(theta, points)[0]
            grid = out.reshape(len(ys), len(xs), -1)
            if exp.task == "binary":
                grid = grid[..., 0] if grid.shape[2] == 1 else grid[..., 1]
            probs[name] = np.clip(grid, 0.0, 1.0)
        st.plotly_chart(nv.boundary_small_multiples(xs, ys, probs, exp.X_train, exp.y_train,
                                                    columns=min(4, len(probs))),
                        key="nn_cmp_maps", width="stretch", config={"displayModeBar": False})


def seed_panel(exp: nm.Experiment, key: str) -> None:
    st.markdown(t("network.seeds_intro"))
    a, b, c = st.columns(3)
    n_nets = a.slider(t("network.seeds_n"), 10, nm.SEED_STAT_NETWORKS, 100, step=10,
                      key="nn_seed_n")
    cap = nm.epoch_cap(exp, n_nets, 1, nm.SEED_STAT_MAX_EPOCHS)
    _clamp_state("nn_seed_ep", min(2000, int(exp.config["ep"])), max(cap, 20))
    max_ep = b.slider(t("network.seeds_epochs"), 10, max(cap, 20), step=10, key="nn_seed_ep")
    if cap < nm.SEED_STAT_MAX_EPOCHS:
        b.caption(t("network.work_cap", n=cap))
    if exp.is_regression:
        target = c.number_input(t("network.seeds_target_loss"), 1e-4, 1.0, 0.02,
                                format="%.4f", key="nn_seed_loss")
    else:
        target = c.slider(t("network.seeds_target_acc"), 50, 100, 100, step=1,
                          key="nn_seed_acc", format="%d %%") / 100
    if st.button(t("network.seeds_run"), key="nn_seed_go", icon=":material/casino:"):
        bar = st.progress(0.0, text=t("network.seeds_running", n=n_nets))
        epochs = nm.seed_statistics(
            exp, n_nets, max_ep, target, first_seed=int(exp.config["wseed"]),
            progress=lambda f: bar.progress(min(max(f, 0.0), 1.0),
                                            text=t("network.seeds_running", n=n_nets)))
        bar.empty()
        summary = nv.seed_statistics_summary(epochs)
        label = _config_label(exp)
        st.session_state["nn_seeds"] = (key, epochs, max_ep)
        table = st.session_state.setdefault("nn_seed_table", [])
        table.append({
            t("network.col_config"): label,
            t("network.col_solved"): f"{summary['n_solved']} / {summary['n']}",
            t("network.col_median"): "—" if summary["median"] is None
            else f"{summary['median']:.0f}",
            t("network.col_p90"): "—" if summary["p90"] is None else f"{summary['p90']:.0f}",
        })
        del table[:-8]
    stored = st.session_state.get("nn_seeds")
    if stored is not None and stored[0] == key:
        _, epochs, max_ep_done = stored
        st.plotly_chart(nv.seed_statistics_figure(epochs, max_ep_done, height=380),
                        key="nn_seed_fig", width="stretch", config={"displayModeBar": False})
    if st.session_state.get("nn_seed_table"):
        st.markdown(f"**{t('network.seeds_table')}**")
        st.dataframe(st.session_state["nn_seed_table"], hide_index=True, width="stretch")


def _config_label(exp: nm.Experiment) -> str:
    cfg = exp.config
    sizes = "-".join(str(s) for s in exp.net.sizes)
    lr = cfg["hyper"].get("lr")
    return (f"{cfg['ds']} · {sizes} {cfg['act']} · {cfg['opt']} lr={lr:g} · "
            f"{cfg['init']}")


# --------------------------------------------------------------------------- page


def main() -> None:
    _init_state()
    # a projector shows 1280x720: less empty space above the title
    st.html("<style>[data-testid='stMainBlockContainer']{padding-top:1.5rem}</style>")
    st.title(t("network.title"))
    _forget_edited_preset()
    st.pills(t("network.presets"), list(PRESETS), key="nn_preset", on_change=_apply_preset,
             format_func=lambda k: t(f"network.preset_{k}"), label_visibility="collapsed")
    preset = st.session_state.get("nn_preset")
    if preset in PRESETS:
        st.info(t(f"network.preset_{preset}_watch"), icon=":material/visibility:")
    else:
        st.caption(t("network.intro"))

    config, uploaded, upload_error = sidebar()
    if st.session_state.get("nn_url_reset"):
        st.warning(t("common.bad_url", names=", ".join(st.session_state["nn_url_reset"])))
    _write_url(config)
    if upload_error:
        st.error(upload_error, icon=":material/upload_file:")
        st.markdown(t("network.upload_format"))
        return
    try:
        exp = nm.build(config, uploaded)
    except ValueError as exc:
        st.error(t("network.bad_config", problem=str(exc)))
        return
    key = nm.config_hash(config) + (
        "" if uploaded is None else str(hash(uploaded[0].tobytes())))

    playing = bool(st.session_state["nn_playing"])
    panel = st.fragment(live_panel, run_every=REDRAW_S if playing else None)
    panel(exp, key, playing)

    st.divider()
    compare_tab, seeds_tab = st.tabs([t("network.tab_compare"), t("network.tab_seeds")])
    with compare_tab:
        compare_panel(exp, key)
    with seeds_tab:
        seed_panel(exp, key)


main()
