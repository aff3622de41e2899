"""The Neural-network page: its logic (URL layer, live runs, formulas) and the page itself
under Streamlit's AppTest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from canvas_payload import canvas_data, decode
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from app_pages import live_pace
from app_pages import network_explain as nx
from app_pages import network_live as live
from app_pages import network_model as nm
from app_pages import network_run as nr
from engine import datasets, mlp, optimizers

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "network.py")


def config(**changes) -> dict:
    """The page's default configuration with some values changed."""
    cfg = {f.key: f.default for f in nm.base_fields()}
    cfg.update({k: v for k, v in changes.items() if k not in ("hyper", "sched_hyper")})
    opt = cfg["opt"]
    cfg["hyper"] = {h.name: nm.hyper_default(opt, h) for h in nm.optimizer_hypers(opt)}
    cfg["hyper"].update(changes.get("hyper", {}))
    cfg["sched_hyper"] = changes.get("sched_hyper", {})
    return cfg


# --------------------------------------------------------------------------- URL layer


def test_query_values_are_parsed_and_typed():
    values, notes = nm.parse_query({"ds": "moons", "hl": "3", "w": "8", "act": "relu",
                                    "bn": "1", "opt": "momentum", "lr": "0.2",
                                    "momentum": "0.5", "noise": "0.25", "lang": "en"})
    assert notes == []
    assert values == {"ds": "moons", "hl": 3, "w": 8, "act": "relu", "bn": True,
                      "opt": "momentum", "noise": 0.25,
                      "h_momentum_lr": 0.2, "h_momentum_momentum": 0.5}


@pytest.mark.parametrize("key, bad", [
    ("hl", "two"), ("ds", "mnist"), ("noise", "nan"), ("bn", "yes"), ("opt", "sgd"),
    ("lr", "-0.1"), ("lr", "inf"), ("beta1", "1.0"), ("bs", "3"), ("hl", "1.5"),
])
def test_malformed_query_value_is_reset_and_named(key, bad):
    values, notes = nm.parse_query({key: bad, "opt": "adam"} if key != "opt" else {key: bad})
    assert [(n.name, n.what, n[2]) for n in notes] == [(key, "reset", bad)]
    assert key not in values and f"h_adam_{key}" not in values


@pytest.mark.parametrize("key, bad, nearest", [
    ("hl", "9", 4), ("w", "0", 1), ("noise", "-1", 0.0), ("n", "1e9", nm.MAX_POINTS),
    ("ep", "20001", nm.MAX_EPOCHS), ("test", "0.9", 0.5),
])
def test_out_of_range_query_number_is_clamped_and_named(key, bad, nearest):
    """As on the race page: a readable number outside its closed range takes the nearest
    allowed value (the open ranges of the optimizer's parameters, lr > 0, are reset)."""
    values, notes = nm.parse_query({key: bad})
    assert [(n.name, n.what, n[2]) for n in notes] == [(key, "clamped", bad)]
    assert values[key] == nearest and notes[0][3] == nm._fmt(nearest)


URL_KEYS = sorted(nm.url_keys("adam", "constant"))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(URL_KEYS + ["lang", "other"]),
                       st.one_of(st.text(max_size=12), st.sampled_from(
                           ["0", "1", "-1", "1e308", "nan", "inf", "0.5", "xor", "adam"]))))
def test_any_query_parses_without_exception_into_a_buildable_config(query):
    values, notes = nm.parse_query(query)
    assert {n.name for n in notes} <= set(query)
    cfg = config(**{k: v for k, v in values.items() if not k.startswith(("h_", "s_"))})
    cfg["hyper"].update({k.split("_", 2)[2]: v for k, v in values.items()
                         if k.startswith(f"h_{cfg['opt']}_")})
    if cfg["ds"] == nm.UPLOAD:
        return  # needs a file
    if cfg["pair"] not in nm.pairs_for(nm.dataset_task(cfg["ds"])):
        cfg["pair"] = nm.pairs_for(nm.dataset_task(cfg["ds"]))[0]
    cfg["sched_hyper"] = {k.split("_", 2)[2]: v for k, v in values.items()
                          if k.startswith(f"s_{cfg['sched']}_")}
    nm.build(cfg)  # every accepted value is one the engine takes


def test_pair_that_does_not_fit_the_task_is_reset():
    values, notes = nm.parse_query({"ds": "sine", "pair": "softmax_cce"})
    assert notes == [("pair", "reset", "softmax_cce", "linear_mse")] and values == {"ds": "sine"}


def test_query_round_trip_keeps_only_non_defaults():
    cfg = config(ds="circle", hl=2, opt="rmsprop", hyper={"lr": 0.005})
    query = nm.to_query(cfg)
    assert query == {"ds": "circle", "hl": "2", "opt": "rmsprop", "lr": "0.005"}
    values, notes = nm.parse_query(query)
    assert notes == [] and values["h_rmsprop_lr"] == 0.005 and values["hl"] == 2


