"""Neural network: train a small MLP live, from the perceptron to XOR and beyond.

Thin page: sidebar widgets -> a config dict -> ``network_model`` (engine calls) -> ``viz``
figures -> st.*. Training state (theta, optimizer state, history) lives in
``st.session_state["nn_run"]`` keyed by a hash of the configuration, so any change of the
experiment starts a fresh run; the live panel (``network_live``) is an ``st.fragment`` that
reruns for each tick the browser asks for while playing, training the epochs owed since the
last one, and changes the charts in place (``canvas``).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import network_live as live
from app_pages import network_model as nm
from app_pages import network_overfit as overfit
from app_pages import network_run as nr
from app_pages import present, share
from app_pages import registry_texts as rt
from app_pages import url_values as uv
from app_pages.network_explain import (
    backprop_latex,
    forward_latex,
    update_caption,
    update_latex,
)
from engine import datasets, mlp, optimizers, overfitting
from texts import t
from viz import network_curves, network_export, network_map, network_stats
from viz.style import OPTIMIZER_COLORS

# target training speed in epochs per second, independent of how fast the browser redraws
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)
PRESETS = nm.PRESETS  # one-click scenarios (their claims are tested on the engine)


# --------------------------------------------------------------------------- state


def _apply_preset() -> None:
    """Callback of the scenario pills: reset every control, then set the scenario's."""
    name = st.session_state.get("nn_preset")
    if name not in PRESETS:
        return
    st.session_state.update(nm.preset_values(name))
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
    """Once per session: read the URL (validated; a scenario ``sc`` sets its controls, the
    link's other values override them; names that are no setting of the page leave the
    address bar); always: defaults for missing keys."""
    state = st.session_state
    if not state.get("nn_url_done"):
        values, notes = nm.parse_query(st.query_params.to_dict())
        preset = values.pop("nn_preset", None)
        if preset is not None:
            state.update(nm.preset_values(preset))
            state["nn_preset"] = preset
            state["nn_preset_sig"] = _signature()
        state.update(values)
        for note in notes:
            if note.what == "ignored" and note.name in st.query_params:
                del st.query_params[note.name]
        state["nn_url_reset"] = notes
        state["nn_url_done"] = True
    for f in nm.base_fields():
        state.setdefault(f.key, f.default)
    state.setdefault("nn_playing", False)
    state.setdefault("nn_speed", 20)


def _write_url(config: dict) -> None:
    """Mirror the configuration into the address bar (only values that differ from the
    defaults, and the scenario while it is on), leaving parameters that other parts of the
    app own (language) alone."""
    query = nm.to_query(config, st.session_state.get("nn_preset"),
                        st.session_state.get(overfit.SHOWN))
    for key in nm.url_keys(config["opt"], config["sched"]):
        if key in st.query_params and key not in query:
            del st.query_params[key]
    for key, value in query.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    present.sync_url(st.query_params, st.session_state)


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
                    problem = None
                    try:
                        uploaded = datasets.parse_csv(file.getvalue())
                    except datasets.DatasetError as exc:
                        problem = rt.error_message(exc)
                    else:
                        if int(np.max(uploaded[1])) > 2:
                            problem = t("network.too_many_classes")
                        elif len(uploaded[0]) > nm.MAX_POINTS:
                            problem = t("network.too_many_points", n=nm.MAX_POINTS)
                    if problem is not None:
                        upload_error = t("network.upload_bad", problem=problem)
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
                         help=nm.pair_help())
            st.selectbox(t("network.init"), list(mlp.INIT_SCHEMES), key="init",
                         format_func=lambda k: t(f"teach.init_{k}"), help=t("teach.init_help"))

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
            st.number_input(t("network.l1"), 0.0, 0.1, step=0.0001, format="%.4f", key="l1",
                            help=t("teach.l1_help"))
            st.number_input(t("network.l2"), 0.0, 0.1, step=0.0001, format="%.4f", key="l2",
                            help=t("teach.l2_help"))
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


def _preset_title(key: str) -> str:
    return t("overfit.preset") if key == nm.OVERFITTING else t(f"network.preset_{key}")


def _dataset_title(key: str) -> str:
    if key == nm.UPLOAD:
        return t("network.dataset_upload")
    return rt.dataset_title(key)


def _schedule_title(key: str) -> str:
    return t("network.schedule_constant") if key == "constant" else rt.schedule_title(key)


# --------------------------------------------------------------------------- tabs


def tabs(exp: nm.Experiment, run: nr.Run, playing: bool) -> None:
    """The tabs under the live charts (drawn by the live fragment, so "See inside" changes
    while training plays). Only the open tab is drawn: a tick stays cheap."""
    inside, formulas, download = st.tabs(
        [t("network.tab_inside"), t("network.tab_formulas"), t("network.tab_download")],
        key="nn_tab", on_change="rerun")
    if inside.open:
        with inside:
            live.see_inside(exp, run, playing)
    if formulas.open:
        with formulas:
            if playing:
                st.info(t("network.pause_for_numbers"))
            else:
                formulas_panel(exp, run)
    if download.open:
        with download:
            download_panel(exp, run)


