"""Batch, mini-batch and stochastic gradient descent on a real two-parameter loss.

Two models with parameters θ = (w, b), so their loss surface can be drawn over the plane:

    linear     ŷ = w·x + b                 L(w, b) = (1/n) Σ (w xᵢ + b − yᵢ)²          (MSE)
    logistic   p = σ(w·x + b)              L(w, b) = (1/n) Σ [log(1 + e^{zᵢ}) − yᵢ zᵢ]  (BCE)

(the BCE line is −[y log p + (1 − y) log(1 − p)] written with z = w x + b, which never takes
the log of 0).  Gradients, with r = w x + b − y (linear) or r = σ(z) − y (logistic):

    linear     ∂L/∂w = (2/n) Σ rᵢ xᵢ,   ∂L/∂b = (2/n) Σ rᵢ
    logistic   ∂L/∂w = (1/n) Σ rᵢ xᵢ,   ∂L/∂b = (1/n) Σ rᵢ

A mini-batch gradient is the same mean over the batch's samples only.  :func:`train` shuffles
the n samples every epoch (``numpy.random.default_rng(seed)``), cuts them into batches of
``batch_size`` (the last one smaller when batch_size does not divide n, as torch's
DataLoader with drop_last=False) and takes one optimizer step per batch with the rules of
:mod:`engine.optimizers` — so batch_size = n is (full-)batch gradient descent, 1 is SGD.
``n_runs`` independent runs (own shuffles) are batched as rows of a ``(B, 2)`` array.

:func:`exact_minimum`: the normal equations for the linear model; Newton's method for the
logistic one (no closed form), which has no finite minimum when one value of x separates
the classes (the loss keeps falling as |w| grows) — the function says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import optimizers
from engine.datasets import DatasetError

__all__ = [
    "MODELS",
    "MAX_POINTS",
    "MAX_SAMPLES",
    "MAX_UPDATES",
    "POSITION_BOUND",
    "Minimum",
    "ModelSpec",
    "Training",
    "exact_minimum",
    "gradient",
    "loss",
    "make_data",
    "train",
]

MAX_POINTS = 1000  # samples of a dataset (generated or uploaded)
MAX_UPDATES = 20_000  # optimizer steps of one training (epochs × batches per epoch)
MAX_SAMPLES = 1_000_000  # sample gradients of one training (epochs × n × runs)
POSITION_BOUND = 1e6  # |w| or |b| beyond this: the run has diverged
_CHUNK = 2_000_000  # parameter points × samples evaluated at once


@dataclass(frozen=True)
class ModelSpec:
    key: str
    title: str
    loss_name: str
    latex: str  # two lines (model, loss) separated by \\
    story: str


MODELS: dict[str, ModelSpec] = {
    "linear": ModelSpec(
        "linear", "Linear regression", "mse",
        r"\hat y = w x + b \\ L(w,b) = \tfrac1n \textstyle\sum_i (w x_i + b - y_i)^2",
        "a straight line through noisy points: the loss is a bowl with one exact bottom"),
    "logistic": ModelSpec(
        "logistic", "Logistic regression", "bce",
        r"p = \sigma(w x + b) \\ L(w,b) = -\tfrac1n \textstyle\sum_i "
        r"\big[y_i \log p_i + (1 - y_i)\log(1 - p_i)\big]",
        "a probability of class 1 from one input: the loss is convex, its bottom has no "
        "formula"),
}


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def make_data(model: str, n: int = 60, noise: float = 0.5, seed: int = 0
              ) -> tuple[np.ndarray, np.ndarray]:
    """A small dataset (x (n,), y (n,)) for ``model``, the same for the same seed.

    linear: x ~ U(−1, 3), y = 2x − 1 + noise·N(0, 1) (the inputs are not centred, so w and b
    are correlated: the loss is a tilted, elongated bowl).  logistic: half the points of each
    class, x ~ N(∓1, 1 + noise), y ∈ {0, 1}; the classes overlap, so the minimum is finite.
    """
    _check_model(model)
    if isinstance(n, bool) or int(n) != n or not 2 <= n <= MAX_POINTS:
        raise ValueError(f"n must be an integer in [2, {MAX_POINTS}], got {n!r}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    n = int(n)
    if model == "linear":
        x = rng.uniform(-1.0, 3.0, n)
        return x, 2.0 * x - 1.0 + noise * rng.standard_normal(n)
    y = (np.arange(n) % 2).astype(np.float64)
    rng.shuffle(y)
    x = np.where(y == 1, 1.0, -1.0) + (1.0 + noise) * rng.standard_normal(n)
    return x, y


def check_data(model: str, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Validated float64 copies of x, y: same length 2..MAX_POINTS, finite; for the logistic
    model the labels must be 0 or 1.  Raises DatasetError (a ValueError) saying what is
    wrong, so that a page can say it in the student's language."""
    _check_model(model)
    x = np.array(x, dtype=np.float64).reshape(-1)
    y = np.array(y, dtype=np.float64).reshape(-1)
    if x.size != y.size:
        raise DatasetError("rows", n=x.size, labels=y.size)
    if not 2 <= x.size <= MAX_POINTS:
        raise DatasetError("points", low=2, high=MAX_POINTS, n=x.size)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DatasetError("xy_finite")
    if model == "logistic" and not np.isin(y, (0.0, 1.0)).all():
        raise DatasetError("labels01")
    return x, y


