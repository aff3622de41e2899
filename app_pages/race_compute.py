"""The race page's engine work and the payloads it becomes, cached per setting.

Defined here, in a module imported once, and not in the page script: ``st.cache_data``
builds a function's cache key from its source each time the decorator runs, i.e. on every
rerun of a page script. Every cache has a size.

Three kinds of work, cached separately so a change pays only for what it changes:

* the race itself (every optimizer, every step): :func:`run_race`;
* the surface (grid, picture, critical points): :func:`surface_asset`, once per surface;
* one learning-rate sweep per optimizer (:func:`sweep_asset`): the same race at every value
  of the optimizer's learning-rate slider, one batched engine run. It does not depend on
  the learning rate itself, so moving a learning-rate slider never recomputes it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace

import numpy as np
import streamlit as st

from app_pages import race_state as rs
from app_pages.canvas import Asset
from engine import descent, expression, optimizers, schedules
from engine.surfaces import SURFACES
from viz import race_canvas, race_curves, race_map
from viz.style import OPTIMIZER_STYLES, Words

GRID_N = 100  # samples per side of the surface grid (picture, 3-D surface)
MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


# ----------------------------------------------------------------------------- surfaces


@st.cache_resource(max_entries=64, show_spinner=False)
def parse_formula(formula: str, domain: tuple[float, float, float, float]):
    xmin, xmax, ymin, ymax = domain
    return expression.parse(formula, domain=((xmin, xmax), (ymin, ymax)))


def surface_of(exp: rs.Experiment):
    """The Surface of an experiment (a typed formula is parsed; may raise ExpressionError)."""
    if exp.surface == rs.CUSTOM:
        return parse_formula(exp.formula, exp.domain)
    return SURFACES[exp.surface]


def domain_of(exp: rs.Experiment) -> tuple[tuple[float, float], tuple[float, float]]:
    if exp.surface == rs.CUSTOM:
        return (exp.domain[0], exp.domain[1]), (exp.domain[2], exp.domain[3])
    return SURFACES[exp.surface].domain


@st.cache_data(max_entries=64, show_spinner=False)
def surface_grid(surface_key: str, formula: str, domain: tuple) -> tuple:
    exp = rs.Experiment(surface=surface_key, formula=formula, domain=domain)
    return race_map.surface_grid(surface_of(exp), GRID_N)


@st.cache_data(max_entries=32, show_spinner=False)
def surface_asset(surface_key: str, formula: str, domain: tuple, show_3d: bool,
                  words: Words) -> Asset:
    """The surface part of the race payload (``words``: its strings,
    :func:`viz.race_canvas.surface_words`)."""
    exp = rs.Experiment(surface=surface_key, formula=formula, domain=domain)
    data = race_canvas.surface_data(surface_of(exp), surface_grid(surface_key, formula, domain),
                                    show_3d=show_3d, words=words)
    tag = repr((surface_key, formula, domain, show_3d, words, GRID_N))
    return Asset("surface-" + hashlib.sha1(tag.encode()).hexdigest()[:16], data)


# ----------------------------------------------------------------------------- races


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


@st.cache_data(max_entries=64, show_spinner=False)
def run_race(exp: rs.Experiment, record: str = "path"):
    """The race, batched. The map, curves and table need only the paths ("path"); the
    "Explain this step" panel asks for the optimizer states ("full") when it is open."""
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


def sweep_setting(exp: rs.Experiment, key: str) -> SweepSetting:
    hyper = tuple((n, v) for n, v in exp.hyper(key).items() if n != "lr")
    keys = exp.optimizer_keys
    stream = (keys.index(key), len(keys)) if exp.noise > 0 else None
    return SweepSetting(exp.surface, exp.formula, exp.domain, exp.start, exp.steps, exp.noise,
                        exp.seed, exp.schedule, key, hyper, stream)


@st.cache_data(max_entries=64, show_spinner=False)
def sweep_asset(setting: SweepSetting) -> Asset:
    """The race of one optimizer at every learning rate of its slider: one batched engine
    run of len(lr_grid) runs (the other hyper-parameters as in the race). With gradient
    noise every run of the sweep draws the noise of the optimizer's own race run, so the
    sweep at the race's learning rate is the race's path, bit for bit."""
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
    return Asset("sweep-" + hashlib.sha1(tag.encode()).hexdigest()[:16],
                 race_canvas.sweep_data(result, view, stops))


ORDINARY = 1e6  # |f| and ‖∇f‖ of an ordinary point, far below the engine's runaway bounds


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


def core(exp: rs.Experiment) -> rs.Experiment:
    """The part of the experiment that changes the numbers (not the scenario label)."""
    return replace(exp, scenario="")


def styles_of(exp: rs.Experiment) -> list:
    return [OPTIMIZER_STYLES[k] for k in exp.optimizer_keys]


@st.cache_data(max_entries=32, show_spinner=False)
def curve_dicts(exp: rs.Experiment, names: tuple, present: bool, words: Words
                ) -> tuple[dict, dict]:
    """Loss and gradient-norm figures as dicts (cached per experiment, mode and words:
    :func:`viz.race_curves.curve_words`)."""
    surface = surface_of(exp)
    result = run_race(exp)
    styles = styles_of(exp)
    f_min = min((p.f for p in surface.minima if p.kind in ("global", "local")), default=None)
    # Log axis when it means something: losses that stay positive, or f − f* against a
    # known minimum. A surface falling without bound (saddles, some typed formulas) would
    # only be measured from its lowest iterate, so its axis stays linear and shows f itself,
    # fixed to the values f takes on the map: a run that falls to −5·10⁵ off the map leaves
    # the chart at its bottom (a note says how far) instead of flattening the others.
    log_y = f_min is not None or bool(np.all(result.loss > 0))
    _, _, Z = surface_grid(exp.surface, exp.formula, exp.domain)
    y_range = (float(Z.min()), max(float(Z.max()), float(np.max(result.loss[0]))))
    loss = race_curves.loss_figure_dict(result, list(names), styles, log_y=log_y,
                                        f_min=f_min if f_min is not None and f_min < 0 else None,
                                        present=present, y_range=y_range, words=words)
    grad = race_curves.grad_norm_figure_dict(result, list(names), styles, present=present,
                                             words=words)
    return loss, grad
