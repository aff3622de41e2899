"""Activations and losses: the functions a network is made of, and the perceptron.

Five views (the URL's ``view``): activations (f and f′, the range of f′, the notes' worked
example σ(−6), why stacked linear layers stay linear), vanishing gradients (products of
derivatives, a dying ReLU), softmax, the three losses (and why not accuracy), and the
perceptron with its logic gates (no setting solves XOR).  Every number comes from
engine.functions, which reuses the networks' own activations and losses (engine.mlp).
"""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import lesson_state as ls
from app_pages import network_model as nm
from app_pages import registry_texts as rt
from engine import functions as fn
from engine import mlp
from texts import current_language, t
from viz import functions as vf
from viz.graph import format_number
from viz.style import tex_num

PREFIX = "fn"
VIEWS = ("activations", "vanishing", "softmax", "losses", "perceptron")
DEFAULT_SCORES = "2, 1, 0.1"
F = ls.Field
FIELDS = [
    F("view", "activations", "choice", options=VIEWS),
    F("act", "sigmoid", "choice", options=fn.ACTIVATION_KEYS, views=("activations",)),
    F("alpha", 0.1, low=0.0, high=0.9, views=("activations",)),
    F("x1", -1.0, low=-10.0, high=10.0, views=("activations",)),
    F("x2", 2.0, low=-10.0, high=10.0, views=("activations",)),
    F("z0", 0.5, low=-5.0, high=5.0, views=("vanishing",)),
    F("n", 10, "int", low=1, high=50, views=("vanishing",)),
    F("rkey", "relu", "choice", options=("relu", "leaky_relu"), views=("vanishing",)),
    F("rw", 1.0, low=-3.0, high=3.0, views=("vanishing",)),
    F("rb", -3.0, low=-6.0, high=3.0, views=("vanishing",)),
    F("sm", DEFAULT_SCORES, "text", max_length=120, views=("softmax",)),
    F("loss", "bce", "choice", options=tuple(fn.LOSSES), views=("losses",)),
    F("target", 1.0, low=-2.0, high=2.0, views=("losses",)),
    F("yhat", 0.7, low=-3.0, high=3.0, views=("losses",)),
    F("gate", "and", "choice", options=tuple(fn.GATES), views=("perceptron",)),
    F("w1", 0.5, low=-2.0, high=2.0, views=("perceptron",)),
    F("w2", 0.5, low=-2.0, high=2.0, views=("perceptron",)),
    F("b", -0.7, low=-2.0, high=2.0, views=("perceptron",)),
]
ss = st.session_state
K = lambda name: ls.session_key(PREFIX, name)  # noqa: E731 - a short alias for widget keys
NOTES_WEIGHTS = (3.0, -2.0)   # the notes' worked example: ŷ = g(w₀ + x₁w₁ + x₂w₂), w₀ = 1
NOTES_BIAS = 1.0
STACK = ((2.0, 3.0, 5.0), (0.5, -1.0, 0.2))   # the notes' weights 2, 3, 5 (and biases)


def activation_name(key: str) -> str:
    return t("functions.step_title") if key == "step" else rt.activation_title(key)


def _latex(key: str, alpha: float) -> tuple[str, str]:
    if key == "step":
        return (r"\mathrm{step}(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}",
                r"\mathrm{step}'(z) = 0 \quad (z \ne 0)")
    if key == "leaky_relu":
        a = f"{alpha:g}"
        return (rf"\mathrm{{LeakyReLU}}(z) = \max({a}\,z,\ z)",
                rf"\mathrm{{LeakyReLU}}'(z) = \begin{{cases}} 1 & z > 0 \\ {a} & z \le 0 "
                r"\end{cases}")
    spec = mlp.ACTIVATIONS[key]
    return spec.latex, spec.derivative_latex


# --------------------------------------------------------------------------- views


