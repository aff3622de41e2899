"""The Learning-rate lab in AppTest: every view renders from the engine's numbers, controls
change the output, a selected cell links to the race with its exact settings, bad links get
messages that name the parameter."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import texts
from app_pages import race_state as rs
from engine import descent, lab, optimizers, regression
from engine.surfaces import SURFACES

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "app_pages/lab.py"


def open_lab(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = str(value)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _decode(value):
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        if "shape" in value:
            arr = arr.reshape([int(n) for n in str(value["shape"]).split(",")])
        return arr.tolist()
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def chart(at: AppTest, key: str) -> dict:
    for el in at.get("plotly_chart"):
        if key in (el.proto.id or ""):
            return _decode(json.loads(el.proto.spec))
    raise AssertionError(f"no chart {key!r}: {[el.proto.id for el in at.get('plotly_chart')]}")


def race_query(at: AppTest, index: int = 0) -> dict[str, str]:
    url = at.get("link_button")[index].proto.url
    assert url.startswith("/race?")
    return dict(parse_qsl(urlparse(url).query))


def warnings(at: AppTest) -> str:
    return " ".join(str(w.value) for w in at.warning)


# ----------------------------------------------------------------------------- phase


def test_default_phase_diagram_agrees_with_theory():
    at = open_lab()
    spec = chart(at, "lab_phase_chart")
    heat = [tr for tr in spec["data"] if tr["type"] == "heatmap"]
    assert len(heat[0]["z"]) == 24 and len(heat[0]["z"][0]) == 40  # nv × nlr defaults
    # the page's verdict is the engine's: every row's boundary within a cell of 2(1+μ)/L
    assert at.success, "the theory box should say measured and theory agree"
    assert not at.get("link_button")  # no cell selected yet
    assert dict(at.query_params) == {}  # defaults: a clean address


def test_a_selected_cell_opens_the_race_with_exactly_its_settings():
    at = open_lab({"ci": 10, "cj": 17})
    query = race_query(at)
    exp, notes = rs.from_query(query)
    assert notes == []
    lrs = lab.lr_values(1e-3, 1.0, 40)
    values = lab.axis_values("momentum", "momentum", 0.0, 0.99, 24)
    assert exp.surface == "elongated_bowl" and exp.optimizer_keys == ("momentum",)
    assert exp.hyper("momentum")["lr"] == pytest.approx(lrs[17], rel=1e-9)
    assert exp.hyper("momentum")["momentum"] == pytest.approx(values[10], rel=1e-9)
    assert exp.start == SURFACES["elongated_bowl"].start and exp.steps == 300
    # the race's run is the cell's run
    sweep = lab.phase_diagram(SURFACES["elongated_bowl"], "momentum", lrs, "momentum", values,
                              exp.start, 300)
    opt = optimizers.make("momentum", **exp.hyper("momentum"))
    one = descent.run(SURFACES["elongated_bowl"], [descent.Run(opt, exp.start)], exp.steps)
    assert one.diverged[0] == sweep.diverged[10, 17]
    assert one.final_loss[0] == pytest.approx(sweep.final_loss[10, 17], rel=1e-6, abs=1e-300)


def test_changing_the_optimizer_changes_the_axes_and_the_theory():
    at = open_lab()
    at.sidebar.selectbox(key="lab_o").set_value("adam").run()
    assert not at.exception
    assert at.sidebar.selectbox(key="lab_ax").value == "beta1"
    assert at.query_params["o"] in ("adam", ["adam"]) and not at.success
    spec = chart(at, "lab_phase_chart")
    assert not any(tr.get("name") == texts.t("lab.theory_line") for tr in spec["data"])
    at.sidebar.selectbox(key="lab_ax").set_value("eps").run()
    assert not at.exception
    ys = [tr for tr in spec["data"] if tr["type"] == "heatmap"][0]["y"]
    assert len(ys) == 24


def test_gd_against_weight_decay_draws_two_over_l_plus_lambda():
    at = open_lab({"o": "gd", "ax": "weight_decay", "v0": 0, "v1": 0.1, "nv": 6})
    spec = chart(at, "lab_phase_chart")
    line = next(tr for tr in spec["data"] if tr.get("name") == texts.t("lab.theory_line"))
    np.testing.assert_allclose(line["x"], np.log10(2 / (20 + np.linspace(0, 0.1, 6))))
    assert at.success


def test_typed_quadratic_gets_its_closed_form_and_a_bad_formula_a_message():
    at = open_lab({"s": "custom", "f": "x**2 + 4*y**2", "o": "gd", "ax": "weight_decay"})
    assert at.success  # L = 8 found from the typed formula
    at = open_lab({"s": "custom", "f": "import os"})
    assert at.sidebar.error and not at.get("plotly_chart")


def test_bad_link_values_are_named_and_replaced():
    at = open_lab({"o": "nope", "lr0": "abc", "nlr": "500", "x": "99", "ax": "rho",
                   "zzz": "1"})
    text = warnings(at)
    for name in ("o", "lr0", "nlr", "x", "zzz"):
        assert f"**{name}**" in text, (name, text)
    assert at.sidebar.selectbox(key="lab_o").value == "momentum"
    assert at.sidebar.slider(key="lab_nlr").value == lab.MAX_AXIS
    assert at.sidebar.number_input(key="lab_x").value == SURFACES["elongated_bowl"].domain[0][1]


def test_too_much_work_lowers_the_steps_and_says_so():
    at = open_lab({"nlr": 80, "nv": 60, "n": 2000})
    steps = at.sidebar.number_input(key="lab_n").value
    assert steps == lab.MAX_PHASE_WORK // (80 * 60)
    assert f"{steps}" in warnings(at)


def test_reset_restores_the_defaults():
    at = open_lab({"o": "nag", "n": 500})
    at.button(key="lab_reset_defaults").click().run()
    assert at.sidebar.selectbox(key="lab_o").value == "momentum"
    assert at.sidebar.number_input(key="lab_n").value == 300


# ----------------------------------------------------------------------------- other views


def test_basins_view_matches_the_engine_and_links_a_start():
    at = open_lab({"view": "basins", "bn": 12, "bsel": 1, "bx": 1.2, "by": 0.5})
    spec = chart(at, "lab_basin_chart")
    heats = [tr for tr in spec["data"] if tr["type"] == "heatmap"]
    bm = descent.basin_map(SURFACES["two_wells"], "gd", dict(optimizers.OPTIMIZERS["gd"].defaults,
                                                             lr=0.01), 12, 300)
    z = np.array(heats[0]["z"])
    assert z.shape == (12, 12)
    np.testing.assert_array_equal(z == z[bm.index == 1][0], bm.index == 1)  # the local well
    exp, notes = rs.from_query(race_query(at))
    assert notes == [] and exp.start == (1.2, 0.5) and exp.optimizer_keys == ("gd", "momentum")
    # the notes' claim: GD ends in the local minimum from a share of the starts
    table = at.dataframe[0].value
    assert table.iloc[0, 2] != "0 %"


def test_schedules_view_draws_every_schedule_and_links_the_race():
    at = open_lab({"view": "schedules", "st": 120, "slr": 0.2})
    spec = chart(at, "lab_sched_chart")
    assert len(spec["data"]) == 5
    for trace in spec["data"]:
        assert len(trace["y"]) == 120 and trace["y"][0] <= 0.2 + 1e-12
    queries = {race_query(at, i).get("sch", "constant"): race_query(at, i) for i in range(5)}
    assert set(queries) == {"constant", "step", "exponential", "inverse_time", "cosine"}
    exp, notes = rs.from_query(queries["step"], {"step": {"step_size": (100, 1, 1000),
                                                         "gamma": (0.5, 0.01, 1.0),
                                                         "warmup": (0, 0, 500)}})
    assert notes == [] and exp.steps == 120 and exp.schedule[0] == "step"


@pytest.mark.parametrize("model", list(regression.MODELS))
def test_sgd_view_paths_are_the_engines_and_end_near_the_minimum(model):
    at = open_lab({"view": "sgd", "m": model, "ep": 30})
    spec = chart(at, "lab_sgd_map")
    x, y = regression.make_data(model, 60, 0.5, 0)
    best = regression.exact_minimum(model, x, y)
    star = next(tr for tr in spec["data"] if tr.get("marker", {}).get("symbol") == "star")
    assert star["x"][0] == pytest.approx(best.w) and star["y"][0] == pytest.approx(best.b)
    sgd = regression.train(model, x, y, "gd", {"lr": 0.05}, 1, 30, (-2.0, 2.0))
    path = next(tr for tr in spec["data"] if tr.get("name") == texts.t("sgd.name_sgd"))
    np.testing.assert_allclose(np.column_stack([path["x"], path["y"]])[-1], sgd.path[-1, 0])
    assert len(at.get("plotly_chart")) == 3


def test_sgd_update_slider_moves_the_batch_view():
    at = open_lab({"view": "sgd"})
    at.slider(key="lab_k").set_value(7).run()
    assert not at.exception
    spec = chart(at, "lab_sgd_map")
    contours = [tr for tr in spec["data"] if tr["type"] == "contour"]
    assert len(contours) == 2  # the full loss and the loss of update 7's batch
    assert at.query_params["k"] in ("7", ["7"])


def test_sgd_upload_without_a_file_says_so_and_keeps_working():
    at = open_lab({"view": "sgd", "src": "upload"})
    assert at.error and len(at.get("plotly_chart")) == 3


def test_sgd_epochs_are_capped_by_the_update_bound():
    at = open_lab({"view": "sgd", "dn": 500, "ep": 200})
    assert at.sidebar.slider(key="lab_ep").value == regression.MAX_UPDATES // 500


def test_the_lab_in_korean():
    at = open_lab({"lang": "ko"})
    shown = " ".join(str(e.value) for e in at.markdown)
    assert texts.strings("ko")["lab.title"] in shown
    assert at.success


def test_a_link_naming_only_the_surface_starts_at_its_start():
    at = open_lab({"s": "easom"})
    assert not at.warning  # nothing in the link was wrong
    start = (at.sidebar.number_input(key="lab_x").value, at.sidebar.number_input(key="lab_y").value)
    assert start == SURFACES["easom"].start


def test_a_link_naming_only_the_axis_spans_its_whole_range():
    at = open_lab({"o": "adam", "ax": "eps"})
    assert not at.warning
    spec = optimizers.OPTIMIZERS["adam"].hyper_spec("eps")
    assert at.sidebar.select_slider(key="lab_v0").value == spec.slider_min
    assert at.sidebar.select_slider(key="lab_v1").value == spec.slider_max
