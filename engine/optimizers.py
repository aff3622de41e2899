"""Optimizers as pure, batched update rules (the same arithmetic as ``torch.optim``).

A parameter array has shape ``(B, D)``: B independent runs of D parameters. Every
hyper-parameter is a scalar or an array that broadcasts against ``(B, 1)`` (a 1-D array of
length B is read as a column), so one call runs a whole sweep of learning rates.

    opt = make("adam", lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    state = opt.init(params)                                  # NamedTuple of arrays
    params, state = opt.step(params, grads, state, lr_scale=1.0)

``step`` never modifies its inputs: it allocates the new parameter and state arrays and
works in place only on those (that is what makes it fast: no needless temporaries).
``lr_scale`` is the schedule multiplier (``engine.schedules``), a scalar or ``(B, 1)``.

A run is computed with the same floating-point operations whether its learning rate is a
scalar or one row of a ``(B, 1)`` array, whatever the other rows hold (if they share its
step count, as every run of an ``engine.descent`` batch does): a learning-rate sweep
contains each single run bit for bit (a page can morph a race's path along it).
(Arrays of betas are the exception: their bias corrections come from ``np.power``, which
may round the last bit differently from a scalar beta's Python power.)

Symbols follow the torch documentation: gamma = lr, lambda = weight_decay, mu = momentum,
g_t the gradient (plus lambda * theta for the coupled L2 weight decay every rule except
AdamW accepts), t the 1-based step count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "OPTIMIZERS",
    "ExplainLine",
    "HyperSpec",
    "Optimizer",
    "OptimizerSpec",
    "make",
]

_INF = math.inf


@dataclass(frozen=True)
class HyperSpec:
    """One hyper-parameter: valid range (for validation) and slider range (for the UI).

    ``kind`` is "float", "bool" or "int" (schedules use "int"). ``log_scale`` asks the UI
    for a log slider. ``symbol`` is LaTeX (torch's symbol).
    """

    name: str
    symbol: str
    default: float
    min: float
    max: float
    min_inclusive: bool
    max_inclusive: bool
    slider_min: float
    slider_max: float
    log_scale: bool
    kind: str
    help: str

    def range_text(self) -> str:
        """The valid range as a student reads it: "> 0", ">= 0" or "[0, 1)"."""
        if self.kind == "bool":
            return "True or False"
        if self.max == _INF:
            return f"{'>=' if self.min_inclusive else '>'} {_fmt(self.min)}"
        left = "[" if self.min_inclusive else "("
        right = "]" if self.max_inclusive else ")"
        return f"in {left}{_fmt(self.min)}, {_fmt(self.max)}{right}"


@dataclass(frozen=True)
class ExplainLine:
    """One line of "Explain this step": the rule of one quantity with the step's numbers.

    ``latex`` is a line of a LaTeX ``aligned`` block in which ``«name»`` stands for the
    number (or vector) ``name``: a quantity of :meth:`Optimizer.explain` or a
    hyper-parameter. ``when`` names a number that must be non-zero for the line to be
    shown (``"!name"``: must be zero); '' shows it always.
    """

    latex: str
    when: str = ""


@dataclass(frozen=True)
class OptimizerSpec:
    """Registry entry: title, hyper-parameters, LaTeX of the rule as implemented, how the
    study notes write it differently ('' when they write the same rule), the lines of
    "Explain this step" and the symbol of each state field.

    "The notes" are the Korean study notes the app teaches (docs/notes.md): they write the
    learning rate as η and the momentum (and RMSProp's decay) as γ, where torch and this
    registry write γ for the learning rate, μ for the momentum and α/ρ for the decay.
    """

    key: str
    title: str
    hyper: tuple[HyperSpec, ...]
    latex: str
    notes_diff: str
    summary: str
    explain: tuple[ExplainLine, ...] = ()
    state_symbols: tuple[tuple[str, str], ...] = ()  # state field -> LaTeX symbol

    def state_symbol(self, field_name: str) -> str:
        """LaTeX symbol of a state field (the field name itself when it has none)."""
        return dict(self.state_symbols).get(field_name, rf"\texttt{{{field_name}}}")

    def hyper_spec(self, name: str) -> HyperSpec:
        for spec in self.hyper:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def defaults(self) -> dict[str, float]:
        return {spec.name: spec.default for spec in self.hyper}


def _fmt(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------------------------------
# State containers (field names are part of the public API).


class GDState(NamedTuple):
    pass


class MomentumState(NamedTuple):
    buf: np.ndarray


class AdagradState(NamedTuple):
    sum: np.ndarray


class RMSpropState(NamedTuple):
    square_avg: np.ndarray


class AdadeltaState(NamedTuple):
    square_avg: np.ndarray
    acc_delta: np.ndarray


class AdamState(NamedTuple):
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    max_exp_avg_sq: np.ndarray
    t: np.ndarray


class AdamWState(NamedTuple):
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    t: np.ndarray


class NAdamState(NamedTuple):
    exp_avg: np.ndarray
    exp_avg_sq: np.ndarray
    mu_product: np.ndarray
    t: np.ndarray


class AdamaxState(NamedTuple):
    exp_avg: np.ndarray
    exp_inf: np.ndarray
    t: np.ndarray


# ---------------------------------------------------------------------------------------
# Hyper-parameter specs shared by several rules.


def _lr(default: float, slider_min: float = 1e-4, slider_max: float = 1.0) -> HyperSpec:
    return HyperSpec(
        "lr", r"\gamma", default, 0.0, _INF, False, False, slider_min, slider_max, True,
        "float", "learning rate: the size of each step",
    )


def _unit(name: str, symbol: str, default: float, help_text: str) -> HyperSpec:
    """A decay factor in [0, 1); sliders reach 0.9, 0.99 and 0.999."""
    return HyperSpec(name, symbol, default, 0.0, 1.0, True, False, 0.0, 0.999, False,
                     "float", help_text)


def _eps(default: float) -> HyperSpec:
    return HyperSpec(
        "eps", r"\epsilon", default, 0.0, _INF, False, False, 1e-10, 1e-1, True, "float",
        "small constant that keeps the denominator away from zero",
    )


def _weight_decay(default: float = 0.0, decoupled: bool = False) -> HyperSpec:
    help_text = (
        "decoupled weight decay: shrinks the parameters by lr*weight_decay each step"
        if decoupled
        else "L2 penalty: adds weight_decay * params to the gradient"
    )
    return HyperSpec("weight_decay", r"\lambda", default, 0.0, _INF, True, False, 0.0, 0.1,
                     False, "float", help_text)


_MOMENTUM = _unit("momentum", r"\mu", 0.9, "how much of the previous step is kept")
_BETA1 = _unit("beta1", r"\beta_1", 0.9, "decay of the running mean of gradients")
_BETA2 = _unit("beta2", r"\beta_2", 0.999, "decay of the running mean of squared gradients")


# ---------------------------------------------------------------------------------------
# Base class: validation, hyper-parameter storage, the pieces every rule shares.


class Optimizer:
    """A validated optimizer: ``init``, ``step`` (pure), ``lookahead``, ``effective_lr``.

    ``hyper`` maps each hyper-parameter name to a float64 array that broadcasts against
    ``(B, 1)`` (0-d for a scalar, ``(B, 1)`` or ``(1, 1)`` for a sweep).
    """

    key: str = ""
    State: type = GDState
    # Whether ``lookahead`` can differ from the parameters (NAG). The descent loop skips
    # the call for every other rule; a subclass that overrides ``lookahead`` sets it True.
    has_lookahead: bool = False

    def __init__(self, spec: OptimizerSpec, hyper: dict[str, np.ndarray]):
        self.spec = spec
        self.hyper = hyper
        # Python floats for scalar hyper-parameters: float arithmetic on them is cheaper
        # than 0-d arrays, and per-call constants stay scalars.
        self._h: dict[str, Any] = {
            name: float(value) if value.ndim == 0 else value for name, value in hyper.items()
        }
        wd = hyper.get("weight_decay")
        self._use_wd = wd is not None and bool(np.any(wd != 0.0))
        self._batch = max((v.shape[0] for v in hyper.values() if v.ndim == 2), default=1)

    def __repr__(self) -> str:
        args = ", ".join(
            f"{k}={float(v):g}" if v.ndim == 0 else f"{k}=<array {v.shape}>"
            for k, v in self.hyper.items()
        )
        return f"optimizers.make({self.key!r}, {args})"

    # -- helpers -------------------------------------------------------------------------

    def _check(self, params: np.ndarray, grads: np.ndarray | None = None) -> None:
        if params.ndim != 2:
            raise ValueError(f"{self.key}: params must have shape (B, D), got {params.shape}")
        if self._batch not in (1, params.shape[0]):
            raise ValueError(
                f"{self.key}: hyper-parameters are for B={self._batch} runs, "
                f"params have B={params.shape[0]}"
            )
        if grads is not None and grads.shape != params.shape:
            raise ValueError(
                f"{self.key}: grads shape {grads.shape} differs from params {params.shape}"
            )

    def _grad(self, params: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """g = grads + weight_decay * params (coupled L2, as torch); grads itself if wd=0."""
        if not self._use_wd:
            return grads
        g = np.multiply(params, self._h["weight_decay"])
        g += grads
        return g

    def _lr_now(self, lr_scale: Any) -> Any:
        lr = self._h["lr"]
        if isinstance(lr_scale, (int, float)):
            return lr * lr_scale if lr_scale != 1 else lr
        return lr * np.asarray(lr_scale, dtype=np.float64)

    def _zeros(self, params: np.ndarray) -> np.ndarray:
        return np.zeros(params.shape, dtype=np.float64)

    def _counter(self, params: np.ndarray) -> np.ndarray:
        return np.zeros((params.shape[0], 1), dtype=np.float64)

    def _full(self, params: np.ndarray, name: str) -> np.ndarray:
        return np.broadcast_to(self.hyper[name], params.shape).astype(np.float64, copy=True)

    # -- public API ----------------------------------------------------------------------

    def init(self, params: np.ndarray) -> NamedTuple:
        """Fresh state for ``params`` of shape (B, D)."""
        params = np.asarray(params, dtype=np.float64)
        self._check(params)
        return self._init(params)

    def step(self, params, grads, state, lr_scale=1.0):
        """One update. Returns ``(new_params, new_state)``; the inputs are not modified."""
        params = np.asarray(params, dtype=np.float64)
        grads = np.asarray(grads, dtype=np.float64)
        self._check(params, grads)
        return self._step(params, grads, state, self._lr_now(lr_scale))

    def _step_unchecked(self, params, grads, state, lr_scale):
        """``step`` for a caller that guarantees float64 (B, D) arrays of one shape and a B
        that fits the hyper-parameters (``engine.descent``'s loop, checked once before it
        starts): the same arithmetic without the per-call conversions and checks, which
        cost as much as the update itself for a few runs of a 2-D surface."""
        return self._step(params, grads, state, self._lr_now(lr_scale))

    def lookahead(self, params, state, lr_scale=1.0) -> np.ndarray:
        """Where the next gradient is conceptually taken (for drawing): params itself,
        except NAG's look-ahead point."""
        return np.asarray(params, dtype=np.float64)

    def effective_lr(self, state, lr_scale=1.0, like=None) -> np.ndarray:
        """(B, D) per-coordinate step size multiplying the gradient (GD, momentum, NAG,
        AdaGrad, RMSprop, AdaDelta) or the bias-corrected first moment (Adam family), from
        the state after a step. ``like`` gives the shape when the state has no arrays (GD).
        """
        raise NotImplementedError

    def explain(self, params, grads, state, lr_scale=1.0) -> dict[str, np.ndarray]:
        """The named quantities of one step (what "Explain this step" shows), from the same
        formulas as :meth:`step`, written out one quantity at a time.

        Always: ``theta`` (params), ``grad`` (grads as given), ``g`` (the gradient the
        rule uses: plus weight_decay·theta for the coupled L2), ``lr`` (γ), ``lr_scale``
        (η(t)), ``lr_t`` (γ·η(t)), ``scheduled`` (1 if η(t) ≠ 1, else 0), ``new`` (the new
        parameters: what ``step`` returns) and ``step`` (new − theta); every state field
        of the new state under its own name and the old one as ``<field>_prev``; then the
        rule's own intermediate quantities (bias corrections, m̂, v̂, Δx, μ_t, ...), listed
        in its registry's ``explain`` lines. Arrays broadcast against (B, 1); the inputs
        are not modified. ``new`` equals ``step(...)[0]`` to rounding (the step folds some
        constants together to save passes over the arrays).
        """
        params = np.asarray(params, dtype=np.float64)
        grads = np.asarray(grads, dtype=np.float64)
        self._check(params, grads)
        lr = self._lr_now(lr_scale)
        scale = np.asarray(lr_scale, dtype=np.float64)
        g = np.add(grads, np.multiply(params, self._h["weight_decay"])) if self._use_wd \
            else grads.copy()
        q: dict[str, Any] = {
            "theta": params, "grad": grads, "g": g, "lr": self.hyper["lr"],
            "lr_scale": scale, "lr_t": np.asarray(lr, dtype=np.float64),
            "scheduled": np.asarray(np.any(scale != 1.0), dtype=np.float64),
        }
        for name, value in zip(state._fields, state, strict=True):
            q[f"{name}_prev"] = value
        q.update(self._explain(params, g, state, lr))
        q["step"] = q["new"] - params
        return {name: np.asarray(value, dtype=np.float64) for name, value in q.items()}

    def _explain(self, params, g, state, lr) -> dict[str, Any]:
        raise NotImplementedError

    def _lr_like(self, shape_source: np.ndarray, lr_scale: Any) -> np.ndarray:
        out = np.empty(shape_source.shape)
        out[...] = self._lr_now(lr_scale)  # broadcasts; cheaper than broadcast_to + copy
        return out

    # subclass hooks
    def _init(self, params: np.ndarray) -> NamedTuple:
        raise NotImplementedError

    def _step(self, params, grads, state, lr):
        raise NotImplementedError


def _steps_and_corrections(t: np.ndarray, *betas: Any) -> tuple[np.ndarray, list[Any]]:
    """t + 1 and the bias corrections 1 - beta**(t+1) for each beta.

    All runs of a batch usually share the step count; then the corrections are computed
    once as Python floats instead of B powers each (a power is the slowest thing here).
    """
    t_new = t + 1.0
    first = t_new[0, 0] if t_new.size else 1.0
    if np.count_nonzero(t_new == first) == t_new.size:  # cheaper than (...).all()
        n = float(first)
        return t_new, [
            1.0 - b ** n if isinstance(b, float) else 1.0 - np.power(b, n) for b in betas
        ]
    return t_new, [1.0 - np.power(b, t_new) for b in betas]


def _fold(constants: Callable, inputs: tuple, guard: Any) -> tuple[tuple | None, Any]:
    """Constants folded into a denominator (Adam, NAdam), and the runs that may use them.

    ``constants(*inputs, sqrt)`` computes them with the same float operations whether the
    inputs are Python floats (a scalar hyper-parameter, a step count shared by the batch)
    or per-run arrays (a learning-rate sweep): so a run rounds exactly the same alone and
    as one row of a sweep, and a sweep can redraw a race's path.  Returns
    ``(constants, ok)``: ok is True (every run folds), False (none: constants None) or a
    (B, 1) bool array, True where |guard| > 1e-200 and every constant is finite; there the
    other runs' constants are replaced by 1 (harmless), and the caller computes those runs
    unfolded.
    """
    # (plain loops: generator expressions would cost more than the arithmetic here)
    for v in inputs:
        if not isinstance(v, float):
            break
    else:
        if abs(guard) > 1e-200:
            consts = constants(*inputs, math.sqrt)
            for c in consts:
                if not math.isfinite(c):
                    return None, False
            return consts, True
        return None, False
    with np.errstate(all="ignore"):  # tiny or huge hyper-parameters: handled by ok
        consts = constants(*inputs, np.sqrt)
        ok = np.abs(guard) > 1e-200
        for c in consts:
            ok = ok & np.isfinite(c)
    n_ok = np.count_nonzero(ok)  # (a fraction of the call cost of ok.all() / ok.any())
    if n_ok == ok.size:
        return consts, True
    if n_ok == 0:
        return None, False
    return tuple(np.where(ok, c, 1.0) for c in consts), ok


def _adam_constants(lr, bc1, bc2, eps, sqrt):
    """c1 = -bc1 / (lr sqrt(bc2)), c2 = -eps bc1 / lr."""
    return -bc1 / (lr * sqrt(bc2)), -eps * bc1 / lr


def _adam_unfolded(root, m, lr, bc1, bc2, eps):
    """-lr / bc1 * m / (root / sqrt(bc2) + eps), into root (which holds sqrt(second))."""
    root *= 1.0 / np.sqrt(bc2)
    root += eps
    np.divide(m, root, out=root)
    root *= -lr / bc1
    return root


def _nadam_constants(coef_g, coef_m, bc2, eps, sqrt):
    """c1 = 1 / (sqrt(bc2) coef_g), c2 = eps / coef_g, ratio = coef_m / coef_g."""
    return 1.0 / (sqrt(bc2) * coef_g), eps / coef_g, coef_m / coef_g


def _nadam_unfolded(g, m, v, coef_g, coef_m, bc2, eps):
    """(coef_g g + coef_m m) / (sqrt(v / bc2) + eps)."""
    den = np.multiply(v, 1.0 / bc2)
    np.sqrt(den, out=den)
    den += eps
    new = np.multiply(g, coef_g)
    step_m = np.multiply(m, coef_m)
    new += step_m
    new /= den
    return new


# ---------------------------------------------------------------------------------------
# The rules.


class GD(Optimizer):
    r"""theta_t = theta_{t-1} - gamma * g_t."""

    key = "gd"
    State = GDState

    def _init(self, params):
        return GDState()

    def _step(self, params, grads, state, lr):
        g = self._grad(params, grads)
        new = np.multiply(g, -lr)
        new += params
        return new, state

    def effective_lr(self, state, lr_scale=1.0, like=None):
        out = np.empty((self._batch, 1) if like is None else np.shape(like))
        out[...] = self._lr_now(lr_scale)
        return out

    def _explain(self, params, g, state, lr):
        return {"new": params - lr * g}


class Momentum(Optimizer):
    r"""b_t = mu * b_{t-1} + g_t (b_0 = g_1), theta_t = theta_{t-1} - gamma * b_t."""

    key = "momentum"
    State = MomentumState

    def _init(self, params):
        # A zero buffer gives b_1 = mu * 0 + g_1 = g_1, torch's first-step rule.
        return MomentumState(self._zeros(params))

    def _step(self, params, grads, state, lr):
        g = self._grad(params, grads)
        buf = np.multiply(state.buf, self._h["momentum"])
        buf += g
        new = np.multiply(buf, -lr)
        new += params
        return new, MomentumState(buf)

    def effective_lr(self, state, lr_scale=1.0, like=None):
        return self._lr_like(state.buf, lr_scale)

    def _explain(self, params, g, state, lr):
        mu = self._h["momentum"]
        buf = np.multiply(state.buf, mu)
        buf += g
        return {"buf": buf, "momentum_step": -lr * mu * state.buf, "new": params - lr * buf}


class NAG(Momentum):
    r"""b_t = mu * b_{t-1} + g_t, theta_t = theta_{t-1} - gamma * (g_t + mu * b_t)."""

    key = "nag"
    has_lookahead = True

    def _step(self, params, grads, state, lr):
        g = self._grad(params, grads)
        mu = self._h["momentum"]
        buf = np.multiply(state.buf, mu)
        buf += g
        new = np.multiply(buf, mu)
        new += g
        new *= -lr
        new += params
        return new, MomentumState(buf)

    def lookahead(self, params, state, lr_scale=1.0):
        """params - lr * momentum * buf: where momentum alone carries the parameters next,
        the look-ahead point the NAG picture draws. (torch's parameters are themselves the
        notes' look-ahead points W - momentum * v; see the registry's notes_diff.)"""
        params = np.asarray(params, dtype=np.float64)
        shift = np.multiply(state.buf, -self._lr_now(lr_scale) * self._h["momentum"])
        shift += params
        return shift

    def _explain(self, params, g, state, lr):
        mu = self._h["momentum"]
        buf = np.multiply(state.buf, mu)
        buf += g
        return {"buf": buf, "momentum_step": -lr * mu * state.buf,
                "lookahead": params - lr * mu * state.buf,
                "new": params - lr * (g + mu * buf)}


class Adagrad(Optimizer):
    r"""G_t = G_{t-1} + g_t^2, theta_t = theta_{t-1} - gamma * g_t / (sqrt(G_t) + eps)."""

    key = "adagrad"
    State = AdagradState

    def _init(self, params):
        return AdagradState(self._full(params, "initial_accumulator"))

    def _step(self, params, grads, state, lr):
        g = self._grad(params, grads)
        acc = np.multiply(g, g)
        acc += state.sum
        new = np.sqrt(acc)
        new += self._h["eps"]
        np.divide(g, new, out=new)
        new *= -lr
        new += params
        return new, AdagradState(acc)

    def effective_lr(self, state, lr_scale=1.0, like=None):
        out = np.sqrt(state.sum)
        out += self._h["eps"]
        return np.divide(self._lr_now(lr_scale), out, out=out)

    def _explain(self, params, g, state, lr):
        g_sq = np.multiply(g, g)
        total = g_sq + state.sum
        denominator = np.sqrt(total) + self._h["eps"]
        return {"g_sq": g_sq, "sum": total, "denominator": denominator,
                "new": params - lr * (g / denominator)}


class RMSprop(Optimizer):
    r"""v_t = alpha * v_{t-1} + (1 - alpha) g_t^2,
    theta_t = theta_{t-1} - gamma * g_t / (sqrt(v_t) + eps)."""

    key = "rmsprop"
    State = RMSpropState

    def _init(self, params):
        return RMSpropState(self._zeros(params))

    def _step(self, params, grads, state, lr):
        g = self._grad(params, grads)
        rho = self._h["rho"]
        new = np.multiply(g, g)  # scratch first, the new parameters at the end
        new *= 1.0 - rho
        avg = np.multiply(state.square_avg, rho)
        avg += new
        np.sqrt(avg, out=new)
        new += self._h["eps"]
        np.divide(g, new, out=new)
        new *= -lr
        new += params
        return new, RMSpropState(avg)

    def effective_lr(self, state, lr_scale=1.0, like=None):
        out = np.sqrt(state.square_avg)
        out += self._h["eps"]
        return np.divide(self._lr_now(lr_scale), out, out=out)

    def _explain(self, params, g, state, lr):
        rho = self._h["rho"]
        g_sq = np.multiply(g, g)
        avg = state.square_avg * rho + g_sq * (1.0 - rho)
        denominator = np.sqrt(avg) + self._h["eps"]
        return {"g_sq": g_sq, "square_avg": avg, "denominator": denominator,
                "new": params - lr * (g / denominator)}


class Adadelta(Optimizer):
    r"""v_t = rho v_{t-1} + (1 - rho) g_t^2,
    Delta_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t,
    u_t = rho u_{t-1} + (1 - rho) Delta_t^2, theta_t = theta_{t-1} - gamma * Delta_t."""

    key = "adadelta"
    State = AdadeltaState

    def _init(self, params):
        return AdadeltaState(self._zeros(params), self._zeros(params))

    def _step(self, params, grads, state, lr):
        g = self._grad(params, grads)
        rho, eps = self._h["rho"], self._h["eps"]
        keep = 1.0 - rho
        new = np.multiply(g, g)
        new *= keep
        avg = np.multiply(state.square_avg, rho)
        avg += new
        np.add(avg, eps, out=new)
        np.sqrt(new, out=new)  # std = sqrt(v_t + eps)
        delta = np.add(state.acc_delta, eps)
        np.sqrt(delta, out=delta)
        delta /= new
        delta *= g
        np.multiply(delta, delta, out=new)
        new *= keep
        acc = np.multiply(state.acc_delta, rho)
        acc += new
        np.multiply(delta, -lr, out=new)
        new += params
        return new, AdadeltaState(avg, acc)

    def effective_lr(self, state, lr_scale=1.0, like=None):
        """gamma * sqrt(u + eps) / sqrt(v + eps): the factor the next step applies to its
        gradient, before that gradient enters v."""
        eps = self._h["eps"]
        out = np.add(state.acc_delta, eps)
        den = np.add(state.square_avg, eps)
        out /= den
        np.sqrt(out, out=out)
        out *= self._lr_now(lr_scale)
        return out

    def _explain(self, params, g, state, lr):
        rho, eps = self._h["rho"], self._h["eps"]
        keep = 1.0 - rho
        g_sq = np.multiply(g, g)
        avg = state.square_avg * rho + g_sq * keep
        std = np.sqrt(avg + eps)
        delta = np.sqrt(state.acc_delta + eps) / std * g
        delta_sq = delta * delta
        acc = state.acc_delta * rho + delta_sq * keep
        return {"g_sq": g_sq, "square_avg": avg, "std": std, "delta": delta,
                "delta_sq": delta_sq, "acc_delta": acc, "new": params - lr * delta}


class Adam(Optimizer):
    r"""m_t = beta1 m + (1 - beta1) g_t, v_t = beta2 v + (1 - beta2) g_t^2,
    vmax_t = max(vmax_{t-1}, v_t) with amsgrad,
    theta_t = theta_{t-1} - gamma / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps).
    """

    key = "adam"
    State = AdamState

    def __init__(self, spec, hyper):
        super().__init__(spec, hyper)
        ams = hyper.get("amsgrad")
        self._ams_all = ams is not None and bool(np.all(ams != 0.0))
        self._ams_any = ams is not None and bool(np.any(ams != 0.0))
        self._ams_mask = None if ams is None or ams.ndim == 0 else ams != 0.0

    def _init(self, params):
        return AdamState(self._zeros(params), self._zeros(params), self._zeros(params),
                         self._counter(params))

    def _moments(self, g, state):
        """New (m, v) and a scratch array of the same shape."""
        b1, b2 = self._h["beta1"], self._h["beta2"]
        # torch: exp_avg.lerp_(grad, 1 - beta1), i.e. m + (1 - beta1)(g - m)
        m = np.subtract(g, state.exp_avg)
        m *= 1.0 - b1
        m += state.exp_avg
        scratch = np.multiply(g, g)
        scratch *= 1.0 - b2
        v = np.multiply(state.exp_avg_sq, b2)
        v += scratch
        return m, v, scratch

    def _apply(self, params_base, m, second, scratch, lr, bc1, bc2):
        """params_base - lr / bc1 * m / (sqrt(second) / sqrt(bc2) + eps), into scratch.

        Both constants are folded into the denominator, one pass over the array fewer:
        (sqrt(v) / sqrt(bc2) + eps) * (-bc1 / lr) = sqrt(v) * c1 + c2 (see :func:`_fold`).
        """
        eps = self._h["eps"]
        consts, ok = _fold(_adam_constants, (lr, bc1, bc2, eps), lr)
        np.sqrt(second, out=scratch)
        if ok is False:
            _adam_unfolded(scratch, m, lr, bc1, bc2, eps)
        else:
            c1, c2 = consts
            if ok is not True:
                unfolded = _adam_unfolded(np.sqrt(second), m, lr, bc1, bc2, eps)
            scratch *= c1
            scratch += c2
            np.divide(m, scratch, out=scratch)
            if ok is not True:
                np.copyto(scratch, unfolded, where=~ok)
        scratch += params_base
        return scratch

    def _step(self, params, grads, state, lr):
        g = self._grad(params, grads)
        t, (bc1, bc2) = _steps_and_corrections(state.t, self._h["beta1"], self._h["beta2"])
        m, v, scratch = self._moments(g, state)
        vmax = state.max_exp_avg_sq
        second = v
        if self._ams_all:
            vmax = second = np.maximum(vmax, v)
        elif self._ams_any:
            # Mixed sweep: runs without amsgrad keep an untouched (zero) max, as alone.
            vmax = np.where(self._ams_mask, np.maximum(vmax, v), vmax)
            second = np.where(self._ams_mask, vmax, v)
        new = self._apply(params, m, second, scratch, lr, bc1, bc2)
        return new, AdamState(m, v, vmax, t)

    def _second_moment(self, state):
        if not self._ams_any:
            return state.exp_avg_sq
        if self._ams_all:
            return state.max_exp_avg_sq
        return np.where(self._ams_mask, state.max_exp_avg_sq, state.exp_avg_sq)

    def effective_lr(self, state, lr_scale=1.0, like=None):
        """gamma / (sqrt(v_t / (1 - beta2^t)) + eps), multiplying m_t / (1 - beta1^t)."""
        t = np.maximum(state.t, 1.0)  # a fresh state (t = 0) has no bias correction yet
        bc2 = 1.0 - np.power(self._h["beta2"], t)
        out = np.divide(self._second_moment(state), bc2)
        np.sqrt(out, out=out)
        out += self._h["eps"]
        return np.divide(self._lr_now(lr_scale), out, out=out)

    def _adam_quantities(self, base, g, state, lr, second_of) -> dict[str, Any]:
        """m, v, the second moment used, bias corrections, m̂, v̂ and the new parameters
        base − γ·m̂/(√v̂ + ε) (base: θ, or AdamW's decayed θ')."""
        b1, b2 = self._h["beta1"], self._h["beta2"]
        t, (bc1, bc2) = _steps_and_corrections(state.t, b1, b2)
        g_sq = np.multiply(g, g)
        m = state.exp_avg + (g - state.exp_avg) * (1.0 - b1)
        v = state.exp_avg_sq * b2 + g_sq * (1.0 - b2)
        out = {"t": t, "g_sq": g_sq, "exp_avg": m, "exp_avg_sq": v,
               "bc1": np.broadcast_to(bc1, t.shape), "bc2": np.broadcast_to(bc2, t.shape)}
        second = second_of(v, out)
        m_hat = m / bc1
        v_hat = second / bc2
        denominator = np.sqrt(v_hat) + self._h["eps"]
        out.update(m_hat=m_hat, v_hat=v_hat, denominator=denominator,
                   new=base - lr * (m_hat / denominator))
        return out

    def _explain(self, params, g, state, lr):
        def second_of(v, out):
            vmax = state.max_exp_avg_sq
            if self._ams_any:
                vmax = np.maximum(vmax, v)
                if not self._ams_all:
                    vmax = np.where(self._ams_mask, vmax, state.max_exp_avg_sq)
            out["max_exp_avg_sq"] = vmax
            if not self._ams_any:
                return v
            return vmax if self._ams_all else np.where(self._ams_mask, vmax, v)

        return self._adam_quantities(params, g, state, lr, second_of)


class AdamW(Adam):
    r"""Adam with decoupled weight decay: theta <- theta (1 - gamma lambda) first."""

    key = "adamw"
    State = AdamWState

    def __init__(self, spec, hyper):
        super().__init__(spec, hyper)
        self._use_wd = False  # decoupled: never added to the gradient
        self._decay = bool(np.any(hyper["weight_decay"] != 0.0))

    def _init(self, params):
        return AdamWState(self._zeros(params), self._zeros(params), self._counter(params))

    def _step(self, params, grads, state, lr):
        t, (bc1, bc2) = _steps_and_corrections(state.t, self._h["beta1"], self._h["beta2"])
        base = params
        if self._decay:
            base = np.multiply(params, 1.0 - lr * self._h["weight_decay"])
        m, v, scratch = self._moments(grads, state)
        new = self._apply(base, m, v, scratch, lr, bc1, bc2)
        return new, AdamWState(m, v, t)

    def _second_moment(self, state):
        return state.exp_avg_sq

    def _explain(self, params, g, state, lr):
        # decoupled: g is the plain gradient (self._use_wd is False for AdamW)
        decayed = params * (1.0 - lr * self._h["weight_decay"])
        out = self._adam_quantities(decayed, g, state, lr, lambda v, out: v)
        out["decayed"] = decayed
        return out


class NAdam(Optimizer):
    r"""mu_t = beta1 (1 - 0.5 * 0.96^(t psi)), Pi_t = prod_{i<=t} mu_i,
    m_t, v_t as Adam, theta_t = theta_{t-1}
      - gamma (1 - mu_t) / (1 - Pi_t) * g_t / (sqrt(v_t / (1 - beta2^t)) + eps)
      - gamma mu_{t+1} / (1 - Pi_t mu_{t+1}) * m_t / (sqrt(v_t / (1 - beta2^t)) + eps)."""

    key = "nadam"
    State = NAdamState

    def _init(self, params):
        return NAdamState(self._zeros(params), self._zeros(params),
                          np.ones(params.shape, dtype=np.float64), self._counter(params))

    def _step(self, params, grads, state, lr):
        g = self._grad(params, grads)
        b1, b2, psi = self._h["beta1"], self._h["beta2"], self._h["momentum_decay"]
        t, (bc2,) = _steps_and_corrections(state.t, b2)
        if isinstance(bc2, float) and isinstance(b1, float) and isinstance(psi, float):
            n = float(t[0, 0])
            mu = b1 * (1.0 - 0.5 * 0.96 ** (n * psi))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((n + 1.0) * psi))
        else:
            mu = b1 * (1.0 - 0.5 * np.power(0.96, t * psi))
            mu_next = b1 * (1.0 - 0.5 * np.power(0.96, (t + 1.0) * psi))
        prod = np.multiply(state.mu_product, mu)
        # The product is the same for every coordinate of a run: use one column of it.
        prod_col = prod[:, :1]
        first = prod_col[0, 0] if prod_col.size else 1.0
        if isinstance(mu, float) and np.count_nonzero(prod_col == first) == prod_col.size:
            prod_col = float(first)
        coef_g = -lr * (1.0 - mu) / (1.0 - prod_col)
        coef_m = -lr * mu_next / (1.0 - prod_col * mu_next)

        m = np.subtract(g, state.exp_avg)
        m *= 1.0 - b1
        m += state.exp_avg
        scratch = np.multiply(g, g)
        scratch *= 1.0 - b2
        v = np.multiply(state.exp_avg_sq, b2)
        v += scratch
        eps = self._h["eps"]
        # Divide numerator and denominator by coef_g: one pass over the arrays fewer.
        consts, ok = _fold(_nadam_constants, (coef_g, coef_m, bc2, eps), coef_g)
        if ok is False:
            new = _nadam_unfolded(g, m, v, coef_g, coef_m, bc2, eps)
        else:
            c1, c2, ratio = consts
            np.sqrt(v, out=scratch)
            scratch *= c1
            scratch += c2
            new = np.multiply(m, ratio)
            new += g
            new /= scratch
            if ok is not True:
                np.copyto(new, _nadam_unfolded(g, m, v, coef_g, coef_m, bc2, eps), where=~ok)
        new += params
        return new, NAdamState(m, v, prod, t)

    def effective_lr(self, state, lr_scale=1.0, like=None):
        """gamma / (sqrt(v_t / (1 - beta2^t)) + eps)."""
        t = np.maximum(state.t, 1.0)
        bc2 = 1.0 - np.power(self._h["beta2"], t)
        out = np.divide(state.exp_avg_sq, bc2)
        np.sqrt(out, out=out)
        out += self._h["eps"]
        return np.divide(self._lr_now(lr_scale), out, out=out)

    def _explain(self, params, g, state, lr):
        b1, b2, psi = self._h["beta1"], self._h["beta2"], self._h["momentum_decay"]
        t, (bc2,) = _steps_and_corrections(state.t, b2)
        if isinstance(bc2, float) and isinstance(b1, float) and isinstance(psi, float):
            n = float(t[0, 0])  # as step: Python floats when every run is at step n
            mu = np.full(t.shape, b1 * (1.0 - 0.5 * 0.96 ** (n * psi)))
            mu_next = np.full(t.shape, b1 * (1.0 - 0.5 * 0.96 ** ((n + 1.0) * psi)))
        else:
            mu = b1 * (1.0 - 0.5 * np.power(0.96, t * psi))
            mu_next = b1 * (1.0 - 0.5 * np.power(0.96, (t + 1.0) * psi))
        prod = state.mu_product * mu
        coef_g = lr * (1.0 - mu) / (1.0 - prod)
        coef_m = lr * mu_next / (1.0 - prod * mu_next)
        g_sq = np.multiply(g, g)
        m = state.exp_avg + (g - state.exp_avg) * (1.0 - b1)
        v = state.exp_avg_sq * b2 + g_sq * (1.0 - b2)
        v_hat = v / bc2
        denominator = np.sqrt(v_hat) + self._h["eps"]
        return {"t": t, "mu": mu, "mu_next": mu_next, "mu_product": prod,
                "coef_g": coef_g, "coef_m": coef_m, "g_sq": g_sq, "exp_avg": m,
                "exp_avg_sq": v, "bc2": np.broadcast_to(bc2, t.shape), "v_hat": v_hat,
                "denominator": denominator,
                "new": params - (coef_g * g + coef_m * m) / denominator}


class Adamax(Optimizer):
    r"""m_t as Adam, u_t = max(beta2 u_{t-1}, |g_t| + eps),
    theta_t = theta_{t-1} - gamma / (1 - beta1^t) * m_t / u_t."""

    key = "adamax"
    State = AdamaxState

    def _init(self, params):
        return AdamaxState(self._zeros(params), self._zeros(params), self._counter(params))

    def _step(self, params, grads, state, lr):
        g = self._grad(params, grads)
        b1 = self._h["beta1"]
        t, (bc1,) = _steps_and_corrections(state.t, b1)
        m = np.subtract(g, state.exp_avg)
        m *= 1.0 - b1
        m += state.exp_avg
        u = np.abs(g)
        u += self._h["eps"]
        new = np.multiply(state.exp_inf, self._h["beta2"])
        np.maximum(u, new, out=u)
        np.divide(m, u, out=new)
        new *= -lr / bc1
        new += params
        return new, AdamaxState(m, u, t)

    def effective_lr(self, state, lr_scale=1.0, like=None):
        """gamma / u_t, multiplying m_t / (1 - beta1^t)."""
        return np.divide(self._lr_now(lr_scale), state.exp_inf)

    def _explain(self, params, g, state, lr):
        b1 = self._h["beta1"]
        t, (bc1,) = _steps_and_corrections(state.t, b1)
        m = state.exp_avg + (g - state.exp_avg) * (1.0 - b1)
        abs_g = np.abs(g) + self._h["eps"]
        decayed_max = state.exp_inf * self._h["beta2"]
        u = np.maximum(abs_g, decayed_max)
        return {"t": t, "exp_avg": m, "abs_g": abs_g, "decayed_max": decayed_max,
                "exp_inf": u, "bc1": np.broadcast_to(bc1, t.shape),
                "new": params - lr / bc1 * (m / u)}


# ---------------------------------------------------------------------------------------
# Registry.

_NOTES_EPS_INSIDE = (
    r"The notes put $\epsilon$ inside the square root, $\eta/\sqrt{G_t+\epsilon}$; "
    r"torch (and this app) adds it outside, $\gamma/(\sqrt{G_t}+\epsilon)$. "
    r"The two agree once $G_t \gg \epsilon$ and differ while $G_t \lesssim \epsilon$, "
    r"that is while the gradients are about $\sqrt{\epsilon}$ or smaller."
)

# "Explain this step" lines shared by the rules: the schedule's learning rate and the
# gradient (plus the coupled L2 weight decay when it is on).
_SCHEDULE_LINE = ExplainLine(r"\gamma_t &= \gamma\,\eta(t) = «lr»\cdot «lr_scale» = «lr_t»",
                             "scheduled")
_GRAD_LINES = (
    ExplainLine(r"g_t &= \nabla f(\theta_{t-1}) = «grad»", "!weight_decay"),
    ExplainLine(r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1} = «grad» + "
                r"«weight_decay»\cdot «theta» = «g»", "weight_decay"),
)
_HEAD = (_SCHEDULE_LINE, *_GRAD_LINES)
_MOMENTUM_LINE = ExplainLine(r"b_t &= \mu\,b_{t-1} + g_t = «momentum»\cdot «buf_prev» + «g» "
                             r"= «buf»")
