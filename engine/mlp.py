r"""Small fully connected networks, many at once, with hand-written backpropagation.

A :class:`Network` describes an architecture (layer sizes, hidden activation, output
function, loss, optional batch normalization). Its parameters are NOT stored in the object:
they live in a float64 array ``theta`` of shape ``(B, P)`` — B independent networks of P
parameters each — so the optimizers of :mod:`engine.optimizers` train networks exactly as
they descend a surface, and one call trains a whole sweep (100 seeds, 20 learning rates...).

Forward pass of layer l (row-vector convention, as Keras and ``y = x @ W + b``)::

    z_l = a_{l-1} W_l + b_l                      pre-activation, (B, n, width_l)
    u_l = gamma_l * (z_l - mu_l) / sqrt(var_l + eps) + beta_l     (batch norm, optional)
    a_l = f(u_l)  (hidden)   |   yhat = g(z_L)  (output: sigmoid / softmax / linear)
    a_l <- a_l * m_l / (1 - p)                   inverted dropout, training only

Loss (Keras convention)::

    J = mean_i loss(yhat_i, y_i) + l1 * sum |W| + l2 * sum W**2

where the sums run over weight matrices only (not biases, not batch-norm gamma/beta);
bce and mse also average over output units, cce sums over classes.

Backpropagation is the chain rule applied layer by layer from the output back, vectorized
over the B networks with batched ``matmul`` (no Python loop over networks)::

    dJ/dz_L = (yhat - y) / n        (sigmoid+bce divides by n*K, softmax+cce by n)
    dJ/dW_l = a_{l-1}^T dJ/dz_l,    dJ/db_l = sum_i dJ/dz_l
    dJ/da_{l-1} = dJ/dz_l W_l^T,    dJ/du = dJ/da * f'(u) (* dropout mask)

Batch normalization backpropagates through the batch statistics (mu and var depend on every
sample)::

    dJ/dz = inv_std * (g - mean_i g - xhat * mean_i(g * xhat)),   g = gamma * dJ/du

Parameter layout in theta, layer after layer: ``W_l`` (in*out, row-major), ``b_l`` (out),
then for hidden layers with batch norm ``gamma_l`` (out), ``beta_l`` (out).

Inference choice: :meth:`Network.predict` never applies dropout, and batch normalization
uses the statistics of the X it is given, exactly as in training (we keep no running
averages). For the classroom use — predicting on the training set, or on a grid for a
decision-boundary map — pass ``reference=X_train`` to :meth:`Network.predict` so the grid
is normalized with the training set's statistics instead of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

BN_EPS = 1e-5
LEAKY_SLOPE = 0.01

# Work one call may cause, so that one user of a shared classroom server cannot stall the
# others (measured on one busy core: ~4e8-1.3e9 work units and ~4,000 optimizer steps a
# second; the app's own, tighter budget is app_pages/network_model.py WORK_BUDGET).
MAX_PARAMS = 100_000           # parameters per network
MAX_NETWORKS = 10_000          # networks trained side by side (init, train)
MAX_TRAIN_STEPS = 50_000       # optimizer steps per train call: epochs x mini-batches
MAX_TRAIN_WORK = 4_000_000_000  # epochs x networks x samples x parameters per train call


# --------------------------------------------------------------------------- registries


@dataclass(frozen=True)
class Activation:
    """A hidden-layer activation f with its derivative.

    ``grad_from(z, a)`` returns f'(z) using the already computed a = f(z) where that is
    cheaper (sigmoid: a(1-a), tanh: 1-a^2).
    """

    key: str
    title: str
    f: Callable[[np.ndarray], np.ndarray]
    grad_from: Callable[[np.ndarray, np.ndarray], np.ndarray]
    latex: str
    derivative_latex: str

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """f'(z)."""
        z = np.asarray(z, dtype=float)
        return self.grad_from(z, self.f(z))


def _sigmoid(z):
    # 0.5 (1 + tanh(z/2)) equals 1/(1+e^{-z}) and never overflows.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _ones_like(z, a):
    return np.ones_like(z)


def leaky_relu(z, slope: float = LEAKY_SLOPE):
    """z for z > 0, slope·z otherwise (the networks use slope 0.01)."""
    return np.where(z > 0, z, slope * z)


def leaky_relu_derivative(z, slope: float = LEAKY_SLOPE):
    """1 for z > 0, slope otherwise."""
    return np.where(z > 0, 1.0, slope)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        "sigmoid", "Sigmoid", _sigmoid, lambda z, a: a * (1.0 - a),
        r"\sigma(z) = \frac{1}{1 + e^{-z}}", r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z))"),
    "tanh": Activation(
        "tanh", "tanh", np.tanh, lambda z, a: 1.0 - a * a,
        r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}", r"\tanh'(z) = 1 - \tanh^2(z)"),
    "relu": Activation(
        "relu", "ReLU", lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(float),
        r"\mathrm{ReLU}(z) = \max(0, z)",
        r"\mathrm{ReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}"),
    "leaky_relu": Activation(
        "leaky_relu", "Leaky ReLU", leaky_relu, lambda z, a: leaky_relu_derivative(z),
        r"\mathrm{LeakyReLU}(z) = \begin{cases} z & z > 0 \\ 0.01\,z & z \le 0 \end{cases}",
        r"\mathrm{LeakyReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0.01 & z \le 0 \end{cases}"),
    "linear": Activation(
        "linear", "Linear (identity)", lambda z: z, _ones_like,
        r"f(z) = z", r"f'(z) = 1"),
}


