"""The Activations & losses page in AppTest: each view renders from the engine's numbers,
controls change the output, bad scores and bad links get messages."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
from streamlit.testing.v1 import AppTest

from app_pages import network_model as nm
from engine import functions as fn

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "app_pages/functions.py"


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def _array(value):
    """Plotly 7 sends numeric arrays as {"dtype", "bdata"} (base64): decode them."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return value


def figure(at: AppTest, index: int = 0) -> dict:
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    for trace in spec["data"]:
        for axis in ("x", "y"):
            if axis in trace:
                trace[axis] = _array(trace[axis])
    return spec


def test_activation_charts_are_the_engines_functions_and_the_worked_example():
    at = open_page()
    data = figure(at)["data"]
    z = np.asarray(data[0]["x"], dtype=float)
    np.testing.assert_allclose(data[0]["y"], fn.activation("sigmoid", z), rtol=1e-12)
    np.testing.assert_allclose(data[1]["y"], fn.derivative("sigmoid", z), rtol=1e-12)
    assert max(data[1]["y"]) == 0.25
    latex = " ".join(x.value for x in at.latex)
    assert r"\sigma(-6)" in latex and "0.0025" in latex
    at.number_input(key="fn_x2").set_value(0.0).run()   # z = 1 − 3 = −2
    latex = " ".join(x.value for x in at.latex)
    assert r"\sigma(-2)" in latex and f"{1 / (1 + math.exp(2)):.4f}" in latex


def test_leaky_slope_slider_changes_the_derivative():
    at = open_page({"act": "leaky_relu", "alpha": "0.3"})
    data = figure(at)["data"]
    assert min(data[1]["y"]) == 0.3
    at.slider(key="fn_alpha").set_value(0.05).run()
    assert min(figure(at)["data"][1]["y"]) == 0.05


def test_vanishing_products_and_dying_relu():
    at = open_page({"view": "vanishing", "z0": "0", "n": "12"})
    data = figure(at)["data"]
    sigmoid = data[0]
    np.testing.assert_allclose(sigmoid["y"], 0.25 ** np.arange(1, 13))
    assert "0 / 9" in " ".join(m.value for m in at.metric)   # default bias −3: all dead
    assert at.error   # "dead: both gradients are exactly 0"
    at.slider(key="fn_rb").set_value(0.5).run()
    assert not at.error


def test_softmax_of_typed_scores_and_bad_scores():
    at = open_page({"view": "softmax", "sm": "1, 1, 1, 1"})
    data = figure(at)["data"]
    np.testing.assert_allclose(data[1]["y"], [0.25] * 4)
    at.text_input(key="fn_sm").set_value("1, two, 3").run()
    assert at.error and "two" in at.error[0].value
    at.text_input(key="fn_sm").set_value("__import__('os')").run()
    assert at.error and not at.exception


def test_loss_curves_and_accuracy_flatness():
    at = open_page({"view": "losses", "loss": "mse", "target": "0.5", "yhat": "1.5"})
    data = figure(at)["data"]
    grid = np.asarray(data[0]["x"], dtype=float)
    np.testing.assert_allclose(data[0]["y"], (grid - 0.5) ** 2, rtol=1e-12)
    np.testing.assert_allclose(data[1]["y"], 2 * (grid - 0.5), rtol=1e-12, atol=1e-12)
    assert "**1**" in text(at)   # L = (1.5 − 0.5)² = 1
    accuracy = figure(at, 1)["data"][1]["y"]
    assert len(set(accuracy)) <= 7   # a handful of flat steps


def test_perceptron_and_gate_and_no_xor_with_network_links():
    at = open_page({"view": "perceptron"})
    assert at.success   # the default setting computes AND
    at.pills(key="fn_gate").set_value("xor").run()
    assert at.error and "68,921" in at.error[0].value
    links = [part for m in at.markdown for part in m.value.split("(") if "/network?" in part]
    assert len(links) == 2
    first = parse_qs(urlparse(links[0].split(")")[0]).query)
    values, reset = nm.parse_query(first)
    assert values["hl"] == 0 and values.get("ds", nm.default_dataset()) == "xor" and not reset


def test_bad_link_values_are_named():
    at = open_page({"view": "perceptron", "w1": "7", "gate": "nor"})
    warnings = " ".join(w.value for w in at.warning)
    assert "w1" in warnings and "gate" in warnings
    assert at.slider(key="fn_w1").value == 2.0
    assert at.pills(key="fn_gate").value == "and"


def test_reset_to_defaults_and_korean():
    at = open_page({"view": "perceptron", "w1": "-1", "lang": "ko"})
    at.button(key="fn_reset_defaults").click().run()
    assert at.slider(key="fn_w1").value == 0.5
    assert "퍼셉트론" in text(at)