def test_schedule_parameters_travel_in_the_url():
    values, notes = nm.parse_query({"sched": "step", "s_step_size": "50", "s_gamma": "2"})
    assert values == {"sched": "step", "s_step_step_size": 50}
    assert [n.name for n in notes] == ["s_gamma"]
    cfg = config(sched="step", sched_hyper={"step_size": 50, "gamma": 0.5, "warmup": 0})
    assert nm.to_query(cfg) == {"sched": "step", "s_step_size": "50"}


def test_schedule_scales_the_learning_rate_per_epoch():
    # GD, exponential decay 0.5 per epoch: epoch 1 steps with lr * 0.5
    cfg = config(opt="gd", hyper={"lr": 0.5}, sched="exponential",
                 sched_hyper={"gamma": 0.5, "warmup": 0})
    exp = nm.build(cfg)
    run = nr.new_run(exp, "k", 0)
    nr.advance(exp, run, 2)
    theta = run.theta0
    for lr in (0.5, 0.25):
        _, g = exp.net.loss_and_grads(theta, exp.X_train, exp.Y_train)
        theta = theta - lr * g
    np.testing.assert_allclose(run.theta, theta, rtol=1e-12)


def test_config_hash_ignores_stop_epoch_only():
    assert nm.config_hash(config(ep=10)) == nm.config_hash(config(ep=5000))
    assert nm.config_hash(config()) != nm.config_hash(config(w=5))


# --------------------------------------------------------------------------- live runs


def test_reset_with_same_seed_gives_same_initial_weights():
    exp = nm.build(config())
    a, b, c = nr.new_run(exp, "k", 0), nr.new_run(exp, "k", 0), nr.new_run(exp, "k", 1)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.allclose(a.theta, c.theta)


def test_chunked_training_equals_one_long_call():
    # full-batch Adam is deterministic: 3 chunks of 10 epochs == 30 epochs at once
    exp = nm.build(config())
    run = nr.new_run(exp, "k", 0)
    for _ in range(3):
        nr.advance(exp, run, 10)
    direct = mlp.train(exp.net, run.theta0, exp.X_train, exp.Y_train,
                       optimizers.make("adam", lr=0.03), 30)
    np.testing.assert_allclose(run.theta, direct.theta, rtol=1e-12)
    np.testing.assert_allclose(run.history["train_loss"], direct.loss[:, 0], rtol=1e-12)
    assert run.history["epoch"] == list(range(31))


def test_training_stops_at_the_stop_epoch():
    exp = nm.build(config(ep=25))
    run = nr.new_run(exp, "k", 0)
    nr.advance(exp, run, 100)
    assert run.epoch == 25 and len(run.history["epoch"]) == 26


def test_default_xor_network_reaches_full_accuracy():
    exp = nm.build(config())
    run = nr.new_run(exp, "k", 0)
    nr.advance(exp, run, 300)
    assert run.history["train_acc"][-1] == 1.0


def test_perceptron_cannot_solve_xor_but_solves_and():
    for ds, expected in (("xor", False), ("and", True)):
        exp = nm.build(config(ds=ds, hl=0, hyper={"lr": 0.1}))
        run = nr.new_run(exp, "k", 0)
        nr.advance(exp, run, 1000)
        assert (max(run.history["train_acc"]) == 1.0) is expected, ds


def test_diverging_run_is_flagged_and_its_history_stays_finite():
    exp = nm.build(config(ds="sine", pair="linear_mse", act="relu", opt="gd",
                          hyper={"lr": 5.0}))
    run = nr.new_run(exp, "k", 0)
    nr.advance(exp, run, 100)
    assert run.diverged and 0 < run.diverged_at < 100
    assert np.all(np.isfinite(run.history["train_loss"]))
    before = run.epoch
    nr.advance(exp, run, 10)  # a diverged run does not train on
    assert run.epoch == before


def test_page_and_engine_count_the_same_accuracy_for_a_linear_output():
    """One definition: a linear (MSE) output on 0/1 labels is class 1 from 0.5, on the page
    and in engine.mlp alike (a notebook and the page once disagreed: 0.0 against 0.5)."""
    exp = nm.build(config(ds="xor_cloud", pair="linear_mse"))
    run = nr.new_run(exp, "k", 0)
    nr.advance(exp, run, 30)
    out = exp.net.predict(run.theta, exp.X_train)[0, :, 0]
    by_hand = np.mean((out >= 0.5).astype(int) == exp.y_train)
    assert nm.accuracy(exp, run.theta, exp.X_train, exp.y_train)[0] == by_hand
    assert mlp.accuracy(exp.net, run.theta, exp.X_train, exp.y_train)[0] == by_hand
    # class-0 points with an output in (0, 0.5): right by the rule (a threshold of 0 would
    # count every one of them wrong)
    between = (out > 0) & (out < 0.5) & (exp.y_train == 0)
    assert between.sum() >= 3
    X, y = exp.X_train[between], exp.y_train[between]
    assert mlp.accuracy(exp.net, run.theta, X, y)[0] == 1.0
    assert nm.accuracy(exp, run.theta, X, y)[0] == 1.0