def activations_view() -> None:
    st.markdown(t("functions.activations_intro"))
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    c1.pills(t("functions.activation"), options=fn.ACTIVATION_KEYS, key=K("act"),
             format_func=activation_name, required=True)
    key = ss[K("act")]
    alpha = float(ss[K("alpha")])
    if key == "leaky_relu":
        c2.slider(t("functions.alpha"), min_value=0.0, max_value=0.9, step=0.01,
                  key=K("alpha"), help=t("functions.alpha_help"))
    f_tex, df_tex = _latex(key, alpha)
    st.latex(f_tex + r"\qquad\qquad " + df_tex)
    z = np.linspace(-8.0, 8.0, 1601)
    low, high = fn.derivative_range(key, alpha)
    x = (float(ss[K("x1")]), float(ss[K("x2")]))
    ez, _ = fn.neuron(x, NOTES_WEIGHTS, NOTES_BIAS, key)
    point = None
    if -8.0 <= ez <= 8.0:
        point = (ez, float(fn.activation(key, ez, alpha)), float(fn.derivative(key, ez, alpha)))
    fig = vf.activation_figure(z, fn.activation(key, z, alpha), fn.derivative(key, z, alpha),
                               name=activation_name(key), key=key, max_derivative=high,
                               point=point)
    st.plotly_chart(fig, key="fn_activation_chart", config=vf.PLOTLY_CONFIG)
    st.markdown(t(f"functions.range_{key}", low=f"{low:g}", high=f"{high:g}"))

    with st.container(border=True, key="fn_worked_example"):
        st.markdown(t("functions.example_intro"))
        a, b, c = st.columns([1, 1, 3], vertical_alignment="bottom")
        a.number_input("x₁", min_value=-10.0, max_value=10.0, step=1.0, key=K("x1"),
                       format="%g")
        b.number_input("x₂", min_value=-10.0, max_value=10.0, step=1.0, key=K("x2"),
                       format="%g")
        z_val, sig = fn.neuron(x, NOTES_WEIGHTS, NOTES_BIAS, "sigmoid")
        terms = f"1 + 3 \\cdot ({tex_num(x[0])}) + (-2) \\cdot ({tex_num(x[1])})"
        # ŷ to 4 decimals, as the notes round it (0.002)
        c.latex(rf"\hat y = \sigma({terms}) = \sigma({tex_num(z_val)}) \approx {sig:.4f}")
        st.caption(t("functions.example_marker"))

    st.markdown(t("functions.linear_intro"))
    weights, biases = STACK
    slope, intercept = fn.collapse_linear(weights, biases)
    xs = np.linspace(-3.0, 3.0, 301)
    bent_key = key if key not in ("linear",) else "tanh"
    fig = vf.linear_stack_figure(
        xs, fn.scalar_stack(xs, weights, biases, "linear"),
        fn.scalar_stack(xs, weights, biases, bent_key, alpha),
        linear_name=t("functions.linear_stack", slope=f"{slope:g}", intercept=f"{intercept:g}"),
        bent_name=t("functions.bent_stack", name=activation_name(bent_key)))
    st.latex(r"h = x W_1 + b_1,\ \ y = h W_2 + b_2 = x\,W_1 W_2 + (b_1 W_2 + b_2)"
             rf"\qquad 2 \cdot 3 \cdot 5 = {slope:g}")
    st.plotly_chart(fig, key="fn_linear_chart", config=vf.PLOTLY_CONFIG)


def vanishing_view() -> None:
    st.markdown(t("functions.vanishing_intro"))
    c1, c2 = st.columns(2)
    c1.slider(t("functions.z0"), min_value=-5.0, max_value=5.0, step=0.1, key=K("z0"))
    c2.slider(t("functions.n_layers"), min_value=1, max_value=50, key=K("n"))
    z0, n = float(ss[K("z0")]), int(ss[K("n")])
    keys = ("sigmoid", "tanh", "relu")
    products = {k: fn.derivative_product(k, z0, n) for k in keys}
    names = {k: f"{activation_name(k)}′({z0:g})ⁿ" for k in keys}
    st.plotly_chart(vf.derivative_product_figure(n, products, names),
                    key="fn_vanishing_chart", config=vf.PLOTLY_CONFIG)
    st.markdown(t("functions.vanishing_numbers", n=n,
                  sigmoid=format_number(products["sigmoid"][-1]),
                  tanh=format_number(products["tanh"][-1]),
                  relu=format_number(products["relu"][-1])))

    st.markdown(f"#### {t('functions.dying_title')}")
    st.markdown(t("functions.dying_intro"))
    c1, c2, c3 = st.columns([1, 1, 1], vertical_alignment="bottom")
    c1.slider("w", min_value=-3.0, max_value=3.0, step=0.1, key=K("rw"))
    c2.slider("b", min_value=-6.0, max_value=3.0, step=0.1, key=K("rb"))
    c3.radio(t("functions.activation"), options=("relu", "leaky_relu"), key=K("rkey"),
             format_func=activation_name, horizontal=True)
    x = np.linspace(-2.0, 2.0, 9)
    y = 0.5 * x + 1.0
    result = fn.dying_relu(x, y, float(ss[K("rw")]), float(ss[K("rb")]), ss[K("rkey")])
    left, right = st.columns([3, 2], gap="medium")
    with left:
        st.plotly_chart(vf.dying_relu_figure(x, result.z, result.alive), key="fn_dying_chart",
                        config=vf.PLOTLY_CONFIG)
    with right:
        st.metric(t("functions.alive_count"), f"{int(result.alive.sum())} / {len(x)}")
        st.markdown(t("functions.dying_grads", gw=format_number(result.grad_w),
                      gb=format_number(result.grad_b)))
        if result.grad_w == 0.0 and result.grad_b == 0.0:
            st.error(t("functions.dead"), icon=":material/heart_broken:")
        elif ss[K("rkey")] == "leaky_relu" and not result.alive.any():
            st.success(t("functions.leaky_alive"), icon=":material/favorite:")
        else:
            st.info(t("functions.alive"), icon=":material/favorite:")


