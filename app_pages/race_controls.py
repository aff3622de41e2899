"""Sidebar controls of the race page, and the mapping experiment <-> widget state.

Widget keys (short, stable; the URL layer is :mod:`app_pages.race_state`):
``sc`` scenario, ``surf`` surface, ``formula`` + ``dom0..dom3`` typed surface, ``opts``
optimizers, ``h.<opt>.<name>`` hyper-parameter values (``hs.<opt>.<name>`` the log slider
that mirrors a log-scale value), ``x0``/``y0`` start, ``steps``, ``noise``, ``seed``,
``sched`` + ``sp.<name>`` learning-rate schedule, ``v3d`` 3-D view.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping

import numpy as np
import streamlit as st

from app_pages import race_state as rs
from app_pages import registry_texts as rt
from engine import descent, optimizers
from engine.scenarios import SCENARIOS
from engine.surfaces import SURFACES
from texts import t
from viz import race as vr

try:  # typed formulas and schedules arrive with their engine modules
    from engine import expression
except ImportError:  # pragma: no cover - only while the engine is being written
    expression = None
try:
    from engine import schedules
except ImportError:  # pragma: no cover
    schedules = None


# β, ρ, μ: exact 0.9, 0.99, 0.999 are on the slider (a value from a link is added to it)
UNIT_CHOICES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97,
                0.98, 0.99, 0.995, 0.999)
MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
MAX_STEPS = rs.MAX_STEPS


# ----------------------------------------------------------------------------- schedules


def schedule_specs() -> dict[str, dict[str, tuple[float, float, float]]] | None:
    """kind -> {parameter: (default, min, max)} for the schedules the page offers."""
    if schedules is None:
        return None
    registry = getattr(schedules, "SCHEDULES", {})
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for kind, spec in registry.items():
        if kind == "constant":
            continue
        params = {}
        for hs in getattr(spec, "params", getattr(spec, "hyper", ())):
            low = float(getattr(hs, "slider_min", getattr(hs, "min", 0.0)))
            high = float(getattr(hs, "slider_max", getattr(hs, "max", 1.0)))
            params[hs.name] = (float(hs.default), low, high)
        out[kind] = params
    return out


def schedule_kwargs(kind: str, pairs) -> dict[str, float | int]:
    """Keyword arguments for ``schedules.make(kind, ...)`` (integer parameters as int)."""
    specs = {p.name: p for p in _schedule_param_specs(kind)}
    return {name: int(round(v)) if getattr(specs.get(name), "kind", "") == "int" else float(v)
            for name, v in pairs}


def _schedule_param_specs(kind: str) -> list:
    spec = schedules.SCHEDULES[kind]
    return list(getattr(spec, "params", getattr(spec, "hyper", ())))


# ----------------------------------------------------------------------------- surfaces


def surface_of(exp: rs.Experiment):
    """The Surface of an experiment (a typed formula is parsed; may raise ExpressionError)."""
    if exp.surface == rs.CUSTOM:
        return parse_formula(exp.formula, exp.domain)
    return SURFACES[exp.surface]


@st.cache_resource(max_entries=64, show_spinner=False)
def parse_formula(formula: str, domain: tuple[float, float, float, float]):
    xmin, xmax, ymin, ymax = domain
    return expression.parse(formula, domain=((xmin, xmax), (ymin, ymax)))


def domain_of(exp: rs.Experiment) -> tuple[tuple[float, float], tuple[float, float]]:
    if exp.surface == rs.CUSTOM:
        return (exp.domain[0], exp.domain[1]), (exp.domain[2], exp.domain[3])
    return SURFACES[exp.surface].domain


# ----------------------------------------------------------------------------- cached work
# Defined here, in a module imported once, and not in the page script: st.cache_data builds a
# function's cache key from its source each time the decorator runs, i.e. on every rerun.

# Browser cost of every redraw (measured with benchmarks/latency.py): each animation frame
# and each SVG marker of the click grid is paid on every slider change, so the map uses
# 50 frames (every ~10th step of a 500-step race), a 20×20 click grid (clicks still land
# within Plotly's 20-pixel hover distance) and a 100×100 contour.
GRID_N = 100
MAX_FRAMES = 50
CLICK_GRID_N = 20


@st.cache_data(max_entries=64, show_spinner=False)
def run_race(exp: rs.Experiment, record: str = "path"):
    """The race, batched.  The map, curves and table need only the paths ("path"); the
    "Explain this step" panel asks for the optimizer states ("full") when it is open."""
    surface = surface_of(exp)
    runs = [descent.Run(optimizers.make(key, **dict(pairs)), exp.start, key)
            for key, pairs in exp.optimizers]
    schedule = None
    if exp.schedule is not None and schedules is not None:
        kind, params = exp.schedule
        schedule = schedules.make(kind, **schedule_kwargs(kind, params))
    return descent.run(surface, runs, exp.steps, noise=exp.noise, seed=exp.seed,
                       schedule=schedule, record=record)


@st.cache_data(max_entries=64, show_spinner=False)
def surface_grid(surface_key: str, formula: str, domain: tuple) -> tuple:
    exp = rs.Experiment(surface=surface_key, formula=formula, domain=domain)
    return vr.surface_grid(surface_of(exp), GRID_N)


@st.cache_data(max_entries=64, show_spinner=False)
def map_source(surface_key: str, formula: str, domain: tuple) -> str:
    """The map picture depends only on the surface: made once, not on every lr change."""
    exp = rs.Experiment(surface=surface_key, formula=formula, domain=domain)
    return vr.race_map_source(surface_of(exp), surface_grid(surface_key, formula, domain))


@st.cache_data(max_entries=32, show_spinner=False)
def race_figure_dict(exp: rs.Experiment, names: tuple, show_3d: bool, lang: str) -> dict:
    """The race figure as a plain dict, built without Plotly objects (viz's fast path):
    validating ~50 frames of go.Scatter cost ~0.3 s on every learning-rate change.

    ``lang`` (the current language) only keys the cache: the figure's words are in it."""
    surface = surface_of(exp)
    result = run_race(exp)
    keys = exp.optimizer_keys
    fig = vr.race_figure_dict(
        surface, surface_grid(exp.surface, exp.formula, exp.domain), result, list(names),
        [vr.OPTIMIZER_COLORS[k] for k in keys], start=exp.start, show_3d=show_3d,
        symbols=[vr.OPTIMIZER_SYMBOLS[k] for k in keys], max_frames=MAX_FRAMES,
        click_grid_n=CLICK_GRID_N,
        map_source=None if show_3d else map_source(exp.surface, exp.formula, exp.domain))
    # minima and the start are explained under the map and in their hover text: the legend
    # keeps only the runners, on one line above the map
    idx = vr.race_trace_indices(len(keys), show_3d)
    for i in [*idx["critical"], idx["start"]]:
        fig["data"][i]["showlegend"] = False
    layout = fig["layout"]
    layout.update(height=590, margin=dict(l=50, r=10, t=36, b=100))
    layout["legend"] = {**layout.get("legend", {}), "font": dict(size=14), "y": 1.0}
    return fig


@st.cache_data(max_entries=32, show_spinner=False)
def curve_dicts(exp: rs.Experiment, names: tuple, lang: str) -> tuple[dict, dict]:
    """Loss and gradient-norm figures as dicts (cached per experiment and language)."""
    surface = surface_of(exp)
    result = run_race(exp)
    colors = [vr.OPTIMIZER_COLORS[k] for k in exp.optimizer_keys]
    f_min = min((p.f for p in surface.minima if p.kind in ("global", "local")), default=None)
    # Log axis when it means something: losses that stay positive, or f − f_min against a
    # known minimum. A surface falling without bound (saddles, some typed formulas) would
    # only be measured from its lowest iterate, so its axis stays linear and shows f itself.
    log_y = f_min is not None or bool(np.all(result.loss > 0))
    loss = vr.loss_figure_dict(result, list(names), colors, log_y=log_y,
                               f_min=f_min if f_min is not None and f_min < 0 else None)
    grad = vr.grad_norm_figure_dict(result, list(names), colors)
    for fig in (loss, grad):
        fig["layout"]["height"] = 330
    return loss, grad



# ----------------------------------------------------------------------------- state


def widget_state(exp: rs.Experiment) -> dict[str, object]:
    """Widget key -> value that shows ``exp`` (every optimizer gets values, chosen or not)."""
    surface = SURFACES.get(exp.surface)
    state: dict[str, object] = {
        "sc": exp.scenario or None,
        "surf": exp.surface,
        "formula": exp.formula or rs.DEFAULT_FORMULA,
        "opts": list(exp.optimizer_keys),
        "x0": float(exp.start[0]),
        "y0": float(exp.start[1]),
        "steps": int(exp.steps),
        "noise": float(exp.noise),
        "seed": int(exp.seed),
        "sched": exp.schedule[0] if exp.schedule else "constant",
    }
    for i, value in enumerate(exp.domain):
        state[f"dom{i}"] = float(value)
    for key, spec in optimizers.OPTIMIZERS.items():
        hyper = exp.hyper(key) if key in exp.optimizer_keys else rs.default_hypers(key, surface)
        for hs in spec.hyper:
            value = hyper.get(hs.name, hs.default)
            state[f"h.{key}.{hs.name}"] = bool(value) if hs.kind == "bool" else float(value)
            if hs.log_scale:
                state[f"hs.{key}.{hs.name}"] = float(value)
    if exp.schedule:
        for name, value in exp.schedule[1]:
            state[f"sp.{name}"] = float(value)
    return state


def load(ss: MutableMapping, exp: rs.Experiment) -> None:
    """Show ``exp`` in the widgets (call before they are drawn, or from a callback)."""
    for key, value in widget_state(exp).items():
        ss[key] = value


def fill_missing(ss: MutableMapping, exp: rs.Experiment) -> None:
    """Restore widget values Streamlit dropped (widgets not drawn in the previous run)."""
    for key, value in widget_state(exp).items():
        if key not in ss:
            ss[key] = value


def experiment_from_widgets(ss: MutableMapping) -> rs.Experiment:
    """The experiment the widgets show (values already validated by the widgets)."""
    chosen = []
    for key in ss["opts"]:
        pairs = []
        for hs in optimizers.OPTIMIZERS[key].hyper:
            value = float(ss[f"h.{key}.{hs.name}"])
            pairs.append((hs.name, rs.clamp_hyper(key, hs.name, value)[0]))
        chosen.append((key, tuple(pairs)))
    schedule = None
    if ss.get("sched", "constant") != "constant" and schedules is not None:
        kind = ss["sched"]
        schedule = (kind, tuple((p.name, float(ss[f"sp.{p.name}"]))
                                for p in _schedule_param_specs(kind)))
    surface = ss["surf"]
    domain = tuple(float(ss[f"dom{i}"]) for i in range(4))
    (xmin, xmax), (ymin, ymax) = ((domain[0], domain[1]), (domain[2], domain[3])) \
        if surface == rs.CUSTOM else SURFACES[surface].domain
    return rs.Experiment(
        surface=surface,
        formula=str(ss["formula"]).strip() if surface == rs.CUSTOM else "",
        domain=domain if surface == rs.CUSTOM else rs.DEFAULT_DOMAIN,
        optimizers=tuple(chosen),
        start=(min(max(float(ss["x0"]), xmin), xmax), min(max(float(ss["y0"]), ymin), ymax)),
        steps=int(ss["steps"]),
        noise=float(ss["noise"]),
        seed=int(ss["seed"]),
        schedule=schedule,
        scenario=ss.get("sc") or "",
    )


# ----------------------------------------------------------------------------- callbacks


def _on_scenario() -> None:
    key = st.session_state.get("sc")
    if key in SCENARIOS:
        load(st.session_state, rs.from_scenario(key))


def _on_surface() -> None:
    ss = st.session_state
    key = ss["surf"]
    ss["sc"] = None
    if key == rs.CUSTOM:
        domain = tuple(float(ss[f"dom{i}"]) for i in range(4))
        try:
            surface = parse_formula(str(ss["formula"]).strip(), domain)
        except ValueError:
            ss["x0"] = domain[0] + 0.8 * (domain[1] - domain[0])
            ss["y0"] = domain[2] + 0.8 * (domain[3] - domain[2])
            return
    else:
        surface = SURFACES[key]
    ss["x0"], ss["y0"] = (float(v) for v in surface.start)
    ss["steps"] = int(surface.default_steps)
    for opt in optimizers.OPTIMIZERS:  # pre-set the surface's suggested learning rates
        lr = rs.default_hypers(opt, surface)["lr"]
        ss[f"h.{opt}.lr"] = ss[f"hs.{opt}.lr"] = lr


def _on_random_start() -> None:
    ss = st.session_state
    if ss["surf"] == rs.CUSTOM:
        (xmin, xmax), (ymin, ymax) = (ss["dom0"], ss["dom1"]), (ss["dom2"], ss["dom3"])
    else:
        (xmin, xmax), (ymin, ymax) = SURFACES[ss["surf"]].domain
    rng = np.random.default_rng()
    mx, my = 0.05 * (xmax - xmin), 0.05 * (ymax - ymin)  # keep away from the edges
    ss["x0"] = round(float(rng.uniform(xmin + mx, xmax - mx)), 3)
    ss["y0"] = round(float(rng.uniform(ymin + my, ymax - my)), 3)


def _sync(src: str, dst: str) -> None:
    st.session_state[dst] = st.session_state[src]


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


def apply_click(ss: MutableMapping, x: float, y: float, exp_domain) -> None:
    (xmin, xmax), (ymin, ymax) = exp_domain
    ss["x0"] = round(min(max(float(x), xmin), xmax), 3)
    ss["y0"] = round(min(max(float(y), ymin), ymax), 3)


# ----------------------------------------------------------------------------- widgets


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def hyper_controls(key: str) -> None:
    """The controls of one optimizer, built from its registry metadata."""
    ss = st.session_state
    for hs in optimizers.OPTIMIZERS[key].hyper:
        wkey = f"h.{key}.{hs.name}"
        label = f"${hs.symbol}$ · {hs.name}"
        help_text = f"{rt.hyper_help(key, hs)} ({hs.range_text()})"
        if hs.kind == "bool":
            st.checkbox(label, key=wkey, help=help_text)
        elif hs.log_scale:
            skey = f"hs.{key}.{hs.name}"
            low, high = float(hs.slider_min), float(hs.slider_max)
            options = log_grid(low, high, float(ss[wkey]), float(ss[skey]))
            st.select_slider(label, options=options, key=skey, format_func=_fmt,
                             help=help_text, on_change=_sync, args=(skey, wkey))
            st.number_input(t("race.exact_value", name=hs.name), min_value=low, max_value=high,
                            key=wkey, format="%.4g", step=low if low > 0 else None,
                            on_change=_sync, args=(wkey, skey), label_visibility="collapsed",
                            help=t("race.exact_help"))
        elif hs.max == 1.0 and not hs.max_inclusive:  # a decay factor in [0, 1)
            options = sorted(set(UNIT_CHOICES) | {float(ss[wkey])})
            st.select_slider(label, options=options, key=wkey, format_func=lambda v: f"{v:g}",
                             help=help_text)
        else:
            st.slider(label, min_value=float(hs.slider_min), max_value=float(hs.slider_max),
                      key=wkey, help=help_text,
                      step=float(hs.slider_max - hs.slider_min) / 100.0, format="%.4g")


def check_formula(ss: MutableMapping) -> str | None:
    """The message for a typed formula or domain that cannot be used (None when fine)."""
    xmin, xmax, ymin, ymax = (float(ss[f"dom{i}"]) for i in range(4))
    if not (xmin < xmax and ymin < ymax):
        return t("race.bad_domain")
    text = str(ss["formula"]).strip()
    if not text:
        return t("race.empty_formula")
    try:
        surface = parse_formula(text, (xmin, xmax, ymin, ymax))
    except ValueError as exc:  # ExpressionError is a ValueError
        return t("race.formula_refused", message=str(exc))
    if not defined_somewhere(surface):
        return t("race.formula_undefined")
    return None


def defined_somewhere(surface, n: int = 41) -> bool:
    """Whether f has a finite value at some point of a coarse grid over its domain."""
    (xmin, xmax), (ymin, ymax) = surface.domain
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n))
    with np.errstate(all="ignore"):
        values = np.asarray(surface.f(np.stack([gx, gy], axis=-1)), dtype=np.float64)
    return bool(np.isfinite(values).any())