def test_seed_statistics_batch_equals_networks_trained_one_by_one():
    exp = nm.build(config(w=2, act="sigmoid", opt="gd", hyper={"lr": 2.0}))
    solved = nm.seed_statistics(exp, 6, 300, 1.0, first_seed=3)
    thetas = exp.net.init(6, scheme="xavier", seed=3)
    for i in range(6):
        res = mlp.train(exp.net, thetas[i:i + 1], exp.X_train, exp.Y_train,
                        optimizers.make("gd", lr=2.0), 300)
        # replay the run and find the first epoch with every point right
        theta, first = thetas[i:i + 1], -1
        for epoch in range(301):
            if nm.accuracy(exp, theta, exp.X_train, exp.y_train)[0] == 1.0:
                first = epoch
                break
            theta = mlp.train(exp.net, theta, exp.X_train, exp.Y_train,
                              optimizers.make("gd", lr=2.0), 1).theta
        assert solved[i] == first, i
        assert res.theta.shape == (1, exp.net.n_params)


def test_compare_starts_every_optimizer_from_the_same_weights():
    exp = nm.build(config())
    run = nr.new_run(exp, "k", 0)
    result = nm.compare(exp, run.theta0, {"gd": {"lr": 0.5}, "adam": {"lr": 0.03}}, 50)
    first = {key: loss[0] for key, loss in result.losses.items()}
    assert len(set(first.values())) == 1  # same start, same initial loss
    assert result.keys == ("gd", "adam")  # keyed by optimizer: the page translates titles
    assert all(len(loss) == 51 for loss in result.losses.values())


# --------------------------------------------------------------------------- formulas


@pytest.mark.parametrize("ds, pair, hl", [
    ("xor", "sigmoid_bce", 1), ("xor", "softmax_cce", 2), ("xor", "linear_mse", 1),
    ("gaussians3", "softmax_cce", 1), ("gaussians3", "sigmoid_bce", 1), ("sine", "linear_mse", 1),
    ("and", "sigmoid_bce", 0),
])
def test_written_out_chain_rule_matches_finite_differences(ds, pair, hl):
    exp = nm.build(config(ds=ds, pair=pair, hl=hl, l2=0.01, n=40))
    run = nr.new_run(exp, "k", 2)
    nr.advance(exp, run, 5)
    _, grad = nx.last_weight_gradient(exp, run.theta)
    idx = exp.net.param_names().index(f"W{exp.net.n_layers}[0,0]")
    h = 1e-6
    plus, minus = run.theta.copy(), run.theta.copy()
    plus[0, idx] += h
    minus[0, idx] -= h
    J = exp.net.objective
    fd = (J(plus, exp.X_train, exp.Y_train, 0.0, 0.01)[0]
          - J(minus, exp.X_train, exp.Y_train, 0.0, 0.01)[0]) / (2 * h)
    assert grad == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_formula_lines_show_the_engine_gradient_and_next_weight():
    exp = nm.build(config(opt="gd", hyper={"lr": 0.5}))
    run = nr.new_run(exp, "k", 0)
    idx = exp.net.param_names().index("W2[0,0]")
    _, grads = exp.net.loss_and_grads(run.theta, exp.X_train, exp.Y_train)
    text = " ".join(nx.backprop_latex(exp, run.theta) + nx.update_latex(exp, run))
    assert nx._num(grads[0, idx]) in text
    assert nx._num(run.theta[0, idx] - 0.5 * grads[0, idx]) in text  # GD: w - lr g
    assert len(nx.forward_latex(exp, run.theta)) == 2 + 2 * exp.net.n_layers


# --------------------------------------------------------------------------- the page


def page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def status(at: AppTest) -> str:
    return " ".join(md.value for md in at.markdown if "Epoch" in md.value)


def test_page_runs_at_defaults():
    at = page()
    assert not at.exception
    assert "Epoch **0** / 1000" in status(at)
    assert "train accuracy" in status(at)
    assert not at.error