@dataclass(frozen=True)
class Output:
    """Output function g applied to the last layer's logits z (along the last axis)."""

    key: str
    title: str
    f: Callable[[np.ndarray], np.ndarray]
    latex: str


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))  # shift: exp never overflows
    return e / e.sum(axis=-1, keepdims=True)


OUTPUTS: dict[str, Output] = {
    "sigmoid": Output("sigmoid", "Sigmoid", _sigmoid, r"\hat y = \sigma(z)"),
    "softmax": Output("softmax", "Softmax", _softmax,
                      r"\hat y_k = \frac{e^{z_k}}{\sum_j e^{z_j}}"),
    "linear": Output("linear", "Linear", lambda z: z, r"\hat y = z"),
}


@dataclass(frozen=True)
class Loss:
    key: str
    title: str
    latex: str
    needs_probabilities: bool


LOSSES: dict[str, Loss] = {
    "bce": Loss("bce", "Binary cross-entropy",
                r"J = -\frac{1}{nK}\sum_{i,k} \left[y_{ik}\log \hat y_{ik}"
                r" + (1 - y_{ik})\log(1 - \hat y_{ik})\right]", True),
    "cce": Loss("cce", "Categorical cross-entropy",
                r"J = -\frac{1}{n}\sum_{i}\sum_{k} y_{ik}\log \hat y_{ik}", True),
    "mse": Loss("mse", "Mean squared error",
                r"J = \frac{1}{nK}\sum_{i,k} (\hat y_{ik} - y_{ik})^2", False),
}

# (output, loss) pairs whose gradient w.r.t. the logits is proportional to yhat - y.
SENSIBLE_PAIRS: list[tuple[str, str]] = [("sigmoid", "bce"), ("softmax", "cce"),
                                         ("linear", "mse")]

# dJ/dz of one sample's logit z (n samples, K outputs) for each sensible pair: the text the
# pages show (tested against the backpropagation) and the same rule as a function.
LOGIT_GRADIENTS: dict[tuple[str, str], tuple[str, Callable]] = {
    ("sigmoid", "bce"): ("(ŷ − y)/(nK)", lambda yhat, y, n, K: (yhat - y) / (n * K)),
    ("softmax", "cce"): ("(ŷ − y)/n", lambda yhat, y, n, K: (yhat - y) / n),
    ("linear", "mse"): ("2(ŷ − y)/(nK)", lambda yhat, y, n, K: 2.0 * (yhat - y) / (n * K)),
}

# xavier: Glorot & Bengio (2010) as Keras and torch define it; lecun: variance 1/fan_in,
# which the study notes (docs/notes.md) call "Xavier"; he: He et al. (2015).
INIT_SCHEMES = ("xavier", "lecun", "he", "normal", "zeros")

REGULARIZATION_LATEX = r"J_{\mathrm{reg}} = J + \lambda_1 \sum |W| + \lambda_2 \sum W^2"


# --------------------------------------------------------------------------- helpers


