"""DOT text of the computational graphs and the step sentences."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from engine import graph as g
from engine.expression import parse_syntax
from viz.graph import SINK, format_number, graph_dot, node_names, step_lines


@pytest.mark.parametrize("value, text", [
    (220.00000000000003, "220"), (2.2000000000000006, "2.2"), (110.00000000000001, "110"),
    (1 / (1 + math.exp(6)), "0.002473"), (0.0, "0"), (-3.5, "−3.5"), (1.5e-7, "1.5×10⁻⁷"),
    (2.5e8, "2.5×10⁸"), (float("inf"), "∞"), (float("nan"), "undefined"),
])
def test_numbers_are_readable(value, text):
    assert format_number(value) == text


def _apples(k):
    G, inputs = g.apples()
    values = g.forward(G, inputs)
    back = g.backward(G, values)
    return G, graph_dot(G, values, back, g.reveal(G, k), names=node_names(G),
                        result_label="to pay")


def edge_labels(dot: str) -> dict[tuple[str, str], str]:
    found = {}
    for line in dot.splitlines():
        m = re.match(r'\s*"([^"]+)" -> "([^"]+)" \[label=(.*)\];$', line)
        if m:
            found[m.group(1), m.group(2)] = m.group(3)
    return found


def test_every_node_and_edge_is_drawn_and_values_appear_step_by_step():
    G, dot0 = _apples(0)
    for node in G.nodes:
        assert f'"{node.key}" [' in dot0
    labels = edge_labels(dot0)
    assert len(labels) == len(G.edges) + 1          # plus the edge to the result
    assert labels[("total", SINK)] == '""'           # nothing known yet
    _, dot2 = _apples(2)
    assert ">220<" in edge_labels(dot2)[("total", SINK)]
    _, dot4 = _apples(4)
    labels = edge_labels(dot4)
    assert ">2.2<" in labels[("price", "subtotal")] and ">110<" in labels[("count", "subtotal")]
    assert ">200<" in labels[("tax", "total")] and ">1<" in labels[("total", SINK)]


def test_current_node_is_highlighted_by_phase():
    _, forward = _apples(1)
    _, backward = _apples(3)
    assert '"subtotal" [shape=circle style=filled fillcolor="#FFE08A"' in forward
    assert '"total" [shape=circle style=filled fillcolor="#F9C6C6"' in backward


def test_undefined_values_never_reach_the_drawing_as_nan():
    G = g.from_syntax(parse_syntax("log(x) * y"))
    values = g.forward(G, {"x": -1.0, "y": 2.0})
    back = g.backward(G, values)
    dot = graph_dot(G, values, back, g.reveal(G, 99), names=node_names(G), result_label="f")
    assert "nan" not in dot.lower() and "inf" not in dot.lower() and "undefined" in dot


def test_names_escape_and_highlight():
    G = g.tiny_network()
    inputs = dict.fromkeys(g.NETWORK_PARAMS, 0.5) | {"x1": 1.0, "x2": 0.0, "y": 1.0}
    values = g.forward(G, inputs)
    back = g.backward(G, values)
    path = g.paths(G, "W1[0,0]")[0]
    dot = graph_dot(G, values, back, g.reveal(G, 99), names=node_names(G, {"x1": "<x&1>"}),
                    result_label="L", highlight=path)
    assert "&lt;x&amp;1&gt;" in dot and dot.count("penwidth=4") == len(path)


def test_step_sentences_carry_the_numbers():
    G, inputs = g.apples()
    values = g.forward(G, inputs)
    back = g.backward(G, values)
    names = node_names(G)
    forward = " ".join(step_lines(G, values, back, g.steps(G)[1], names, "total"))
    assert "200" in forward and "1.1" in forward and "220" in forward
    backward = " ".join(step_lines(G, values, back, g.steps(G)[3], names, "total"))
    assert "1.1 × 2 = **2.2**" in backward and "1.1 × 100 = **110**" in backward
    assert step_lines(G, values, back, None, names, "total")


def test_unnamed_intermediate_values_are_numbered():
    G = g.from_syntax(parse_syntax("sin(x) + x*y"))
    names = node_names(G)
    assert [names[n.key] for n in G.operations] == ["v₁", "v₂", "v₃"]
    assert np.isfinite(g.forward(G, {"x": 1.0, "y": 1.0})[G.output])