@pytest.mark.parametrize("ds", list(datasets.DATASETS))
def test_page_runs_and_trains_for_every_dataset(ds):
    at = page()
    at.selectbox(key="ds").set_value(ds).run()
    assert not at.exception
    at.button(key="nn_step_btn").click().run()
    assert not at.exception
    assert "Epoch **1**" in status(at)
    assert ("train accuracy" in status(at)) is (datasets.DATASETS[ds].task != "regression")


def test_step_and_reset_change_the_output():
    at = page()
    before = status(at)
    at.button(key="nn_step_btn").click().run()
    after = status(at)
    assert after != before and "Epoch **1**" in after
    at.button(key="nn_reset").click().run()
    assert status(at) == before  # same seed: exactly the same start


def test_network_widgets_change_the_drawn_network():
    at = page()
    at.slider(key="hl").set_value(2).run()
    at.slider(key="w").set_value(6).run()
    assert not at.exception
    diagram = json.dumps(canvas_data(at, "nn_diagram")["figure"])
    assert "hidden 2" in diagram and "hidden 3" not in diagram  # two hidden layers drawn
    at.selectbox(key="opt").set_value("momentum").run()
    assert not at.exception
    assert at.slider(key="h_momentum_momentum").value == pytest.approx(0.9)


def page_experiment(at: AppTest) -> nm.Experiment:
    """The experiment the page's widgets describe, built here again (same config hash)."""
    cfg = {f.key: at.session_state[f.key] for f in nm.base_fields()}
    opt, sched = cfg["opt"], cfg["sched"]
    cfg["hyper"] = {h.name: at.session_state[nm.hyper_session_key(opt, h.name)]
                    for h in nm.optimizer_hypers(opt)}
    cfg["sched_hyper"] = {h.name: at.session_state[nm.sched_session_key(sched, h.name)]
                          for h in nm.schedule_hypers(sched)}
    assert nm.config_hash(cfg) == at.session_state["nn_run"].key
    return nm.build(cfg)


def _map_values(payload: dict) -> np.ndarray:
    """The heat map a decision-map payload ends on: the figure's, the restyle's or the
    last frame's (trace 0 is the heat map; a regression's curve is the last trace)."""
    if "figure" in payload:
        data = payload["figure"]["data"]
        return decode(data[0]["z"]) if "z" in data[0] else decode(data[-1]["y"])
    update = payload["frames"]["steps"][-1] if "frames" in payload else payload["restyle"]
    values = update["update"]["z" if "z" in update["update"] else "y"][0]
    return decode(values)


@pytest.mark.parametrize("ds", ["xor", "spiral", "sine"])
def test_live_training_sends_only_what_is_new(ds):
    at = page({"ds": ds})
    assert not at.exception
    assert not at.get("image")  # no server-drawn pictures, ever
    first_map, first_curves = canvas_data(at, "nn_map"), canvas_data(at, "nn_curves")
    assert "figure" in first_map and "figure" in first_curves  # epoch 0: the whole figures
    at.button(key="nn_play").click().run()
    assert not at.exception and at.session_state["nn_playing"]
    # Play trains nothing yet: it asks the browser for the first tick, one period later
    asked = canvas_data(at, "nn_map")["tick"]
    assert at.session_state["nn_run"].epoch == 0
    assert live_pace.MIN_PERIOD <= asked["after"] / 1000 <= live_pace.MAX_PERIOD
    tick(at)
    assert not at.exception
    run = at.session_state["nn_run"]
    assert run.epoch > 0
    live_map, live_curves = canvas_data(at, "nn_map"), canvas_data(at, "nn_curves")
    assert live_map["tick"]["n"] > asked["n"]  # the next tick: one request at a time
    # the same document, updated: heat-map values (snapshots) and the new points only
    assert "figure" not in live_map and live_map["doc"] == first_map["doc"]
    exp = page_experiment(at)
    expected = np.asarray(live.map_values(exp, run.theta), dtype=np.float32)
    if exp.task == "binary":  # the heat map: P(class 1) on the grid (subsampled alike)
        np.testing.assert_allclose(_map_values(live_map), expected, rtol=1e-5, atol=1e-6)
    else:  # the fitted curve
        np.testing.assert_allclose(_map_values(live_map), expected, rtol=1e-5, atol=1e-5)
    series = live_curves.get("series") or {}
    if series:  # the curves document of epoch 0 had one point; after that, appended points
        assert all(f >= 1 for f in series["from"])
        new = decode(series["x"][0])
        assert new[-1] == run.epoch and new[0] == series["from"][0]
    at.button(key="nn_pause").click().run()
    assert not at.exception and not at.session_state["nn_playing"]
    assert "tick" not in canvas_data(at, "nn_map")  # the browser stops asking
    epoch = at.session_state["nn_run"].epoch
    tick(at)  # a tick the browser had sent before the Pause reached it
    at.run()
    assert at.session_state["nn_run"].epoch == epoch  # paused means paused