_M_LINE = ExplainLine(r"m_t &= \beta_1 m_{t-1} + (1-\beta_1)\,g_t = «beta1»\cdot «exp_avg_prev»"
                      r" + (1-«beta1»)\cdot «g» = «exp_avg»")
_V_LINE = ExplainLine(r"v_t &= \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2 = «beta2»\cdot "
                      r"«exp_avg_sq_prev» + (1-«beta2»)\cdot «g_sq» = «exp_avg_sq»")
_M_HAT_LINE = ExplainLine(r"\hat m_t &= \frac{m_t}{1-\beta_1^t} = \frac{«exp_avg»}"
                          r"{1-«beta1»^{«t»}} = «m_hat»")
_V_HAT_LINE = ExplainLine(r"\hat v_t &= \frac{v_t}{1-\beta_2^t} = \frac{«exp_avg_sq»}"
                          r"{1-«beta2»^{«t»}} = «v_hat»")
_ADAM_STEP = (r" - \gamma\,\frac{\hat m_t}{\sqrt{\hat v_t}+\epsilon} = ",
              r" - «lr_t»\cdot \frac{«m_hat»}{\sqrt{«v_hat»} + «eps»} = «new»")


OPTIMIZERS: dict[str, OptimizerSpec] = {}


def _register(cls: type[Optimizer], spec: OptimizerSpec) -> None:
    OPTIMIZERS[spec.key] = spec
    _CLASSES[spec.key] = cls


