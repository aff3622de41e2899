"""The race page under AppTest, and its URL layer (app_pages/race_state.py) on its own."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
from canvas_payload import canvas_data, decode
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from app_pages import race_state as rs
from app_pages import race_work
from engine import optimizers
from engine.scenarios import SCENARIOS
from engine.surfaces import SURFACES
from texts import t

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "race.py")


def page(settings: bool = True, **query) -> AppTest:
    """The race page for a query; with ``settings`` its Settings tab is open (the
    hyper-parameter widgets are drawn only there)."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    for name, value in query.items():
        at.query_params[name.replace("__", ".")] = value
    at.run()
    if settings:
        at.session_state["tab"] = t("race.tab_settings")
        at.run()
    return at


def map_spec(at: AppTest) -> dict:
    return canvas_data(at, "race_map")


def path_traces(spec: dict) -> list[dict]:
    """The runs of the race map payload, their arrays decoded (x, y, step, loss)."""
    return [{**run, **{k: decode(run[k]).tolist() for k in ("x", "y", "step", "loss")}}
            for run in spec["runs"]]


def texts(elements) -> str:
    return " ".join(str(el.value) for el in elements)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


# ----------------------------------------------------------------------------- page


def test_default_page_runs_and_shows_the_race():
    at = page()
    no_exception(at)
    spec = map_spec(at)
    assert len(path_traces(spec)) == len(rs.DEFAULT_OPTIMIZERS)
    assert spec["view"] == "race" and spec["steps"] == rs.default_experiment().steps
    assert at.multiselect(key="opts").value == list(rs.DEFAULT_OPTIMIZERS)
    # the URL holds the experiment
    assert at.query_params["s"] == rs.DEFAULT_SURFACE
    assert at.query_params["o"] == ",".join(rs.DEFAULT_OPTIMIZERS)


@pytest.mark.parametrize("key", list(SCENARIOS))
def test_every_scenario_runs(key):
    at = page(sc=key)
    no_exception(at)
    scenario = SCENARIOS[key]
    assert at.multiselect(key="opts").value == list(scenario.optimizer_keys)
    assert at.selectbox(key="surf").value == scenario.surface
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == scenario.start
    info = texts(at.info)
    assert scenario.what_to_watch[:40] in info
    diverged_notes = [w for w in at.warning if "diverged at step" in str(w.value)]
    assert bool(diverged_notes) == (key == "lr_too_large")


def test_scenario_button_loads_the_scenario():
    at = page()
    at.button_group(key="sc").set_value("local_minimum").run()
    no_exception(at)
    assert at.selectbox(key="surf").value == "two_wells"
    assert at.multiselect(key="opts").value == ["gd", "momentum"]
    assert at.select_slider(key="h.momentum.momentum").value == 0.9
    assert at.query_params["sc"] == "local_minimum"


@pytest.mark.parametrize("key", list(SURFACES))
def test_every_surface_runs(key):
    at = page(s=key)
    no_exception(at)
    assert at.selectbox(key="surf").value == key
    spec = map_spec(at)
    for trace in path_traces(spec):
        assert trace["x"], "every run has a path"
    # the learning rates are the surface's suggestions
    assert at.number_input(key="h.adam.lr").value == pytest.approx(
        SURFACES[key].suggested_lr["adam"])


def test_choosing_a_surface_presets_its_values():
    at = page()
    at.selectbox(key="surf").set_value("elongated_bowl").run()
    no_exception(at)
    surface = SURFACES["elongated_bowl"]
    assert (at.number_input(key="x0").value, at.number_input(key="y0").value) == surface.start
    assert at.number_input(key="h.gd.lr").value == pytest.approx(surface.suggested_lr["gd"])
    assert at.number_input(key="steps").value == surface.default_steps


def test_changing_a_learning_rate_changes_the_figure():
    at = page(s="elongated_bowl", o="gd")
    before = path_traces(map_spec(at))[0]
    at.number_input(key="h.gd.lr").set_value(0.02).run()
    no_exception(at)
    after = path_traces(map_spec(at))[0]
    assert after["x"] != before["x"] or after["y"] != before["y"]
    assert at.query_params["gd.lr"] == "0.02"
    # the log slider follows the exact value
    assert at.select_slider(key="hs.gd.lr").value == pytest.approx(0.02)


