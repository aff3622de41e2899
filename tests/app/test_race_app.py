"""The race page under AppTest, and its URL layer (app_pages/race_state.py) on its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from app_pages import race_state as rs
from engine import optimizers
from engine.scenarios import SCENARIOS
from engine.surfaces import SURFACES

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "race.py")


def page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for name, value in query.items():
        at.query_params[name.replace("__", ".")] = value
    return at.run()


def map_spec(at: AppTest) -> dict:
    charts = [el for el in at.get("plotly_chart") if el.proto.id and "map" in el.proto.id]
    return json.loads((charts or at.get("plotly_chart"))[0].proto.spec)


def path_traces(spec: dict) -> list[dict]:
    """The path traces of the race map: a run's legend group ("r<b>"), a line and the
    (step, f) customdata (the run's current-position marker has no customdata)."""
    return [tr for tr in spec["data"] if str(tr.get("legendgroup", "")).startswith("r")
            and "lines" in tr.get("mode", "") and "customdata" in tr]


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
    assert spec.get("frames"), "the race must be animated client-side (Plotly frames)"
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
    at.sidebar.button[0].click().run()
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
    assert notes == ["adam.lr", "adam.beta1", "adam.eps"]
    optimizers.make("adam", **exp.hyper("adam"))  # valid


def test_steps_and_start_are_clamped():
    exp, notes = rs.from_query({"s": "sphere", "n": "100000", "x": "-99", "y": "0.5"})
    assert exp.steps == rs.MAX_STEPS
    assert exp.start == (SURFACES["sphere"].domain[0][0], 0.5)
    assert set(notes) == {"n", "x"}


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
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["type"] == "surface"


def test_noise_is_shared_and_reproducible():
    a = page(s="sphere", o="gd,adam", noise="0.5", seed="3")
    b = page(s="sphere", o="gd,adam", noise="0.5", seed="3")
    c = page(s="sphere", o="gd,adam", noise="0.5", seed="4")
    no_exception(a)
    assert a.number_input(key="seed").value == 3
    assert path_traces(map_spec(a))[0] == path_traces(map_spec(b))[0]
    assert path_traces(map_spec(a))[0] != path_traces(map_spec(c))[0]


def loss_spec(at: AppTest) -> dict:
    charts = [el for el in at.get("plotly_chart") if el.proto.id and "loss" in el.proto.id]
    return json.loads(charts[0].proto.spec)


@pytest.mark.parametrize(("scenario", "axis_type"), [("rosenbrock", "log"),
                                                     ("saddle", "linear")])
def test_loss_axis_is_log_only_when_it_measures_something(scenario, axis_type):
    """A surface falling without bound has no f_min to measure from: linear axis, f itself."""
    at = page(sc=scenario)
    no_exception(at)
    layout = loss_spec(at)["layout"]
    assert layout["yaxis"].get("type", "linear") == axis_type