_CLASSES: dict[str, type[Optimizer]] = {}

_register(GD, OptimizerSpec(
    key="gd",
    title="Gradient descent",
    hyper=(_lr(0.01), _weight_decay()),
    latex=(
        r"\begin{aligned}"
        r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\"
        r"\theta_t &= \theta_{t-1} - \gamma\, g_t"
        r"\end{aligned}"
    ),
    notes_diff="",
    summary="Step against the gradient, scaled by the learning rate.",
    explain=(*_HEAD, ExplainLine(
        r"\theta_t &= \theta_{t-1} - \gamma\,g_t = «theta» - «lr_t»\cdot «g» = «new»")),
))

_register(Momentum, OptimizerSpec(
    key="momentum",
    title="Momentum",
    hyper=(_lr(0.01), _MOMENTUM, _weight_decay()),
    latex=(
        r"\begin{aligned}"
        r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\"
        r"b_t &= \mu\, b_{t-1} + g_t, \quad b_0 = 0\\"
        r"\theta_t &= \theta_{t-1} - \gamma\, b_t"
        r"\end{aligned}"
    ),
    notes_diff=(
        r"The notes keep a velocity that already contains the learning rate, "
        r"$v_t = \gamma v_{t-1} - \eta\nabla L$, $W_{t+1} = W_t + v_t$ "
        r"(their $\gamma$ is the momentum $\mu$ here, their $\eta$ the learning rate "
        r"$\gamma$). torch keeps the buffer without it, $b_t = \mu b_{t-1} + g_t$, and "
        r"steps $\theta_t = \theta_{t-1} - \gamma b_t$; so $v_t = -\gamma b_t$ and the "
        r"two are the same while the learning rate is constant. With a schedule they "
        r"differ: here a new learning rate rescales the whole accumulated buffer at once."
    ),
    summary="Keeps a running sum of past gradients: speeds up along valleys, can overshoot.",
    explain=(*_HEAD, _MOMENTUM_LINE, ExplainLine(
        r"\theta_t &= \theta_{t-1} - \gamma\,b_t = «theta» - «lr_t»\cdot «buf» = «new»")),
    state_symbols=(("buf", "b"),),
))