def _scores(text: str) -> tuple[np.ndarray | None, str | None]:
    """Comma-separated numbers (no code is run: float() per item)."""
    parts = [p.strip() for p in str(text).split(",")]
    if not 1 <= len(parts) <= fn.MAX_SOFTMAX:
        return None, t("functions.softmax_count", n=fn.MAX_SOFTMAX)
    values = []
    for i, part in enumerate(parts, start=1):
        try:
            value = float(part)
        except ValueError:
            return None, t("functions.softmax_bad", i=i, text=part)
        if not np.isfinite(value) or abs(value) > 1e6:
            return None, t("functions.softmax_range", i=i, text=part)
        values.append(value)
    return np.array(values), None


def softmax_view() -> None:
    st.markdown(t("functions.softmax_intro"))
    st.latex(mlp.OUTPUTS["softmax"].latex)
    st.text_input(t("functions.softmax_input"), key=K("sm"), max_chars=120,
                  help=t("functions.softmax_help", n=fn.MAX_SOFTMAX))
    z, error = _scores(ss[K("sm")])
    if error:
        st.error(error, icon=":material/error:")
        return
    p = fn.softmax(z)
    st.plotly_chart(vf.softmax_figure(z, p), key="fn_softmax_chart", config=vf.PLOTLY_CONFIG)
    st.markdown(t("functions.softmax_sum", total=f"{p.sum():.6f}",
                  k=int(np.argmax(p)) + 1, p=f"{p.max():.3f}"))


def losses_view() -> None:
    st.markdown(t("functions.losses_intro"))
    st.markdown(t("functions.losses_table"))
    key = st.pills(t("functions.loss"), options=tuple(fn.LOSSES), key=K("loss"),
                   format_func=lambda k: t(f"functions.loss_{k}"), required=True)
    loss = fn.LOSSES[key]
    lo, hi = (0.01, 0.99) if key != "mse" else (-3.0, 3.0)
    t_lo, t_hi = loss.target_range
    ss[K("yhat")] = float(np.clip(ss[K("yhat")], lo, hi))
    ss[K("target")] = float(np.clip(ss[K("target")], t_lo, t_hi))
    c1, c2 = st.columns(2)
    if t_lo < t_hi:
        c1.slider(t("functions.target"), min_value=t_lo, max_value=t_hi, step=0.1 if key ==
                  "mse" else 1.0, key=K("target"))
    else:
        c1.markdown(t("functions.cce_target"))
    c2.slider(t("functions.prediction"), min_value=lo, max_value=hi, step=0.01, key=K("yhat"))
    y, yh = float(ss[K("target")]), float(ss[K("yhat")])
    grid = np.linspace(lo, hi, 393)
    st.latex(mlp.LOSSES[key].latex)
    fig = vf.loss_figure(grid, loss.value(grid, y), loss.grad(grid, y),
                         name=t(f"functions.loss_{key}"),
                         point=(yh, float(loss.value(yh, y)), float(loss.grad(yh, y))),
                         x_title=t("functions.x_true_class") if key == "cce" else "ŷ")
    st.plotly_chart(fig, key="fn_loss_chart", config=vf.PLOTLY_CONFIG)
    st.markdown(t(f"functions.loss_reading_{key}", y=f"{y:g}", yhat=f"{yh:g}",
                  value=format_number(loss.value(yh, y)), grad=format_number(loss.grad(yh, y))))

    st.markdown(f"#### {t('functions.accuracy_title')}")
    x = np.array([-2.0, -1.0, -0.5, 0.3, 1.0, 2.0])
    labels = np.array([0, 0, 1, 0, 1, 1])
    sweep = fn.loss_vs_accuracy(x, labels, w=2.0)
    st.markdown(t("functions.accuracy_intro", flat=f"{100 * sweep.flat:.1f}"))
    st.plotly_chart(vf.accuracy_loss_figure(sweep.b, sweep.loss, sweep.accuracy),
                    key="fn_accuracy_chart", config=vf.PLOTLY_CONFIG)