def _pointwise(model: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    if model == "linear":
        return (z - y) ** 2
    return np.logaddexp(0.0, z) - y * z


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow warning for large |z|


def loss(model: str, x, y, params) -> np.ndarray:
    """L(w, b) on the data (x, y) at every point of ``params`` (..., 2) -> (...)."""
    _check_model(model)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    params = np.asarray(params, dtype=np.float64)
    flat = params.reshape(-1, 2)
    out = np.empty(flat.shape[0])
    rows = max(1, _CHUNK // max(x.size, 1))
    for start in range(0, flat.shape[0], rows):
        part = flat[start:start + rows]
        z = part[:, :1] * x + part[:, 1:2]
        out[start:start + rows] = _pointwise(model, z, y).mean(axis=1)
    return out.reshape(params.shape[:-1])


def gradient(model: str, x, y, params) -> np.ndarray:
    """∇L(w, b) on the data (x, y) at every point of ``params`` (..., 2) -> (..., 2)."""
    _check_model(model)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    params = np.asarray(params, dtype=np.float64)
    flat = params.reshape(-1, 2)
    out = np.empty_like(flat)
    rows = max(1, _CHUNK // max(x.size, 1))
    for start in range(0, flat.shape[0], rows):
        part = flat[start:start + rows]
        out[start:start + rows] = _weighted_gradient(model, x[None, :], y[None, :],
                                                      np.full((1, x.size), 1.0 / x.size), part)
    return out.reshape(params.shape)


def _weighted_gradient(model: str, xb: np.ndarray, yb: np.ndarray, weight: np.ndarray,
                       params: np.ndarray) -> np.ndarray:
    """Σ weight · ∂ℓ/∂θ over each row's samples: xb, yb, weight (B or 1, m), params (B, 2)
    -> (B, 2).  Weights 1/m give the mean over a batch of m; a pad weighs 0."""
    z = params[:, :1] * xb + params[:, 1:2]
    r = (2.0 * (z - yb) if model == "linear" else _sigmoid(z) - yb) * weight
    out = np.empty((params.shape[0], 2))
    out[:, 0] = (r * xb).sum(axis=1)
    out[:, 1] = r.sum(axis=1)
    return out


# ---------------------------------------------------------------------------------------
# The exact minimum


@dataclass(frozen=True)
class Minimum:
    """The minimizer (w, b) and loss, or ``exists`` False with ``reason`` ("constant_x",
    "one_class", "separable") when there is no unique finite one.  ``method`` is
    "normal_equations" or "newton"."""

    w: float
    b: float
    loss: float
    exists: bool
    method: str
    reason: str = ""


def exact_minimum(model: str, x, y) -> Minimum:
    """The minimum of L over (w, b).

    linear: the normal equations  [Σx² Σx; Σx n] (w, b) = (Σxy, Σy), solved with centred
    sums (w = Σ(x − x̄)(y − ȳ) / Σ(x − x̄)², b = ȳ − w x̄) — no unique solution when every
    x is the same.  logistic: Newton's method with backtracking on the convex BCE from
    (0, 0); no finite minimum when all labels are equal or a threshold on x separates the
    classes.
    """
    x, y = check_data(model, x, y)
    method = "normal_equations" if model == "linear" else "newton"
    xc = x - x.mean()
    if not np.any(np.abs(xc) > 1e-12 * max(1.0, float(np.abs(x).max()))):
        return Minimum(math.nan, math.nan, math.nan, False, method, "constant_x")
    if model == "linear":
        w = float((xc * (y - y.mean())).sum() / (xc * xc).sum())
        b = float(y.mean() - w * x.mean())
        return Minimum(w, b, float(loss(model, x, y, np.array([w, b]))), True, method)
    ones, zeros = x[y == 1], x[y == 0]
    if ones.size == 0 or zeros.size == 0:
        return Minimum(math.nan, math.nan, math.nan, False, method, "one_class")
    if ones.min() > zeros.max() or zeros.min() > ones.max():
        return Minimum(math.nan, math.nan, math.nan, False, method, "separable")
    theta = np.zeros(2)
    current = float(loss(model, x, y, theta))
    for _ in range(100):
        p = _sigmoid(theta[0] * x + theta[1])
        g = np.array([((p - y) * x).mean(), (p - y).mean()])
        if np.abs(g).max() < 1e-13:
            break
        s = p * (1.0 - p)
        hess = np.array([[(s * x * x).mean(), (s * x).mean()], [(s * x).mean(), s.mean()]])
        step = np.linalg.solve(hess, g)
        scale = 1.0
        while scale > 1e-10:
            trial = theta - scale * step
            value = float(loss(model, x, y, trial))
            if value <= current:
                break
            scale *= 0.5
        if value > current:  # no step lowers the loss any more: as low as floats go
            break
        theta, current = trial, value
    return Minimum(float(theta[0]), float(theta[1]), current, True, method)


# ---------------------------------------------------------------------------------------
# Training with mini-batches


@dataclass(frozen=True, eq=False)
class Training:
    """The record of :func:`train` (U updates, E epochs, B runs).

    ``path[u]`` (U+1, B, 2): θ after u updates (row 0 = start); ``full_loss[u]`` (U+1, B):
    L on all the data at path[u]; ``batch_loss[u]`` (U, B): the loss of the batch used by
    update u, at path[u] (before the step); ``batches[u]`` (U, B, m) the sample indices of
    that batch (−1 pads the smaller last batch of an epoch); ``epoch_end[e]`` (E+1,): the
    update count after e epochs (0, k, 2k, … with k = ceil(n / batch_size)).
    A run whose θ leaves |w|, |b| ≤ 1e6 or stops being finite is frozen at its last good
    point from update ``diverged_at[b]`` on (−1 if never); nothing non-finite is returned.
    """

    path: np.ndarray
    full_loss: np.ndarray
    batch_loss: np.ndarray
    batches: np.ndarray
    epoch_end: np.ndarray
    batch_size: int
    diverged: np.ndarray
    diverged_at: np.ndarray

    @property
    def updates_per_epoch(self) -> int:
        return int(self.epoch_end[1]) if self.epoch_end.size > 1 else 0

    @property
    def epoch_loss(self) -> np.ndarray:
        """(E+1, B): the full-data loss at the end of each epoch (row 0: the start)."""
        return self.full_loss[self.epoch_end]

    def uphill_fraction(self) -> np.ndarray:
        """(B,): the share of updates after which the full-data loss went up."""
        if self.full_loss.shape[0] < 2:
            return np.zeros(self.full_loss.shape[1])
        return (np.diff(self.full_loss, axis=0) > 0).mean(axis=0)


def updates_needed(n: int, batch_size: int, epochs: int) -> int:
    """Optimizer steps of ``epochs`` epochs over n samples in batches of batch_size."""
    return int(epochs) * math.ceil(int(n) / min(int(batch_size), int(n)))


def train(model: str, x, y, optimizer_key: str, hyper: dict, batch_size: int, epochs: int,
          start, *, seed: int = 0, n_runs: int = 1) -> Training:
    """Train θ = (w, b) from ``start`` with mini-batches of ``batch_size`` for ``epochs``.

    Each epoch every run draws its own permutation of the n samples and steps once per
    consecutive batch with ``optimizers.make(optimizer_key, **hyper)``.  Bounds:
    batch_size in [1, n] (larger is taken as n), epochs ≥ 1, epochs × batches per epoch ≤
    20,000, epochs × n × n_runs ≤ 1,000,000, n_runs in [1, 64]; otherwise ``ValueError``.
    """
    x, y = check_data(model, x, y)
    n = x.size
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if isinstance(epochs, bool) or int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    if isinstance(n_runs, bool) or int(n_runs) != n_runs or not 1 <= n_runs <= 64:
        raise ValueError(f"n_runs must be an integer in [1, 64], got {n_runs!r}")
    m = min(int(batch_size), n)
    per_epoch = math.ceil(n / m)
    total = int(epochs) * per_epoch
    if total > MAX_UPDATES:
        raise ValueError(f"too much work: {epochs} epochs x {per_epoch} batches = {total:,} "
                         f"updates > {MAX_UPDATES:,}; use fewer epochs or larger batches")
    if int(epochs) * n * int(n_runs) > MAX_SAMPLES:
        raise ValueError(f"too much work: {epochs} epochs x {n} samples x {n_runs} runs > "
                         f"{MAX_SAMPLES:,} sample gradients; use fewer epochs or points")
    start = np.asarray(start, dtype=np.float64).reshape(-1)
    if start.shape != (2,) or not np.isfinite(start).all():
        raise ValueError("start must be two finite numbers (w, b)")
    opt = optimizers.make(optimizer_key, **hyper)
    runs = int(n_runs)
    rng = np.random.default_rng(seed)

    # The batches do not depend on θ: draw every epoch's shuffle first (the same generator
    # calls in the same order as a loop would), so the stepping loop only does arithmetic.
    orders = np.stack([rng.permuted(np.tile(np.arange(n), (runs, 1)), axis=1)
                       for _ in range(int(epochs))])                       # (E, B, n)
    padded = np.full((int(epochs), runs, per_epoch * m), -1, dtype=np.int64)
    padded[:, :, :n] = orders
    batches = padded.reshape(int(epochs), runs, per_epoch, m).transpose(0, 2, 1, 3)
    batches = batches.reshape(total, runs, m)                              # (U, B, m)
    valid = batches >= 0
    safe = np.where(valid, batches, 0)
    weight = valid / valid.sum(axis=2, keepdims=True)  # 1/m_u on the batch's samples
    xb, yb = x[safe], y[safe]

    params = np.repeat(start[None, :], runs, axis=0)
    state = opt.init(params)
    path = np.empty((total + 1, runs, 2))
    path[0] = params
    alive = np.ones(runs, dtype=bool)
    diverged_at = np.full(runs, -1, dtype=np.int64)
    with np.errstate(all="ignore"):
        for u in range(total):
            grads = _weighted_gradient(model, xb[u], yb[u], weight[u], params)
            params, state = opt.step(params, grads, state)
            if not np.abs(params).max() <= POSITION_BOUND or not alive.all():  # NaN: False
                bad = ~(np.abs(params) <= POSITION_BOUND).all(axis=1) & alive
                diverged_at[bad] = u + 1
                alive &= ~bad
                params[~alive] = path[u][~alive]
            path[u + 1] = params
        # the loss of each update's batch at the point where it was taken (pads weigh 0)
        z = path[:-1, :, :1] * xb + path[:-1, :, 1:2]
        batch_loss = (_pointwise(model, z, yb) * weight).sum(axis=2)
        full = loss(model, x, y, path)
    batch_loss = np.nan_to_num(batch_loss, nan=0.0, posinf=np.finfo(float).max)
    full = np.nan_to_num(full, nan=0.0, posinf=np.finfo(float).max)
    return Training(path=path, full_loss=full, batch_loss=batch_loss, batches=batches,
                    epoch_end=np.arange(int(epochs) + 1) * per_epoch, batch_size=m,
                    diverged=diverged_at >= 0, diverged_at=diverged_at)