_register(NAG, OptimizerSpec(
    key="nag",
    title="Nesterov (NAG)",
    hyper=(_lr(0.01), _MOMENTUM, _weight_decay()),
    latex=(
        r"\begin{aligned}"
        r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\"
        r"b_t &= \mu\, b_{t-1} + g_t, \quad b_0 = 0\\"
        r"\theta_t &= \theta_{t-1} - \gamma\,(g_t + \mu\, b_t)"
        r"\end{aligned}"
    ),
    notes_diff=(
        r"The notes write NAG in its look-ahead form (their $\gamma$ is the momentum, "
        r"$\mu$ here; their $\eta$ the learning rate, $\gamma$ here): "
        r"$v_t = \gamma v_{t-1} + \eta\nabla L(W_t - \gamma v_{t-1})$, "
        r"$W_{t+1} = W_t + v_t$, so the gradient is taken at the look-ahead point. (As "
        r"printed the signs clash: with $+\eta\nabla L$ the update must read "
        r"$W_{t+1} = W_t - v_t$.) torch uses the equivalent rewrite of Sutskever et al., "
        r"which needs the gradient only at the current parameters: "
        r"$b_t = \mu b_{t-1} + g_t$, $\theta_t = \theta_{t-1} - \gamma (g_t + \mu b_t)$. "
        r"Its parameters $\theta$ are the notes' look-ahead points and its buffer $b$ is "
        r"the notes' $v$ divided by the learning rate. The picture also marks "
        r"$\theta - \gamma\mu b$, where momentum alone would carry $\theta$ next."
    ),
    summary="Momentum that corrects itself with the gradient at the point it is heading to.",
    explain=(*_HEAD, _MOMENTUM_LINE, ExplainLine(
        r"\theta_t &= \theta_{t-1} - \gamma\,(g_t + \mu\,b_t) = «theta» - «lr_t»\cdot "
        r"\left(«g» + «momentum»\cdot «buf»\right) = «new»")),
    state_symbols=(("buf", "b"),),
))

