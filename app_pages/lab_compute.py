"""The learning-rate lab's engine work, cached per setting, and its links to the race.

Defined in a module (imported once), not in the page scripts: ``st.cache_data`` builds a
function's cache key from its source each time the decorator runs. Every cache has a size.
A phase diagram is computed in bands of rows, each cached, so a long one can show progress
between bands; the bands are exactly the cells of one batched run (no noise: every cell is
independent of the others).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from app_pages import race_compute as rcomp
from app_pages import race_state as rs
from engine import descent, lab, optimizers, regression, schedules
from engine.surfaces import SURFACES
from texts import current_language

PROGRESS_WORK = 1_500_000  # cells × steps above which a phase diagram shows progress
BANDS = 6


def with_progress(tasks, work: int, text: str) -> list:
    """Run ``tasks`` (callables) in order; above PROGRESS_WORK show a progress bar that
    advances after each (cached results come back at once and the bar flashes by)."""
    if work <= PROGRESS_WORK or len(tasks) < 2:
        return [task() for task in tasks]
    bar = st.progress(0.0, text=text)
    out = []
    for k, task in enumerate(tasks):
        out.append(task())
        bar.progress((k + 1) / len(tasks), text=text)
    bar.empty()
    return out


# ----------------------------------------------------------------------------- surfaces


@dataclass(frozen=True)
class Place:
    """A surface: a registry key, or "custom" with a typed formula and its domain."""

    surface: str
    formula: str = ""
    domain: tuple[float, float, float, float] = rs.DEFAULT_DOMAIN

    def get(self):
        """The Surface (a typed formula is parsed; may raise ExpressionError)."""
        return rcomp.surface_of(self.experiment())

    def experiment(self, **fields) -> rs.Experiment:
        if self.surface == rs.CUSTOM:
            return rs.Experiment(surface=rs.CUSTOM, formula=self.formula, domain=self.domain,
                                 **fields)
        return rs.Experiment(surface=self.surface, **fields)


def domain_of(place: Place):
    return rcomp.domain_of(place.experiment())


@st.cache_data(max_entries=32, show_spinner=False)
def hessian_of(place: Place):
    """The Hessian when the surface is a quadratic (engine.lab.quadratic_hessian), else None."""
    return lab.quadratic_hessian(place.get())


# ----------------------------------------------------------------------------- phase diagram


@dataclass(frozen=True)
class PhaseSetting:
    place: Place
    key: str
    name: str
    lrs: tuple[float, ...]
    values: tuple[float, ...]
    start: tuple[float, float]
    steps: int
    tol: float

    @property
    def work(self) -> int:
        return len(self.lrs) * len(self.values) * self.steps


@st.cache_data(max_entries=128, show_spinner=False)
def phase_band(setting: PhaseSetting, first: int, last: int) -> descent.SweepResult:
    """Rows first … last−1 (values of the second axis) of the phase diagram."""
    return lab.phase_diagram(setting.place.get(), setting.key, np.array(setting.lrs),
                             setting.name, np.array(setting.values[first:last]),
                             setting.start, setting.steps, tol=setting.tol)


def phase(setting: PhaseSetting, progress=None) -> descent.SweepResult:
    """The whole diagram, band by band; ``progress(fraction)`` is called after each band."""
    n = len(setting.values)
    bands = BANDS if setting.work > PROGRESS_WORK and n >= BANDS else 1
    edges = np.linspace(0, n, bands + 1).round().astype(int)
    parts = []
    for k in range(bands):
        parts.append(phase_band(setting, int(edges[k]), int(edges[k + 1])))
        if progress is not None:
            progress((k + 1) / bands)
    first = parts[0]
    return descent.SweepResult(
        final_loss=np.concatenate([p.final_loss for p in parts]),
        diverged=np.concatenate([p.diverged for p in parts]),
        steps_to_tol=np.concatenate([p.steps_to_tol for p in parts]),
        lrs=first.lrs, momenta=np.array(setting.values), momentum_name=setting.name,
        target_f=first.target_f, tol=first.tol)


# ----------------------------------------------------------------------------- basin maps


@st.cache_data(max_entries=32, show_spinner=False)
def basin(surface_key: str, key: str, lr: float, grid_n: int, steps: int) -> descent.BasinMap:
    hyper = dict(optimizers.OPTIMIZERS[key].defaults, lr=lr)
    return descent.basin_map(SURFACES[surface_key], key, hyper, grid_n, steps)


# ----------------------------------------------------------------------------- regression


@st.cache_data(max_entries=32, show_spinner=False)
def training(model: str, x: np.ndarray, y: np.ndarray, key: str, lr: float, batch_size: int,
             epochs: int, start: tuple[float, float], seed: int) -> regression.Training:
    hyper = dict(optimizers.OPTIMIZERS[key].defaults, lr=lr)
    return regression.train(model, x, y, key, hyper, batch_size, epochs, start, seed=seed)


@st.cache_data(max_entries=32, show_spinner=False)
def loss_grid(model: str, x: np.ndarray, y: np.ndarray, box: tuple, n: int = 90):
    (w0, w1), (b0, b1) = box
    ws, bs = np.linspace(w0, w1, n), np.linspace(b0, b1, n)
    gw, gb = np.meshgrid(ws, bs)
    return ws, bs, regression.loss(model, x, y, np.stack([gw, gb], axis=-1))


@st.cache_data(max_entries=32, show_spinner=False)
def minimum(model: str, x: np.ndarray, y: np.ndarray) -> regression.Minimum:
    return regression.exact_minimum(model, x, y)


# ----------------------------------------------------------------------------- race links


def race_link(place: Place, runs, start, steps: int, schedule: tuple | None = None) -> str:
    """The race page's address for this experiment (app_pages/race_state.to_query).

    ``runs``: (optimizer key, {hyper-parameter: value}); the others take registry defaults.
    A link, not a page switch: the race reads its address once per browser session, so the
    link opens a new one (a new tab) that shows exactly these settings.
    """
    optimizers_ = []
    for key, hyper in runs:
        values = dict(optimizers.OPTIMIZERS[key].defaults, **hyper)
        optimizers_.append((key, tuple((n, rs.clamp_hyper(key, n, float(v))[0])
                                       for n, v in values.items())))
    exp = place.experiment(optimizers=tuple(optimizers_),
                           start=(float(start[0]), float(start[1])), steps=int(steps),
                           schedule=schedule)
    query = rs.to_query(exp)
    if current_language() != "en":
        query["lang"] = current_language()
    return "/race?" + urlencode(query)


def schedule_pairs(kind: str, params: dict) -> tuple:
    """(kind, ((name, value), …)) as a race experiment holds it; None for constant."""
    if kind == "constant":
        return None
    spec = schedules.SCHEDULES[kind]
    return kind, tuple((p.name, float(params.get(p.name, p.default))) for p in spec.hyper)
