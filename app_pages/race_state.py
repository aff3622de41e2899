"""The race page's experiment: one hashable value, read from and written to the URL.

Pure Python (no Streamlit): :func:`from_query` turns a query-string mapping into an
:class:`Experiment` plus a note for every value that could not be used as given (clamped
into its range, reset to its default, or ignored: :mod:`app_pages.url_values`) — never an
exception.
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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from app_pages.url_values import FOREIGN, Note, number, read_number
from engine import descent, expression, optimizers
from engine.scenarios import SCENARIOS, OptimizerLineup, scenario_hypers
from engine.surfaces import SURFACES

__all__ = [
    "CUSTOM",
    "DEFAULT_OPTIMIZERS",
    "DEFAULT_SURFACE",
    "MAX_FORMULA",
    "MAX_PASTE",
    "MAX_NOISE",
    "MAX_STEPS",
    "Experiment",
    "clamp_hyper",
    "default_experiment",
    "default_hypers",
    "from_query",
    "from_scenario",
    "settings_lines",
    "to_query",
]

CUSTOM = "custom"
DEFAULT_SURFACE = "rosenbrock"
DEFAULT_OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
DEFAULT_FORMULA = "x**2 + 3*y**2 + sin(3*x)"
DEFAULT_DOMAIN = (-2.0, 2.0, -2.0, 2.0)
MAX_STEPS = descent.MAX_STEPS  # the engine's bound, said in the UI
MAX_NOISE = 5.0
MAX_SEED = 2**31 - 1
MAX_FORMULA = expression.MAX_LENGTH  # characters of a typed f (the engine's limit)
MAX_PASTE = 20_000  # what the formula box accepts, so a longer paste gets its message
DOMAIN_LIMIT = 1e4

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


def from_query(query: Mapping[str, str], schedule_specs: Mapping | None = None,
               ) -> tuple[Experiment, list[Note]]:
    """Experiment described by a query mapping, and a note for every name not used as given.

    ``schedule_specs``: kind -> {parameter name: (default, min, max)} of the learning-rate
    schedules the page offers (``None``: schedules are not offered, ``sch`` is ignored).
    Nothing here raises. Each note says what happened (:class:`url_values.Note`): a number
    out of range was clamped to the nearest allowed value, an unreadable value was reset to
    its default, a name that is no setting of this page was ignored.
    """
    query = {str(k): (v[-1] if isinstance(v, list | tuple) and v else v)
             for k, v in dict(query).items()}
    notes: list[Note] = []
    used: set[str] = set(FOREIGN)

    def note(name: str, what: str, value="") -> None:
        if name not in [n.name for n in notes]:
            notes.append(Note(name, what, query.get(name, ""), _text(value)))

    def read(name: str, current, low, high, integer: bool = False):
        """The query's number for ``name`` (clamped into [low, high]), else ``current``."""
        used.add(name)
        if name not in query:
            return current
        value, what = read_number(query[name], current, low, high, integer)
        if what:
            note(name, what, value)
        return value

    # scenario: a base the other names may override
    scenario = query.get("sc", "")
    used.add("sc")
    if scenario and scenario not in SCENARIOS:
        note("sc", "ignored")
        scenario = ""
    base = from_scenario(scenario) if scenario else None

    # surface
    used.add("s")
    surface_key = query.get("s", base.surface if base else DEFAULT_SURFACE)
    if surface_key != CUSTOM and surface_key not in SURFACES:
        surface_key = base.surface if base else DEFAULT_SURFACE
        note("s", "reset", surface_key)
    formula, domain = "", DEFAULT_DOMAIN
    if surface_key == CUSTOM:
        used.update({"f", "dom"})
        formula = str(query.get("f", "")).strip()
        if not formula or len(formula) > MAX_FORMULA:
            formula = DEFAULT_FORMULA
            note("f", "reset", formula)
        if "dom" in query:
            parts = [number(p) for p in str(query["dom"]).split(",")]
            if (len(parts) == 4 and None not in parts
                    and all(abs(p) <= DOMAIN_LIMIT for p in parts)
                    and parts[0] < parts[1] and parts[2] < parts[3]):
                domain = tuple(parts)
            else:
                note("dom", "reset", ",".join(_num(v) for v in domain))
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
        if not keys:
            keys = list(DEFAULT_OPTIMIZERS)
            note("o", "reset", ",".join(keys))
        elif len(keys) != len(asked):  # the unknown ones were left out
            note("o", "partly", ",".join(keys))
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
            raw = str(query[name]).strip().lower()
            if spec.kind == "bool" and raw in ("true", "false"):
                hyper[spec.name] = 1.0 if raw == "true" else 0.0
                continue
            value, what = read_number(query[name], hyper[spec.name])
            if what is None:
                value, changed = clamp_hyper(key, spec.name, value)
                what = "clamped" if changed else None
            if what:
                note(name, what, value)
            hyper[spec.name] = value
        chosen.append((key, _pairs(hyper)))
    exp = replace(exp, optimizers=tuple(chosen))

    # start, steps, noise, seed
    (xmin, xmax), (ymin, ymax) = ((exp.domain[0], exp.domain[1]), (exp.domain[2], exp.domain[3])
                                  ) if surface is None else surface.domain
    start = (float(read("x", exp.start[0], float(xmin), float(xmax))),
             float(read("y", exp.start[1], float(ymin), float(ymax))))
    exp = replace(exp, start=start,
                  steps=int(read("n", exp.steps, 1, MAX_STEPS, integer=True)),
                  noise=float(read("noise", exp.noise, 0.0, MAX_NOISE)),
                  seed=int(read("seed", exp.seed, 0, MAX_SEED, integer=True)))

    # schedule
    used.add("sch")
    if schedule_specs is not None and "sch" in query:
        kind = str(query["sch"])
        if kind == "constant" or kind not in schedule_specs:
            if kind != "constant":
                note("sch", "reset", "constant")
            exp = replace(exp, schedule=None)
        else:
            params = {pname: float(read(f"sch.{pname}", default, low, high))
                      for pname, (default, low, high) in schedule_specs[kind].items()}
            exp = replace(exp, schedule=(kind, _pairs(params)))

    for name in query:
        if name not in used:
            note(name, "ignored")
    return exp, notes