_register(Adagrad, OptimizerSpec(
    key="adagrad",
    title="AdaGrad",
    hyper=(
        _lr(0.01),
        _eps(1e-10),
        HyperSpec("initial_accumulator", r"\tau", 0.0, 0.0, _INF, True, False, 0.0, 1.0,
                  False, "float", "starting value of the sum of squared gradients"),
        _weight_decay(),
    ),
    latex=(
        r"\begin{aligned}"
        r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\"
        r"G_t &= G_{t-1} + g_t^2, \quad G_0 = \tau\\"
        r"\theta_t &= \theta_{t-1} - \gamma\,\frac{g_t}{\sqrt{G_t} + \epsilon}"
        r"\end{aligned}"
    ),
    notes_diff=_NOTES_EPS_INSIDE,
    summary="Divides each coordinate's step by the root of its summed squared gradients.",
    explain=(
        *_HEAD,
        ExplainLine(r"G_t &= G_{t-1} + g_t^2 = «sum_prev» + «g_sq» = «sum»"),
        ExplainLine(r"\theta_t &= \theta_{t-1} - \gamma\,\frac{g_t}{\sqrt{G_t}+\epsilon} = "
                    r"«theta» - «lr_t»\cdot \frac{«g»}{\sqrt{«sum»} + «eps»} = «new»"),
    ),
    state_symbols=(("sum", "G"),),
))

