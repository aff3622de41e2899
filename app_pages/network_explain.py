"""Formulas with real numbers: the forward pass, the chain rule for one weight of the last
layer, and the optimizer's next update, written as LaTeX with the current network's values.

Pure NumPy + strings (no Streamlit), so tests can check that the numbers shown equal the
engine's backpropagation.
"""

from __future__ import annotations

import numpy as np

from app_pages import network_model as nm
from app_pages import network_run as nr
from engine import mlp, optimizers
from texts import t
from viz.style import tex_num as _num

MAX_SHOWN = 4  # vector entries written out before "..."
MAX_LISTED = 8  # training points of a mini-batch named before "..."


def _factor(x: float) -> str:
    """A number as a factor of a product: negatives in parentheses."""
    text = _num(x)
    return f"({text})" if float(x) < 0 else text


def _vec(v) -> str:
    v = np.asarray(v, dtype=float).ravel()
    body = ",\\ ".join(_num(x) for x in v[:MAX_SHOWN])
    if v.size > MAX_SHOWN:
        body += r",\ \dots"
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def _layer_values(exp: nm.Experiment, theta: np.ndarray):
    """Per layer: (input a (n, in), pre-activation z (n, out), output a (n, out)) for all
    training samples, from the engine's forward pass (batch norm included)."""
    net = exp.net
    with np.errstate(all="ignore"):
        out, hidden = net.forward(theta, exp.X_train)
    weights = net.unpack(theta)
    inputs = [exp.X_train] + [h[0] for h in hidden]
    layers = []
    for layer, (W, b) in enumerate(weights):
        a_in = inputs[layer]
        with np.errstate(all="ignore"):
            z = a_in @ W[0] + b[0]
        a_out = hidden[layer][0] if layer < net.n_hidden else out[0]
        layers.append((a_in, z, a_out))
    return layers


def shown_sample(exp: nm.Experiment) -> int:
    """The training point the formulas follow: the first one of class 1 (for XOR that is
    (0, 1), whose forward pass uses a real weight, unlike (0, 0)), else the first."""
    if exp.is_regression:
        return 0
    hits = np.flatnonzero(np.asarray(exp.y_train) == 1)
    return int(hits[0]) if hits.size else 0


def forward_latex(exp: nm.Experiment, theta: np.ndarray, sample: int | None = None) -> list[str]:
    """Forward pass of training sample ``sample``, layer by layer, with numbers."""
    net = exp.net
    sample = shown_sample(exp) if sample is None else sample
    act = mlp.ACTIVATIONS[net.activation]
    layers = _layer_values(exp, theta)
    y = exp.Y_train[sample]
    lines = [rf"x = {_vec(exp.X_train[sample])},\quad y = {_vec(y)}"]
    for layer, (_, z, a_out) in enumerate(layers, start=1):
        prev = "x" if layer == 1 else f"a^{{({layer - 1})}}"
        lines.append(rf"z^{{({layer})}} = {prev}\,W^{{({layer})}} + b^{{({layer})}}"
                     rf" = {_vec(z[sample])}")
        if layer < len(layers):
            fname = act.latex.split("=")[0].strip().split("(")[0]
            arg = rf"z^{{({layer})}}"
            if net.batch_norm:
                arg = rf"\mathrm{{BN}}({arg})"
            lines.append(rf"a^{{({layer})}} = {fname}({arg})"
                         rf" = {_vec(a_out[sample])}")
        else:
            lines.append(rf"\hat y = g(z^{{({layer})}}) = {_vec(a_out[sample])}"
                         rf"\qquad g:\ {mlp.OUTPUTS[net.output].latex}")
    l1, l2 = exp.config["l1"], exp.config["l2"]
    with np.errstate(all="ignore"):
        data = net.objective(theta, exp.X_train, exp.Y_train)[0]
        penalty = net.penalty(theta, l1, l2)[0]
    lines.append(rf"{mlp.LOSSES[net.loss].latex} = {_num(data)}\quad"
                 rf"(n = {len(exp.X_train)})")
    if l1 or l2:  # the objective the optimizer descends: both terms and their values
        lines.append(rf"{mlp.REGULARIZATION_LATEX} = {_num(data)} + {_num(penalty)} = "
                     rf"{_num(data + penalty)}\quad(\lambda_1 = {_num(l1)},\ "
                     rf"\lambda_2 = {_num(l2)})")
    return lines