def _text(value) -> str:
    return _num(value) if isinstance(value, float) else str(value)


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


def settings_lines(exp: Experiment, link: str = "") -> list[str]:
    """The settings of a race, one per line, for the header of a downloaded file: the query
    that reproduces it (:func:`to_query`, which :func:`from_query` reads back), the link
    (``link``: the page's address, without query, when known), then each setting written
    out: surface or formula and domain, each optimizer with every hyper-parameter, start,
    steps, noise and seed, schedule."""
    query = urlencode(to_query(exp), safe=",")
    lines = ["Descent Lab optimizer race: these settings reproduce the runs below",
             f"query: {query}"]
    if link:
        lines.append(f"link: {link}?{query}")
    if exp.surface == CUSTOM:
        lines += [f"formula: f(x, y) = {exp.formula}",
                  "domain: " + ", ".join(_num(v) for v in exp.domain)]
    else:
        lines.append(f"surface: {exp.surface}")
    for key, pairs in exp.optimizers:
        lines.append(f"optimizer {key}: " + ", ".join(f"{n}={_num(v)}" for n, v in pairs))
    lines += [f"start: {_num(exp.start[0])}, {_num(exp.start[1])}", f"steps: {exp.steps}",
              f"gradient noise: {_num(exp.noise)} (seed {exp.seed})"]
    if exp.schedule is None:
        lines.append("schedule: constant")
    else:
        kind, params = exp.schedule
        lines.append(f"schedule: {kind} " + ", ".join(f"{n}={_num(v)}" for n, v in params))
    return lines