_register(RMSprop, OptimizerSpec(
    key="rmsprop",
    title="RMSProp",
    hyper=(_lr(0.01), _unit("rho", r"\alpha", 0.99, "decay of the running mean of squared "
                            "gradients (torch calls it alpha)"), _eps(1e-8), _weight_decay()),
    latex=(
        r"\begin{aligned}"
        r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\"
        r"v_t &= \alpha\, v_{t-1} + (1-\alpha)\, g_t^2, \quad v_0 = 0\\"
        r"\theta_t &= \theta_{t-1} - \gamma\,\frac{g_t}{\sqrt{v_t} + \epsilon}"
        r"\end{aligned}"
    ),
    notes_diff=(
        r"The notes call the running mean $G_t$ and its decay $\gamma$ (torch: "
        r"$v_t$ and $\alpha$; our slider: rho). " + _NOTES_EPS_INSIDE
    ),
    summary="AdaGrad with a forgetting running mean, so the step size does not die out.",
    explain=(
        *_HEAD,
        ExplainLine(r"v_t &= \alpha\,v_{t-1} + (1-\alpha)\,g_t^2 = «rho»\cdot "
                    r"«square_avg_prev» + (1-«rho»)\cdot «g_sq» = «square_avg»"),
        ExplainLine(r"\theta_t &= \theta_{t-1} - \gamma\,\frac{g_t}{\sqrt{v_t}+\epsilon} = "
                    r"«theta» - «lr_t»\cdot \frac{«g»}{\sqrt{«square_avg»} + «eps»} = «new»"),
    ),
    state_symbols=(("square_avg", "v"),),
))

