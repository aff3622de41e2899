"""Backpropagation: the notes' computational graphs, step by step.

Four views (the URL's ``view``): the apples of the notes (forward 220, backward 2.2, 110,
200), the chain rule z = (x + y)², any typed formula f(x, y) (the race page's safe parser:
nothing typed is ever run), and a tiny network 2-2-1 whose numbers equal engine.mlp's.
Every view is a graph drawn by Graphviz, stepped one node at a time (app_pages.graph_stepper).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import graph_stepper
from app_pages import lesson_state as ls
from app_pages import registry_texts as rt
from engine import graph as g
from engine import mlp, optimizers
from engine.expression import ExpressionError, parse, parse_syntax
from texts import t
from viz.graph import format_number, node_names
from viz.style import tex_num

PREFIX = "bp"
VIEWS = ("apples", "chain", "formula", "network")
DEFAULT_FORMULA = "x*y + sin(x)"
DEFAULT_WEIGHTS = (0.5, -0.3, 0.2, 0.8, 0.1, -0.2, 0.7, -0.4, 0.05)  # NETWORK_PARAMS order
FOLLOW = (*g.NETWORK_PARAMS, "x1", "x2")
F = ls.Field
FIELDS = [
    F("view", "apples", "choice", options=VIEWS),
    F("price", 100.0, low=0.0, high=1e6, views=("apples",)),
    F("count", 2.0, low=0.0, high=1e4, views=("apples",)),
    F("tax", 1.1, low=0.0, high=10.0, views=("apples",)),
    F("step", 0, "int", low=-1, high=1000, views=("apples",)),
    F("cx", 1.0, low=-10.0, high=10.0, views=("chain",)),
    F("cy", 2.0, low=-10.0, high=10.0, views=("chain",)),
    F("cstep", -1, "int", low=-1, high=1000, views=("chain",)),
    F("f", DEFAULT_FORMULA, "text", max_length=200, views=("formula",)),
    F("x", 1.0, low=-1e3, high=1e3, views=("formula",)),
    F("y", 2.0, low=-1e3, high=1e3, views=("formula",)),
    F("fstep", -1, "int", low=-1, high=1000, views=("formula",)),
    F("loss", "bce", "choice", options=("bce", "mse"), views=("network",)),
    F("x1", 1.0, low=-5.0, high=5.0, views=("network",)),
    F("x2", 0.5, low=-5.0, high=5.0, views=("network",)),
    F("target", 1, "int", low=0, high=1, views=("network",)),
    *[F(f"w{i}", w, low=-10.0, high=10.0, views=("network",))
      for i, w in enumerate(DEFAULT_WEIGHTS)],
    F("lr", 0.5, low=0.001, high=10.0, views=("network",)),
    F("follow", "W1[0,0]", "choice", options=FOLLOW, views=("network",)),
    F("nstep", -1, "int", low=-1, high=1000, views=("network",)),
]
STEP_FIELD = {"apples": "step", "chain": "cstep", "formula": "fstep", "network": "nstep"}
ss = st.session_state
K = lambda name: ls.session_key(PREFIX, name)  # noqa: E731 - a short alias for widget keys


def _on_step(view: str):
    field = next(f for f in FIELDS if f.name == STEP_FIELD[view])

    def write(step: int, n: int) -> None:
        value = step if step < n else -1
        ss[K(field.name)] = value
        ls.set_param(PREFIX, field.name, None if value == field.default else str(value))
    return write


def _sub(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


def _sup(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def network_names() -> dict[str, str]:
    """The notes' notation: w¹₁₂ is the first layer's weight from input 1 to hidden unit 2."""
    names = {"x1": "x₁", "x2": "x₂", "y": "y", "z2": "z²", "yhat": "ŷ", "L": "L"}
    for i in range(2):
        for j in range(2):
            names[f"W1[{i},{j}]"] = f"w¹{_sub(i + 1)}{_sub(j + 1)}"
    for j in range(2):
        names[f"b1[{j}]"] = f"b¹{_sub(j + 1)}"
        names[f"W2[{j},0]"] = f"w²{_sub(j + 1)}"
        names[f"z1_{j}"] = f"z¹{_sub(j + 1)}"
        names[f"h_{j}"] = f"h{_sub(j + 1)}"
    names["b2[0]"] = "b²"
    return names


# --------------------------------------------------------------------------- views


def apples_view() -> None:
    st.markdown(t("backprop.apples_intro"))
    c1, c2, c3 = st.columns(3)
    c1.number_input(t("backprop.apple_price"), min_value=0.0, max_value=1e6, step=10.0,
                    key=K("price"), format="%g")
    c2.number_input(t("backprop.apple_count"), min_value=0.0, max_value=1e4, step=1.0,
                    key=K("count"), format="%g")
    c3.number_input(t("backprop.apple_tax"), min_value=0.0, max_value=10.0, step=0.01,
                    key=K("tax"), format="%g", help=t("backprop.apple_tax_help"))
    graph, inputs = g.apples(ss[K("price")], ss[K("count")], ss[K("tax")])
    values = g.forward(graph, inputs)
    back = g.backward(graph, values)
    names = {"price": t("backprop.apple_price_short"), "count": t("backprop.apple_count_short"),
             "tax": t("backprop.apple_tax_short"), "subtotal": t("backprop.apple_subtotal"),
             "total": t("backprop.apple_total")}
    st.caption(t("backprop.legend"))
    graph_stepper.show("bp_apples", graph, values, back, step_key=K("step"),
                       names=node_names(graph, names), result_label=t("backprop.apple_result"),
                       output_name=names["total"], on_step=_on_step("apples"),
                       alt=t("backprop.apples_alt"))
    st.markdown(t("backprop.apples_outro"))


def chain_view() -> None:
    st.markdown(t("backprop.chain_intro"))
    c1, c2 = st.columns(2)
    c1.slider("x", min_value=-10.0, max_value=10.0, step=0.1, key=K("cx"))
    c2.slider("y", min_value=-10.0, max_value=10.0, step=0.1, key=K("cy"))
    x, y = float(ss[K("cx")]), float(ss[K("cy")])
    graph, inputs = g.chain_rule(x, y)
    values = g.forward(graph, inputs)
    back = g.backward(graph, values)
    tv = x + y
    st.latex(r"z = t^2,\quad t = x + y,\qquad \frac{\partial z}{\partial x} = "
             r"\frac{\partial z}{\partial t}\,\frac{\partial t}{\partial x} = 2t \times 1 = "
             rf"2(x + y) = 2 \times {tex_num(tv)} = {tex_num(back.grad['x'])}")
    st.caption(t("backprop.legend"))
    graph_stepper.show("bp_chain", graph, values, back, step_key=K("cstep"),
                       names=node_names(graph), result_label="z", output_name="z",
                       on_step=_on_step("chain"), alt=t("backprop.chain_alt"))


@st.cache_resource(max_entries=64, show_spinner=False)
def _sympy_surface(text: str):
    """The race page's surface of the formula: SymPy's exact gradient (cached, immutable)."""
    return parse(text, domain=((-2.0, 2.0), (-2.0, 2.0)))


def formula_view() -> None:
    st.markdown(t("backprop.formula_intro"))
    c1, c2, c3 = st.columns([4, 1, 1])
    c1.text_input(t("backprop.formula_label"), key=K("f"), max_chars=200,
                  help=t("backprop.formula_help"))
    c2.number_input("x", min_value=-1e3, max_value=1e3, step=0.1, key=K("x"), format="%g")
    c3.number_input("y", min_value=-1e3, max_value=1e3, step=0.1, key=K("y"), format="%g")
    text = ss[K("f")]
    try:
        tree = parse_syntax(text)
    except ExpressionError as exc:
        st.error(t("backprop.formula_error", message=rt.error_message(exc)),
                 icon=":material/error:")
        return
    graph = g.from_syntax(tree)
    point = {"x": float(ss[K("x")]), "y": float(ss[K("y")])}
    values = g.forward(graph, point)
    back = g.backward(graph, values)
    if not np.isfinite(values[graph.output]):
        st.warning(t("backprop.formula_undefined", x=format_number(point["x"]),
                     y=format_number(point["y"])), icon=":material/warning:")
    st.caption(t("backprop.legend") + " " + t("backprop.formula_limits",
                                              n=len(graph.operations)))
    graph_stepper.show("bp_formula", graph, values, back, step_key=K("fstep"),
                       names=node_names(graph), result_label="f", output_name="f",
                       on_step=_on_step("formula"), alt=t("backprop.formula_alt"))
    _compare_with_sympy(text, back, point)


def _compare_with_sympy(text, back, point) -> None:
    """The graph's gradient next to SymPy's symbolic derivative at the same point."""
    try:
        surface = _sympy_surface(text)
    except ExpressionError as exc:
        st.info(t("backprop.sympy_unavailable", message=rt.error_message(exc)))
        return
    theirs = surface.grad(np.array([point["x"], point["y"]], dtype=float))
    rows = []
    for i, name in enumerate("xy"):
        mine = float(back.grad[name]) if name in back.grad else 0.0
        exact = float(theirs[i])
        same = (np.isfinite(mine) and np.isfinite(exact)
                and abs(mine - exact) <= 1e-8 * (1 + abs(exact)))
        rows.append({t("backprop.col_derivative"): f"∂f/∂{name}",
                     t("backprop.col_graph"): format_number(mine),
                     t("backprop.col_sympy_formula"): surface.params[f"gradient_{name}"],
                     t("backprop.col_sympy"): format_number(exact),
                     t("backprop.col_same"): "✓" if same else "✗"})
    st.markdown(t("backprop.sympy_intro"))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="bp_sympy")


def _network_inputs() -> dict[str, float]:
    weights = {name: float(ss[K(f"w{i}")]) for i, name in enumerate(g.NETWORK_PARAMS)}
    return weights | {"x1": float(ss[K("x1")]), "x2": float(ss[K("x2")]),
                      "y": float(ss[K("target")])}


def _update() -> None:
    """Button callback: one gradient-descent step on the nine parameters (engine.optimizers)."""
    graph = g.tiny_network(ss[K("loss")])
    inputs = _network_inputs()
    values = g.forward(graph, inputs)
    grads = g.backward(graph, values).grad
    theta = np.array([[inputs[k] for k in g.NETWORK_PARAMS]])
    opt = optimizers.make("gd", lr=float(ss[K("lr")]))
    new, _ = opt.step(theta, np.array([[grads[k] for k in g.NETWORK_PARAMS]]), opt.init(theta))
    new = np.clip(new[0], -10.0, 10.0)   # the weights' input range
    for i, value in enumerate(new):
        ss[K(f"w{i}")] = float(value)
    after = g.forward(graph, dict(zip(g.NETWORK_PARAMS, new, strict=True)) | {
        "x1": inputs["x1"], "x2": inputs["x2"], "y": inputs["y"]})
    ss["bp_last_update"] = (float(values["L"]), float(after["L"]))


def _engine_grads(loss: str, inputs: dict[str, float]) -> tuple[float, np.ndarray]:
    """The same network in engine.mlp (batched, hand-written backprop)."""
    net = mlp.Network(sizes=(2, 2, 1), activation="sigmoid", output="sigmoid", loss=loss)
    theta = np.array([[inputs[k] for k in g.NETWORK_PARAMS]])
    J, grads = net.loss_and_grads(theta, np.array([[inputs["x1"], inputs["x2"]]]),
                                  np.array([[inputs["y"]]]))
    return float(J[0]), grads[0]


def _local_table(graph: g.Graph, back: g.Backward, names: dict[str, str]) -> None:
    """Every node's local derivative on every edge, and the gradient it passes back."""
    rows = [{t("backprop.col_edge"): f"{names[e.src]} → {names[e.dst]}",
             t("backprop.col_local"): float(back.local[e]),
             t("backprop.col_upstream"): float(back.grad[e.dst]),
             t("backprop.col_edge_grad"): float(back.edge_grad[e])}
            for e in reversed(graph.edges) if e in back.local]
    with st.expander(t("backprop.local_table"), icon=":material/table:"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.6g")
                                    for c in list(rows[0])[1:]})


