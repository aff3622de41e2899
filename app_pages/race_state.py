"""The race page's experiment: one hashable value, read from and written to the URL.

Pure Python (no Streamlit): :func:`from_query` turns a query-string mapping into an
:class:`Experiment` plus the list of names that could not be used (each falls back to its
default, clamped to its valid range; unknown names are ignored) — never an exception.
:func:`to_query` is the inverse, so a copied link reproduces the race.

URL names (short, stable)::

    sc=saddle               scenario the setup came from (optional)
    s=rosenbrock            surface key, or s=custom with f=<formula> and dom=xmin,xmax,ymin,ymax
    o=gd,momentum,adam      optimizers, in race order
    adam.lr=0.01            any hyper-parameter of a listed optimizer (<key>.<name>)
    x=-1.2&y=1              start point
    n=500                   steps (1 … 5000)
    noise=0.1&seed=0        gradient noise σ and its seed
    sch=cosine&sch.T_max=…  learning-rate schedule and its parameters (absent: constant)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from engine import optimizers
from engine.scenarios import SCENARIOS, OptimizerLineup, scenario_hypers
from engine.surfaces import SURFACES

__all__ = [
    "CUSTOM",
    "DEFAULT_OPTIMIZERS",
    "DEFAULT_SURFACE",
    "MAX_FORMULA",
    "MAX_NOISE",
    "MAX_STEPS",
    "Experiment",
    "clamp_hyper",
    "default_experiment",
    "default_hypers",
    "from_query",
    "from_scenario",
    "to_query",
]

CUSTOM = "custom"
DEFAULT_SURFACE = "rosenbrock"
DEFAULT_OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
DEFAULT_FORMULA = "x**2 + 3*y**2 + sin(3*x)"
DEFAULT_DOMAIN = (-2.0, 2.0, -2.0, 2.0)
MAX_STEPS = 5000
MAX_NOISE = 5.0
MAX_SEED = 2**31 - 1
MAX_FORMULA = 200
DOMAIN_LIMIT = 1e4
# query names owned by others (the app's language picker, the page's Present mode,
# Streamlit's embed options)
FOREIGN = {"lang", "present", "embed", "embed_options"}

Pairs = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Experiment(OptimizerLineup):
    """Everything that defines a race (hashable, so it can key a cache)."""

    surface: str = DEFAULT_SURFACE
    formula: str = ""
    domain: tuple[float, float, float, float] = DEFAULT_DOMAIN
    optimizers: tuple[tuple[str, Pairs], ...] = ()
    start: tuple[float, float] = (0.0, 0.0)
    steps: int = 300
    noise: float = 0.0
    seed: int = 0
    schedule: tuple[str, Pairs] | None = None
    scenario: str = ""

    def hyper(self, key: str) -> dict[str, float]:
        """The hyper-parameters of optimizer ``key`` in this experiment."""
        return self.settings_for(key)


# ----------------------------------------------------------------------------- defaults


def _pairs(mapping: Mapping[str, float]) -> Pairs:
    return tuple((name, float(value)) for name, value in mapping.items())


def default_hypers(key: str, surface=None) -> dict[str, float]:
    """Registry defaults, with the learning rate the surface suggests (when it has one)."""
    hyper = dict(optimizers.OPTIMIZERS[key].defaults)
    if surface is not None and key in surface.suggested_lr:
        hyper["lr"] = float(surface.suggested_lr[key])
    return {name: clamp_hyper(key, name, value)[0] for name, value in hyper.items()}


def default_experiment(surface_key: str = DEFAULT_SURFACE) -> Experiment:
    surface = SURFACES[surface_key]
    return Experiment(
        surface=surface_key,
        optimizers=tuple((k, _pairs(default_hypers(k, surface))) for k in DEFAULT_OPTIMIZERS),
        start=tuple(float(v) for v in surface.start),
        steps=int(surface.default_steps),
    )


def from_scenario(key: str) -> Experiment:
    scenario = SCENARIOS[key]
    surface = SURFACES[scenario.surface]
    hypers = [(k, _pairs({name: clamp_hyper(k, name, v)[0] for name, v in h.items()}))
              for k, h in scenario_hypers(scenario, surface)]
    return Experiment(
        surface=scenario.surface,
        optimizers=tuple(hypers),
        start=tuple(float(v) for v in scenario.start),
        steps=int(scenario.steps),
        noise=float(scenario.noise),
        seed=int(scenario.seed),
        schedule=scenario.schedule,
        scenario=key,
    )


# ----------------------------------------------------------------------------- validation


def clamp_hyper(key: str, name: str, value: float) -> tuple[float, bool]:
    """``value`` clamped into the slider range of the hyper-parameter; (value, was_changed).

    The slider range lies inside the valid range, so the result is always valid and
    reachable with the page's controls.  Booleans become 0.0 / 1.0.
    """
    spec = optimizers.OPTIMIZERS[key].hyper_spec(name)
    if spec.kind == "bool":
        clean = 1.0 if value >= 0.5 else 0.0
        return clean, clean != value
    low, high = float(spec.slider_min), float(spec.slider_max)
    if spec.log_scale and low <= 0:
        low = 1e-12
    clean = min(max(float(value), low), high)
    return clean, clean != value


def _float(text) -> float | None:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _int(text) -> int | None:
    value = _float(text)
    if value is None or value != int(value):
        return None
    return int(value)


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def from_query(query: Mapping[str, str], schedule_specs: Mapping | None = None,
               ) -> tuple[Experiment, list[str]]:
    """Experiment described by a query mapping, and the names that fell back to defaults.

    ``schedule_specs``: kind -> {parameter name: (default, min, max)} of the learning-rate
    schedules the page offers (``None``: schedules are not offered, ``sch`` is ignored).
    Nothing here raises: every bad value is replaced and its name reported.
    """
    query = {str(k): (v[-1] if isinstance(v, list | tuple) and v else v)
             for k, v in dict(query).items()}
    notes: list[str] = []
    used: set[str] = set(FOREIGN)

    def bad(name: str) -> None:
        if name not in notes:
            notes.append(name)

    # scenario: a base the other names may override
    scenario = query.get("sc", "")
    used.add("sc")
    if scenario and scenario not in SCENARIOS:
        bad("sc")
        scenario = ""
    base = from_scenario(scenario) if scenario else None

    # surface
    used.add("s")
    surface_key = query.get("s", base.surface if base else DEFAULT_SURFACE)
    if surface_key != CUSTOM and surface_key not in SURFACES:
        bad("s")
        surface_key = base.surface if base else DEFAULT_SURFACE
    formula, domain = "", DEFAULT_DOMAIN
    if surface_key == CUSTOM:
        used.update({"f", "dom"})
        formula = str(query.get("f", "")).strip()
        if not formula or len(formula) > MAX_FORMULA:
            bad("f")
            formula = DEFAULT_FORMULA
        if "dom" in query:
            parts = [_float(p) for p in str(query["dom"]).split(",")]
            if (len(parts) == 4 and None not in parts
                    and all(abs(p) <= DOMAIN_LIMIT for p in parts)
                    and parts[0] < parts[1] and parts[2] < parts[3]):
                domain = tuple(parts)
            else:
                bad("dom")
    exp = base if (base and surface_key == base.surface) else default_experiment(
        surface_key if surface_key != CUSTOM else DEFAULT_SURFACE)
    surface = SURFACES.get(surface_key)
    if surface_key == CUSTOM:
        xmin, xmax, ymin, ymax = domain
        exp = replace(exp, start=((xmin + xmax) / 2 + 0.3 * (xmax - xmin),
                                  (ymin + ymax) / 2 + 0.3 * (ymax - ymin)))
    exp = replace(exp, surface=surface_key, formula=formula, domain=domain,
                  scenario=scenario if base and surface_key == base.surface else "")

    # optimizers and their hyper-parameters
    used.add("o")
    keys = list(exp.optimizer_keys)
    if "o" in query:
        asked = [k.strip() for k in str(query["o"]).split(",") if k.strip()]
        keys = list(dict.fromkeys(k for k in asked if k in optimizers.OPTIMIZERS))
        if len(keys) != len(asked) or not keys:
            bad("o")
        if not keys:
            keys = list(DEFAULT_OPTIMIZERS)
    chosen = []
    for key in keys:
        try:
            hyper = exp.hyper(key)
        except KeyError:
            hyper = default_hypers(key, surface)
        for spec in optimizers.OPTIMIZERS[key].hyper:
            name = f"{key}.{spec.name}"
            used.add(name)
            if name not in query:
                continue
            value = _float(query[name])
            if spec.kind == "bool" and str(query[name]).lower() in ("true", "false"):
                value = 1.0 if str(query[name]).lower() == "true" else 0.0
            if value is None:
                bad(name)
                continue
            value, changed = clamp_hyper(key, spec.name, value)
            if changed:
                bad(name)
            hyper[spec.name] = value
        chosen.append((key, _pairs(hyper)))
    exp = replace(exp, optimizers=tuple(chosen))

    # start, steps, noise, seed
    (xmin, xmax), (ymin, ymax) = ((exp.domain[0], exp.domain[1]), (exp.domain[2], exp.domain[3])
                                  ) if surface is None else surface.domain
    start = list(exp.start)
    for i, (name, low, high) in enumerate((("x", xmin, xmax), ("y", ymin, ymax))):
        used.add(name)
        if name in query:
            value = _float(query[name])
            if value is None:
                bad(name)
                continue
            if not low <= value <= high:
                bad(name)
            start[i] = _clamp(value, float(low), float(high))
    exp = replace(exp, start=tuple(start))

    used.update({"n", "noise", "seed"})
    if "n" in query:
        value = _int(query["n"])
        if value is None or not 1 <= value <= MAX_STEPS:
            bad("n")
        if value is not None:
            exp = replace(exp, steps=int(_clamp(value, 1, MAX_STEPS)))
    if "noise" in query:
        value = _float(query["noise"])
        if value is None or not 0 <= value <= MAX_NOISE:
            bad("noise")
        if value is not None:
            exp = replace(exp, noise=_clamp(value, 0.0, MAX_NOISE))
    if "seed" in query:
        value = _int(query["seed"])
        if value is None or not 0 <= value <= MAX_SEED:
            bad("seed")
        if value is not None:
            exp = replace(exp, seed=int(_clamp(value, 0, MAX_SEED)))

    # schedule
    used.add("sch")
    if schedule_specs is not None and "sch" in query:
        kind = str(query["sch"])
        if kind == "constant" or kind not in schedule_specs:
            if kind != "constant":
                bad("sch")
            exp = replace(exp, schedule=None)
        else:
            params = {}
            for pname, (default, low, high) in schedule_specs[kind].items():
                name = f"sch.{pname}"
                used.add(name)
                value = _float(query.get(name, default))
                if value is None or not low <= value <= high:
                    bad(name)
                    value = default if value is None else _clamp(value, low, high)
                params[pname] = float(value)
            exp = replace(exp, schedule=(kind, _pairs(params)))

    for name in query:
        if name not in used:
            bad(name)
    return exp, notes


def _num(value: float) -> str:
    return f"{value:.10g}"


def to_query(exp: Experiment) -> dict[str, str]:
    """The query mapping that :func:`from_query` turns back into ``exp``."""
    query: dict[str, str] = {}
    if exp.scenario:
        query["sc"] = exp.scenario
    query["s"] = exp.surface
    if exp.surface == CUSTOM:
        query["f"] = exp.formula
        query["dom"] = ",".join(_num(v) for v in exp.domain)
    query["o"] = ",".join(exp.optimizer_keys)
    for key, pairs in exp.optimizers:
        for name, value in pairs:
            spec = optimizers.OPTIMIZERS[key].hyper_spec(name)
            if name == "lr" or value != spec.default:
                query[f"{key}.{name}"] = _num(value)
    query["x"], query["y"] = _num(exp.start[0]), _num(exp.start[1])
    query["n"] = str(exp.steps)
    if exp.noise:
        query["noise"] = _num(exp.noise)
        query["seed"] = str(exp.seed)
    if exp.schedule is not None:
        kind, params = exp.schedule
        query["sch"] = kind
        for name, value in params:
            query[f"sch.{name}"] = _num(value)
    return query