def last_weight_gradient(exp: nm.Experiment, theta: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-sample chain-rule terms dl_i/dw for w = W^(L)[0, 0] and their batch gradient
    dJ/dw = mean_i dl_i/dw (+ regularisation), computed here from the written-out formula
    (independently of the engine's backprop)."""
    net = exp.net
    a_in, _, yhat = _layer_values(exp, theta)[-1]
    Y = exp.Y_train
    K = net.sizes[-1]
    if net.loss == "mse":
        dz = 2.0 * (yhat[:, 0] - Y[:, 0]) / K
    elif net.loss == "bce":
        dz = (yhat[:, 0] - Y[:, 0]) / K
    else:  # softmax + cce
        dz = yhat[:, 0] - Y[:, 0]
    terms = dz * a_in[:, 0]
    w = net.unpack(theta)[-1][0][0, 0, 0]
    grad = terms.mean() + exp.config["l1"] * np.sign(w) + 2 * exp.config["l2"] * w
    return terms, float(grad)


def backprop_latex(exp: nm.Experiment, theta: np.ndarray,
                   sample: int | None = None) -> list[str]:
    """The chain rule for w = W^(L)_{11} with sample ``sample``'s numbers, then the batch
    gradient, next to the value the engine's backpropagation computed."""
    net = exp.net
    sample = shown_sample(exp) if sample is None else sample
    L = net.n_layers
    a_in, _, yhat = _layer_values(exp, theta)[-1]
    y = exp.Y_train[sample, 0]
    p = yhat[sample, 0]
    a = a_in[sample, 0]
    K = net.sizes[-1]
    src = "x_1" if L == 1 else f"a^{{({L - 1})}}_1"
    w_sym = f"w = W^{{({L})}}_{{11}}"
    lines = [rf"{w_sym}:\quad \frac{{\partial \ell_i}}{{\partial w}} = "
             r"\frac{\partial \ell_i}{\partial \hat y_1}\cdot"
             r"\frac{\partial \hat y_1}{\partial z_1}\cdot\frac{\partial z_1}{\partial w}"]
    k_txt = "" if K == 1 else rf"\frac{{1}}{{{K}}}"
    with np.errstate(all="ignore"):
        if net.loss == "bce":
            d_loss = (-y / p + (1 - y) / (1 - p)) / K
            d_out = p * (1 - p)
            lines.append(
                rf"= {k_txt}\Big(-\frac{{y}}{{\hat y_1}} + \frac{{1-y}}{{1-\hat y_1}}\Big)"
                rf"\cdot \hat y_1(1-\hat y_1)\cdot {src}"
                rf" = {_factor(d_loss)}\cdot {_factor(d_out)}\cdot {_factor(a)}"
                rf" = {k_txt}(\hat y_1 - y)\,{src} = {_num(d_loss * d_out * a)}")
        elif net.loss == "mse":
            d_loss = 2 * (p - y) / K
            lines.append(rf"= \frac{{2}}{{{K}}}(\hat y_1 - y)\cdot 1\cdot {src}"
                         rf" = {_factor(d_loss)}\cdot 1\cdot {_factor(a)} = {_num(d_loss * a)}")
        else:
            lines.append(rf"\text{{{t('teach.softmax_cce')} }}"
                         rf"\frac{{\partial \ell_i}}{{\partial z_1}}"
                         rf" = \hat y_1 - y_1 \ \Rightarrow\ "
                         rf"\frac{{\partial \ell_i}}{{\partial w}} = (\hat y_1 - y_1)\,{src}"
                         rf" = {_factor(p - y)}\cdot {_factor(a)} = {_num((p - y) * a)}")
    terms, grad = last_weight_gradient(exp, theta)
    reg = ""
    if exp.config["l1"] or exp.config["l2"]:
        reg = r" + \lambda_1\,\mathrm{sign}(w) + 2\lambda_2 w"
    idx = net.param_names().index(f"W{L}[0,0]")
    _, engine_grads = nm.current_grads(exp, theta)
    lines.append(rf"\frac{{\partial J}}{{\partial w}} = \frac{{1}}{{n}}\sum_{{i=1}}^{{n}}"
                 rf"\frac{{\partial \ell_i}}{{\partial w}}{reg} = {_num(grad)}"
                 rf"\qquad \text{{({t('teach.engine_backprop')} }}{_num(engine_grads[0, idx])})")
    return lines


def update_caption(exp: nm.Experiment, update: mlp.NextUpdate) -> str:
    """Which gradient the update below uses, in words: the next Step's first mini-batch
    (which points), its dropout masks, and how many updates the Step makes."""
    n = len(exp.X_train)
    if len(update.batch) == n:
        text = t("teach.update_full_batch", n=n)
    else:
        shown = ", ".join(str(int(i) + 1) for i in update.batch[:MAX_LISTED])
        more = ", …" if len(update.batch) > MAX_LISTED else ""
        text = t("teach.update_mini_batch", size=len(update.batch), n=n,
                 points=shown + more, updates=update.updates_per_epoch)
    if exp.config["drop"]:
        text += " " + t("teach.update_dropout", p=f"{exp.config['drop']:g}")
    return text


def update_latex(exp: nm.Experiment, run: nr.Run,
                 update: mlp.NextUpdate | None = None) -> list[str]:
    """The optimizer's next update of w = W^(L)_{11}, exactly as the next Step makes it
    (:func:`network_run.next_update`: its mini-batch, its dropout masks): the batch
    loss, the gradient, the state before and after, and the new value."""
    net = exp.net
    update = nr.next_update(exp, run) if update is None else update
    idx = net.param_names().index(f"W{net.n_layers}[0,0]")
    spec = optimizers.OPTIMIZERS[exp.config["opt"]]
    w, w_new = run.theta[0, idx], update.theta[0, idx]
    lr = float(np.asarray(exp.optimizer.hyper["lr"]).ravel()[0]) * update.lr_scale
    lines = [rf"J_{{\mathrm{{batch}}}} = {_num(update.loss[0])},\quad g = "
             rf"\frac{{\partial J_{{\mathrm{{batch}}}}}}{{\partial w}} = "
             rf"{_num(update.grads[0, idx])},\quad\gamma = {_num(lr)}"]
    for name, before, after in zip(update.opt_state._fields, run.opt_state, update.opt_state,
                                   strict=True):
        col = 0 if np.shape(after)[1] == 1 else idx
        lines.append(rf"{spec.state_symbol(name)}:\ {_num(np.asarray(before)[0, col])}"
                     rf" \to {_num(np.asarray(after)[0, col])}")
    lines.append(rf"w:\ {_num(w)} \to {_num(w_new)}\quad(\Delta w = {_num(w_new - w)})")
    return lines