def tick(at: AppTest) -> AppTest:
    """What the decision map's ``tick`` event does (AppTest cannot send a component's
    event; tests/e2e/test_network_e2e.py trains in a real browser that does)."""
    at.session_state["nn_tick_due"] = True
    return at.run()


def test_only_ticks_train_and_a_slow_tick_is_not_caught_up(monkeypatch):
    monkeypatch.setattr(live, "TRAIN_BUDGET_S", 60.0)  # the speed decides, not the clock
    at = page()
    at.button(key="nn_play").click().run()
    at.run()  # a rerun that is not a tick (a tab opened, say) trains nothing
    assert at.session_state["nn_run"].epoch == 0
    at.session_state["nn_run"].epochs_per_chunk = 10_000  # no warm-up of the chunk size
    tick(at)
    first = at.session_state["nn_run"].epoch
    period = canvas_data(at, "nn_map")["tick"]["after"] / 1000  # this tick's period
    assert first == pytest.approx(20 * period, abs=1)  # the default speed, 20 epochs/s
    at.session_state["nn_tick"] -= 60.0  # the next tick comes a minute later (hidden tab)
    at.session_state["nn_run"].epochs_per_chunk = 10_000
    tick(at)
    owed = at.session_state["nn_run"].epoch - first
    assert owed == pytest.approx(20 * (live_pace.MAX_PERIOD + 1.0), abs=1)  # not 20 × 60


def test_epochs_a_chunk_could_not_train_are_owed_to_the_next_tick():
    at = page()
    at.button(key="nn_play").click().run()
    at.session_state["nn_run"].epochs_per_chunk = 5  # the budget allows 5 epochs this tick
    tick(at)
    period = canvas_data(at, "nn_map")["tick"]["after"] / 1000
    assert at.session_state["nn_run"].epoch == 5
    assert at.session_state["nn_credit"] == pytest.approx(20 * period - 5, abs=0.05)  # owed


def test_url_reproduces_configuration_and_reports_malformed_values():
    at = page({"ds": "moons", "hl": "9", "lr": "abc", "w": "6"})
    assert not at.exception
    assert at.selectbox(key="ds").value == "moons"
    assert at.slider(key="w").value == 6
    assert at.slider(key="hl").value == nm.MAX_HIDDEN_LAYERS  # clamped to the nearest
    warning = " ".join(w.value for w in at.warning)
    assert "hl" in warning and "lr" in warning


def test_bad_csv_shows_the_problem_and_the_line():
    at = page({"ds": "upload"})
    assert not at.exception
    at.file_uploader(key="nn_csv").upload("points.csv", b"x1,x2,label\n0,1,1\n0.5,oops,0\n",
                                           "text/csv")
    at.run()
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "line 3" in message and "oops" in message


def test_good_csv_trains():
    rows = "\n".join(f"{x:.2f},{y:.2f},{int(x > y)}" for x, y in
                     np.random.default_rng(0).uniform(-1, 1, (30, 2)))
    at = page({"ds": "upload"})
    at.file_uploader(key="nn_csv").upload("points.csv", rows.encode(), "text/csv").run()
    at.button(key="nn_step_btn").click().run()
    assert not at.exception and not at.error
    assert "Epoch **1**" in status(at)


def test_diverging_configuration_shows_the_banner():
    at = page({"ds": "sine", "act": "relu", "opt": "gd", "lr": "5", "pair": "linear_mse"})
    for _ in range(8):
        if at.button(key="nn_step_btn").disabled:  # training stopped: nothing to step
            break
        at.button(key="nn_step_btn").click().run()
    assert not at.exception
    banner = " ".join(e.value for e in at.error)
    assert "diverged" in banner and "learning rate" in banner
    assert at.button(key="nn_play").disabled


def test_perceptron_on_xor_explains_why_it_fails():
    at = page({"hl": "0"})
    for _ in range(21):
        at.button(key="nn_step_btn").click().run()
    assert not at.exception
    assert any("straight line" in w.value for w in at.warning)


def test_preset_sets_the_controls():
    at = page()
    at.button_group(key="nn_preset").set_value("deep_sigmoid").run()
    assert not at.exception
    assert at.slider(key="hl").value == 4
    assert at.selectbox(key="act").value == "sigmoid"
    assert any("vanishing" in i.value.lower() or "gradient" in i.value for i in at.info)
    at.button(key="nn_step_btn").click().run()  # training keeps the scenario
    assert at.button_group(key="nn_preset").value == "deep_sigmoid"
    at.selectbox(key="act").set_value("relu").run()  # an edit ends it: no stale advice
    assert not at.exception
    assert at.button_group(key="nn_preset").value is None
    assert not any("Four sigmoid layers" in i.value for i in at.info)


