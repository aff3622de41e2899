"""The race page's engine work, as pure functions of picklable settings.

No Streamlit here: :mod:`app_pages.race_compute` caches these per setting and runs them in
a worker process (:mod:`app_pages.compute_pool`), where they are imported on their own.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from app_pages import race_state as rs
from engine import descent, expression, optimizers, schedules
from engine.surfaces import SURFACES
from viz import race_canvas, race_map

MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
ORDINARY = 1e6  # |f| and ‖∇f‖ of an ordinary point, far below the engine's runaway bounds


@lru_cache(maxsize=64)
def parse_formula(formula: str, domain: tuple[float, float, float, float]):
    """A typed formula's Surface over ``domain`` (may raise ExpressionError)."""
    xmin, xmax, ymin, ymax = domain
    return expression.parse(formula, domain=((xmin, xmax), (ymin, ymax)))


def surface_of(exp: rs.Experiment):
    """The Surface of an experiment (a typed formula is parsed; may raise ExpressionError)."""
    if exp.surface == rs.CUSTOM:
        return parse_formula(exp.formula, exp.domain)
    return SURFACES[exp.surface]


def schedule_kwargs(kind: str, pairs) -> dict[str, float | int]:
    """Keyword arguments for ``schedules.make(kind, ...)`` (integer parameters as int)."""
    specs = {p.name: p for p in schedules.SCHEDULES[kind].hyper}
    return {name: int(round(v)) if specs[name].kind == "int" else float(v)
            for name, v in pairs}


def make_schedule(exp: rs.Experiment):
    if exp.schedule is None:
        return None
    kind, params = exp.schedule
    return schedules.make(kind, **schedule_kwargs(kind, params))


def race(exp: rs.Experiment, record: str = "path"):
    """The race, batched: every optimizer of ``exp`` from its start, ``exp.steps`` steps."""
    surface = surface_of(exp)
    runs = [descent.Run(optimizers.make(key, **dict(pairs)), exp.start, key)
            for key, pairs in exp.optimizers]
    return descent.run(surface, runs, exp.steps, noise=exp.noise, seed=exp.seed,
                       schedule=make_schedule(exp), record=record)


def lr_grid(key: str) -> tuple[float, ...]:
    """The learning rates of optimizer ``key``'s slider: 1-1.2-1.5-2-2.5-3-4-5-6-8 per
    decade over its slider range (41 values for [1e-4, 1])."""
    spec = optimizers.OPTIMIZERS[key].hyper_spec("lr")
    return tuple(log_grid(float(spec.slider_min), float(spec.slider_max)))


def log_grid(low: float, high: float, *extra: float) -> list[float]:
    """1-1.2-1.5-2-2.5-3-4-5-6-8 steps per decade over [low, high], plus ``extra`` values."""
    values = set()
    for decade in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for m in MANTISSAS:
            v = float(f"{m * 10.0**decade:.6g}")
            if low * (1 - 1e-9) <= v <= high * (1 + 1e-9):
                values.add(v)
    values.update(float(v) for v in extra if low <= v <= high)
    return sorted(values)


@dataclass(frozen=True)
class SweepSetting:
    """Everything a learning-rate sweep of one optimizer depends on (hashable)."""

    surface: str
    formula: str
    domain: tuple
    start: tuple[float, float]
    steps: int
    noise: float
    seed: int
    schedule: tuple | None
    key: str
    hyper: tuple  # the optimizer's hyper-parameters except the learning rate
    # With gradient noise: the race's noise stream of this optimizer (its place b in the
    # race) and the race's number of runs B, so the sweep replays that run's noise exactly.
    # None without noise, so one sweep serves the optimizer wherever it sits in the race.
    noise_stream: tuple[int, int] | None = None


def sweep(setting: SweepSetting) -> tuple[str, dict]:
    """The race of one optimizer at every learning rate of its slider: one batched engine
    run of len(lr_grid) runs (the other hyper-parameters as in the race), as the canvas
    draws it (:func:`viz.race_canvas.sweep_data`), with its asset id. With gradient noise
    every run of the sweep draws the noise of the optimizer's own race run, so the sweep
    at the race's learning rate is the race's path, bit for bit."""
    lrs = np.asarray(lr_grid(setting.key), dtype=np.float64)
    exp = rs.Experiment(surface=setting.surface, formula=setting.formula,
                        domain=setting.domain, start=setting.start, steps=setting.steps,
                        noise=setting.noise, seed=setting.seed, schedule=setting.schedule)
    surface = surface_of(exp)
    opt = optimizers.make(setting.key, **dict(setting.hyper), lr=lrs.reshape(-1, 1))
    stream, streams = setting.noise_stream or (None, None)
    result = descent.run(surface, [descent.Run(opt, setting.start, setting.key, stream)],
                         setting.steps, noise=setting.noise, seed=setting.seed,
                         schedule=make_schedule(exp), record="path", noise_streams=streams)
    view = race_map.view_ranges(surface)
    stops = [stop_reason(surface, result, j) for j in range(lrs.size)]
    tag = repr((setting, lrs.tolist()))
    return ("sweep-" + hashlib.sha1(tag.encode()).hexdigest()[:16],
            race_canvas.sweep_data(result, view, stops))


def stop_reason(surface, result, b: int) -> str | None:
    """Why run b stopped before its last step (None if it did not).

    "start": f or ∇f has no value at the start (the page says so once, for every run).
    "undefined": the run was at an ordinary point (|f|, ‖∇f‖ < 1e6) of a typed formula and
    its next point has no value there — a hole of the formula such as log of a negative
    number (the built-in surfaces are defined everywhere). "diverged": it ran away, the
    learning rate too large for this surface."""
    if not result.diverged[b]:
        return None
    at = int(result.diverged_at[b])
    if at == 0:
        return "start"
    loss, grad = float(result.loss[at - 1, b]), np.asarray(result.grad[at - 1, b])
    ordinary = abs(loss) < ORDINARY and float(np.hypot(*grad)) < ORDINARY
    return "undefined" if ordinary and surface.key == rs.CUSTOM else "diverged"
