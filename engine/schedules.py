"""Learning-rate schedules: a multiplier of the base learning rate per step.

    schedule = make("cosine", t_max=200, eta_min_ratio=0.01, warmup=10)
    scale = schedule(t)          # t = 0-based step index, an int or an int array
    params, state = opt.step(params, grads, state, lr_scale=scale)

The multipliers are the closed forms of ``torch.optim.lr_scheduler`` divided by the base
learning rate (t counts ``scheduler.step()`` calls made before the optimizer step t):

    constant       1
    step           gamma ** floor(t / step_size)                           (StepLR)
    exponential    gamma ** t                                              (ExponentialLR)
    inverse_time   1 / (1 + decay * t)
    cosine         r + (1 - r) * (1 + cos(pi * t / t_max)) / 2, r = eta_min_ratio
                                                                           (CosineAnnealingLR)

Like torch's closed form, cosine keeps following the cosine after t_max (back up again);
choose t_max >= the number of steps for a plain decay.

Optional linear warm-up of W steps (``warmup=W``, any kind): the multiplier is (t + 1) / W
for t < W, and the decay starts afterwards: base(t - W) for t >= W (torch: SequentialLR of a
LinearLR warm-up and the schedule, milestone W).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.optimizers import HyperSpec

__all__ = ["SCHEDULES", "Schedule", "ScheduleSpec", "make"]

_INF = math.inf


@dataclass(frozen=True)
class ScheduleSpec:
    """Registry entry: title, hyper-parameters (the same :class:`HyperSpec` as the
    optimizers', under the same field name), LaTeX of the multiplier."""

    key: str
    title: str
    hyper: tuple[HyperSpec, ...]
    latex: str
    summary: str

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.hyper}


def _int(name: str, symbol: str, default: int, minimum: int, slider_max: int,
         help_text: str) -> HyperSpec:
    return HyperSpec(name, symbol, default, minimum, _INF, True, False, minimum, slider_max,
                     False, "int", help_text)


def _float(name: str, symbol: str, default: float, low: float, high: float,
           low_inclusive: bool, high_inclusive: bool, slider: tuple[float, float],
           log_scale: bool, help_text: str) -> HyperSpec:
    return HyperSpec(name, symbol, default, low, high, low_inclusive, high_inclusive,
                     slider[0], slider[1], log_scale, "float", help_text)


WARMUP = _int("warmup", "W", 0, 0, 500,
              "linear warm-up: the multiplier ramps (t+1)/W over the first W steps")

_GAMMA = _float("gamma", r"\gamma", 0.5, 0.0, 1.0, False, True, (0.01, 1.0), False,
                "factor applied at each decay")

SCHEDULES: dict[str, ScheduleSpec] = {
    "constant": ScheduleSpec(
        "constant", "Constant", (WARMUP,), r"s_t = 1", "The learning rate never changes.",
    ),
    "step": ScheduleSpec(
        "step", "Step decay",
        (_int("step_size", "k", 100, 1, 1000, "steps between two decays"), _GAMMA, WARMUP),
        r"s_t = \gamma^{\lfloor t / k \rfloor}",
        "Multiply the learning rate by gamma every step_size steps (StepLR).",
    ),
    "exponential": ScheduleSpec(
        "exponential", "Exponential decay",
        (_float("gamma", r"\gamma", 0.99, 0.0, 1.0, False, True, (0.9, 1.0), False,
                "factor applied at every step"), WARMUP),
        r"s_t = \gamma^{t}",
        "Multiply the learning rate by gamma at every step (ExponentialLR).",
    ),
    "inverse_time": ScheduleSpec(
        "inverse_time", "Inverse-time decay",
        (_float("decay", "d", 0.01, 0.0, _INF, True, False, (1e-4, 1.0), True,
                "how fast the learning rate falls like 1/t"), WARMUP),
        r"s_t = \frac{1}{1 + d\,t}",
        "Learning rate divided by 1 + decay * t.",
    ),
    "cosine": ScheduleSpec(
        "cosine", "Cosine annealing",
        (_int("t_max", r"T_{\max}", 200, 1, 5000, "steps of the half cosine"),
         _float("eta_min_ratio", r"\eta_{\min}/\eta", 0.0, 0.0, 1.0, True, True, (0.0, 1.0),
                False, "final learning rate as a fraction of the initial one"),
         WARMUP),
        r"s_t = r + (1 - r)\,\frac{1 + \cos(\pi t / T_{\max})}{2}",
        "Half a cosine from the full learning rate down to eta_min (CosineAnnealingLR).",
    ),
}


@dataclass(frozen=True)
class Schedule:
    """A validated schedule: ``schedule(t)`` -> multiplier (float for an int t, float64
    array of t's shape for an array). ``hyper``: the validated values, as an optimizer's."""

    kind: str
    hyper: dict[str, float | int]
    _base: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)

    def __call__(self, t: Any) -> Any:
        steps = np.asarray(t)
        if steps.dtype.kind not in "iu" and not (
            steps.dtype.kind == "f" and np.all(np.isfinite(steps))
            and np.all(steps == np.floor(steps))
        ):
            raise ValueError(f"schedule: t must be a whole step index, got {t!r}")
        if np.any(steps < 0):
            raise ValueError(f"schedule: t must be >= 0, got {t!r}")
        steps = steps.astype(np.float64)
        warmup = self.hyper["warmup"]
        if warmup > 0:
            ramp = (steps + 1.0) / warmup
            out = np.where(steps < warmup, ramp, self._base(np.maximum(steps - warmup, 0.0)))
        else:
            out = self._base(steps)
        out = np.asarray(out, dtype=np.float64)
        return float(out) if out.ndim == 0 else out


def _validate(kind: str, spec: HyperSpec, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{kind}: {spec.name} must be a number, got {value!r}")
    value = float(value)
    if spec.kind == "int" and value != math.floor(value):
        raise ValueError(f"{kind}: {spec.name} must be a whole number, got {value:g}")
    low_ok = value >= spec.min if spec.min_inclusive else value > spec.min
    high_ok = value <= spec.max if spec.max_inclusive else value < spec.max
    if not (low_ok and high_ok):  # NaN fails both
        raise ValueError(f"{kind}: {spec.name} must be {spec.range_text()}, got {value:g}")
    return int(value) if spec.kind == "int" else value


def make(kind: str, **kw: Any) -> Schedule:
    """Build a validated schedule; missing parameters take the registry defaults.

    Raises ValueError for an unknown kind or parameter, or a value out of range.
    """
    spec = SCHEDULES.get(kind)
    if spec is None:
        raise ValueError(f"unknown schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")
    names = [p.name for p in spec.hyper]
    unknown = sorted(set(kw) - set(names))
    if unknown:
        raise ValueError(f"{kind}: unknown parameter {unknown[0]!r}; valid: {', '.join(names)}")
    values = {p.name: _validate(kind, p, kw.get(p.name, p.default)) for p in spec.hyper}

    if kind == "constant":
        def base(t):
            return np.ones_like(t)
    elif kind == "step":
        gamma, size = values["gamma"], values["step_size"]

        def base(t):
            return gamma ** np.floor(t / size)
    elif kind == "exponential":
        gamma = values["gamma"]

        def base(t):
            return gamma**t
    elif kind == "inverse_time":
        decay = values["decay"]

        def base(t):
            return 1.0 / (1.0 + decay * t)
    else:  # cosine
        ratio, t_max = values["eta_min_ratio"], values["t_max"]

        def base(t):
            return ratio + (1.0 - ratio) * 0.5 * (1.0 + np.cos(np.pi * t / t_max))

    return Schedule(kind, values, base)