def test_log_slider_sets_the_exact_value():
    at = page(s="sphere", o="adam")
    at.select_slider(key="hs.adam.lr").set_value(0.25).run()
    no_exception(at)
    assert at.number_input(key="h.adam.lr").value == pytest.approx(0.25)


def test_beta_slider_reaches_0_9_0_99_0_999():
    at = page(o="adam,rmsprop,momentum")
    for key in ("h.adam.beta1", "h.adam.beta2", "h.rmsprop.rho", "h.momentum.momentum"):
        options = [float(o) for o in at.select_slider(key=key).options]
        assert {0.9, 0.99, 0.999} <= set(options), key


def test_hostile_formula_shows_the_message_and_no_exception():
    at = page(s="custom", f='__import__("os").system("ls")')
    no_exception(at)
    errors = texts(at.sidebar.error)
    assert "cannot be used" in errors and "position" in errors
    # the race still runs, on the last surface that worked
    assert path_traces(map_spec(at))


def test_undefined_formula_shows_the_message():
    at = page(s="custom", f="sqrt(-1 - x^2)")
    no_exception(at)
    # refused by the parser or by the page's own check of the domain: either way, said so
    assert re.search(r"no (finite )?value anywhere", texts(at.sidebar.error))


def test_typed_formula_races():
    at = page(s="custom", f="x^2 + 3*y^2", dom="-2,2,-2,2", o="gd,adam")
    no_exception(at)
    assert not at.sidebar.error
    assert len(path_traces(map_spec(at))) == 2
    at.text_input(key="formula").set_value("x^2 + (").run()
    no_exception(at)
    assert "cannot be used" in texts(at.sidebar.error)


def test_diverging_preset_shows_the_note():
    at = page(sc="lr_too_large")
    no_exception(at)
    notes = [str(w.value) for w in at.warning if "diverged" in str(w.value)]
    assert len(notes) == 1
    assert re.search(r"GD diverged at step \d+", notes[0])


def test_malformed_url_falls_back_with_a_visible_note():
    at = page(s="nowhere", o="adam,zzz", adam__lr="-3", n="many", x="1e999", bogus="1")
    no_exception(at)
    note = texts(at.warning)
    assert "could not be used" in note
    for name in ("s", "o", "adam.lr", "n", "x", "bogus"):
        assert re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", note), name
    assert at.selectbox(key="surf").value == rs.DEFAULT_SURFACE
    assert at.multiselect(key="opts").value == ["adam"]
    assert at.number_input(key="h.adam.lr").value == pytest.approx(
        optimizers.OPTIMIZERS["adam"].hyper_spec("lr").slider_min)


def test_url_reproduces_the_experiment():
    at = page(sc="saddle")
    query = {name: at.query_params[name] for name in at.query_params}
    again = page(**{k.replace(".", "__"): v for k, v in query.items()})
    no_exception(again)
    assert not [w for w in again.warning if "could not be used" in str(w.value)]
    for key in ("opts", "surf"):
        widget = again.multiselect(key=key) if key == "opts" else again.selectbox(key=key)
        original = at.multiselect(key=key) if key == "opts" else at.selectbox(key=key)
        assert widget.value == original.value
    assert again.number_input(key="h.momentum.lr").value == at.number_input(
        key="h.momentum.lr").value
    assert path_traces(map_spec(again))[0]["x"] == path_traces(map_spec(at))[0]["x"]


def test_explain_this_step_shows_the_numbers():
    at = page(sc="local_minimum")
    assert not at.latex  # the explain panel runs only while open
    at.session_state["ex_open"] = True
    at.run()
    at.selectbox(key="ex_opt").set_value(1).run()  # momentum
    at.slider(key="ex_k").set_value(3).run()
    no_exception(at)
    latex = texts(at.latex)
    assert r"b_t" in latex and r"\mu" in latex
    # the numbers of step 3 as the engine computed them appear in the substituted rule
    from engine import descent

    scenario = SCENARIOS["local_minimum"]
    hyper = rs.from_scenario("local_minimum").hyper("momentum")
    result = descent.run(SURFACES["two_wells"],
                         [descent.Run(optimizers.make("momentum", **hyper), scenario.start)], 4)
    new_x = result.path[4, 0, 0]
    assert f"{new_x:.4g}" in latex


