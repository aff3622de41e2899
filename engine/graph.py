r"""Computational graphs: nodes are operations, edges carry values forward and gradients back.

A :class:`Graph` lists its nodes in topological order (every node after its inputs).  A node
is an *input* (a value given at evaluation time: x, a weight, the price of an apple), a
*constant* (a number in the formula), or an operation of :data:`OPS`.  The forward pass
evaluates the nodes left to right; the backward pass (reverse-mode differentiation,
"backpropagation") walks them right to left and applies the chain rule on every edge::

    grad[output] = ∂out/∂out = 1
    for node v in reverse order, for each input u of v (edge u → v):
        local(u → v)     = ∂v/∂u                  the node's own derivative, from values only
        edge_grad(u → v) = grad[v] · ∂v/∂u         what flows back along the edge
        grad[u]         += edge_grad(u → v)        a value used twice sums both paths

So grad[u] = Σ over every path from u to the output of the product of the local
derivatives along it (:func:`paths` lists them, a test checks the identity).

Values are NumPy arrays (any shape that broadcasts), so one call evaluates a graph at many
points.  Builders: :func:`from_syntax` (a typed formula's tree from
:func:`engine.expression.parse_syntax`, exactly as typed), :func:`apples` (the notes'
shopping example), :func:`chain_rule` (z = (x + y)², t = x + y), :func:`tiny_network`
(2 inputs, 2 sigmoid hidden units, 1 sigmoid output, BCE or MSE, one example; its
parameter names are those of :meth:`engine.mlp.Network.param_names`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from engine import functions, mlp

__all__ = [
    "MAX_NODES",
    "MAX_PATHS",
    "NETWORK_PARAMS",
    "OPS",
    "Backward",
    "Builder",
    "Edge",
    "Graph",
    "GraphError",
    "Node",
    "Reveal",
    "Step",
    "apples",
    "backward",
    "chain_rule",
    "forward",
    "from_syntax",
    "gradient",
    "path_products",
    "paths",
    "reveal",
    "steps",
    "tiny_network",
]

MAX_NODES = 300   # a 200-character formula has at most ~200 nodes
MAX_PATHS = 64    # paths listed from one node to the output


class GraphError(ValueError):
    """A graph cannot be built or evaluated as asked; the message says why."""


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class OpSpec:
    """One operation: its symbol in a drawing, its value, and its local derivatives.

    ``forward(args, c)`` -> value; ``local(args, out, c)`` -> (∂out/∂arg_k for every k).
    ``c`` is the node's parameter (the exponent of ``powc``), else None.
    ``local_latex[k]`` writes ∂out/∂arg_k with the inputs named a, b (c: the parameter).
    ``arity`` None: any number ≥ 2 of inputs (a sum).
    """

    key: str
    symbol: str
    arity: int | None
    forward: Callable
    local: Callable
    latex: str
    local_latex: tuple[str, ...]


def _sigmoid(a):
    return mlp.ACTIVATIONS["sigmoid"].f(a)


def _op(key, symbol, arity, forward, local, latex, local_latex) -> OpSpec:
    return OpSpec(key, symbol, arity, forward, local, latex, tuple(local_latex))


_BCE, _MSE = functions.LOSSES["bce"], functions.LOSSES["mse"]

OPS: dict[str, OpSpec] = {op.key: op for op in [
    _op("add", "+", None, lambda a, c: sum(a[1:], a[0]),
        lambda a, out, c: tuple(np.ones_like(out) for _ in a), "a + b", ["1", "1"]),
    # a neuron's weighted sum of two inputs: a·b + c·d + e (x₁w₁ + x₂w₂ + b)
    _op("affine", "Σ", 5, lambda a, c: a[0] * a[1] + a[2] * a[3] + a[4],
        lambda a, out, c: tuple(v * np.ones_like(out) for v in (a[1], a[0], a[3], a[2], 1.0)),
        "a b + c d + e", ["b", "a", "d", "c", "1"]),
    _op("sub", "−", 2, lambda a, c: a[0] - a[1],
        lambda a, out, c: (np.ones_like(out), -np.ones_like(out)), "a - b", ["1", "-1"]),
    _op("mul", "×", 2, lambda a, c: a[0] * a[1],
        lambda a, out, c: (a[1] * np.ones_like(out), a[0] * np.ones_like(out)),
        r"a \cdot b", ["b", "a"]),
    _op("div", "÷", 2, lambda a, c: a[0] / a[1],
        lambda a, out, c: (1.0 / a[1] * np.ones_like(out), -a[0] / a[1] ** 2),
        r"\frac{a}{b}", [r"\frac{1}{b}", r"-\frac{a}{b^2}"]),
    _op("neg", "−", 1, lambda a, c: -a[0], lambda a, out, c: (-np.ones_like(out),),
        "-a", ["-1"]),
    _op("pow", "^", 2, lambda a, c: a[0] ** a[1],
        lambda a, out, c: (a[1] * a[0] ** (a[1] - 1.0), out * np.log(a[0])),
        "a^b", [r"b\,a^{b-1}", r"a^b \ln a"]),
    _op("powc", "^c", 1, lambda a, c: a[0] ** c,
        lambda a, out, c: (c * a[0] ** (c - 1.0),), "a^c", [r"c\,a^{c-1}"]),
    _op("sin", "sin", 1, lambda a, c: np.sin(a[0]), lambda a, out, c: (np.cos(a[0]),),
        r"\sin a", [r"\cos a"]),
    _op("cos", "cos", 1, lambda a, c: np.cos(a[0]), lambda a, out, c: (-np.sin(a[0]),),
        r"\cos a", [r"-\sin a"]),
    _op("tan", "tan", 1, lambda a, c: np.tan(a[0]),
        lambda a, out, c: (1.0 / np.cos(a[0]) ** 2,), r"\tan a", [r"\frac{1}{\cos^2 a}"]),
    _op("exp", "exp", 1, lambda a, c: np.exp(a[0]), lambda a, out, c: (out,),
        r"e^{a}", [r"e^{a}"]),
    _op("log", "ln", 1, lambda a, c: np.log(a[0]), lambda a, out, c: (1.0 / a[0],),
        r"\ln a", [r"\frac{1}{a}"]),
    _op("sqrt", "√", 1, lambda a, c: np.sqrt(a[0]), lambda a, out, c: (0.5 / out,),
        r"\sqrt{a}", [r"\frac{1}{2\sqrt{a}}"]),
    _op("abs", "|·|", 1, lambda a, c: np.abs(a[0]), lambda a, out, c: (np.sign(a[0]),),
        "|a|", [r"\operatorname{sign} a"]),
    _op("tanh", "tanh", 1, lambda a, c: mlp.ACTIVATIONS["tanh"].f(a[0]),
        lambda a, out, c: (mlp.ACTIVATIONS["tanh"].grad_from(a[0], out),),
        r"\tanh a", [r"1 - \tanh^2 a"]),
    _op("sinh", "sinh", 1, lambda a, c: np.sinh(a[0]), lambda a, out, c: (np.cosh(a[0]),),
        r"\sinh a", [r"\cosh a"]),
    _op("cosh", "cosh", 1, lambda a, c: np.cosh(a[0]), lambda a, out, c: (np.sinh(a[0]),),
        r"\cosh a", [r"\sinh a"]),
    _op("arctan", "arctan", 1, lambda a, c: np.arctan(a[0]),
        lambda a, out, c: (1.0 / (1.0 + a[0] ** 2),), r"\arctan a", [r"\frac{1}{1 + a^2}"]),
    _op("sigmoid", "σ", 1, lambda a, c: _sigmoid(a[0]),
        lambda a, out, c: (mlp.ACTIVATIONS["sigmoid"].grad_from(a[0], out),),
        r"\sigma(a)", [r"\sigma(a)\,(1 - \sigma(a))"]),
    # losses of one prediction a = ŷ against a target b = y (engine.functions.LOSSES)
    _op("bce", "BCE", 2, lambda a, c: _BCE.value(a[0], a[1]),
        lambda a, out, c: (_BCE.grad(a[0], a[1]), np.log1p(-a[0]) - np.log(a[0])),
        r"-[b \ln a + (1 - b)\ln(1 - a)]", [r"\frac{a - b}{a(1 - a)}", r"\ln\frac{1 - a}{a}"]),
    _op("mse", "MSE", 2, lambda a, c: _MSE.value(a[0], a[1]),
        lambda a, out, c: (_MSE.grad(a[0], a[1]), -_MSE.grad(a[0], a[1])),
        "(a - b)^2", ["2(a - b)", "-2(a - b)"]),
]}

# typed function names (engine.expression.FUNCTIONS) -> operations
_FUNCTION_OPS = {"sin": "sin", "cos": "cos", "tan": "tan", "exp": "exp", "log": "log",
                 "ln": "log", "sqrt": "sqrt", "abs": "abs", "tanh": "tanh", "sinh": "sinh",
                 "cosh": "cosh", "arctan": "arctan", "atan": "arctan"}
_BINARY_OPS = {"add": "add", "sub": "sub", "mul": "mul", "div": "div", "pow": "pow"}
_CONSTANTS = {"pi": (math.pi, "π"), "e": (math.e, "e")}


# --------------------------------------------------------------------------- structure


@dataclass(frozen=True)
class Node:
    """A node.  op: "input", "const" or a key of :data:`OPS`.

    label: the name a drawing shows for an input, a constant or a named result ("t").
    value: a constant's value, or the exponent c of a ``powc`` node.
    differentiable: for inputs, whether backprop computes ∂out/∂input (False for data that
    is never trained, like a target y).
    """

    key: str
    op: str
    inputs: tuple[str, ...] = ()
    label: str = ""
    value: float | None = None
    differentiable: bool = True


class Edge(NamedTuple):
    """The value of ``src`` entering ``dst`` as its input number ``slot``."""

    src: str
    dst: str
    slot: int


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    output: str
    _index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        index = {}
        for node in self.nodes:
            if node.key in index:
                raise GraphError(f"two nodes share the key {node.key!r}")
            for src in node.inputs:
                if src not in index:
                    raise GraphError(f"node {node.key!r} uses {src!r} before it is defined")
            index[node.key] = node
        if self.output not in index:
            raise GraphError(f"the output {self.output!r} is not a node")
        object.__setattr__(self, "_index", index)

    def node(self, key: str) -> Node:
        return self._index[key]

    @property
    def edges(self) -> tuple[Edge, ...]:
        return tuple(Edge(src, node.key, slot) for node in self.nodes
                     for slot, src in enumerate(node.inputs))

    @property
    def input_keys(self) -> tuple[str, ...]:
        return tuple(n.key for n in self.nodes if n.op == "input")

    @property
    def operations(self) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.op not in ("input", "const"))

    def needs_grad(self) -> dict[str, bool]:
        """Whether a node depends on a differentiable input (only those get gradients)."""
        need: dict[str, bool] = {}
        for n in self.nodes:
            need[n.key] = (n.differentiable if n.op == "input"
                           else any(need[i] for i in n.inputs))
        return need


class Builder:
    """Builds a :class:`Graph` node by node; every method returns the new node's key."""

    def __init__(self):
        self._nodes: list[Node] = []
        self._keys: set[str] = set()

    def _add(self, node: Node) -> str:
        if len(self._nodes) >= MAX_NODES:
            raise GraphError(f"the graph would have more than {MAX_NODES} nodes")
        if node.key in self._keys:
            raise GraphError(f"two nodes share the key {node.key!r}")
        self._nodes.append(node)
        self._keys.add(node.key)
        return node.key

    def _fresh(self) -> str:
        return f"n{len(self._nodes)}"

    def input(self, key: str, label: str = "", differentiable: bool = True) -> str:
        return self._add(Node(key, "input", label=label or key,
                              differentiable=differentiable))

    def const(self, value: float, label: str = "") -> str:
        return self._add(Node(self._fresh(), "const", label=label or f"{value:g}",
                              value=float(value)))

    def op(self, op: str, *inputs: str, key: str = "", label: str = "",
           param: float | None = None) -> str:
        spec = OPS.get(op)
        if spec is None:
            raise GraphError(f"unknown operation {op!r}")
        if (spec.arity is None and len(inputs) < 2) or (
                spec.arity is not None and len(inputs) != spec.arity):
            raise GraphError(f"{op} takes {spec.arity or '2 or more'} inputs, "
                             f"got {len(inputs)}")
        if (op == "powc") != (param is not None):
            raise GraphError("powc, and only powc, takes a parameter (the exponent)")
        return self._add(Node(key or self._fresh(), op, tuple(inputs), label,
                              None if param is None else float(param)))

    def build(self, output: str) -> Graph:
        return Graph(tuple(self._nodes), output)