def test_compare_and_seed_statistics_panels_produce_their_charts():
    at = page()
    at.button(key="nn_cmp_go").click().run()
    assert not at.exception
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("Momentum" in spec and "Adam" in spec for spec in specs)  # overlaid losses
    at.slider(key="nn_seed_n").set_value(20).run()
    at.button(key="nn_seed_go").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table.iloc[-1, 1].endswith("/ 20")  # "solved k / 20"
    assert "2-4-1" in table.iloc[-1, 0]


def test_work_per_click_is_bounded():
    small = nm.build(config())
    big = nm.build(config(ds="spiral", hl=4, w=16, n=2000, test=0.0, bs=1))
    assert nm.epoch_cap(small, 100, 1, nm.SEED_STAT_MAX_EPOCHS) == nm.SEED_STAT_MAX_EPOCHS
    cap = nm.epoch_cap(big, 100, 1, nm.SEED_STAT_MAX_EPOCHS)
    n, P = len(big.X_train), big.net.n_params
    assert 10 <= cap < 50
    assert cap * (n * nm.STEP_UNITS + 100 * n * P) <= nm.WORK_BUDGET or cap == 10


@pytest.mark.parametrize("query", [
    {"hl": "3", "bn": "1", "drop": "0.3", "l1": "0.001", "l2": "0.01"},
    {"ds": "moons", "bs": "1", "opt": "nag", "sched": "cosine", "s_t_max": "50"},
    {"ds": "gaussians3", "pair": "linear_mse", "act": "leaky_relu", "init": "he"},
    {"ds": "circle", "init": "zeros", "opt": "adadelta", "sched": "step", "s_warmup": "3"},
    {"hl": "4", "w": "16", "act": "sigmoid", "opt": "adamw", "weight_decay": "0.05"},
    {"hl": "0", "ds": "and", "opt": "adam", "amsgrad": "1", "bs": "2"},
])
def test_page_trains_unusual_configurations(query):
    at = page(query)
    assert not at.exception and not at.warning
    for _ in range(2):
        at.button(key="nn_step_btn").click().run()
    assert not at.exception and not at.error
    assert "Epoch **2**" in status(at)


# --------------------------------------------------------------------------- issue 8: the
# page shows what the engine computes


@pytest.mark.parametrize(("ds", "old_wrong"), [("xor_cloud", 0.03), ("moons", 0.05),
                                               ("circle", 0.2)])
def test_batch_norm_maps_show_the_class_the_network_gives_each_point(ds, old_wrong):
    """With batch norm the decision map normalises every grid point with the training set's
    statistics (as training did): a point's colour is what the network says about it,
    whatever other points are on the grid. Without the reference (the old map) the grid's
    own statistics painted the wrong class on a sizeable part of the map."""
    exp = nm.build(config(ds=ds, hl=1, w=8, act="relu", bn=True))
    run = nr.new_run(exp, "k", 0)
    nr.advance(exp, run, 300)
    values = live.map_values(exp, run.theta)
    xs, ys, points = exp.grid
    # a few grid points, each predicted alone against the training statistics
    picks = np.arange(0, len(points), 97)
    alone = np.array([exp.net.predict(run.theta, points[i:i + 1], reference=exp.X_train)[0, 0, 0]
                      for i in picks])
    np.testing.assert_allclose(values.reshape(-1)[picks], alone, rtol=1e-9, atol=1e-12)
    # at the training points the map's rule gives the classes the accuracy counts
    train_probs = nm.predictions(exp, run.theta, exp.X_train)[0, :, 0]
    np.testing.assert_allclose(train_probs, exp.net.predict(run.theta, exp.X_train)[0, :, 0],
                               rtol=1e-12)
    # the hidden neurons' maps and the comparison maps use the same rule
    maps = nm.hidden_maps(exp, run.theta)
    _, hidden = exp.net.forward(run.theta, points[:5], reference=exp.X_train)
    np.testing.assert_allclose(maps[0].reshape(-1, 8)[:5], hidden[0][0], rtol=1e-12)
    np.testing.assert_array_equal(nm.class_probabilities(exp, run.theta), values)
    grid_stats = exp.net.predict(run.theta, points)[0, :, 0].reshape(values.shape)
    assert np.mean((grid_stats >= 0.5) != (values >= 0.5)) > old_wrong