def _network_link(hidden_layers: int, lr: float) -> str:
    """A link that opens the Neural-network page on XOR with 0 or 1 hidden layer (its
    scenarios "perceptron" and "tanh241"), in the current language."""
    config = {f.key: f.default for f in nm.base_fields()}
    config.update(ds="xor", hl=hidden_layers, w=4, act="tanh", pair="sigmoid_bce", opt="adam",
                  hyper={"lr": lr}, sched_hyper={})
    query = nm.to_query(config)
    if current_language() != "en":
        query["lang"] = current_language()
    return "/network?" + urlencode(query)


def perceptron_view() -> None:
    st.markdown(t("functions.perceptron_intro"))
    st.latex(r"\hat y = \mathrm{step}(w_1 x_1 + w_2 x_2 + b)")
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    gate = c1.pills(t("functions.gate"), options=tuple(fn.GATES), key=K("gate"),
                    format_func=lambda k: k.upper(), required=True)
    c2.slider("w₁", min_value=-2.0, max_value=2.0, step=0.1, key=K("w1"))
    c3.slider("w₂", min_value=-2.0, max_value=2.0, step=0.1, key=K("w2"))
    c4.slider("b", min_value=-2.0, max_value=2.0, step=0.1, key=K("b"))
    w1, w2, b = float(ss[K("w1")]), float(ss[K("w2")]), float(ss[K("b")])
    targets = np.array(fn.GATES[gate])
    outputs = fn.perceptron(w1, w2, b)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        st.plotly_chart(vf.perceptron_figure(w1, w2, b, targets, outputs),
                        key="fn_perceptron_chart", config=vf.PLOTLY_CONFIG)
    with right:
        z = fn.GATE_INPUTS @ np.array([w1, w2]) + b
        table = pd.DataFrame({"x₁": fn.GATE_INPUTS[:, 0].astype(int),
                              "x₂": fn.GATE_INPUTS[:, 1].astype(int),
                              "z": [f"{v:.2f}" for v in z], "ŷ": outputs,
                              t("functions.col_target"): targets,
                              "": ["✓" if o == g else "✗" for o, g in zip(outputs, targets,
                                                                         strict=True)]})
        st.dataframe(table, hide_index=True, width="stretch")
        wrong = int((outputs != targets).sum())
        count, tried, example = fn.perceptron_solutions(gate)
        if wrong == 0:
            st.success(t("functions.solved", gate=gate.upper()), icon=":material/check_circle:")
        else:
            st.warning(t("functions.wrong_rows", n=wrong), icon=":material/close:")
        if count == 0:
            st.error(t("functions.xor_impossible", tried=f"{tried:,}"), icon=":material/block:")
        else:
            st.markdown(t("functions.solutions", count=f"{count:,}", tried=f"{tried:,}",
                          gate=gate.upper(), w1=f"{example[0]:g}", w2=f"{example[1]:g}",
                          b=f"{example[2]:g}"))
    if gate == "xor":
        st.markdown(t("functions.xor_proof"))
        st.markdown(t("functions.xor_link", perceptron=_network_link(0, 0.05),
                      hidden=_network_link(1, 0.01)))


# --------------------------------------------------------------------------- page

VIEW_FUNCTIONS = {"activations": activations_view, "vanishing": vanishing_view,
                  "softmax": softmax_view, "losses": losses_view,
                  "perceptron": perceptron_view}


def _reset() -> None:
    ls.reset(PREFIX, FIELDS, keep=("view",))


notes = ls.sync(PREFIX, FIELDS)
# the title and Reset share a row that wraps (Reset goes under the title when the window
# is narrow, never cut mid-word); the views get the full width below (a segmented control
# in a narrow column ran under the button at 150 % zoom)
top_row = st.container(horizontal=True, vertical_alignment="center")
top_row.markdown(f"### {t('functions.title')}", width="stretch")
for name, what, raw, value in notes:
    st.warning(t(f"lesson.url_{what}", name=name, raw=raw, value=value),
               icon=":material/link_off:")
st.segmented_control(t("functions.view"), options=VIEWS, key=K("view"), required=True,
                     format_func=lambda v: t(f"functions.view_{v}"))
top_row.button(t("lesson.reset"), key="fn_reset_defaults", on_click=_reset,
               icon=":material/restart_alt:", width="content")
view = ss[K("view")] if ss[K("view")] in VIEWS else "activations"
VIEW_FUNCTIONS[view]()
ls.publish(PREFIX, FIELDS, view)