def sidebar(ss: MutableMapping) -> str | None:
    """Every control of the race, in the sidebar; returns the typed formula's error, if any."""
    sb = st.sidebar
    formula_error = None
    sb.subheader(t("race.scenarios"))
    sb.pills(t("race.scenarios"), options=list(SCENARIOS), key="sc",
             format_func=rt.scenario_title, on_change=_on_scenario,
             label_visibility="collapsed")

    sb.subheader(t("race.surface"))
    keys = list(SURFACES) + ([rs.CUSTOM] if expression is not None else [])
    if ss["surf"] not in keys:
        ss["surf"] = rs.DEFAULT_SURFACE
    sb.selectbox(t("race.surface"), options=keys, key="surf", on_change=_on_surface,
                 format_func=lambda k: t("race.custom_surface") if k == rs.CUSTOM
                 else rt.surface_title(k), label_visibility="collapsed")

    with sb:
        if ss["surf"] == rs.CUSTOM:
            st.text_input(t("race.formula"), key="formula", max_chars=rs.MAX_FORMULA,
                          help=t("race.formula_help"))
            slot = st.empty()
            c1, c2 = st.columns(2)
            c1.number_input("x min", key="dom0", min_value=-rs.DOMAIN_LIMIT,
                            max_value=rs.DOMAIN_LIMIT)
            c2.number_input("x max", key="dom1", min_value=-rs.DOMAIN_LIMIT,
                            max_value=rs.DOMAIN_LIMIT)
            c1.number_input("y min", key="dom2", min_value=-rs.DOMAIN_LIMIT,
                            max_value=rs.DOMAIN_LIMIT)
            c2.number_input("y max", key="dom3", min_value=-rs.DOMAIN_LIMIT,
                            max_value=rs.DOMAIN_LIMIT)
            formula_error = check_formula(ss)
            if formula_error:
                slot.error(formula_error, icon=":material/error:")
        st.toggle(t("race.view_3d"), key="v3d", help=t("race.view_3d_help"))

        st.subheader(t("race.optimizers"))
        st.multiselect(t("race.optimizers"), options=list(optimizers.OPTIMIZERS), key="opts",
                       format_func=rt.optimizer_title,
                       label_visibility="collapsed", placeholder=t("race.pick_optimizer"))
        for i, key in enumerate(ss["opts"]):
            # the first runner's learning rate is on screen from the start
            with st.expander(rt.optimizer_title(key), key=f"box.{key}", on_change="rerun",
                             expanded=i == 0):
                st.caption(rt.optimizer_summary(key))
                hyper_controls(key)

        st.subheader(t("race.shared"))
        c1, c2 = st.columns(2)
        c1.number_input(t("race.start_x"), key="x0", format="%.3f", step=0.1)
        c2.number_input(t("race.start_y"), key="y0", format="%.3f", step=0.1)
        st.button(t("race.random_start"), on_click=_on_random_start, icon=":material/casino:",
                  width="stretch")
        st.caption(t("race.click_hint"))
        st.number_input(t("race.steps"), key="steps", min_value=1, max_value=MAX_STEPS,
                        step=50, help=t("race.steps_help"))
        st.slider(t("race.noise"), key="noise", min_value=0.0, max_value=rs.MAX_NOISE,
                  step=0.05, help=t("race.noise_help"))
        if ss["noise"] > 0:
            st.number_input(t("race.seed"), key="seed", min_value=0, max_value=rs.MAX_SEED,
                            step=1)
        if schedules is not None:
            specs = schedule_specs() or {}
            st.selectbox(t("race.schedule"), options=["constant", *specs], key="sched",
                         format_func=schedule_title, help=t("race.schedule_help"))
            if ss["sched"] != "constant":
                for p in _schedule_param_specs(ss["sched"]):
                    skey = f"sp.{p.name}"
                    default, low, high = specs[ss["sched"]][p.name]
                    if skey not in ss or not low <= ss[skey] <= high:
                        ss[skey] = default
                    if getattr(p, "kind", "float") == "int":
                        ss[skey] = float(round(ss[skey]))
                        st.slider(p.name, min_value=float(low), max_value=float(high), step=1.0,
                                  key=skey, help=rt.schedule_help(ss["sched"], p), format="%d")
                    else:
                        st.slider(p.name, min_value=float(low), max_value=float(high), key=skey,
                                  help=rt.schedule_help(ss["sched"], p),
                                  step=(high - low) / 100.0, format="%.4g")
    return formula_error


def schedule_title(kind: str) -> str:
    if kind == "constant" or schedules is None:
        return t("race.schedule_constant")
    return rt.schedule_title(kind)