def network_view() -> None:
    st.markdown(t("backprop.network_intro"))
    st.latex(r"h = \sigma(x W_1 + b_1),\quad \hat y = \sigma(h W_2 + b_2),\quad "
             r"L = \mathrm{loss}(\hat y, y)")
    names = network_names()
    left, right = st.columns([1, 2], gap="medium")
    with left:
        a, b, c = st.columns(3)
        a.number_input("x₁", min_value=-5.0, max_value=5.0, step=0.1, key=K("x1"), format="%g")
        b.number_input("x₂", min_value=-5.0, max_value=5.0, step=0.1, key=K("x2"), format="%g")
        c.selectbox(t("backprop.target"), options=(0, 1), key=K("target"))
        st.radio(t("backprop.loss"), options=("bce", "mse"), key=K("loss"), horizontal=True,
                 format_func=lambda k: t(f"backprop.loss_{k}"))
    with right:
        st.markdown(t("backprop.weights"))
        cols = st.columns(5)
        for i, name in enumerate(g.NETWORK_PARAMS):
            cols[i % 5].number_input(names[name], min_value=-10.0, max_value=10.0, step=0.1,
                                     key=K(f"w{i}"), format="%.4g")
    loss = ss[K("loss")]
    graph = g.tiny_network(loss)
    inputs = _network_inputs()
    values = g.forward(graph, inputs)
    back = g.backward(graph, values)
    follow = ss[K("follow")]
    found = g.paths(graph, follow)
    highlight = {e for path in found for e in path}

    u1, u2, u3 = st.columns([2, 2, 3], vertical_alignment="bottom")
    u1.number_input(t("backprop.lr"), min_value=0.001, max_value=10.0, step=0.1, key=K("lr"),
                    format="%g", help=t("backprop.lr_help"))
    u2.button(t("backprop.update"), key="bp_update", on_click=_update,
              icon=":material/trending_down:", type="primary", width="stretch")
    last = ss.get("bp_last_update")
    if last:
        u3.markdown(t("backprop.updated", before=format_number(last[0]),
                      after=format_number(last[1])))
    st.caption(t("backprop.legend"))
    graph_stepper.show("bp_network", graph, values, back, step_key=K("nstep"),
                       names=node_names(graph, names), result_label="L", output_name="L",
                       on_step=_on_step("network"), highlight=highlight,
                       alt=t("backprop.network_alt"))
    _local_table(graph, back, names)

    st.selectbox(t("backprop.follow"), options=FOLLOW, key=K("follow"),
                 format_func=lambda k: names[k])
    target = names[follow]
    products = g.path_products(back, found)
    for path, product in zip(found, products, strict=True):
        factors = " · ".join(f"∂{names[e.dst]}/∂{names[e.src]}" for e in reversed(path))
        numbers = " × ".join(format_number(back.local[e]) for e in reversed(path))
        st.markdown(f"∂L/∂{target} ⟵ {factors} = {numbers} = **{format_number(product)}**")
    if len(found) > 1:
        st.markdown(t("backprop.paths_sum", name=target, n=len(found),
                      total=format_number(back.grad[follow])))
    else:
        st.markdown(t("backprop.one_path", name=target, total=format_number(back.grad[follow])))

    J, engine = _engine_grads(loss, inputs)
    lr = float(ss[K("lr")])
    rows = []
    for i, key in enumerate(g.NETWORK_PARAMS):
        grad = float(back.grad[key])
        rows.append({t("backprop.col_param"): names[key],
                     t("backprop.col_value"): inputs[key],
                     t("backprop.col_graph_grad"): grad,
                     t("backprop.col_engine_grad"): float(engine[i]),
                     t("backprop.col_after"): inputs[key] - lr * grad})
    st.markdown(t("backprop.engine_intro", loss=format_number(values["L"]),
                  engine_loss=format_number(J)))
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.6g")
                                for c in list(rows[0])[1:]})