# --------------------------------------------------------------------------- passes


def _evaluate(op: OpSpec, args, c):
    with np.errstate(all="ignore"):
        return np.asarray(op.forward(args, c), dtype=float)


def forward(graph: Graph, inputs: Mapping[str, object]) -> dict[str, np.ndarray]:
    """The value of every node, given a value (array) for every input node.

    Undefined operations (log of a negative number, 0 division) give NaN or ±inf silently;
    the page says where the value stops being a number."""
    missing = [k for k in graph.input_keys if k not in inputs]
    if missing:
        raise GraphError(f"no value given for input(s) {', '.join(missing)}")
    values: dict[str, np.ndarray] = {}
    for n in graph.nodes:
        if n.op == "input":
            values[n.key] = np.asarray(inputs[n.key], dtype=float)
        elif n.op == "const":
            values[n.key] = np.asarray(n.value, dtype=float)
        else:
            args = [values[i] for i in n.inputs]
            values[n.key] = _evaluate(OPS[n.op], args, n.value)
    return values


class Backward(NamedTuple):
    """grad: ∂out/∂node for every node that depends on a differentiable input;
    local: ∂dst/∂src on each such edge; edge_grad: grad[dst]·local, what flows back."""

    grad: dict[str, np.ndarray]
    local: dict[Edge, np.ndarray]
    edge_grad: dict[Edge, np.ndarray]