_register(Adadelta, OptimizerSpec(
    key="adadelta",
    title="AdaDelta",
    hyper=(_lr(1.0, 1e-3, 10.0), _unit("rho", r"\rho", 0.9, "decay of both running means"),
           _eps(1e-6), _weight_decay()),
    latex=(
        r"\begin{aligned}"
        r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\"
        r"v_t &= \rho\, v_{t-1} + (1-\rho)\, g_t^2\\"
        r"\Delta x_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t\\"
        r"u_t &= \rho\, u_{t-1} + (1-\rho)\, \Delta x_t^2, \quad u_0 = v_0 = 0\\"
        r"\theta_t &= \theta_{t-1} - \gamma\, \Delta x_t"
        r"\end{aligned}"
    ),
    notes_diff=(
        r"The notes write $\Delta_W = \frac{\sqrt{s+\epsilon}}{G_t+\epsilon}\,\nabla L$, "
        r"with $G_t$ not square-rooted: a typo; the method (Zeiler 2012) and torch divide "
        r"by $\sqrt{G_t+\epsilon}$, so that the step has the units of the parameters. "
        r"The notes also have no learning rate (AdaDelta was designed without one); torch "
        r"multiplies $\Delta x_t$ by $\gamma$, default 1.0, which gives the notes' rule."
    ),
    summary="RMSProp whose step size is a running mean of past steps: no learning rate needed.",
    explain=(
        *_HEAD,
        ExplainLine(r"v_t &= \rho\,v_{t-1} + (1-\rho)\,g_t^2 = «rho»\cdot «square_avg_prev»"
                    r" + (1-«rho»)\cdot «g_sq» = «square_avg»"),
        ExplainLine(r"\Delta x_t &= \frac{\sqrt{u_{t-1}+\epsilon}}{\sqrt{v_t+\epsilon}}\,g_t = "
                    r"\frac{\sqrt{«acc_delta_prev» + «eps»}}{\sqrt{«square_avg» + «eps»}}\cdot "
                    r"«g» = «delta»"),
        ExplainLine(r"u_t &= \rho\,u_{t-1} + (1-\rho)\,\Delta x_t^2 = «rho»\cdot "
                    r"«acc_delta_prev» + (1-«rho»)\cdot «delta_sq» = «acc_delta»"),
        ExplainLine(r"\theta_t &= \theta_{t-1} - \gamma\,\Delta x_t = «theta» - «lr_t»\cdot "
                    r"«delta» = «new»"),
    ),
    state_symbols=(("square_avg", "v"), ("acc_delta", "u")),
))

_ADAM_NOTES = (
    r"The notes write $W_{t+1} = W_t - \hat m_t\,\eta/\sqrt{\hat v_t + \epsilon}$, "
    r"with $\epsilon$ inside the square root; torch (and this app) adds it outside, "
    r"$\sqrt{\hat v_t} + \epsilon$. The two agree once $\hat v_t \gg \epsilon$ and "
    r"differ while $\hat v_t \lesssim \epsilon$, i.e. while $|g| \lesssim \sqrt{\epsilon}"
    r" = 10^{-4}$ for $\epsilon = 10^{-8}$ (near a minimum or on a plateau): inside the "
    r"root $\epsilon$ caps the step at $\eta\,\hat m_t/\sqrt{\epsilon}$, outside only at "
    r"$\gamma\,\hat m_t/\epsilon$."
)

_register(Adam, OptimizerSpec(
    key="adam",
    title="Adam",
    hyper=(
        _lr(1e-3), _BETA1, _BETA2, _eps(1e-8),
        HyperSpec("amsgrad", r"\texttt{amsgrad}", 0.0, 0.0, 1.0, True, True, 0.0, 1.0, False,
                  "bool", "divide by the largest second moment seen so far (AMSGrad)"),
        _weight_decay(),
    ),
    latex=(
        r"\begin{aligned}"
        r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\"
        r"m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
        r"v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\"
        r"\hat m_t &= \frac{m_t}{1-\beta_1^t}, \quad "
        r"\hat v_t = \frac{v_t}{1-\beta_2^t}"
        r" \quad (\text{amsgrad: } \hat v_t = \frac{\max(v_1,\dots,v_t)}{1-\beta_2^t})\\"
        r"\theta_t &= \theta_{t-1} - \gamma\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}"
        r"\end{aligned}"
    ),
    notes_diff=_ADAM_NOTES,
    summary="Momentum plus RMSProp, with bias correction of both running means.",
    explain=(
        *_HEAD, _M_LINE, _V_LINE,
        ExplainLine(r"v^{\max}_t &= \max(v^{\max}_{t-1}, v_t) = \max\left("
                    r"«max_exp_avg_sq_prev»,\ «exp_avg_sq»\right) = «max_exp_avg_sq»",
                    "amsgrad"),
        _M_HAT_LINE,
        ExplainLine(_V_HAT_LINE.latex, "!amsgrad"),
        ExplainLine(r"\hat v_t &= \frac{v^{\max}_t}{1-\beta_2^t} = \frac{«max_exp_avg_sq»}"
                    r"{1-«beta2»^{«t»}} = «v_hat»", "amsgrad"),
        ExplainLine(r"\theta_t &= \theta_{t-1}" + _ADAM_STEP[0] + "«theta»" + _ADAM_STEP[1]),
    ),
    state_symbols=(("exp_avg", "m"), ("exp_avg_sq", "v"), ("max_exp_avg_sq", r"v^{\max}"),
                   ("t", "t")),
))