def formulas_panel(exp: nm.Experiment, run: nr.Run) -> None:
    st.markdown(t("network.formulas_intro"))
    st.markdown(f"**{t('network.forward_title')}**")
    for line in forward_latex(exp, run.theta):
        st.latex(line)
    st.markdown(f"**{t('network.backprop_title')}**")
    for line in backprop_latex(exp, run.theta):
        st.latex(line)
    st.markdown(f"**{t('network.update_title')}**")
    key = exp.config["opt"]
    st.latex(optimizers.OPTIMIZERS[key].latex)
    if rt.optimizer_notes_diff(key):
        st.caption(t("network.notes_diff", text=rt.optimizer_notes_diff(key)))
    st.caption(t("teach.symbols_note"))
    update = nr.next_update(exp, run)
    st.markdown(update_caption(exp, update))
    for line in update_latex(exp, run, update):
        st.latex(line)


def download_panel(exp: nm.Experiment, run: nr.Run) -> None:
    cfg = {k: v for k, v in exp.config.items()}
    history = nr.history_arrays(run, exp.is_regression)
    if run.grad_norms:
        history = dict(history, grad_norm=np.vstack([np.full(exp.net.n_layers, np.nan),
                                                     np.asarray(run.grad_norms)])[
                                                         :len(history["epoch"])])
    a, b = st.columns(2)
    a.download_button(t("network.download_weights"),
                      data=network_export.weights_json(exp.net, run.theta[0], cfg),
                      file_name="network_weights.json", mime="application/json",
                      key="nn_dl_weights", on_click="ignore", icon=":material/download:",
                      width="stretch")
    b.download_button(t("network.download_history"), data=network_export.history_csv(history),
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
        run = live.current_run(exp, key)
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
    # the engine keys its results by optimizer; the figures get the titles of this language
    names = {k: rt.optimizer_title(k) for k in result.keys}
    colors = {names[k]: OPTIMIZER_COLORS[k] for k in result.keys}
    st.caption(", ".join(f"{names[k]}: lr = {hypers[k].get('lr', 0):g}" for k in result.keys))
    st.plotly_chart(network_curves.compare_loss_figure(
        result.epochs, {names[k]: result.losses[k] for k in result.keys}, colors,
        {names[k]: result.diverged_at[k] for k in result.keys}, height=380),
                    key="nn_cmp_loss", width="stretch", config={"displayModeBar": False})
    if not exp.is_regression:
        xs, ys, _ = exp.grid
        probs = {names[k]: nm.class_probabilities(exp, result.thetas[k]) for k in result.keys}
        st.plotly_chart(network_map.boundary_small_multiples(
            xs, ys, probs, exp.X_train, exp.y_train, columns=min(4, len(probs))),
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
        summary = network_stats.seed_statistics_summary(epochs)
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
        st.plotly_chart(network_stats.seed_statistics_figure(epochs, max_ep_done, height=380),
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


def _reset_defaults() -> None:
    """Reset to defaults: the default experiment, as on a first visit without a link."""
    state = st.session_state
    for f in nm.base_fields():
        state[f.key] = f.default
    for opt in optimizers.OPTIMIZERS:
        for spec in nm.optimizer_hypers(opt):
            state[nm.hyper_session_key(opt, spec.name)] = nm.hyper_default(opt, spec)
    state["nn_preset"] = None
    state["nn_preset_sig"] = None
    state.pop(overfit.SHOWN, None)
    state["nn_playing"] = False
    state["nn_speed"] = 20
    state.pop("nn_run", None)


def main() -> None:
    _init_state()
    present.init(st.session_state, st.query_params)
    # a projector shows 1280x720: less empty space above the title
    st.html("<style>[data-testid='stMainBlockContainer']{padding-top:1.5rem}</style>")
    present.style(st.session_state)
    title, toggle = st.columns([3.5, 1.5], vertical_alignment="center")
    title.title(t("network.title"))
    with toggle.container(horizontal=True, vertical_alignment="center"):
        present.toggle()
        share.button()
    st.sidebar.button(t("common.reset_defaults"), key="nn_reset_defaults",
                      on_click=_reset_defaults, icon=":material/restart_alt:", width="stretch",
                      help=t("network.reset_defaults_help"))
    _forget_edited_preset()
    st.pills(t("network.presets"), list(PRESETS), key="nn_preset", on_change=_apply_preset,
             format_func=_preset_title, label_visibility="collapsed")
    preset = st.session_state.get("nn_preset")
    curves = None
    if preset == nm.OVERFITTING:
        with st.spinner(t("overfit.computing", n=len(overfitting.SCENARIO.cures),
                          epochs=f"{overfitting.SCENARIO.epochs:,}")):
            curves = overfit.overfitting_run()
    if preset in PRESETS:
        with st.container(key="nn_watch"):
            st.info(t(f"network.preset_{preset}_watch") if curves is None
                    else overfit.watch_text(overfit.story(curves)),
                    icon=":material/visibility:")
    else:
        st.caption(t("network.intro"))

    config, uploaded, upload_error = sidebar()
    if st.session_state.get("nn_url_reset"):
        st.warning(uv.messages(st.session_state["nn_url_reset"]), icon=":material/link_off:")
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

    if curves is not None:  # the scenario's own view instead of live training
        overfit.view(curves)
        return
    st.fragment(live.live_panel)(exp, key, tabs)

    st.divider()
    compare_tab, seeds_tab = st.tabs([t("network.tab_compare"), t("network.tab_seeds")])
    with compare_tab:
        compare_panel(exp, key)
    with seeds_tab:
        seed_panel(exp, key)


main()