def test_random_start_moves_the_start_inside_the_domain():
    at = page(s="sphere")
    at.button(key="random_start").click().run()
    no_exception(at)
    x, y = at.number_input(key="x0").value, at.number_input(key="y0").value
    (xmin, xmax), (ymin, ymax) = SURFACES["sphere"].domain
    assert xmin <= x <= xmax and ymin <= y <= ymax
    assert (x, y) != SURFACES["sphere"].start


# ----------------------------------------------------------------------------- URL layer


def test_query_round_trip_of_every_scenario():
    for key in SCENARIOS:
        exp = rs.from_scenario(key)
        back, notes = rs.from_query(rs.to_query(exp))
        assert notes == []
        assert back == exp


def test_hyper_values_are_clamped_and_reported():
    exp, notes = rs.from_query({"o": "adam", "adam.lr": "50", "adam.beta1": "1.5",
                                "adam.eps": "nan"})
    spec = optimizers.OPTIMIZERS["adam"]
    assert exp.hyper("adam")["lr"] == spec.hyper_spec("lr").slider_max
    assert exp.hyper("adam")["beta1"] == spec.hyper_spec("beta1").slider_max
    assert exp.hyper("adam")["eps"] == spec.defaults["eps"]
    assert [(n.name, n.what) for n in notes] == [("adam.lr", "clamped"),
                                                 ("adam.beta1", "clamped"),
                                                 ("adam.eps", "reset")]
    optimizers.make("adam", **exp.hyper("adam"))  # valid


def test_steps_and_start_are_clamped():
    exp, notes = rs.from_query({"s": "sphere", "n": "100000", "x": "-99", "y": "0.5"})
    assert exp.steps == rs.MAX_STEPS
    assert exp.start == (SURFACES["sphere"].domain[0][0], 0.5)
    assert {(n.name, n.what) for n in notes} == {("n", "clamped"), ("x", "clamped")}


def test_foreign_names_are_left_alone():
    exp, notes = rs.from_query({"lang": "ko", "embed": "true"})
    assert notes == [] and exp == rs.default_experiment()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["s", "o", "x", "y", "n", "noise", "seed", "sc", "f", "dom", "sch",
                     "adam.lr", "gd.lr", "momentum.momentum", "adam.amsgrad", "junk"]),
    st.text(max_size=30) | st.sampled_from(["nan", "inf", "-1e400", "1e308", "0", "-0",
                                            "rosenbrock", "custom", "gd,adam", ""]),
    max_size=8))
def test_from_query_never_raises_and_is_valid(query):
    exp, notes = rs.from_query(query)
    assert isinstance(notes, list)
    assert 1 <= exp.steps <= rs.MAX_STEPS and 0 <= exp.noise <= rs.MAX_NOISE
    assert exp.optimizers
    for key, pairs in exp.optimizers:
        optimizers.make(key, **dict(pairs))
    assert np.isfinite(exp.start).all()
    if exp.surface != rs.CUSTOM:
        (xmin, xmax), (ymin, ymax) = SURFACES[exp.surface].domain
        assert xmin <= exp.start[0] <= xmax and ymin <= exp.start[1] <= ymax


def test_schedule_from_the_url_changes_the_race():
    plain = page(s="sphere", o="gd")
    at = page(s="sphere", o="gd", sch="step", sch__step_size="10", sch__gamma="0.1")
    no_exception(at)
    assert at.selectbox(key="sched").value == "step"
    assert at.query_params["sch"] == "step"
    # a lr decaying 10x every 10 steps leaves GD much further from the minimum
    x_plain = path_traces(map_spec(plain))[0]
    x_sched = path_traces(map_spec(at))[0]
    assert x_plain != x_sched


def test_3d_view_runs():
    at = page(sc="saddle")
    at.toggle(key="v3d").set_value(True).run()
    no_exception(at)
    surface = map_spec(at)["surface"]["data"]["three_d"]
    z = decode(surface["z"])
    assert z.shape == (len(decode(surface["y"])), len(decode(surface["x"])))
    assert np.isfinite(z).all()


