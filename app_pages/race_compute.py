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

The engine work of a race and of a sweep is :mod:`app_pages.race_work` (no Streamlit); it
runs in a worker process (:mod:`app_pages.compute_pool`), on another core than the pages.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import streamlit as st

from app_pages import compute_pool, race_work
from app_pages import race_state as rs
from app_pages.canvas import Asset
from app_pages.race_work import SweepSetting, surface_of
from engine.surfaces import SURFACES
from viz import race_canvas, race_curves, race_map
from viz.style import OPTIMIZER_STYLES, Words

GRID_N = 100  # samples per side of the surface grid (picture, 3-D surface)


# ----------------------------------------------------------------------------- surfaces


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


@st.cache_data(max_entries=64, show_spinner=False)
def run_race(exp: rs.Experiment, record: str = "path"):
    """The race, batched (:func:`app_pages.race_work.race`, in a worker process). The map,
    curves and table need only the paths ("path"); the "Explain this step" panel asks for
    the optimizer states ("full") when it is open."""
    return compute_pool.call(race_work.race, exp, record)


def sweep_setting(exp: rs.Experiment, key: str) -> SweepSetting:
    hyper = tuple((n, v) for n, v in exp.hyper(key).items() if n != "lr")
    keys = exp.optimizer_keys
    stream = (keys.index(key), len(keys)) if exp.noise > 0 else None
    return SweepSetting(exp.surface, exp.formula, exp.domain, exp.start, exp.steps, exp.noise,
                        exp.seed, exp.schedule, key, hyper, stream)


@st.cache_data(max_entries=64, show_spinner=False)
def sweep_asset(setting: SweepSetting) -> Asset:
    """One optimizer's learning-rate sweep (:func:`app_pages.race_work.sweep`, in a worker
    process), sent once per session and canvas."""
    return Asset(*compute_pool.call(race_work.sweep, setting))


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