_register(AdamW, OptimizerSpec(
    key="adamw",
    title="AdamW",
    hyper=(_lr(1e-3), _BETA1, _BETA2, _eps(1e-8), _weight_decay(0.01, decoupled=True)),
    latex=(
        r"\begin{aligned}"
        r"\theta' &= \theta_{t-1}\,(1 - \gamma\lambda)\\"
        r"m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \quad "
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\"
        r"\theta_t &= \theta' - \frac{\gamma}{1-\beta_1^t}\,"
        r"\frac{m_t}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}"
        r"\end{aligned}"
    ),
    notes_diff="The notes do not cover AdamW (Adam with decoupled weight decay).",
    summary="Adam whose weight decay shrinks the parameters directly, not through the gradient.",
    explain=(
        _SCHEDULE_LINE,
        ExplainLine(r"g_t &= \nabla f(\theta_{t-1}) = «grad»"),
        ExplainLine(r"\theta' &= \theta_{t-1}\,(1 - \gamma\lambda) = «theta»\cdot (1-«lr_t»"
                    r"\cdot «weight_decay») = «decayed»", "weight_decay"),
        _M_LINE, _V_LINE, _M_HAT_LINE, _V_HAT_LINE,
        ExplainLine(r"\theta_t &= \theta'" + _ADAM_STEP[0] + "«decayed»" + _ADAM_STEP[1],
                    "weight_decay"),
        ExplainLine(r"\theta_t &= \theta_{t-1}" + _ADAM_STEP[0] + "«theta»" + _ADAM_STEP[1],
                    "!weight_decay"),
    ),
    state_symbols=(("exp_avg", "m"), ("exp_avg_sq", "v"), ("t", "t")),
))

_register(NAdam, OptimizerSpec(
    key="nadam",
    title="NAdam",
    hyper=(
        _lr(2e-3), _BETA1, _BETA2, _eps(1e-8),
        HyperSpec("momentum_decay", r"\psi", 4e-3, 0.0, _INF, True, False, 0.0, 0.01, False,
                  "float", "how fast the momentum schedule mu_t warms up"),
        _weight_decay(),
    ),
    latex=(
        r"\begin{aligned}"
        r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\"
        r"\mu_t &= \beta_1\left(1 - \tfrac12\, 0.96^{t\psi}\right), \quad "
        r"\Pi_t = \textstyle\prod_{i=1}^{t} \mu_i\\"
        r"m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \quad "
        r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2\\"
        r"\theta_t &= \theta_{t-1} - \gamma\,\frac{"
        r"\frac{1-\mu_t}{1-\Pi_t}\, g_t + \frac{\mu_{t+1}}{1-\Pi_t\mu_{t+1}}\, m_t}"
        r"{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}"
        r"\end{aligned}"
    ),
    notes_diff="The notes do not cover NAdam (Adam with Nesterov momentum).",
    summary="Adam with a Nesterov-style look-ahead in its momentum.",
    explain=(
        *_HEAD,
        ExplainLine(r"\mu_t &= \beta_1\left(1 - \tfrac12\, 0.96^{t\psi}\right) = «beta1»\cdot "
                    r"\left(1-\tfrac12\cdot 0.96^{«t»\cdot «momentum_decay»}\right) = «mu»,"
                    r"\quad \mu_{t+1} = «mu_next»"),
        ExplainLine(r"\Pi_t &= \Pi_{t-1}\,\mu_t = «mu_product_prev»\cdot «mu» = «mu_product»"),
        _M_LINE, _V_LINE,
        ExplainLine(r"\hat v_t &= \frac{v_t}{1-\beta_2^t} = \frac{«exp_avg_sq»}{«bc2»} = "
                    r"«v_hat»"),
        ExplainLine(r"c_g &= \gamma\,\frac{1-\mu_t}{1-\Pi_t} = «lr_t»\cdot \frac{1-«mu»}"
                    r"{1-\Pi_t} = «coef_g»,\quad c_m = \gamma\,\frac{\mu_{t+1}}"
                    r"{1-\Pi_t\mu_{t+1}} = «lr_t»\cdot \frac{«mu_next»}{1-\Pi_t\mu_{t+1}} = "
                    r"«coef_m»"),
        ExplainLine(r"\theta_t &= \theta_{t-1} - \frac{c_g\,g_t + c_m\,m_t}{\sqrt{\hat v_t}"
                    r"+\epsilon} = «theta» - \frac{«coef_g»\cdot «g» + «coef_m»\cdot «exp_avg»}"
                    r"{\sqrt{«v_hat»} + «eps»} = «new»"),
    ),
    state_symbols=(("exp_avg", "m"), ("exp_avg_sq", "v"), ("mu_product", r"\Pi"),
                   ("t", "t")),
))

_register(Adamax, OptimizerSpec(
    key="adamax",
    title="Adamax",
    hyper=(_lr(2e-3), _BETA1, _BETA2, _eps(1e-8), _weight_decay()),
    latex=(
        r"\begin{aligned}"
        r"g_t &= \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1}\\"
        r"m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t\\"
        r"u_t &= \max(\beta_2\, u_{t-1},\ |g_t| + \epsilon), \quad u_0 = 0\\"
        r"\theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,\frac{m_t}{u_t}"
        r"\end{aligned}"
    ),
    notes_diff="The notes do not cover Adamax (Adam with the infinity norm).",
    summary="Adam that divides by a decaying maximum of |gradient| instead of a root mean square.",
    explain=(
        *_HEAD, _M_LINE,
        ExplainLine(r"u_t &= \max(\beta_2\,u_{t-1},\ |g_t| + \epsilon) = \max\left("
                    r"«beta2»\cdot «exp_inf_prev»,\ «abs_g»\right) = «exp_inf»"),
        ExplainLine(r"\theta_t &= \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,\frac{m_t}{u_t} = "
                    r"«theta» - \frac{«lr_t»}{1-«beta1»^{«t»}}\cdot \frac{«exp_avg»}{«exp_inf»}"
                    r" = «new»"),
    ),
    state_symbols=(("exp_avg", "m"), ("exp_inf", "u"), ("t", "t")),
))


# ---------------------------------------------------------------------------------------
# Construction and validation.


def _validate(key: str, spec: HyperSpec, value: Any) -> np.ndarray:
    """Check ``value`` elementwise against the spec; return a float64 array that broadcasts
    against (B, 1) (0-d for a scalar; a 1-D array becomes a column)."""
    if spec.kind == "bool":
        arr = np.asarray(value)
        if arr.dtype != np.bool_ and not (
            np.issubdtype(arr.dtype, np.number) and np.all(np.isin(arr, (0, 1)))
        ):
            raise ValueError(f"{key}: {spec.name} must be True or False, got {value!r}")
        arr = arr.astype(np.float64)
    else:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{key}: {spec.name} must be a number {spec.range_text()}, got {value!r}"
            ) from None
        low_ok = arr >= spec.min if spec.min_inclusive else arr > spec.min
        high_ok = arr <= spec.max if spec.max_inclusive else arr < spec.max
        bad = ~(low_ok & high_ok)  # NaN fails both comparisons
        if np.any(bad):
            first = arr[bad].flat[0]
            raise ValueError(f"{key}: {spec.name} must be {spec.range_text()}, got {first:g}")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] != 1):
        raise ValueError(
            f"{key}: {spec.name} must be a scalar or have shape (B,) or (B, 1), "
            f"got shape {arr.shape}"
        )
    return arr


def make(key: str, **hyper: Any) -> Optimizer:
    """Build a validated optimizer. Missing hyper-parameters take the registry default.

    Raises ValueError for an unknown key, an unknown hyper-parameter name, or a value
    outside its valid range (the message names the parameter and the range).
    """
    spec = OPTIMIZERS.get(key)
    if spec is None:
        raise ValueError(f"unknown optimizer {key!r}; choose one of {', '.join(OPTIMIZERS)}")
    names = {h.name for h in spec.hyper}
    unknown = sorted(set(hyper) - names)
    if unknown:
        raise ValueError(
            f"{key}: unknown hyper-parameter {unknown[0]!r}; valid: "
            f"{', '.join(h.name for h in spec.hyper)}"
        )
    values = {
        h.name: _validate(key, h, hyper.get(h.name, h.default)) for h in spec.hyper
    }
    rows = {v.shape[0] for v in values.values() if v.ndim == 2 and v.shape[0] != 1}
    if len(rows) > 1:
        raise ValueError(f"{key}: hyper-parameter arrays disagree on B: {sorted(rows)}")
    return _CLASSES[key](spec, values)
