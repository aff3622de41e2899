r"""The notes' first chapter as small pure functions: activations and their derivatives,
softmax, the three losses as functions of one prediction, why accuracy cannot be
minimised, vanishing gradients, a dying ReLU, and the perceptron with its logic gates.

The activations are those of :data:`engine.mlp.ACTIVATIONS` (the networks' own code) plus
the step function of the perceptron; Leaky ReLU takes any slope α here::

    step(z) = 1 if z > 0 else 0          step'(z) = 0   (undefined at 0)
    σ(z) = 1 / (1 + e^{-z})              σ'(z) = σ(z)(1 − σ(z))  ≤ 1/4   (at z = 0)
    tanh'(z) = 1 − tanh²(z) ≤ 1          ReLU'(z) = 1 if z > 0 else 0
    LeakyReLU(z) = max(αz, z)            LeakyReLU'(z) = 1 if z > 0 else α

One prediction ŷ against its target y (what the networks average over samples)::

    BCE(ŷ, y) = −[y log ŷ + (1 − y) log(1 − ŷ)]     ∂/∂ŷ = (ŷ − y) / (ŷ (1 − ŷ))
    CCE(ŷ, y) = −Σ_k y_k log ŷ_k = −log ŷ_t        ∂/∂ŷ_t = −1 / ŷ_t   (t: true class)
    MSE(ŷ, y) = (ŷ − y)²                            ∂/∂ŷ = 2 (ŷ − y)

The perceptron: ŷ = step(w₁x₁ + w₂x₂ + b).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from engine import mlp

__all__ = [
    "ACTIVATION_KEYS",
    "GATES",
    "GATE_INPUTS",
    "LOSSES",
    "PointLoss",
    "activation",
    "collapse_linear",
    "derivative",
    "derivative_product",
    "derivative_range",
    "dying_relu",
    "loss_vs_accuracy",
    "neuron",
    "perceptron",
    "perceptron_solutions",
    "scalar_stack",
    "softmax",
]

ACTIVATION_KEYS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "step")
LEAKY_SLOPE = mlp.LEAKY_SLOPE
MAX_LAYERS = 100    # derivative products: depths 1 … MAX_LAYERS
MAX_SOFTMAX = 12    # entries of a softmax vector
EPS = 1e-12         # predictions are kept in [EPS, 1 − EPS] where log needs it


def _check_key(key: str) -> None:
    if key not in ACTIVATION_KEYS:
        raise ValueError(f"unknown activation {key!r}; choose one of {', '.join(ACTIVATION_KEYS)}")


def _check_slope(slope: float) -> float:
    slope = float(slope)
    if not (np.isfinite(slope) and 0.0 <= slope < 1.0):
        raise ValueError(f"the Leaky ReLU slope α must be in [0, 1), got {slope}")
    return slope


def activation(key: str, z, slope: float = LEAKY_SLOPE) -> np.ndarray:
    """f(z) for an activation of :data:`ACTIVATION_KEYS`."""
    _check_key(key)
    z = np.asarray(z, dtype=float)
    if key == "step":
        return (z > 0).astype(float)
    if key == "leaky_relu":
        return mlp.leaky_relu(z, _check_slope(slope))
    return mlp.ACTIVATIONS[key].f(z)


def derivative(key: str, z, slope: float = LEAKY_SLOPE) -> np.ndarray:
    """f'(z) (0 for the step function; ReLU'(0) = 0 and step'(0) = 0 by convention)."""
    _check_key(key)
    z = np.asarray(z, dtype=float)
    if key == "step":
        return np.zeros_like(z)
    if key == "leaky_relu":
        return mlp.leaky_relu_derivative(z, _check_slope(slope))
    return mlp.ACTIVATIONS[key].derivative(z)


def derivative_range(key: str, slope: float = LEAKY_SLOPE) -> tuple[float, float]:
    """(infimum, maximum) of f'(z) over all real z.

    Sigmoid (0, 1/4] and tanh (0, 1]: the maximum at z = 0, the infimum 0 approached as
    |z| grows.  ReLU {0, 1}, Leaky ReLU {α, 1}, linear {1}, step {0}.
    """
    _check_key(key)
    return {
        "sigmoid": (0.0, 0.25),
        "tanh": (0.0, 1.0),
        "relu": (0.0, 1.0),
        "leaky_relu": (_check_slope(slope), 1.0),
        "linear": (1.0, 1.0),
        "step": (0.0, 0.0),
    }[key]


def neuron(x, w, w0: float, key: str = "sigmoid") -> tuple[float, float]:
    """The notes' single neuron ŷ = g(w₀ + Σᵢ xᵢ wᵢ): returns (z, g(z))."""
    z = float(w0) + float(np.dot(np.asarray(x, dtype=float), np.asarray(w, dtype=float)))
    return z, float(activation(key, z))