def test_noise_is_shared_and_reproducible():
    a = page(s="sphere", o="gd,adam", noise="0.5", seed="3")
    b = page(s="sphere", o="gd,adam", noise="0.5", seed="3")
    c = page(s="sphere", o="gd,adam", noise="0.5", seed="4")
    no_exception(a)
    assert a.number_input(key="seed").value == 3
    assert path_traces(map_spec(a))[0] == path_traces(map_spec(b))[0]
    assert path_traces(map_spec(a))[0] != path_traces(map_spec(c))[0]


def loss_spec(at: AppTest) -> dict:
    return canvas_data(at, "race_loss")["figure"]


@pytest.mark.parametrize(("scenario", "axis_type"), [("rosenbrock", "log"),
                                                     ("saddle", "linear")])
def test_loss_axis_is_log_only_when_it_measures_something(scenario, axis_type):
    """A surface falling without bound has no f_min to measure from: linear axis, f itself."""
    at = page(settings=False, sc=scenario)
    no_exception(at)
    layout = loss_spec(at)["layout"]
    assert layout["yaxis"].get("type", "linear") == axis_type


# ----------------------------------------------------------------------------- the canvas


def engine_race(exp: rs.Experiment):
    """The race of ``exp`` computed here, independently of the page's caches."""
    from engine import descent

    surface = SURFACES[exp.surface]
    runs = [descent.Run(optimizers.make(k, **dict(p)), exp.start, k) for k, p in exp.optimizers]
    return descent.run(surface, runs, exp.steps, noise=exp.noise, seed=exp.seed,
                       record="path")