def _per_network(value, n_networks: int, name: str) -> np.ndarray:
    """A scalar, a (B,) array or an array broadcastable to (B, 1) -> float64 array (B,)."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return np.full(n_networks, float(arr))
    if arr.shape == (n_networks,):
        return arr.copy()
    try:
        return np.broadcast_to(arr, (n_networks, 1))[:, 0].copy()
    except ValueError:
        raise ValueError(
            f"{name} must be a scalar or broadcast against (B, 1) with B={n_networks}; "
            f"got shape {arr.shape}") from None


# Speed notes (measured, B=1000 XOR networks): numpy's batched matmul makes one small BLAS
# call per network and reduces over a middle axis slowly, so for small layers einsum is
# 1.5-4x faster; a shared input X turns the first layer into ONE gemm with the block matrix
# K = kron([X, 1]^T, I_out), which also yields the weight and bias gradients in one gemm.
_SMALL_LAYER = 4096   # per-network multiply-adds up to which einsum beats batched matmul
# Entries of K up to which the single-gemm first layer is used: K has out times more
# multiply-adds than needed, and a larger gemm makes OpenBLAS go multi-threaded, which on a
# busy 2-core server was measured 200x slower (105 ms instead of 0.5 ms per call).
_KRON_MAX = 8192


def _is_small(n: int, n_in: int, n_out: int) -> bool:
    return n * n_in * n_out <= _SMALL_LAYER


def _layer_matmul(a, W):
    """a (B, n, in) @ W (B, in, out) -> (B, n, out); a (n, in) is shared by all networks."""
    if a.ndim == 3 and _is_small(a.shape[1], a.shape[2], W.shape[2]):
        return np.einsum("bni,bio->bno", a, W)
    return a @ W


def _weight_grad(a, dz):
    """sum_i a_i^T dz_i per network: (B, in, out)."""
    if a.ndim == 2:
        return a.T @ dz
    if _is_small(a.shape[1], a.shape[2], dz.shape[2]):
        return np.einsum("bni,bno->bio", a, dz)
    return a.transpose(0, 2, 1) @ dz


def _back_matmul(dz, W):
    """dz (B, n, out) @ W^T -> (B, n, in)."""
    if _is_small(dz.shape[1], W.shape[1], dz.shape[2]):
        return np.einsum("bno,bio->bni", dz, W)
    return dz @ W.transpose(0, 2, 1)


def _sum_samples(A):
    """(B, n, w) -> (B, w): sum over the samples axis."""
    return np.einsum("bnw->bw", A)


def _mean_samples(A):
    """(B, n, w) -> (B, 1, w)."""
    return np.einsum("bnw->bw", A)[:, None, :] / A.shape[1]


def _first_layer_kron(X, n_out):
    """K = kron([X, 1]^T, I_out) ((in+1)*out, n*out) when X is shared and K is small."""
    if X.ndim != 2 or (X.shape[1] + 1) * n_out * X.shape[0] * n_out > _KRON_MAX:
        return None
    X1 = np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)
    return np.kron(X1.T, np.eye(n_out))


class _LayerCache(NamedTuple):
    u: np.ndarray           # activation input (after batch norm when on)
    a: np.ndarray           # f(u), before dropout
    mask: np.ndarray | None  # inverted-dropout multiplier (0 or 1/(1-p)), or None
    xhat: np.ndarray | None  # batch-normalized z
    inv_std: np.ndarray | None
    out: np.ndarray         # what the layer feeds forward: a, times the mask if any
    mean: np.ndarray | None  # batch-norm batch mean (B, 1, width)


@dataclass(frozen=True)
class _Slot:
    W: slice
    b: slice
    gamma: slice | None
    beta: slice | None
    n_in: int
    n_out: int


# --------------------------------------------------------------------------- network


@dataclass(frozen=True)
class Network:
    """Architecture of a fully connected network; parameters live in theta (B, P).

    ``sizes=(2, 4, 1)``: 2 inputs, one hidden layer of 4 units, 1 output.
    ``sizes=(2, 1)``: no hidden layer — a single perceptron (logistic regression).
    """

    sizes: tuple[int, ...] = (2, 4, 1)
    activation: str = "tanh"
    output: str = "sigmoid"
    loss: str = "bce"
    batch_norm: bool = False
    _slots: tuple[_Slot, ...] = field(init=False, repr=False, compare=False)
    n_params: int = field(init=False, compare=False)

    def __post_init__(self):
        sizes = tuple(int(s) for s in self.sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list >= 2 positive layer widths, got {self.sizes}")
        for name, reg in (("activation", ACTIVATIONS), ("output", OUTPUTS), ("loss", LOSSES)):
            if getattr(self, name) not in reg:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; "
                                 f"choose one of {', '.join(reg)}")
        if LOSSES[self.loss].needs_probabilities and self.output == "linear":
            raise ValueError(f"loss {self.loss!r} needs probabilities: use output 'sigmoid' "
                             "or 'softmax', or loss 'mse' with a linear output")
        if self.output == "softmax" and sizes[-1] < 2:
            raise ValueError("softmax output needs >= 2 output units (one per class)")
        if self.loss == "cce" and sizes[-1] < 2:
            raise ValueError("cce needs >= 2 output units (one per class); "
                             "for two classes with one output use bce")
        object.__setattr__(self, "sizes", sizes)
        slots, pos = [], 0
        n_layers = len(sizes) - 1
        for layer in range(n_layers):
            n_in, n_out = sizes[layer], sizes[layer + 1]
            w = slice(pos, pos + n_in * n_out)
            pos = w.stop
            b = slice(pos, pos + n_out)
            pos = b.stop
            gamma = beta = None
            if self.batch_norm and layer < n_layers - 1:
                gamma = slice(pos, pos + n_out)
                beta = slice(pos + n_out, pos + 2 * n_out)
                pos += 2 * n_out
            slots.append(_Slot(w, b, gamma, beta, n_in, n_out))
        if pos > MAX_PARAMS:
            raise ValueError(f"sizes {sizes} give {pos:,} parameters per network; the limit "
                             f"is {MAX_PARAMS:,}")
        object.__setattr__(self, "_slots", tuple(slots))
        object.__setattr__(self, "n_params", pos)

    # ---- structure

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + output layer)."""
        return len(self.sizes) - 1

    @property
    def n_hidden(self) -> int:
        return len(self.sizes) - 2

    def param_names(self) -> list[str]:
        """Human-readable name of every entry of theta, e.g. 'W1[0,2]', 'b2[0]', 'gamma1[3]'."""
        names = []
        for layer, s in enumerate(self._slots, start=1):
            names += [f"W{layer}[{i},{j}]" for i in range(s.n_in) for j in range(s.n_out)]
            names += [f"b{layer}[{j}]" for j in range(s.n_out)]
            if s.gamma is not None:
                names += [f"gamma{layer}[{j}]" for j in range(s.n_out)]
                names += [f"beta{layer}[{j}]" for j in range(s.n_out)]
        return names

    def weight_mask(self) -> np.ndarray:
        """Boolean (P,): True where theta holds a weight (the entries L1/L2 penalize)."""
        mask = np.zeros(self.n_params, dtype=bool)
        for s in self._slots:
            mask[s.W] = True
        return mask

    def _check_theta(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        if theta.ndim == 1:
            theta = theta[None, :]
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise ValueError(f"theta must have shape (B, {self.n_params}) for sizes "
                             f"{self.sizes}; got {theta.shape}")
        return theta

    def unpack(self, theta) -> list[tuple[np.ndarray, np.ndarray]]:
        """theta (B, P) -> [(W (B, in, out), b (B, out)), ...] per layer (read-only views)."""
        theta = self._check_theta(theta)
        B = theta.shape[0]
        out = []
        for s in self._slots:
            W = theta[:, s.W].reshape(B, s.n_in, s.n_out)
            b = theta[:, s.b]
            W.flags.writeable = False  # views into theta: never edit through them
            b.flags.writeable = False
            out.append((W, b))
        return out

    def unpack_bn(self, theta) -> list[tuple[np.ndarray, np.ndarray]]:
        """theta -> [(gamma (B, width), beta (B, width)), ...] per hidden layer ([] if no BN)."""
        theta = self._check_theta(theta)
        return [(theta[:, s.gamma], theta[:, s.beta]) for s in self._slots
                if s.gamma is not None]

    def pack(self, weights, bn=None) -> np.ndarray:
        """Inverse of :meth:`unpack` (and :meth:`unpack_bn`): per-layer arrays -> theta."""
        B = np.asarray(weights[0][0]).shape[0]
        theta = np.empty((B, self.n_params))
        for s, (W, b) in zip(self._slots, weights, strict=True):
            theta[:, s.W] = np.asarray(W, dtype=float).reshape(B, -1)
            theta[:, s.b] = b
        hidden = [s for s in self._slots if s.gamma is not None]
        if hidden:
            if bn is None:
                raise ValueError("this network has batch norm: pass bn=[(gamma, beta), ...]")
            for s, (gamma, beta) in zip(hidden, bn, strict=True):
                theta[:, s.gamma] = gamma
                theta[:, s.beta] = beta
        return theta

    # ---- initialization

    def init(self, n_networks: int = 1, scheme: str = "xavier", seed: int = 0,
             std: float = 0.1) -> np.ndarray:
        """Initial theta (B, P).

        Weights ~ N(0, s^2) with s = sqrt(2/(fan_in + fan_out)) (xavier: Glorot normal, as
        Keras' glorot_normal and torch's xavier_normal_ define it), sqrt(1/fan_in) (lecun:
        the rule the study notes call "Xavier"), sqrt(2/fan_in) (he), ``std`` (normal) or 0
        (zeros: every hidden unit stays identical — the symmetry problem). Biases 0,
        batch-norm gamma 1 and beta 0.
        The same seed gives the same weights, and network i does not depend on B (the
        normal draws fill theta row by row), so a run of 10 networks equals the first 10
        of a run of 100.
        """
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"unknown init scheme {scheme!r}; choose one of "
                             f"{', '.join(INIT_SCHEMES)}")
        n_networks = int(n_networks)
        if not 1 <= n_networks <= MAX_NETWORKS:
            raise ValueError(f"n_networks must be in 1 … {MAX_NETWORKS:,}, got {n_networks}")
        if scheme == "normal" and not (np.isfinite(std) and std >= 0):
            raise ValueError(f"std must be a finite number >= 0, got {std}")
        scale = np.zeros(self.n_params)
        for s in self._slots:
            scale[s.W] = {"xavier": np.sqrt(2.0 / (s.n_in + s.n_out)),
                          "lecun": np.sqrt(1.0 / s.n_in), "he": np.sqrt(2.0 / s.n_in),
                          "normal": float(std), "zeros": 0.0}[scheme]
        theta = np.random.default_rng(seed).standard_normal((n_networks, self.n_params))
        theta *= scale
        for s in self._slots:
            if s.gamma is not None:
                theta[:, s.gamma] = 1.0
        return theta

    # ---- data checks

    def _check_X(self, X, B: int) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        n_in = self.sizes[0]
        if X.ndim == 1 and n_in == 1:
            X = X[:, None]
        ok = (X.ndim == 2 and X.shape[1] == n_in) or (
            X.ndim == 3 and X.shape[0] == B and X.shape[2] == n_in)
        if not ok or X.shape[-2] == 0:
            raise ValueError(f"X must have shape (n, {n_in}) shared by all networks or "
                             f"({B}, n, {n_in}); got {X.shape}")
        return X

    def _check_Y(self, Y, B: int, n: int) -> np.ndarray:
        Y = np.asarray(Y, dtype=float)
        K = self.sizes[-1]
        if Y.ndim == 1 and K == 1:
            Y = Y[:, None]
        ok = (Y.ndim == 2 and Y.shape == (n, K)) or (Y.ndim == 3 and Y.shape == (B, n, K))
        if not ok:
            hint = " (cce needs one-hot targets: datasets.one_hot(y, k))" if K > 1 else ""
            raise ValueError(f"Y must have shape ({n}, {K}) or ({B}, {n}, {K}); "
                             f"got {Y.shape}{hint}")
        return Y

    # ---- forward

    def _forward(self, theta, X, dropout, rng, kron=None, bn_stats=None):
        """Logits (B, n, K) and the per-hidden-layer caches needed by backprop.

        ``kron``: the first-layer block matrix of :func:`_first_layer_kron`, or None.
        ``bn_stats``: per hidden layer (mean, inv_std) to normalize with instead of the
        statistics of this batch (inference on a grid against the training set).
        """
        B = theta.shape[0]
        act = ACTIVATIONS[self.activation]
        p = None
        if np.any(np.asarray(dropout) != 0):
            p = _per_network(dropout, B, "dropout")
            if np.any((p < 0) | (p >= 1)) or not np.all(np.isfinite(p)):
                raise ValueError("dropout must be in [0, 1)")
            if rng is None:
                raise ValueError("dropout > 0 needs rng (a numpy Generator) for the masks")
            p = p[:, None, None]
        caches = []
        a = X
        last = self.n_layers - 1
        for layer, s in enumerate(self._slots):
            if layer == 0 and kron is not None:
                # W and b are contiguous in theta, laid out as the rows of [W; b].
                z = (theta[:, s.W.start:s.b.stop] @ kron).reshape(B, X.shape[0], s.n_out)
            else:
                W = theta[:, s.W].reshape(B, s.n_in, s.n_out)
                z = _layer_matmul(a, W) + theta[:, None, s.b]
            if layer == last:
                return z, caches
            mean = xhat = inv_std = None
            if s.gamma is not None:
                if bn_stats is None:
                    mean = _mean_samples(z)
                    centered = z - mean
                    inv_std = 1.0 / np.sqrt(_mean_samples(centered * centered) + BN_EPS)
                else:
                    mean, inv_std = bn_stats[layer]
                    centered = z - mean
                xhat = centered * inv_std
                u = theta[:, None, s.gamma] * xhat + theta[:, None, s.beta]
            else:
                u = z
            h = act.f(u)
            mask = None
            if p is not None:
                mask = (rng.random(h.shape) >= p) / (1.0 - p)
            a = h if mask is None else h * mask
            caches.append(_LayerCache(u, h, mask, xhat, inv_std, a, mean))
        raise AssertionError("unreachable")

    def forward(self, theta, X, return_hidden: bool = True, reference=None):
        """Inference forward pass (no dropout).

        Returns ``(output (B, n, K), hidden)`` where ``hidden`` lists each hidden layer's
        activations a_l (B, n, width_l) — one small map per neuron when X is a grid — or,
        with ``return_hidden=False``, only the output.
        Batch norm normalizes with the statistics of X itself (as in training), or, when
        ``reference`` (e.g. the training inputs) is given, with the statistics of
        ``reference`` — use that to draw a decision boundary on a grid.
        """
        theta = self._check_theta(theta)
        X = self._check_X(X, theta.shape[0])
        bn_stats = None
        if reference is not None and self.batch_norm and self.n_hidden:
            reference = self._check_X(reference, theta.shape[0])
            _, ref_caches = self._forward(theta, reference, 0.0, None)
            bn_stats = [(c.mean, c.inv_std) for c in ref_caches]
        z, caches = self._forward(theta, X, 0.0, None, bn_stats=bn_stats)
        out = OUTPUTS[self.output].f(z)
        if not return_hidden:
            return out
        return out, [c.a for c in caches]

    def predict(self, theta, X, reference=None) -> np.ndarray:
        """Output yhat (B, n, K): probabilities for sigmoid/softmax, values for linear.

        No dropout. Batch norm (when on) normalizes with the mean and variance of this X —
        the same batch-statistics rule as training; we keep no running averages — or of
        ``reference`` when given (predicting a grid with the training set's statistics).
        """
        return self.forward(theta, X, return_hidden=False, reference=reference)

    # ---- loss

    def _data_loss(self, z, Y, want_grad: bool):
        """Mean data loss per network (B,) and dJ/dz (B, n, K), computed from logits."""
        n, K = z.shape[1], z.shape[2]
        pair = (self.output, self.loss)
        grad = None
        if pair == ("sigmoid", "bce"):
            # -[y log s + (1-y) log(1-s)] = softplus(z) - y z ; d/dz = s - y
            loss = (np.logaddexp(0.0, z) - Y * z).reshape(len(z), -1).mean(axis=1)
            if want_grad:
                grad = (_sigmoid(z) - Y) / (n * K)
            return loss, grad
        if pair == ("softmax", "cce"):
            shifted = z - z.max(axis=-1, keepdims=True)
            log_sum = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
            log_p = shifted - log_sum
            loss = -(Y * log_p).sum(axis=2).mean(axis=1)
            if want_grad:
                grad = (np.exp(log_p) * Y.sum(axis=-1, keepdims=True) - Y) / n
            return loss, grad
        if pair == ("sigmoid", "cce"):
            # -y log s(z), log s(z) = -softplus(-z); d/dz = -y (1 - s)
            loss = (Y * np.logaddexp(0.0, -z)).sum(axis=2).mean(axis=1)
            if want_grad:
                grad = -Y * _sigmoid(-z) / n
            return loss, grad
        yhat = OUTPUTS[self.output].f(z)
        if self.loss == "mse":
            resid = yhat - Y
            loss = (resid * resid).reshape(len(z), -1).mean(axis=1)
            g_out = 2.0 * resid / (n * K) if want_grad else None
        else:  # softmax + bce: probabilities, not a fused pair
            log_p = z - z.max(axis=-1, keepdims=True)
            log_p = log_p - np.log(np.exp(log_p).sum(axis=-1, keepdims=True))
            log_q = np.log1p(-yhat)
            loss = -(Y * log_p + (1.0 - Y) * log_q).reshape(len(z), -1).mean(axis=1)
            g_out = ((1.0 - Y) / (1.0 - yhat) - Y / yhat) / (n * K) if want_grad else None
        if want_grad:
            if self.output == "sigmoid":
                grad = g_out * yhat * (1.0 - yhat)
            elif self.output == "softmax":
                grad = yhat * (g_out - (g_out * yhat).sum(axis=-1, keepdims=True))
            else:
                grad = g_out
        return loss, grad

    def _penalty(self, theta, l1, l2):
        """l1 * sum|W| + l2 * sum W^2 per network, the per-network l1, l2 and use flags."""
        B = theta.shape[0]
        if isinstance(l1, (int, float)) and isinstance(l2, (int, float)) and l1 == l2 == 0:
            return 0.0, None, None, False, False  # fast path of the training loop
        l1 = _per_network(l1, B, "l1")
        l2 = _per_network(l2, B, "l2")
        if not (np.all(np.isfinite(l1)) and np.all(np.isfinite(l2))
                and np.all(l1 >= 0) and np.all(l2 >= 0)):
            raise ValueError("l1 and l2 must be finite numbers >= 0")
        use_l1, use_l2 = bool(np.any(l1 != 0)), bool(np.any(l2 != 0))
        total = np.zeros(B)
        if use_l1 or use_l2:
            for s in self._slots:
                W = theta[:, s.W]
                if use_l1:
                    total += l1 * np.abs(W).sum(axis=1)
                if use_l2:
                    total += l2 * (W * W).sum(axis=1)
        return total, l1, l2, use_l1, use_l2

    def penalty(self, theta, l1=0.0, l2=0.0) -> np.ndarray:
        """The regularisation term l1·Σ|W| + l2·ΣW² per network (B,): the part of
        :meth:`objective` that does not depend on the data (weights only, not biases)."""
        theta = self._check_theta(theta)
        return np.broadcast_to(self._penalty(theta, l1, l2)[0], theta.shape[:1]).copy()

    def objective(self, theta, X, Y, l1=0.0, l2=0.0) -> np.ndarray:
        """Objective J per network (B,), inference mode (no dropout): the data loss plus
        :meth:`penalty` (REGULARIZATION_LATEX)."""
        theta = self._check_theta(theta)
        B = theta.shape[0]
        X = self._check_X(X, B)
        Y = self._check_Y(Y, B, X.shape[-2])
        z, _ = self._forward(theta, X, 0.0, None)
        data, _ = self._data_loss(z, Y, want_grad=False)
        return data + self._penalty(theta, l1, l2)[0]

    def loss_and_grads(self, theta, X, Y, l1=0.0, l2=0.0, dropout=0.0, rng=None):
        """Objective J (B,) and its gradient dJ/dtheta (B, P) by backpropagation.

        X: (n, in) shared by all networks or (B, n, in); Y: (n, K) or (B, n, K) (a 1-D y is
        accepted when K = 1). l1, l2, dropout: scalars or arrays broadcasting to (B, 1).
        With dropout > 0, ``rng`` (numpy Generator) draws the masks, one per hidden layer in
        order; J is then the loss of that thinned network (what the gradient descends).
        """
        theta = self._check_theta(theta)
        B = theta.shape[0]
        X = self._check_X(X, B)
        Y = self._check_Y(Y, B, X.shape[-2])
        return self._loss_and_grads(theta, X, Y, l1, l2, dropout, rng,
                                    _first_layer_kron(X, self.sizes[1]))

    def _loss_and_grads(self, theta, X, Y, l1, l2, dropout, rng, kron):
        """:meth:`loss_and_grads` on checked arrays (the training loop calls this)."""
        B = theta.shape[0]
        z, caches = self._forward(theta, X, dropout, rng, kron)
        loss, dz = self._data_loss(z, Y, want_grad=True)
        penalty, l1, l2, use_l1, use_l2 = self._penalty(theta, l1, l2)
        loss = loss + penalty

        act = ACTIVATIONS[self.activation]
        grads = np.empty((B, self.n_params))
        for layer in range(self.n_layers - 1, -1, -1):
            s = self._slots[layer]
            W = theta[:, s.W].reshape(B, s.n_in, s.n_out)
            if layer == 0 and kron is not None:
                # dJ/d[W; b] = [X, 1]^T dz for every network in one gemm.
                grads[:, s.W.start:s.b.stop] = dz.reshape(B, -1) @ kron.T
            else:
                inputs = X if layer == 0 else caches[layer - 1].out
                grads[:, s.W] = _weight_grad(inputs, dz).reshape(B, -1)
                grads[:, s.b] = _sum_samples(dz)
            if use_l1:
                grads[:, s.W] += l1[:, None] * np.sign(theta[:, s.W])
            if use_l2:
                grads[:, s.W] += (2.0 * l2)[:, None] * theta[:, s.W]
            if layer == 0:
                break
            c = caches[layer - 1]
            da = _back_matmul(dz, W)
            if c.mask is not None:
                da = da * c.mask
            du = da * act.grad_from(c.u, c.a)
            prev = self._slots[layer - 1]
            if prev.gamma is not None:
                grads[:, prev.gamma] = _sum_samples(du * c.xhat)
                grads[:, prev.beta] = _sum_samples(du)
                g = du * theta[:, None, prev.gamma]
                dz = c.inv_std * (g - _mean_samples(g) - c.xhat * _mean_samples(g * c.xhat))
            else:
                dz = du
        return loss, grads

    def layer_grad_norms(self, grads) -> np.ndarray:
        """Frobenius norm of each layer's weight gradient: (B, n_layers).

        Layer 1 is the first (input-side) layer; a vanishing gradient shows as norms that
        shrink toward layer 1.
        """
        grads = self._check_theta(grads)
        return self._grad_norms(grads)

    def _grad_norms(self, grads):
        # Cumulative sums give every layer's sum of squares with 3 array operations.
        cumulative = np.zeros((grads.shape[0], self.n_params + 1))
        np.cumsum(grads * grads, axis=1, out=cumulative[:, 1:])
        starts = [s.W.start for s in self._slots]
        stops = [s.W.stop for s in self._slots]
        return np.sqrt(np.maximum(cumulative[:, stops] - cumulative[:, starts], 0.0))