def scalar_stack(x, weights, biases, key: str, slope: float = LEAKY_SLOPE) -> np.ndarray:
    """A chain of one-unit layers: h ← f(w·h + b) for every layer but the last, which is
    linear (y = w_L·h + b_L), as in a regression network."""
    h = np.asarray(x, dtype=float)
    weights, biases = list(weights), list(biases)
    if len(weights) != len(biases) or not weights:
        raise ValueError("give one bias per weight, at least one layer")
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = float(w) * h + float(b)
        if i < len(weights) - 1:
            h = activation(key, h, slope)
    return h


def collapse_linear(weights, biases) -> tuple[float, float]:
    """Linear layers without activation collapse into one: y = a·x + c with
    a = w₁w₂…w_L and c = (…(b₁w₂ + b₂)w₃ + …) + b_L (the notes: x W₁W₂ + b₁W₂ + b₂)."""
    a, c = 1.0, 0.0
    for w, b in zip(weights, biases, strict=True):
        a, c = a * float(w), c * float(w) + float(b)
    return a, c


def derivative_product(key: str, z0: float, n_layers: int,
                       slope: float = LEAKY_SLOPE) -> np.ndarray:
    """f'(z₀)ⁿ for n = 1 … n_layers: the factor the activations alone put on a gradient
    that backpropagates through n layers whose pre-activations all equal z₀ (weights 1)."""
    n_layers = int(n_layers)
    if not 1 <= n_layers <= MAX_LAYERS:
        raise ValueError(f"n_layers must be in 1 … {MAX_LAYERS}, got {n_layers}")
    d = float(derivative(key, float(z0), slope))
    with np.errstate(under="ignore"):
        return d ** np.arange(1, n_layers + 1, dtype=float)


def softmax(z) -> np.ndarray:
    """softmax(z)_k = e^{z_k} / Σ_j e^{z_j} (the networks' own softmax)."""
    z = np.asarray(z, dtype=float)
    if z.ndim != 1 or not 1 <= z.size <= MAX_SOFTMAX:
        raise ValueError(f"softmax takes 1 … {MAX_SOFTMAX} numbers")
    if not np.all(np.isfinite(z)):
        raise ValueError("softmax takes finite numbers")
    return mlp.OUTPUTS["softmax"].f(z[None, :])[0]


# --------------------------------------------------------------------------- losses


@dataclass(frozen=True)
class PointLoss:
    """A loss as a function of one prediction ŷ for a target y, and ∂L/∂ŷ.

    ``output``: the output function that produces ŷ (mlp.OUTPUTS key) for the task.
    ``target_range``: the targets the task uses; ``prediction_range``: where ŷ lives.
    For cce, ŷ is the probability given to the true class and y is 1 (one-hot).
    """

    key: str
    task: str
    output: str
    value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]
    prediction_range: tuple[float, float]
    target_range: tuple[float, float]


def _clip_probability(p):
    return np.clip(np.asarray(p, dtype=float), EPS, 1.0 - EPS)


def _bce(yhat, y):
    p = _clip_probability(yhat)
    return -(y * np.log(p) + (1.0 - y) * np.log1p(-p))


def _bce_grad(yhat, y):
    p = _clip_probability(yhat)
    return (p - y) / (p * (1.0 - p))


def _cce(yhat, y):
    return -np.asarray(y, dtype=float) * np.log(_clip_probability(yhat))


def _cce_grad(yhat, y):
    return -np.asarray(y, dtype=float) / _clip_probability(yhat)


def _mse(yhat, y):
    return (np.asarray(yhat, dtype=float) - y) ** 2


def _mse_grad(yhat, y):
    return 2.0 * (np.asarray(yhat, dtype=float) - y)


LOSSES: dict[str, PointLoss] = {
    "bce": PointLoss("bce", "binary", "sigmoid", _bce, _bce_grad, (0.0, 1.0), (0.0, 1.0)),
    "cce": PointLoss("cce", "multiclass", "softmax", _cce, _cce_grad, (0.0, 1.0), (1.0, 1.0)),
    "mse": PointLoss("mse", "regression", "linear", _mse, _mse_grad, (-3.0, 3.0), (-2.0, 2.0)),
}


class LossVsAccuracy(NamedTuple):
    """A one-input logistic neuron ŷ = σ(w·x + b) on a fixed data set, with its bias b swept."""

    b: np.ndarray          # (G,) the swept bias
    loss: np.ndarray       # (G,) mean BCE (the engine's training objective)
    accuracy: np.ndarray   # (G,) fraction classified right (ŷ ≥ 0.5)
    flat: float            # fraction of neighbouring grid points with equal accuracy