def test_canvas_paths_are_the_engines_iterates():
    at = page(settings=False, s="rosenbrock", o="gd,adam", n="300")
    no_exception(at)
    exp, _ = rs.from_query({"s": "rosenbrock", "o": "gd,adam", "n": "300"})
    result = engine_race(exp)
    for b, run in enumerate(path_traces(map_spec(at))):
        steps = np.asarray(run["step"])
        assert steps[0] == 0 and steps[-1] == 300 and np.all(np.diff(steps) > 0)
        np.testing.assert_allclose(run["x"], result.path[steps, b, 0], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(run["y"], result.path[steps, b, 1], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(run["loss"], result.loss[steps, b], rtol=1e-6, atol=1e-12)
        # the slider shows the run's own learning rate where its path is the race's
        assert run["lr_values"][run["lr_index"]] == pytest.approx(exp.hyper(run["key"])["lr"])
        assert run["sweep_column"][run["lr_index"]] == -1


def test_learning_rate_sweep_is_the_race_at_every_slider_value():

    at = page(settings=False, sc="lr_too_large")
    no_exception(at)
    spec = map_spec(at)
    exp = rs.from_scenario("lr_too_large")
    gd = next(run for run in spec["runs"] if run["key"] == "gd")
    sweep = gd["sweep"]["data"]
    grid = race_work.lr_grid("gd")
    offsets = decode(sweep["offsets"])
    assert len(offsets) == len(grid) + 1
    diverged_at = decode(sweep["diverged_at"])
    # GD on the bowl of curvature 20 is stable only for lr < 2/20: the sweep says so too
    for j, lr in enumerate(grid):
        assert (diverged_at[j] >= 0) == (lr > 0.1 + 1e-12), lr
    # one column checked step by step against a separate engine run at that lr
    j = grid.index(0.05)
    one = dataclasses.replace(exp, optimizers=(("gd", (("lr", 0.05), ("weight_decay", 0.0))),))
    result = engine_race(one)
    a, z = offsets[j], offsets[j + 1]
    steps = decode(sweep["step"])[a:z]
    np.testing.assert_allclose(decode(sweep["x"])[a:z], result.path[steps, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(decode(sweep["y"])[a:z], result.path[steps, 0, 1], rtol=1e-6)


def test_a_noisy_sweep_replays_each_runs_own_noise():
    """With gradient noise, the sweep of the optimizer in place b of the race draws race
    run b's noise: at the race's learning rate it is that run's path (not a path with the
    noise of another run, which a sweep of independent streams would show)."""
    from app_pages import race_compute as rcomp

    J = 10  # lr = 0.001: on the grid, and every optimizer completes its 200 steps

    exp, _ = rs.from_query({"s": "rosenbrock", "o": "gd,momentum,adam", "n": "200",
                            "noise": "0.5"})
    on_grid = tuple((key, tuple((n, race_work.lr_grid(key)[J] if n == "lr" else v)
                                for n, v in pairs)) for key, pairs in exp.optimizers)
    exp = dataclasses.replace(exp, optimizers=on_grid)
    result = engine_race(exp)
    for b, key in enumerate(exp.optimizer_keys):
        sweep = rcomp.sweep_asset(rcomp.sweep_setting(rcomp.core(exp), key)).data
        offsets = sweep["offsets"]
        a, z = offsets[J], offsets[J + 1]
        steps = sweep["step"][a:z]
        assert steps[-1] == 200
        np.testing.assert_allclose(sweep["x"][a:z], result.path[steps, b, 0],
                                   rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(sweep["y"][a:z], result.path[steps, b, 1],
                                   rtol=1e-6, atol=1e-7)


def test_large_parts_reach_a_session_once():
    at = page(settings=False, s="rosenbrock", o="gd,adam")
    first = map_spec(at)
    assert "data" in first["surface"]
    assert all("data" in run["sweep"] for run in first["runs"])
    at.session_state["tab"] = t("race.tab_settings")
    at.run()
    at.number_input(key="h.gd.lr").set_value(0.002).run()
    no_exception(at)
    again = map_spec(at)
    # the surface and the sweeps do not depend on a learning rate: named, not sent again
    assert "data" not in again["surface"] and again["surface"]["asset"] == (
        first["surface"]["asset"])
    assert all("data" not in run["sweep"] for run in again["runs"])
    assert path_traces(again)[0]["x"] != path_traces(first)[0]["x"]
    # another momentum for Adam is another sweep for Adam only
    at.select_slider(key="h.adam.beta1").set_value(0.5).run()
    runs = {run["key"]: run for run in map_spec(at)["runs"]}
    assert "data" in runs["adam"]["sweep"] and "data" not in runs["gd"]["sweep"]


def test_released_learning_rate_and_click_set_the_widgets():
    from app_pages import race_controls as rc

    ss = {}
    rc.apply_lr(ss, "adam", 0.02)
    assert ss["h.adam.lr"] == ss["hs.adam.lr"] == 0.02
    rc.apply_lr(ss, "adam", 1e9)  # out of range: clamped to the slider's top
    assert ss["h.adam.lr"] == optimizers.OPTIMIZERS["adam"].hyper_spec("lr").slider_max
    rc.apply_lr(ss, "nonsense", 0.1)
    assert "h.nonsense.lr" not in ss
    rc.apply_click(ss, 9.0, -0.12345, ((-2.0, 2.0), (-1.0, 3.0)))
    assert (ss["x0"], ss["y0"]) == (2.0, -0.123)


def test_present_mode_comes_from_the_link_and_stays_in_it():
    at = page(settings=False, present="1")
    no_exception(at)
    assert at.toggle(key="present").value is True
    assert at.query_params["present"] == "1"
    assert map_spec(at)["present"] is True
    assert not at.get("download_button")  # the class sees the race, not the menus
    at.toggle(key="present").set_value(False).run()
    assert "present" not in at.query_params


def test_reset_to_defaults():
    at = page(settings=False, sc="saddle")
    at.button(key="race_reset_defaults").click().run()
    no_exception(at)
    assert at.selectbox(key="surf").value == rs.DEFAULT_SURFACE
    assert at.multiselect(key="opts").value == list(rs.DEFAULT_OPTIMIZERS)
    assert at.query_params["s"] == rs.DEFAULT_SURFACE and "sc" not in at.query_params


# ----------------------------------------------------------------------------- issue 8:
# every message says exactly what happened


@pytest.mark.parametrize(("query", "expected"), [
    ({"n": "-5"}, ("n", "clamped", "1")),
    ({"n": "999999999"}, ("n", "clamped", "5000")),
    ({"n": "many"}, ("n", "reset", "500")),  # Rosenbrock's default number of steps
    ({"lr": "abc"}, ("lr", "ignored", "")),
    ({"o": "adam,zzz"}, ("o", "partly", "adam")),
    ({"s": "nowhere"}, ("s", "reset", rs.DEFAULT_SURFACE)),
    ({"s": "custom", "f": "x" * 3000}, ("f", "reset", rs.DEFAULT_FORMULA)),
])
def test_url_notes_say_what_happened(query, expected):
    exp, notes = rs.from_query(query)
    assert [tuple(n[i] for i in (0, 1, 3)) for n in notes] == [expected]
    from app_pages import url_values as uv

    text = uv.message(notes[0])
    words = {"clamped": "clamped", "reset": "reset to the default", "partly": "only",
             "ignored": "not a setting"}
    assert words[expected[1]] in text and expected[0] in text
    assert "reset to defaults" not in text
    assert len(text) < 400  # a pasted 3000-character value is quoted shortened
    if expected[0] == "n":
        assert exp.steps == int(expected[2])


def test_clamped_url_value_says_clamped_on_the_page():
    at = page(n="-5")
    note = texts(at.warning)
    assert "clamped to 1" in note and "reset" not in note
    assert at.number_input(key="steps").value == 1


def test_start_where_f_is_undefined_shows_one_error_and_no_learning_rate_advice():
    """log(x) started at x < 0: the red error, and no "learning rate too large" notes."""
    at = page(s="custom", f="log(x) + y^2", dom="-2,2,-2,2", x="-1", y="0.5",
              o="gd,momentum,rmsprop,adam")
    no_exception(at)
    assert len(at.error) == 1
    assert not [w for w in at.warning if "learning rate" in str(w.value)]
    # the canvas does not say "diverges at step 0" either, nor draws a ✕ at the start
    runs = map_spec(at)["runs"]
    assert [run["stop"] for run in runs] == ["start"] * 4
    assert all(run["mark"] is None and run["mark_text"] == "" for run in runs)


def test_canvas_says_a_path_stopped_at_a_hole_not_that_it_diverged():
    """log(x) falls towards x = 0, and GD from x = 0.2 steps over it into x < 0 (at lr 0.001
    at step 22): the row and the ✕ say it stopped where f has no value, in the race and
    in every column of the sweep that does the same; only the smallest rates stay defined."""
    from app_pages import race_compute as rcomp
    from viz import race_canvas

    at = page(s="custom", f="log(x) + y^2", dom="-2,2,-2,2", x="0.2", y="0.5", o="gd",
              n="50")
    no_exception(at)
    gd = map_spec(at)["runs"][0]
    exp, _ = rs.from_query({"s": "custom", "f": "log(x) + y^2", "dom": "-2,2,-2,2",
                            "x": "0.2", "y": "0.5", "o": "gd", "n": "50"})
    sweep = rcomp.sweep_asset(rcomp.sweep_setting(rcomp.core(exp), "gd")).data
    stops = [race_canvas.STOPS[code] for code in sweep["stop"]]
    grid = race_work.lr_grid("gd")
    assert stops[grid.index(0.0001)] == "" and stops[grid.index(0.5)] == "undefined"
    assert "diverged" not in stops
    assert gd["stop"] == "undefined" and gd["diverged_at"] == 22 and gd["mark"] is not None
    assert gd["mark_text"] == t("race_canvas.stopped_hover", name=gd["name"], step=22)


def test_run_that_walks_into_an_undefined_region_is_not_blamed_on_the_learning_rate():
    from engine import descent, expression

    surface = expression.parse("log(x) + y^2", domain=((-2, 2), (-2, 2)))
    runs = [descent.Run(optimizers.make("gd", lr=0.3), (0.2, 0.5)),      # jumps to x < 0
            descent.Run(optimizers.make("gd", lr=0.01), (-1.0, 0.5))]    # starts there
    result = descent.run(surface, runs, 50)
    assert result.diverged.tolist() == [True, True]
    assert race_work.stop_reason(surface, result, 0) == "undefined"
    assert race_work.stop_reason(surface, result, 1) == "start"
    # a learning rate too large on a surface defined everywhere: "diverged"
    sphere = SURFACES["sphere"]
    big = descent.run(sphere, [descent.Run(optimizers.make("gd", lr=1.5), (1.0, 1.0)),
                               descent.Run(optimizers.make("adagrad", lr=0.1), (1.0, 1.0))],
                      200)
    assert big.diverged.tolist() == [True, False]
    assert race_work.stop_reason(sphere, big, 0) == "diverged"
    assert race_work.stop_reason(sphere, big, 1) is None


def test_undefined_region_is_hatched_on_the_map():
    from app_pages import race_compute as rcomp
    from viz import race_map

    exp = rs.Experiment(surface=rs.CUSTOM, formula="log(x) + y^2", domain=(-2, 2, -2, 2))
    surface = rcomp.surface_of(exp)
    xs, ys, Z = race_map.surface_grid(surface, 60)
    mask = race_map.undefined_mask(surface, xs, ys)
    np.testing.assert_array_equal(mask, np.broadcast_to(xs <= 0, mask.shape))
    plain = race_map.map_image(Z, undefined=None)
    hatched = race_map.map_image(Z, undefined=mask)
    assert plain != hatched
    pixels = decode_png(hatched)
    left, right = pixels[:, : pixels.shape[1] // 3], pixels[:, 2 * pixels.shape[1] // 3:]
    assert (np.abs(left - race_map.HATCH[0]).sum(axis=-1) == 0).mean() > 0.3  # stripes
    assert (np.abs(right - race_map.HATCH[0]).sum(axis=-1) == 0).mean() == 0


def decode_png(uri: str) -> np.ndarray:
    import base64
    import zlib

    data = base64.b64decode(uri.split(",", 1)[1])
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    chunks, i = b"", 8
    while i < len(data):
        length = int.from_bytes(data[i:i + 4], "big")
        if data[i + 4:i + 8] == b"IDAT":
            chunks += data[i + 8:i + 8 + length]
        i += 12 + length
    raw = np.frombuffer(zlib.decompress(chunks), dtype=np.uint8).reshape(height, -1)
    return raw[:, 1:].reshape(height, width, 3).astype(int)


def test_pasted_long_formula_gets_a_message():
    at = page(s="custom", f="x^2 + y^2", dom="-2,2,-2,2")
    at.text_input(key="formula").set_value("x+" * 1500 + "y").run()
    no_exception(at)
    errors = texts(at.sidebar.error)
    assert "3001" in errors and "200" in errors  # "too long (3001 characters; the limit …)"


def test_bad_formula_in_a_fresh_session_says_which_surface_is_shown():
    at = page(s="custom", f="x^2 + (", dom="-2,2,-2,2")
    no_exception(at)
    shown = texts(at.error)
    assert "last surface that worked" not in shown
    assert t("registry.surfaces.rosenbrock.title") in shown


def test_typed_formula_error_is_in_korean_on_the_korean_page():
    import texts as tx
    from app_pages import registry_texts as rt
    from engine import expression

    try:
        expression.parse("x^2 + (")
    except expression.ExpressionError as exc:
        error = exc
    try:
        tx.use("ko")
        korean = rt.error_message(error)
    finally:
        tx.use("en")
    assert korean != str(error) and "위치" in korean and str(error.params["pos"]) in korean


def test_every_engine_message_has_its_english_copy_and_a_translation():
    import texts as tx
    from engine import datasets, expression

    for section, messages in (("expression", expression.MESSAGES),
                              ("dataset", datasets.MESSAGES)):
        for code, english in messages.items():
            key = f"teach.{section}.{code}"
            assert tx.strings("en").get(key) == english, key
            assert tx.strings("ko").get(key, english) != english, key


# ----------------------------------------------------------------------------- the runs CSV


def test_runs_csv_carries_the_settings_that_reproduce_it():
    """The header's query, read back by from_query and raced again, gives the CSV's rows."""
    import io
    from urllib.parse import parse_qsl

    import pandas as pd

    from app_pages import race_compute as rcomp
    from viz import race_export

    exp, _ = rs.from_query({"s": "custom", "f": "x^2 + 3*y^2 + sin(3*x)", "dom": "-2,2,-2,2",
                            "o": "momentum,adam", "momentum.momentum": "0.8",
                            "adam.amsgrad": "1", "n": "40", "noise": "0.3", "seed": "5",
                            "sch": "cosine", "sch.t_max": "30"}, rc_schedule_specs())
    result = rcomp.run_race.__wrapped__(exp)
    csv = race_export.runs_csv(result, ["Momentum", "Adam"],
                               rs.settings_lines(exp, "http://localhost:8501/race"))
    header = [line[2:] for line in csv.splitlines() if line.startswith("# ")]
    query_line = next(line for line in header if line.startswith("query: "))
    assert any(line.startswith("link: http://localhost:8501/race?") for line in header)
    assert "formula: f(x, y) = x^2 + 3*y^2 + sin(3*x)" in header
    assert any(line.startswith("optimizer adam: ") and "amsgrad=1" in line for line in header)
    assert "schedule: cosine t_max=30, eta_min_ratio=0, warmup=0" in header
    back, notes = rs.from_query(dict(parse_qsl(query_line[len("query: "):])),
                                rc_schedule_specs())
    assert notes == [] and back == exp
    frame = pd.read_csv(io.StringIO(csv), comment="#")
    again = rcomp.run_race.__wrapped__(back)
    np.testing.assert_allclose(frame.x.to_numpy().reshape(-1, 2), again.path[..., 0],
                               rtol=1e-9)


def rc_schedule_specs():
    from app_pages import race_controls

    return race_controls.schedule_specs()


def test_saddle_loss_axis_is_clipped_to_the_map_and_says_where_runs_went():
    """Momentum falls to −5·10⁵ off the map: the linear axis keeps the map's range, so GD
    (stuck near 0) and Adam are apart, and a note says how far momentum went."""
    at = page(settings=False, sc="saddle")
    spec = loss_spec(at)
    low, high = spec["layout"]["yaxis"]["range"]
    assert spec["layout"]["yaxis"]["type"] == "linear"
    assert -4 < low < -2 and 2 < high < 4  # f = x² − y² on [−1.5, 1.5]²: [−2.25, 2.25]
    notes = " ".join(a["text"] for a in spec["layout"].get("annotations", []))
    assert "Momentum" in notes and "Adam" in notes and "GD" not in notes
    assert "−4.85e+05" in notes.replace("-", "−") or "-4.85e+05" in notes


def test_figure_words_are_arguments_not_looked_up(monkeypatch):
    """With its words given, a figure never asks texts for a language: the page's cache is
    keyed by the words (no language code through every cache key)."""
    import texts as tx
    from engine import descent
    from viz import race_canvas, race_curves, race_map
    from viz.style import OPTIMIZER_STYLES

    words_c, words_s = race_curves.curve_words(), race_canvas.surface_words()
    tx.use("ko")
    ko_c = race_curves.curve_words()
    tx.use("en")

    def no_lookup(*_args, **_kwargs):
        raise AssertionError("texts.t called")

    monkeypatch.setattr(tx, "t", no_lookup)
    monkeypatch.setattr(race_curves, "curve_words", no_lookup)
    surface = SURFACES["saddle"]
    result = descent.run(surface, [descent.Run(optimizers.make("gd", lr=0.1), (1.0, 0.1))], 5)
    styles = [OPTIMIZER_STYLES["gd"]]
    spec = race_curves.loss_figure_dict(result, ["GD"], styles, log_y=False, words=ko_c,
                                        y_range=(-1, 1))
    assert spec["layout"]["xaxis"]["title"]["text"] == dict(ko_c.pairs)["race_viz.step"] != \
        dict(words_c.pairs)["race_viz.step"]
    race_canvas.surface_data(surface, race_map.surface_grid(surface, 20), words=words_s)


def test_korean_explain_panel_shows_symbols_and_korean_notes():
    """No raw state names (square_avg, exp_avg) and the notes comparison in Korean."""
    import texts as tx

    at = AppTest.from_file(str(Path(PAGE).parents[1] / "app.py"), default_timeout=120)
    at.query_params["lang"] = "ko"
    at.query_params["sc"] = "adagrad_fades"
    try:  # AppTest formats the widgets' options in this thread: in the page's language
        tx.use("ko")
        at.run()
        at.switch_page("app_pages/race.py").run()
        at.session_state["ex_open"] = True
        at.run()
        at.selectbox(key="ex_opt").set_value(1).run()  # RMSProp
    finally:
        tx.use("en")
    no_exception(at)
    shown = texts(at.markdown) + texts(at.caption)
    assert "square_avg" not in shown and "$v$" in shown
    korean_notes = tx.strings("ko")["teach.notes_diff.rmsprop"].replace("{{", "{").replace(
        "}}", "}")
    assert korean_notes[:40] in shown
    assert tx.strings("ko")["teach.symbols_note"][:20] in shown