# --------------------------------------------------------------------------- training


class TrainResult(NamedTuple):
    """History of :func:`train`.

    loss (E+1, B): full-data objective (no dropout) at theta after e epochs, e = 0..E;
        after a network diverges its entries hold its last finite value.
    grad_norms (E, B, n_layers): per-layer weight-gradient norms of each epoch's update
        (averaged over the epoch's mini-batches).
    diverged (B,): True for networks whose loss or parameters went non-finite; they stop
        updating at their last finite theta while the others keep training.
    diverged_at (B,): epoch index (0-based, relative to this call) at which that happened,
        -1 if never.
    """

    theta: np.ndarray
    opt_state: tuple
    loss: np.ndarray
    grad_norms: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray


def _training_rngs(seed: int, start_epoch: int) -> tuple[np.random.Generator, ...]:
    """The mini-batch and dropout generators of :func:`train`, seeded by (seed,
    start_epoch) so that a run continued in chunks draws fresh batches and masks."""
    return tuple(np.random.default_rng(s) for s in
                 np.random.SeedSequence([int(seed), int(start_epoch)]).spawn(2))


def _epoch_batches(batch_rng, n: int, batch_size: int) -> list:
    """One epoch's mini-batches: index arrays of a fresh permutation, or [None] for the
    full batch (no draw)."""
    if batch_size >= n:
        return [None]
    order = batch_rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train(net: Network, theta, X, Y, optimizer, epochs: int, batch_size: int | None = None,
          schedule: Callable | None = None, l1=0.0, l2=0.0, dropout=0.0, seed: int = 0,
          callback: Callable | None = None, opt_state=None,
          start_epoch: int = 0) -> TrainResult:
    """Train B networks at once with an :mod:`engine.optimizers` optimizer.

    Each epoch shuffles the n samples with a seeded rng (shared by all networks, so a sweep
    compares hyper-parameters, not sampling luck) and takes one step per mini-batch:
    ``batch_size`` None or >= n is batch GD (one step per epoch), 1 is SGD, anything else
    mini-batch GD. ``schedule(t)`` -> learning-rate multiplier at epoch t = start_epoch + e
    (scalar or (B, 1)), passed to ``optimizer.step`` as ``lr_scale``.
    ``callback(epoch, theta, loss)`` runs after every epoch; returning False stops early
    (the history is then cut to the epochs done). ``opt_state`` and ``start_epoch`` let a
    caller continue a previous run (live training in chunks); the mini-batch order and the
    dropout masks are drawn from an rng seeded by (seed, start_epoch).
    Prints no warnings: overflow is expected when a learning rate is too large, and is
    reported through ``diverged``.
    """
    theta = net._check_theta(theta).copy()
    B = theta.shape[0]
    X = net._check_X(X, B)
    n = X.shape[-2]
    Y = net._check_Y(Y, B, n)
    epochs = int(epochs)
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if batch_size is None or batch_size >= n:
        batch_size = n
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
    batch_size = int(batch_size)
    if B > MAX_NETWORKS:
        raise ValueError(f"{B:,} networks at once; the limit is {MAX_NETWORKS:,}")
    steps = epochs * -(-n // batch_size)
    if steps > MAX_TRAIN_STEPS:
        raise ValueError(f"too many steps: {epochs:,} epochs x {-(-n // batch_size):,} "
                         f"mini-batches = {steps:,} > {MAX_TRAIN_STEPS:,}; use fewer epochs "
                         "or larger batches")
    work = epochs * B * n * net.n_params
    if work > MAX_TRAIN_WORK:
        raise ValueError(f"too much work: {epochs:,} epochs x {B:,} networks x {n:,} samples "
                         f"x {net.n_params:,} parameters = {work:,} > {MAX_TRAIN_WORK:,}; "
                         "use fewer epochs, networks or samples")
    use_dropout = bool(np.any(np.asarray(dropout) != 0))
    full_batch = batch_size == n
    # Reuse the training loss as the history when it IS the full-data objective.
    reuse_loss = full_batch and not use_dropout
    batch_rng, dropout_rng = _training_rngs(seed, start_epoch)
    state = optimizer.init(theta) if opt_state is None else opt_state

    loss_hist = np.empty((epochs + 1, B))
    norm_hist = np.zeros((epochs, B, net.n_layers))
    alive = np.ones(B, dtype=bool)
    diverged_at = np.full(B, -1)
    last_finite = np.full(B, np.nan)
    any_dead = False
    done = epochs

    def record(row, values):
        nonlocal last_finite
        finite = np.isfinite(values)
        last_finite = np.where(finite, values, last_finite)
        loss_hist[row] = last_finite

    kron = _first_layer_kron(X, net.sizes[1]) if full_batch else None

    def pick(A, idx):
        return A[idx] if A.ndim == 2 else A[:, idx]

    with np.errstate(all="ignore"):
        if not reuse_loss:
            record(0, net.objective(theta, X, Y, l1, l2))
        for epoch in range(epochs):
            lr_scale = 1.0 if schedule is None else schedule(start_epoch + epoch)
            batches = _epoch_batches(batch_rng, n, batch_size)
            for idx in batches:
                xb, yb = (X, Y) if idx is None else (pick(X, idx), pick(Y, idx))
                loss, grads = net._loss_and_grads(
                    theta, xb, yb, l1, l2, dropout, dropout_rng if use_dropout else None,
                    kron if idx is None else _first_layer_kron(xb, net.sizes[1]))
                if reuse_loss:
                    record(epoch, loss)
                norm_hist[epoch] += net._grad_norms(grads)
                new_theta, state = optimizer.step(theta, grads, state, lr_scale=lr_scale)
                ok = np.isfinite(loss) & np.isfinite(new_theta).all(axis=1)
                newly = alive & ~ok
                if newly.any():
                    diverged_at[newly] = epoch
                    alive &= ok
                    any_dead = True
                if any_dead:
                    new_theta = np.where(alive[:, None], new_theta, theta)
                theta = new_theta
            if len(batches) > 1:
                norm_hist[epoch] /= len(batches)
            if not reuse_loss:
                record(epoch + 1, net.objective(theta, X, Y, l1, l2))
            if callback is not None:
                if reuse_loss:  # the loss at the new theta is known only next epoch
                    current = net.objective(theta, X, Y, l1, l2)
                else:
                    current = loss_hist[epoch + 1]
                if callback(start_epoch + epoch + 1, theta, current) is False:
                    done = epoch + 1
                    break
        if reuse_loss:
            record(done, net.objective(theta, X, Y, l1, l2))
    return TrainResult(theta, state, loss_hist[:done + 1], norm_hist[:done],
                       ~alive, diverged_at)


class NextUpdate(NamedTuple):
    """The first update of the next epoch of :func:`train` (see :func:`next_update`).

    batch: indices of the mini-batch's samples (all n for the full batch), in the order
    drawn. updates_per_epoch: how many updates the epoch makes. loss (B,): the objective of
    that batch, dropout applied (what the gradient descends). grads (B, P): its gradient.
    lr_scale: the schedule's multiplier. theta, opt_state: after the update.
    """

    batch: np.ndarray
    updates_per_epoch: int
    loss: np.ndarray
    grads: np.ndarray
    lr_scale: float
    theta: np.ndarray
    opt_state: tuple


def next_update(net: Network, theta, X, Y, optimizer, opt_state=None,
                batch_size: int | None = None, schedule: Callable | None = None, l1=0.0,
                l2=0.0, dropout=0.0, seed: int = 0, start_epoch: int = 0) -> NextUpdate:
    """The update that ``train(net, theta, X, Y, optimizer, ..., seed=seed,
    opt_state=opt_state, start_epoch=start_epoch)`` makes first: the same mini-batch and
    the same dropout masks (drawn from the same generators), the same gradient, the same
    step. For the page that shows "the update the optimizer will make next"."""
    theta = net._check_theta(theta)
    B = theta.shape[0]
    X = net._check_X(X, B)
    n = X.shape[-2]
    Y = net._check_Y(Y, B, n)
    size = n if batch_size is None or batch_size >= n else int(batch_size)
    if size < 1:
        raise ValueError(f"batch_size must be >= 1 or None, got {batch_size}")
    batch_rng, dropout_rng = _training_rngs(seed, start_epoch)
    batches = _epoch_batches(batch_rng, n, size)
    idx = batches[0]
    use_dropout = bool(np.any(np.asarray(dropout) != 0))
    with np.errstate(all="ignore"):
        xb = X if idx is None else (X[idx] if X.ndim == 2 else X[:, idx])
        yb = Y if idx is None else (Y[idx] if Y.ndim == 2 else Y[:, idx])
        loss, grads = net.loss_and_grads(theta, xb, yb, l1, l2, dropout,
                                         dropout_rng if use_dropout else None)
        lr_scale = 1.0 if schedule is None else schedule(start_epoch)
        state = optimizer.init(theta) if opt_state is None else opt_state
        new_theta, new_state = optimizer.step(theta, grads, state, lr_scale=lr_scale)
    batch = np.arange(n) if idx is None else np.asarray(idx)
    return NextUpdate(batch, len(batches), loss, grads, float(np.asarray(lr_scale).ravel()[0]),
                      new_theta, new_state)


def predicted_labels(out) -> np.ndarray:
    """Class labels from network outputs (..., K): with one output, class 1 where
    ŷ ≥ 0.5 (a sigmoid's probability, or a linear output regressed onto the 0/1 labels:
    0.5 is the midpoint between the two targets); with several, the argmax."""
    out = np.asarray(out)
    if out.shape[-1] == 1:
        return (out[..., 0] >= 0.5).astype(int)
    return out.argmax(axis=-1)


def accuracy(net: Network, theta, X, y, reference=None) -> np.ndarray:
    """Fraction of samples classified right (:func:`predicted_labels`), per network (B,).

    ``y`` holds integer labels (n,). ``reference``: as in :meth:`Network.predict` (batch
    norm with the training set's statistics when predicting other points, e.g. a test set,
    exactly as the decision map does).
    """
    with np.errstate(all="ignore"):
        out = net.predict(theta, X, reference=reference)
    return (predicted_labels(out) == np.asarray(y)).mean(axis=-1)
