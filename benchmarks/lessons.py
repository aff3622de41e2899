"""Cost of the lesson pages' work per rerun: build a graph, forward, backward, DOT text.

    python -m benchmarks.lessons

Prints milliseconds per call (median of repeats) for the apples, the longest formula the
parser accepts (200 characters), the tiny network, and the perceptron's grid search.
"""

from __future__ import annotations

import statistics
import time

from engine import functions as fn
from engine import graph as g
from engine.expression import parse_syntax
from viz.graph import graph_dot, node_names

LONG_FORMULA = ("sin(x*y) + cos(x - y)^2 + exp(-x^2) * tanh(y) + sqrt(abs(x*y) + 1) + "
                "log(x^2 + y^2 + 1) - arctan(x/(y^2 + 1)) + x^3*y - 2*x*y^2 + "
                "cosh(x/3) * sinh(y/3) + (x + y)^4 / 10")[:200]


def _ms(work, repeats: int = 30) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _full(build, inputs):
    graph = build()
    values = g.forward(graph, inputs)
    back = g.backward(graph, values)
    return graph_dot(graph, values, back, g.reveal(graph, 10**6), names=node_names(graph),
                     result_label="f")


def main() -> None:
    weights = dict.fromkeys(g.NETWORK_PARAMS, 0.3) | {"x1": 1.0, "x2": 0.5, "y": 1.0}
    rows = [
        ("apples", lambda: _full(lambda: g.apples()[0],
                                 {"price": 100, "count": 2, "tax": 1.1})),
        (f"formula ({len(LONG_FORMULA)} chars)",
         lambda: _full(lambda: g.from_syntax(parse_syntax(LONG_FORMULA)), {"x": 0.3, "y": 0.7})),
        ("tiny network", lambda: _full(g.tiny_network, weights)),
        ("perceptron grid (41^3 settings)", lambda: fn.perceptron_solutions("xor")),
    ]
    n_ops = len(g.from_syntax(parse_syntax(LONG_FORMULA)).operations)
    print(f"{'work':<34} {'ms per call':>12}")
    for name, work in rows:
        print(f"{name:<34} {_ms(work):>12.2f}")
    print(f"(the long formula has {n_ops} operation nodes)")


if __name__ == "__main__":
    main()