def test_formulas_show_the_regularised_loss_with_both_terms():
    """XOR, L2 = 0.05: the data-loss formula stands next to the data loss (not next to a
    value that includes the penalty), and J_reg shows both terms and their sum."""
    exp = nm.build(config(l2=0.05))
    run = nr.new_run(exp, "k", 0)
    nr.advance(exp, run, 20)
    lines = nx.forward_latex(exp, run.theta)
    data = exp.net.objective(run.theta, exp.X_train, exp.Y_train)[0]
    penalty = 0.05 * np.sum(run.theta[0, exp.net.weight_mask()] ** 2)
    loss_line = next(line for line in lines if line.startswith(mlp.LOSSES["bce"].latex))
    assert f"= {nx._num(data)}" in loss_line
    reg_line = lines[-1]
    assert reg_line.startswith(mlp.REGULARIZATION_LATEX)
    assert f"{nx._num(data)} + {nx._num(penalty)} = {nx._num(data + penalty)}" in reg_line
    assert nx._num(data + penalty) != nx._num(data)


@pytest.mark.parametrize("changes", [dict(bs=8, n=200, ds="xor_cloud"),
                                     dict(drop=0.3, ds="xor_cloud")])
def test_the_next_update_shown_is_the_one_the_next_step_makes(changes):
    """With mini-batches of 8, or dropout 0.3, the update written out is the next Step's
    first update: its gradient and its new weight, not the full-batch no-dropout ones."""
    exp = nm.build(config(hl=1, w=4, opt="gd", hyper={"lr": 0.5}, **changes))
    run = nr.new_run(exp, "k", 0)
    nr.advance(exp, run, 3)
    idx = exp.net.param_names().index("W2[0,0]")
    text = " ".join(nx.update_latex(exp, run))
    caption = nx.update_caption(exp, nr.next_update(exp, run))
    _, full = exp.net.loss_and_grads(run.theta, exp.X_train, exp.Y_train)
    recorded = []
    real = exp.optimizer

    class Recorder:
        def init(self, params):
            return real.init(params)

        def step(self, params, grads, state, lr_scale=1.0):
            new, new_state = real.step(params, grads, state, lr_scale=lr_scale)
            recorded.append((grads[0, idx], new[0, idx]))
            return new, new_state

    exp.optimizer = Recorder()
    nr.advance(exp, run, 1)
    grad, new_w = recorded[0]
    assert f"= {nx._num(grad)}" in text and f"\\to {nx._num(new_w)}" in text
    assert nx._num(full[0, idx]) not in text  # the full-batch gradient is another number
    if "bs" in changes:
        assert "8" in caption and str(len(recorded)) in caption
    else:
        assert "0.3" in caption


def test_output_loss_help_gives_each_pairs_gradient():
    at = page()
    help_text = at.sidebar.selectbox(key="pair").help
    assert help_text == nm.pair_help()
    for pair in mlp.SENSIBLE_PAIRS:
        assert mlp.LOGIT_GRADIENTS[pair][0] in help_text  # MSE: 2(ŷ − y)/(nK), not ŷ − y


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_l1_is_lasso_l2_is_ridge_and_the_swap_in_the_notes_is_said(lang):
    at = page() if lang == "en" else korean_network_page()
    l1, l2 = at.sidebar.number_input(key="l1"), at.sidebar.number_input(key="l2")
    assert "Lasso" in l1.label and "Ridge" in l2.label
    assert "Ridge" in l1.help and "Lasso" in l2.help  # what the notes call them
    options = at.sidebar.selectbox(key="init").options
    assert len(options) == len(mlp.INIT_SCHEMES) and any("LeCun" in o for o in options)