# --------------------------------------------------------------------------- page

VIEW_FUNCTIONS = {"apples": apples_view, "chain": chain_view, "formula": formula_view,
                  "network": network_view}


def _reset() -> None:
    ls.reset(PREFIX, FIELDS, keep=("view",))
    ss.pop("bp_last_update", None)


notes = ls.sync(PREFIX, FIELDS)
# the title and Reset share a row that wraps (Reset goes under the title when the window
# is narrow, never cut mid-word); the views get the full width below (a segmented control
# in a narrow column ran under the button at 150 % zoom)
top_row = st.container(horizontal=True, vertical_alignment="center")
top_row.markdown(f"### {t('backprop.title')}", width="stretch")
st.markdown(t("backprop.intro"))
for note in notes:
    name, what, raw, value = note
    st.warning(t(f"lesson.url_{what}", name=name, raw=raw, value=value),
               icon=":material/link_off:")
st.segmented_control(t("backprop.view"), options=VIEWS, key=K("view"), required=True,
                     format_func=lambda v: t(f"backprop.view_{v}"))
top_row.button(t("lesson.reset"), key="bp_reset_defaults", on_click=_reset,
               icon=":material/restart_alt:", width="content")
view = ss[K("view")] if ss[K("view")] in VIEWS else "apples"
VIEW_FUNCTIONS[view]()
ls.publish(PREFIX, FIELDS, view)