def backward(graph: Graph, values: Mapping[str, np.ndarray]) -> Backward:
    """Reverse-mode pass from the output (seed ∂out/∂out = 1) back to the inputs."""
    need = graph.needs_grad()
    out = graph.output
    grad: dict[str, np.ndarray] = {}
    if need[out]:
        grad[out] = np.ones_like(values[out])
    local: dict[Edge, np.ndarray] = {}
    edge_grad: dict[Edge, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for n in reversed(graph.nodes):
            if n.op in ("input", "const") or n.key not in grad:
                continue
            args = [values[i] for i in n.inputs]
            derivatives = OPS[n.op].local(args, values[n.key], n.value)
            for slot, src in enumerate(n.inputs):
                if not need[src]:
                    continue
                edge = Edge(src, n.key, slot)
                local[edge] = np.asarray(derivatives[slot], dtype=float)
                edge_grad[edge] = grad[n.key] * local[edge]
                grad[src] = grad[src] + edge_grad[edge] if src in grad else edge_grad[edge]
    return Backward(grad, local, edge_grad)


def gradient(graph: Graph, inputs: Mapping[str, object]) -> dict[str, np.ndarray]:
    """∂out/∂input for every differentiable input (0 where the output does not use it)."""
    values = forward(graph, inputs)
    grads = backward(graph, values).grad
    zero = np.zeros_like(values[graph.output])
    return {k: grads.get(k, zero) for k in graph.input_keys
            if graph.node(k).differentiable}


# --------------------------------------------------------------------------- stepping


class Step(NamedTuple):
    phase: str  # "forward" or "backward"
    node: str


def steps(graph: Graph) -> list[Step]:
    """One forward step per operation (left to right), then one backward step per operation
    that needs a gradient (right to left).  Inputs and constants are known before step 1."""
    need = graph.needs_grad()
    ops = graph.operations
    return ([Step("forward", n.key) for n in ops]
            + [Step("backward", n.key) for n in reversed(ops) if need[n.key]])


class Reveal(NamedTuple):
    """What a drawing shows after k steps."""

    values: frozenset[str]   # nodes whose value is known
    grads: frozenset[str]    # nodes whose total gradient ∂out/∂node is complete
    edges: frozenset[Edge]   # edges whose backward gradient is known
    current: Step | None     # the step just taken (None before the first)


def reveal(graph: Graph, k: int) -> Reveal:
    """The state after the first k steps of :func:`steps` (k is clipped to 0 … len)."""
    plan = steps(graph)
    k = max(0, min(int(k), len(plan)))
    done = plan[:k]
    values = {n.key for n in graph.nodes if n.op in ("input", "const")}
    values |= {s.node for s in done if s.phase == "forward"}
    processed = [s.node for s in done if s.phase == "backward"]
    need = graph.needs_grad()
    edges = {e for e in graph.edges if e.dst in processed and need[e.src]}
    grads = set()
    if any(s.phase == "backward" for s in done) or (k == len(plan) and need[graph.output]):
        grads.add(graph.output)
    consumers: dict[str, list[Edge]] = {}
    for e in graph.edges:
        if need[e.src]:
            consumers.setdefault(e.src, []).append(e)
    for key, outgoing in consumers.items():
        if outgoing and all(e in edges for e in outgoing):
            grads.add(key)
    return Reveal(frozenset(values), frozenset(grads), frozenset(edges),
                  done[-1] if done else None)


# --------------------------------------------------------------------------- paths


def paths(graph: Graph, source: str) -> list[tuple[Edge, ...]]:
    """Every path of edges from ``source`` to the output (at most :data:`MAX_PATHS`)."""
    outgoing: dict[str, list[Edge]] = {}
    for e in graph.edges:
        outgoing.setdefault(e.src, []).append(e)
    found: list[tuple[Edge, ...]] = []

    def walk(key: str, trail: tuple[Edge, ...]) -> None:
        if len(found) >= MAX_PATHS:
            return
        if key == graph.output:
            found.append(trail)
            return
        for e in outgoing.get(key, []):
            walk(e.dst, (*trail, e))

    walk(source, ())
    return found


def path_products(back: Backward, found: list[tuple[Edge, ...]]) -> list[np.ndarray]:
    """Product of the local derivatives along each path (their sum is the gradient)."""
    products = []
    for path in found:
        product = np.asarray(1.0)
        for e in path:
            product = product * back.local[e]
        products.append(product)
    return products


# --------------------------------------------------------------------------- builders


def _constant_exponent(tree) -> float | None:
    """The exponent when it is a plain number (or minus one): drawn as one node "^c"."""
    if tree.kind == "number":
        return float(tree.text)
    if tree.kind == "neg" and tree.args[0].kind == "number":
        return -float(tree.args[0].text)
    return None


def from_syntax(tree) -> Graph:
    """The computational graph of a formula's syntax tree (engine.expression.Syntax), node
    for node as typed; x and y are one input node each, however often they appear."""
    b = Builder()
    variables: dict[str, str] = {}

    def build(t) -> str:
        if t.kind == "variable":
            if t.text not in variables:
                variables[t.text] = b.input(t.text)
            return variables[t.text]
        if t.kind == "number":
            return b.const(float(t.text), t.text)
        if t.kind == "constant":
            value, label = _CONSTANTS[t.text]
            return b.const(value, label)
        if t.kind == "neg":
            return b.op("neg", build(t.args[0]))
        if t.kind == "call":
            return b.op(_FUNCTION_OPS[t.text], build(t.args[0]))
        if t.kind == "pow":
            c = _constant_exponent(t.args[1])
            if c is not None:
                return b.op("powc", build(t.args[0]), param=c)
        if t.kind in _BINARY_OPS:
            left = build(t.args[0])
            return b.op(_BINARY_OPS[t.kind], left, build(t.args[1]))
        raise GraphError(f"unknown syntax node {t.kind!r}")

    return b.build(build(tree))


def apples(price: float = 100.0, count: float = 2.0, tax: float = 1.1
           ) -> tuple[Graph, dict[str, float]]:
    """The notes' shopping example: apples at ``price`` each, ``count`` of them, times the
    tax factor (1.1 = 10 % tax).  Forward 100·2 = 200, 200·1.1 = 220; backward
    ∂total/∂tax = 200, ∂/∂price = 1.1·2 = 2.2, ∂/∂count = 1.1·100 = 110."""
    b = Builder()
    p, n, t = b.input("price"), b.input("count"), b.input("tax")
    subtotal = b.op("mul", p, n, key="subtotal")
    total = b.op("mul", subtotal, t, key="total")
    return b.build(total), {"price": price, "count": count, "tax": tax}


def chain_rule(x: float = 1.0, y: float = 2.0) -> tuple[Graph, dict[str, float]]:
    """The notes' composite function z = t², t = x + y: ∂z/∂x = ∂z/∂t · ∂t/∂x = 2t · 1."""
    b = Builder()
    xk, yk = b.input("x"), b.input("y")
    t = b.op("add", xk, yk, key="t", label="t")
    z = b.op("powc", t, key="z", label="z", param=2.0)
    return b.build(z), {"x": x, "y": y}


# Parameter names of engine.mlp.Network((2, 2, 1)), in its theta order.
NETWORK_PARAMS = ("W1[0,0]", "W1[0,1]", "W1[1,0]", "W1[1,1]", "b1[0]", "b1[1]",
                  "W2[0,0]", "W2[1,0]", "b2[0]")


def tiny_network(loss: str = "bce") -> Graph:
    """x (2) → h = σ(x W₁ + b₁) (2) → ŷ = σ(h W₂ + b₂) → L = loss(ŷ, y), one example.

    Inputs: x1, x2, y (not differentiable: a target) and the weights named as in
    :data:`NETWORK_PARAMS`.  Each weighted sum is one node (op "affine": x₁w₁ + x₂w₂ + b).
    Named results: z1_j, h_j (hidden unit j), z2, yhat, L.
    """
    if loss not in ("bce", "mse"):
        raise GraphError(f"the tiny network takes loss 'bce' or 'mse', got {loss!r}")
    b = Builder()
    x = [b.input("x1"), b.input("x2")]
    W1 = {(i, j): b.input(f"W1[{i},{j}]") for i in range(2) for j in range(2)}
    b1 = [b.input(f"b1[{j}]") for j in range(2)]
    W2 = [b.input(f"W2[{j},0]") for j in range(2)]
    b2 = b.input("b2[0]")
    y = b.input("y", differentiable=False)
    hidden = []
    for j in range(2):
        z = b.op("affine", x[0], W1[0, j], x[1], W1[1, j], b1[j], key=f"z1_{j}")
        hidden.append(b.op("sigmoid", z, key=f"h_{j}"))
    z2 = b.op("affine", hidden[0], W2[0], hidden[1], W2[1], b2, key="z2")
    yhat = b.op("sigmoid", z2, key="yhat")
    return b.build(b.op(loss, yhat, y, key="L"))