def korean_network_page() -> AppTest:
    at = AppTest.from_file(str(Path(PAGE).parents[1] / "app.py"), default_timeout=120)
    at.query_params["lang"] = "ko"
    at.run()
    at.switch_page("app_pages/network.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_korean_formulas_have_no_english_captions():
    import texts

    exp = nm.build(config(pair="softmax_cce", l1=0.01))
    run = nr.new_run(exp, "k", 0)
    try:
        texts.use("ko")
        text = " ".join(nx.backprop_latex(exp, run.theta) + nx.update_latex(exp, run)
                        + [nx.update_caption(exp, nr.next_update(exp, run))])
        notes = live.rt.optimizer_notes_diff("adam")
    finally:
        texts.use("en")
    assert "backprop in the engine" not in text and "엔진의 역전파" in text
    assert "square_avg" not in text and "exp_avg" not in text
    assert notes.startswith("학습 노트") and r"\epsilon" in notes and "{{" not in notes


# --------------------------------------------------------------------------- the one-click
# scenarios: what their text says is what the engine does (three weight seeds each)


def preset_run(name: str, seed: int, epochs: int | None = None, **changes):
    preset = {**nm.PRESETS[name], **changes}
    exp = nm.build(config(**preset))
    run = nr.new_run(exp, "k", seed)
    nr.advance(exp, run, epochs or preset["ep"])
    return exp, run


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_preset_is_stuck_at_75_percent_or_below(seed):
    _, run = preset_run("perceptron", seed)
    assert max(run.history["train_acc"]) <= 0.75


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tanh241_preset_reaches_100_percent_within_about_a_hundred_epochs(seed):
    _, run = preset_run("tanh241", seed, epochs=200)
    assert 1.0 in run.history["train_acc"][:151]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_sigmoid_preset_gradient_gap_then_collapse(seed):
    """First epochs: layer 1's gradient > 1,000× smaller than the last layer's. After about
    50 epochs all five layers sit below 1e-6 and the accuracy stays near 50 %. ReLU with He
    keeps the layers within a factor of about 10."""
    _, run = preset_run("deep_sigmoid", seed, epochs=600)
    norms = np.asarray(run.grad_norms)
    assert norms.shape[1] == 5
    assert (norms[:5, 0] / norms[:5, -1] < 1e-3).all()
    assert (norms[49:] < 1e-6).all()
    assert max(run.history["train_acc"]) <= 0.55
    _, relu = preset_run("deep_sigmoid", seed, epochs=300, act="relu", init="he")
    relu_norms = np.asarray(relu.grad_norms)
    assert (relu_norms[:5, 0] / relu_norms[:5, -1] > 0.05).all()
    assert relu.history["train_acc"][-1] > 0.9


def test_spiral_preset_three_layers_wind_round_one_layer_never_gets_every_point():
    for seed in (0, 1):
        _, run = preset_run("spiral", seed, epochs=400)
        assert 1.0 in run.history["train_acc"]  # within a few hundred epochs
        _, flat = preset_run("spiral", seed, epochs=2000, hl=1)
        assert max(flat.history["train_acc"]) < 1.0


def test_too_large_lr_preset_diverges_and_0_3_does_not():
    for seed in (0, 1):
        _, run = preset_run("too_large_lr", seed)
        assert run.diverged and 0 < run.diverged_at < 100
        _, calm = preset_run("too_large_lr", seed, hyper={"lr": 0.3})
        assert not calm.diverged and calm.history["train_acc"][-1] == 1.0


def test_layer_colours_are_told_apart():
    """Five layers at the same height (deep sigmoid after 50 epochs) stay distinguishable:
    no two colours closer than 70 in RGB (a blend of blues was ~60 apart)."""
    from viz import network_curves

    fig = network_curves.layer_grad_norm_figure(np.arange(1, 4), np.ones((3, 5)) * 1e-7,
                                                [f"layer {i}" for i in range(5)])
    colours = [tr.line.color for tr in fig.data]
    rgb = [np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)]) for c in colours]
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(rgb) for b in rgb[i + 1:]]
    assert len(set(colours)) == 5 and min(gaps) > 70


def test_reset_to_defaults_and_present_mode():
    at = page({"ds": "moons", "hl": "3", "opt": "momentum", "present": "1"})
    assert not at.exception
    assert at.toggle(key="present").value is True and at.query_params["present"] == "1"
    at.button(key="nn_reset_defaults").click().run()
    assert not at.exception
    defaults = {f.key: f.default for f in nm.base_fields()}
    for key in ("ds", "hl", "opt", "w", "act"):
        assert at.session_state[key] == defaults[key], key
    assert "ds" not in at.query_params and "hl" not in at.query_params
    at.toggle(key="present").set_value(False).run()
    assert "present" not in at.query_params


def test_a_class_opening_one_link_shares_the_start_figures(monkeypatch):
    live._shared.clear()
    built = []
    real = live.boundary
    monkeypatch.setattr(live, "boundary", lambda *a, **k: built.append(1) or real(*a, **k))
    first, second = page(), page()  # two students open the same experiment
    assert len(built) == 1
    assert canvas_data(first, "nn_map")["figure"] == canvas_data(second, "nn_map")["figure"]
    page({"ds": "circle"})  # another experiment: its own figure
    assert len(built) == 2
    first.button(key="nn_step_btn").click().run()
    first.button(key="nn_reset").click().run()  # a new run: at epoch 0 again, shared
    assert len(built) == 2


@pytest.mark.parametrize("changes", [{}, {"ds": "spiral"}, {"ds": "sine"}, {"bn": True}])
def test_a_ticks_snapshots_in_one_pass_are_each_networks_map(changes):
    """The live tick computes its map snapshots in one forward pass of B networks: each is
    the map of its own network, as drawn alone."""
    exp = nm.build(config(**changes))
    run = nr.new_run(exp, "k", 0)
    nr.advance(exp, run, 6)
    thetas = np.concatenate([theta for _, theta in run.chunk])
    together = live.map_values_of(exp, thetas)
    assert len(together) == 6
    for one, (_, theta) in zip(together, run.chunk, strict=True):
        np.testing.assert_allclose(one, live.map_values(exp, theta), rtol=1e-12, atol=1e-12)
    assert not np.allclose(together[0], together[-1])  # six different networks
