"""The Backpropagation page in AppTest: every view renders, stepping reveals the notes'
numbers, bad input and bad links get messages, the network update is gradient descent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine import graph as g
from engine import mlp

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "app_pages/backprop.py"


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at


def graph_source(at: AppTest) -> str:
    charts = at.get("graphviz_chart")
    assert len(charts) == 1
    return charts[0].proto.spec


def text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_apples_step_by_step_to_the_notes_gradients():
    at = open_page()
    dot = graph_source(at)
    assert "220" not in dot and "100" in dot   # step 0: only the inputs
    for _ in range(2):
        at.button(key="bp_apples_next").click().run()
    assert "220" in graph_source(at)
    assert at.query_params["step"] == "2"
    for _ in range(2):
        at.button(key="bp_apples_next").click().run()
    dot = graph_source(at)
    for number in ("220", "2.2", "110", "200", "1.1"):
        assert f">{number}<" in dot, number
    assert at.button(key="bp_apples_next").disabled
    at.button(key="bp_apples_back").click().run()
    assert ">2.2<" not in graph_source(at)
    at.button(key="bp_apples_first").click().run()
    assert "220" not in graph_source(at)
    at.button(key="bp_apples_last").click().run()
    assert ">110<" in graph_source(at)


def test_apple_numbers_can_be_changed():
    at = open_page({"step": "-1"})
    at.number_input(key="bp_price").set_value(150.0).run()
    dot = graph_source(at)
    assert ">330<" in dot and ">165<" in dot and ">300<" in dot   # 150·2·1.1; 1.1·150; 300
    assert at.query_params["price"] == "150"


def test_link_restores_view_and_step_and_reports_bad_values():
    at = open_page({"view": "chain", "cx": "99", "cy": "abc", "bogus": "1"})
    assert at.segmented_control(key="bp_view").value == "chain"
    warnings = " ".join(w.value for w in at.warning)
    assert "cx" in warnings and "10" in warnings          # clamped to the slider's end
    assert "cy" in warnings and "bogus" in warnings
    assert at.slider(key="bp_cx").value == 10.0 and at.slider(key="bp_cy").value == 2.0


def test_chain_rule_numbers_follow_the_sliders():
    at = open_page({"view": "chain"})
    at.slider(key="bp_cx").set_value(1.5).run()
    at.slider(key="bp_cy").set_value(0.5).run()
    dot = graph_source(at)
    assert ">4<" in dot   # z = (1.5 + 0.5)² = 4, and ∂z/∂x = 2(x + y) = 4
    latex = " ".join(x.value for x in at.latex)
    assert "= 4" in latex


def test_formula_graph_and_sympy_agree_and_bad_formula_is_explained():
    at = open_page({"view": "formula", "f": "x^2*y", "x": "3", "y": "2"})
    frame = at.dataframe[0].value
    assert list(frame.iloc[:, -1]) == ["✓", "✓"]
    assert frame.iloc[0, 1] == "12" and frame.iloc[1, 1] == "9"   # 2xy, x²
    at.text_input(key="bp_f").set_value("__import__('os')").run()
    assert not at.exception
    assert at.error and "__import__" in at.error[0].value
    at.text_input(key="bp_f").set_value("log(x)").run()
    at.number_input(key="bp_x").set_value(-1.0).run()
    assert at.warning   # not defined at this point, said so


def test_network_matches_engine_and_one_update_is_gradient_descent():
    at = open_page({"view": "network", "loss": "mse"})
    frame = at.dataframe[-1].value
    np.testing.assert_allclose(frame.iloc[:, 2].astype(float), frame.iloc[:, 3].astype(float),
                               rtol=1e-10)
    before = [at.number_input(key=f"bp_w{i}").value for i in range(9)]
    grads = frame.iloc[:, 2].astype(float).to_numpy()
    at.button(key="bp_update").click().run()
    after = [at.number_input(key=f"bp_w{i}").value for i in range(9)]
    np.testing.assert_allclose(after, np.array(before) - 0.5 * grads, rtol=1e-12)
    # the engine agrees on the new loss
    net = mlp.Network(sizes=(2, 2, 1), activation="sigmoid", output="sigmoid", loss="mse")
    J = net.objective(np.array([after]), np.array([[1.0, 0.5]]), np.array([[1.0]]))[0]
    assert f"{J:.4g}".replace("-", "−") in text(at)


@pytest.mark.parametrize("follow, n_paths", [("W1[0,0]", 1), ("x1", 2)])
def test_following_a_gradient_lists_its_paths(follow, n_paths):
    at = open_page({"view": "network", "follow": follow})
    lines = [m.value for m in at.markdown if m.value.startswith("∂L/∂")]
    assert len(lines) == n_paths
    dot = graph_source(at)
    edges = {e for path in g.paths(g.tiny_network(), follow) for e in path}
    assert dot.count("penwidth=4") == len(edges)


def test_reset_to_defaults_and_korean():
    at = open_page({"view": "apples", "price": "5", "lang": "ko"})
    assert at.number_input(key="bp_price").value == 5.0
    at.button(key="bp_reset_defaults").click().run()
    assert at.number_input(key="bp_price").value == 100.0
    assert "사과" in text(at)