def loss_vs_accuracy(x, y, w: float, b_range=(-6.0, 6.0), n: int = 601) -> LossVsAccuracy:
    """BCE and accuracy of σ(w·x + b) as the bias b sweeps ``b_range``: G networks at once
    in one :class:`engine.mlp.Network` call.  Accuracy moves only when the boundary −b/w
    crosses a data point, so it is flat (zero derivative) almost everywhere."""
    x = np.asarray(x, dtype=float).reshape(-1, 1)
    y = np.asarray(y, dtype=int).ravel()
    n = int(np.clip(n, 3, 5001))
    b = np.linspace(float(b_range[0]), float(b_range[1]), n)
    net = mlp.Network(sizes=(1, 1), output="sigmoid", loss="bce")
    theta = np.stack([np.full(n, float(w)), b], axis=1)  # layout: W (1×1), then b
    loss = net.objective(theta, x, y.astype(float))
    accuracy = mlp.accuracy(net, theta, x, y)
    flat = float(np.mean(np.diff(accuracy) == 0.0))
    return LossVsAccuracy(b, loss, accuracy, flat)


# --------------------------------------------------------------------------- dying ReLU


class DyingRelu(NamedTuple):
    z: np.ndarray          # (n,) pre-activation w·x + b of every sample
    alive: np.ndarray      # (n,) bool: f'(z) ≠ 0, the gradient can pass
    loss: float
    grad_w: float          # ∂J/∂w of the hidden unit (engine backprop)
    grad_b: float          # ∂J/∂b


def dying_relu(x, y, w: float, b: float, key: str = "relu",
               v: float = 1.0, c: float = 0.0) -> DyingRelu:
    """One hidden unit h = f(w·x + b) feeding ŷ = v·h + c, MSE on (x, y), through
    :class:`engine.mlp.Network`.  With ReLU and w·x + b ≤ 0 for every sample, the unit's
    gradients are exactly 0: no update can ever revive it (a dead ReLU)."""
    if key not in ("relu", "leaky_relu"):
        raise ValueError("the dying-ReLU example takes relu or leaky_relu")
    x = np.asarray(x, dtype=float).reshape(-1, 1)
    y = np.asarray(y, dtype=float).reshape(-1, 1)
    net = mlp.Network(sizes=(1, 1, 1), activation=key, output="linear", loss="mse")
    theta = net.pack([(np.array([[[w]]]), np.array([[b]])),
                      (np.array([[[v]]]), np.array([[c]]))])
    loss, grads = net.loss_and_grads(theta, x, y)
    z = x[:, 0] * float(w) + float(b)
    alive = derivative(key, z) != 0.0
    return DyingRelu(z, alive, float(loss[0]), float(grads[0, 0]), float(grads[0, 1]))


# --------------------------------------------------------------------------- perceptron

GATE_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
GATES: dict[str, tuple[int, int, int, int]] = {  # outputs for the rows of GATE_INPUTS
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "xor": (0, 1, 1, 0),
}


def perceptron(w1: float, w2: float, b: float, X=GATE_INPUTS) -> np.ndarray:
    """ŷ = step(w₁x₁ + w₂x₂ + b) for every row of X: 0/1 integers."""
    X = np.asarray(X, dtype=float)
    return (X[:, 0] * float(w1) + X[:, 1] * float(w2) + float(b) > 0).astype(int)


def perceptron_solutions(gate: str, limit_tenths: int = 20) -> tuple[int, int,
                                                                      tuple[float, ...] | None]:
    """Every setting w₁, w₂, b ∈ {−limit/10, …, limit/10} in steps of 0.1 (the sliders'
    grid) tried on the four inputs, in exact integer arithmetic (10·z).  Returns (number of
    settings that reproduce ``gate``, number tried, one solution or None)."""
    if gate not in GATES:
        raise ValueError(f"unknown gate {gate!r}; choose one of {', '.join(GATES)}")
    k = np.arange(-int(limit_tenths), int(limit_tenths) + 1)
    w1, w2, b = np.meshgrid(k, k, k, indexing="ij")
    ok = np.ones(w1.shape, dtype=bool)
    for (x1, x2), target in zip(GATE_INPUTS.astype(int), GATES[gate], strict=True):
        ok &= ((w1 * x1 + w2 * x2 + b) > 0) == bool(target)
    count = int(ok.sum())
    example = None
    if count:
        i = np.argwhere(ok)[len(np.argwhere(ok)) // 2]
        example = tuple(float(k[j]) / 10 for j in i)
    return count, int(ok.size), example
