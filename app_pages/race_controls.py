"""The race page's controls, and the mapping experiment <-> widget state.

Two places, two kinds of rerun:

* the sidebar (:func:`sidebar`) sets up the race: scenario, surface (or a typed f), 3-D
  view, steps, gradient noise, schedule, reset. A change there reruns the whole page.
* the main area belongs to the page's fragment: which optimizers race
  (:func:`optimizer_picker`), their hyper-parameters (:func:`optimizer_settings`) and the
  start (:func:`start_controls`). The canvas sets learning rates and the start too (a
  released learning-rate slider, a click on the map); since these widgets live in the same
  fragment, a change reruns only the fragment and the widgets show the new value.

Widget keys (short, stable; the URL layer is :mod:`app_pages.race_state`):
``sc`` scenario, ``surf`` surface, ``formula`` + ``dom0..dom3`` typed surface, ``opts``
optimizers, ``h.<opt>.<name>`` hyper-parameter values (``hs.<opt>.<name>`` the log slider
that mirrors a log-scale value), ``x0``/``y0`` start, ``steps``, ``noise``, ``seed``,
``sched`` + ``sp.<name>`` learning-rate schedule, ``v3d`` 3-D view, ``present``.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import numpy as np
import streamlit as st

from app_pages import race_state as rs
from app_pages import race_work
from app_pages import registry_texts as rt
from engine import optimizers, schedules
from engine.expression import ExpressionError
from engine.scenarios import SCENARIOS
from engine.surfaces import SURFACES
from texts import t
from viz import race_map

# β, ρ, μ: exact 0.9, 0.99, 0.999 are on the slider (a value from a link is added to it)
UNIT_CHOICES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97,
                0.98, 0.99, 0.995, 0.999)


# ----------------------------------------------------------------------------- schedules


def schedule_specs() -> dict[str, dict[str, tuple[float, float, float]]]:
    """kind -> {parameter: (default, min, max)} for the schedules the page offers."""
    return {kind: {p.name: (float(p.default), float(p.slider_min), float(p.slider_max))
                   for p in spec.hyper}
            for kind, spec in schedules.SCHEDULES.items() if kind != "constant"}


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
    if ss.get("sched", "constant") != "constant":
        kind = ss["sched"]
        schedule = (kind, tuple((p.name, float(ss[f"sp.{p.name}"]))
                                for p in schedules.SCHEDULES[kind].hyper))
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


def _on_reset() -> None:
    """Reset to defaults: the default race, as on a first visit without a link."""
    load(st.session_state, rs.default_experiment())
    st.session_state["v3d"] = False


def _on_surface() -> None:
    ss = st.session_state
    key = ss["surf"]
    ss["sc"] = None
    if key == rs.CUSTOM:
        domain = tuple(float(ss[f"dom{i}"]) for i in range(4))
        try:
            surface = race_work.parse_formula(str(ss["formula"]).strip(), domain)
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


def apply_click(ss: MutableMapping, x: float, y: float, exp_domain) -> None:
    """A click on the map moves the start there (clamped to the domain, 3 decimals)."""
    (xmin, xmax), (ymin, ymax) = exp_domain
    ss["x0"] = round(min(max(float(x), xmin), xmax), 3)
    ss["y0"] = round(min(max(float(y), ymin), ymax), 3)


def apply_lr(ss: MutableMapping, key: str, value: float) -> None:
    """A released learning-rate slider of the canvas: the new value of optimizer ``key``."""
    if key not in optimizers.OPTIMIZERS:
        return
    clean, _ = rs.clamp_hyper(key, "lr", float(value))
    ss[f"h.{key}.lr"] = ss[f"hs.{key}.lr"] = clean


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
            options = race_work.log_grid(low, high, float(ss[wkey]), float(ss[skey]))
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


def optimizer_picker() -> None:
    st.multiselect(t("race.optimizers"), options=list(optimizers.OPTIMIZERS), key="opts",
                   format_func=rt.optimizer_title, label_visibility="collapsed",
                   placeholder=t("race.pick_optimizer"))


def optimizer_settings() -> None:
    """Every hyper-parameter of every optimizer in the race, two optimizers a row."""
    keys = list(st.session_state["opts"])
    for row in range(0, len(keys), 2):
        columns = st.columns(2, gap="medium")
        for column, key in zip(columns, keys[row:row + 2], strict=False):
            with column, st.container(border=True):
                st.markdown(f"**{rt.optimizer_title(key)}**")
                st.caption(rt.optimizer_summary(key))
                hyper_controls(key)


def start_controls() -> None:
    c1, c2, c3 = st.columns([1, 1, 1.3], vertical_alignment="bottom")
    c1.number_input(t("race.start_x"), key="x0", format="%.3f", step=0.1)
    c2.number_input(t("race.start_y"), key="y0", format="%.3f", step=0.1)
    c3.button(t("race.random_start"), on_click=_on_random_start, icon=":material/casino:",
              width="stretch", key="random_start")


def check_formula(ss: MutableMapping) -> str | None:
    """The message for a typed formula or domain that cannot be used (None when fine)."""
    xmin, xmax, ymin, ymax = (float(ss[f"dom{i}"]) for i in range(4))
    if not (xmin < xmax and ymin < ymax):
        return t("race.bad_domain")
    text = str(ss["formula"]).strip()
    if not text:
        return t("race.empty_formula")
    try:
        surface = race_work.parse_formula(text, (xmin, xmax, ymin, ymax))
    except ExpressionError as exc:
        return t("race.formula_refused", message=rt.error_message(exc))
    if not defined_somewhere(surface):
        return t("race.formula_undefined")
    return None


def undefined_points(surface, n: int = 41) -> np.ndarray:
    """Where f has no value on a coarse n×n grid over its domain (bool)."""
    (xmin, xmax), (ymin, ymax) = surface.domain
    return race_map.undefined_mask(surface, np.linspace(xmin, xmax, n),
                                   np.linspace(ymin, ymax, n))


def defined_somewhere(surface, n: int = 41) -> bool:
    """Whether f has a finite value at some point of a coarse grid over its domain."""
    return not bool(undefined_points(surface, n).all())


def sidebar(ss: MutableMapping) -> str | None:
    """The set-up of the race, in the sidebar; returns the typed formula's error, if any."""
    sb = st.sidebar
    formula_error = None
    sb.button(t("common.reset_defaults"), on_click=_on_reset, icon=":material/restart_alt:",
              width="stretch", key="race_reset_defaults", help=t("race.reset_help"))
    sb.subheader(t("race.scenarios"))
    sb.pills(t("race.scenarios"), options=list(SCENARIOS), key="sc",
             format_func=rt.scenario_title, on_change=_on_scenario,
             label_visibility="collapsed")

    sb.subheader(t("race.surface"))
    keys = [*SURFACES, rs.CUSTOM]
    if ss["surf"] not in keys:
        ss["surf"] = rs.DEFAULT_SURFACE
    sb.selectbox(t("race.surface"), options=keys, key="surf", on_change=_on_surface,
                 format_func=lambda k: t("race.custom_surface") if k == rs.CUSTOM
                 else rt.surface_title(k), label_visibility="collapsed")

    with sb:
        if ss["surf"] == rs.CUSTOM:
            # no max_chars at the limit: the browser would refuse a longer paste silently;
            # the engine's length check says "too long (n characters; the limit is 200)"
            st.text_input(t("race.formula"), key="formula", max_chars=rs.MAX_PASTE,
                          help=t("race.formula_help"))
            slot = st.empty()
            c1, c2 = st.columns(2)
            c1.number_input(t("race.x_min"), key="dom0", min_value=-rs.DOMAIN_LIMIT,
                            max_value=rs.DOMAIN_LIMIT)
            c2.number_input(t("race.x_max"), key="dom1", min_value=-rs.DOMAIN_LIMIT,
                            max_value=rs.DOMAIN_LIMIT)
            c1.number_input(t("race.y_min"), key="dom2", min_value=-rs.DOMAIN_LIMIT,
                            max_value=rs.DOMAIN_LIMIT)
            c2.number_input(t("race.y_max"), key="dom3", min_value=-rs.DOMAIN_LIMIT,
                            max_value=rs.DOMAIN_LIMIT)
            formula_error = check_formula(ss)
            if formula_error:
                slot.error(formula_error, icon=":material/error:")
            elif undefined_points(race_work.parse_formula(
                    str(ss["formula"]).strip(), tuple(float(ss[f"dom{i}"]) for i in range(4)))
                    ).any():
                slot.caption(t("teach.undefined_region"))
        st.toggle(t("race.view_3d"), key="v3d", help=t("race.view_3d_help"))

        st.subheader(t("race.shared"))
        st.number_input(t("race.steps"), key="steps", min_value=1, max_value=rs.MAX_STEPS,
                        step=50, help=t("race.steps_help"))
        st.slider(t("race.noise"), key="noise", min_value=0.0, max_value=rs.MAX_NOISE,
                  step=0.05, help=t("race.noise_help"))
        if ss["noise"] > 0:
            st.number_input(t("race.seed"), key="seed", min_value=0, max_value=rs.MAX_SEED,
                            step=1)
        specs = schedule_specs()
        st.selectbox(t("race.schedule"), options=["constant", *specs], key="sched",
                     format_func=schedule_title, help=t("race.schedule_help"))
        if ss["sched"] != "constant":
            for p in schedules.SCHEDULES[ss["sched"]].hyper:
                skey = f"sp.{p.name}"
                default, low, high = specs[ss["sched"]][p.name]
                if skey not in ss or not low <= ss[skey] <= high:
                    ss[skey] = default
                if p.kind == "int":
                    ss[skey] = float(round(ss[skey]))
                    st.slider(p.name, min_value=float(low), max_value=float(high), step=1.0,
                              key=skey, help=rt.schedule_help(ss["sched"], p), format="%d")
                else:
                    st.slider(p.name, min_value=float(low), max_value=float(high), key=skey,
                              help=rt.schedule_help(ss["sched"], p),
                              step=(high - low) / 100.0, format="%.4g")
    return formula_error


def schedule_title(kind: str) -> str:
    if kind == "constant":
        return t("race.schedule_constant")
    return rt.schedule_title(kind)
