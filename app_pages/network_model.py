"""The Neural-network page's logic without Streamlit: configuration, URL, experiments.

The page (``app_pages/network.py``) reads widgets into a plain ``config`` dict, and this
module turns it into an :class:`Experiment` (data, network, optimizer, schedule);
:mod:`app_pages.network_run` trains it. Keeping it free of Streamlit lets tests drive it
directly and keeps the page thin.

URL layer: every field of :func:`base_fields` (and the chosen optimizer's and schedule's,
:func:`dependent_fields`) is a query parameter. :func:`parse_query` turns the raw strings
into validated values; a malformed or out-of-range value falls back to its default, with
a note (:class:`app_pages.url_values.Note`) that says so. The sweeps of the
"Compare optimizers" and "Seed statistics" tabs are engine.training calls, with the work
bounded here (:func:`epoch_cap`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from app_pages.url_values import FOREIGN, Note, number
from engine import datasets, mlp, optimizers, overfitting, schedules, training
from texts import t

# --------------------------------------------------------------------------- limits

MAX_EPOCHS = 20_000
MAX_POINTS = 2_000
MAX_HIDDEN_LAYERS = 4
MAX_WIDTH = 16
SEED_STAT_NETWORKS = 100
SEED_STAT_MAX_EPOCHS = 5_000
MAX_COMPARE = 4
COMPARE_MAX_EPOCHS = 5_000
# Work bound for the one-click experiments (compare, seed statistics), so one user cannot
# stall a shared classroom server: cost units per epoch = mini-batch steps x STEP_UNITS
# (Python overhead of a step, ~1 ms) + networks x training points x parameters. 2e9 units
# take about 10 s on one busy core.
WORK_BUDGET = 2e9
STEP_UNITS = 1.5e5

# A loss this large has diverged for every practical purpose (and no longer fits the float32
# arrays sent to the browser): training stops there, as it does at inf/NaN.
LOSS_LIMIT = 1e30
GRID = 60  # boundary-map resolution (GRID x GRID points)
BATCH_OPTIONS = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # 0 = all points (batch GD)
UPLOAD = "upload"  # dataset key of a user's CSV

# Output function + loss pairs offered: the sensible ones, whose gradient w.r.t. the
# logits is a multiple of yhat - y (mlp.LOGIT_GRADIENTS).
PAIRS = {"sigmoid_bce": ("sigmoid", "bce"), "softmax_cce": ("softmax", "cce"),
         "linear_mse": ("linear", "mse")}


def pair_help() -> str:
    """The output/loss help: each pair's gradient w.r.t. the output neuron's input, as the
    engine defines it."""
    return t("network.pair_help", **{key: mlp.LOGIT_GRADIENTS[pair][0]
                                   for key, pair in PAIRS.items()})

# Learning rates that train these small networks in a few hundred epochs (the registry's
# defaults are tuned for the 2-D surfaces of the race page).
NETWORK_LR = {"gd": 0.5, "momentum": 0.1, "nag": 0.1, "adagrad": 0.1, "rmsprop": 0.01,
              "adadelta": 1.0, "adam": 0.03, "adamw": 0.03, "nadam": 0.03, "adamax": 0.05}

# One-click scenarios: the controls each one sets (the rest take their defaults). What the
# page says about each (network.preset_<name>_watch) is checked on the engine's numbers in
# tests/app/test_network_app.py.
PRESETS = {
    "perceptron": dict(ds="xor", hl=0, act="tanh", pair="sigmoid_bce", opt="adam",
                       hyper={"lr": 0.05}, ep=1000),
    "tanh241": dict(ds="xor", hl=1, w=4, act="tanh", pair="sigmoid_bce", opt="adam",
                    hyper={"lr": 0.01}, ep=1000),
    # small initial weights make the product of sigmoid' (<= 0.25) and W shrink fast
    "deep_sigmoid": dict(ds="circle", hl=4, w=8, act="sigmoid", pair="sigmoid_bce",
                         opt="gd", hyper={"lr": 0.5}, ep=3000, init="normal"),
    "spiral": dict(ds="spiral", hl=3, w=12, act="relu", pair="sigmoid_bce", opt="adam",
                   hyper={"lr": 0.01}, ep=2000, init="he", noise=0.05, n=300),
    "too_large_lr": dict(ds="xor", hl=1, w=4, act="tanh", pair="linear_mse", opt="gd",
                         hyper={"lr": 3.0}, ep=1000),
    # its own view (app_pages/network_overfit.py: engine.overfitting's fixed 2-32-32-1 run
    # and its cures); the controls are set to the nearest live setup (30 training and 30
    # test points of the same noisy moons, the widest layers the sliders allow), which
    # trains when a control is changed
    "overfitting": dict(ds="moons", noise=0.3, n=60, test=0.5, hl=2, w=16, act="tanh",
                        init="lecun", opt="adam", hyper={"lr": 0.01}, ep=2000),
}
OVERFITTING = "overfitting"  # the scenario with a view of its own instead of live training
# the cures its view adds one click each (buttons, in this order), and their link name
OVERFIT_CURES = ("l2", "dropout", overfitting.EARLY_STOPPING, "l1")
CURES_PARAM = "cures"


SCENARIO_PARAM = "sc"  # the link's scenario (as on the race page)


def preset_values(name: str) -> dict[str, Any]:
    """The session values scenario ``name`` sets: every base control (its value or the
    default) and the learning rate and other hyper-parameters of its optimizer."""
    preset = PRESETS[name]
    values = {f.key: preset.get(f.key, f.default) for f in base_fields()}
    opt = values["opt"]
    for spec in optimizer_hypers(opt):
        values[hyper_session_key(opt, spec.name)] = preset.get("hyper", {}).get(
            spec.name, hyper_default(opt, spec))
    return values


# Optimizer hyper-parameters we do not show: coupled weight decay duplicates L2 (which the
# page sets under Regularisation); AdamW keeps its decoupled one.
HIDDEN_HYPER = {"weight_decay"}


def optimizer_hypers(key: str) -> list[optimizers.HyperSpec]:
    """The hyper-parameters of optimizer ``key`` that the page shows."""
    spec = optimizers.OPTIMIZERS[key]
    return [h for h in spec.hyper if h.name not in HIDDEN_HYPER or key == "adamw"]


def hyper_default(key: str, spec: optimizers.HyperSpec) -> Any:
    if spec.name == "lr":
        return NETWORK_LR.get(key, spec.default)
    if spec.kind == "bool":
        return bool(spec.default)
    return float(spec.default)


def schedule_keys() -> list[str]:
    """Learning-rate schedules offered ("constant" first)."""
    return ["constant", *[k for k in schedules.SCHEDULES if k != "constant"]]


def schedule_hypers(kind: str) -> list[optimizers.HyperSpec]:
    return list(schedules.SCHEDULES[kind].hyper)


def dataset_keys() -> list[str]:
    """Built-in datasets, then the user's own CSV."""
    return [*datasets.DATASETS, UPLOAD]


def default_dataset() -> str:
    keys = dataset_keys()
    return "xor" if "xor" in keys else keys[0]


def dataset_task(key: str) -> str:
    spec = datasets.DATASETS.get(key)
    return spec.task if spec is not None else "binary"


def pairs_for(task: str) -> list[str]:
    """Output/loss pairs that make sense for a task (the first is the default)."""
    if task == "regression":
        return ["linear_mse"]
    if task == "multiclass":
        return ["softmax_cce", "sigmoid_bce", "linear_mse"]
    return ["sigmoid_bce", "softmax_cce", "linear_mse"]


# --------------------------------------------------------------------------- URL fields


@dataclass(frozen=True)
class Field:
    """One configuration value: URL/session key, default, and a strict parser."""

    key: str
    default: Any
    parse: Callable[[str], Any]


class OutOfRange(ValueError):
    """A readable number outside its closed range: ``nearest`` is the closest allowed value
    (the link's value is clamped to it, as the race page does)."""

    def __init__(self, value, nearest):
        super().__init__(f"{value} out of range, nearest allowed {nearest}")
        self.nearest = nearest


def _whole(text: str) -> int:
    value = number(text)
    if value is None or value != int(value):
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def _int_in(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = _whole(text)
        if not lo <= value <= hi:
            raise OutOfRange(value, min(max(value, lo), hi))
        return value
    return parse


def _int_choice(options) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = _whole(text)
        if value not in options:
            raise ValueError(f"{value} is not one of {options}")
        return value
    return parse


def _float_in(lo: float, hi: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = number(text)
        if value is None:
            raise ValueError(f"{text!r} is not a number")
        if not lo <= value <= hi:
            raise OutOfRange(value, min(max(value, lo), hi))
        return value
    return parse


def _choice(options: Callable[[], list[str]]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options():
            raise ValueError(f"{text!r} is not one of {options()}")
        return text
    return parse


def _bool(text: str) -> bool:
    if text in ("1", "true", "True"):
        return True
    if text in ("0", "false", "False"):
        return False
    raise ValueError(f"{text!r} is not 0 or 1")


def base_fields() -> list[Field]:
    """Fields that exist for every configuration (optimizer and schedule parameters, which
    depend on the chosen optimizer and schedule, come from :func:`dependent_fields`)."""
    return [
        Field("ds", default_dataset(), _choice(dataset_keys)),
        Field("noise", 0.1, _float_in(0.0, 0.5)),
        Field("n", 200, _int_in(10, MAX_POINTS)),
        Field("test", 0.2, _float_in(0.0, 0.5)),
        Field("dseed", 0, _int_in(0, 9999)),
        Field("hl", 1, _int_in(0, MAX_HIDDEN_LAYERS)),
        Field("w", 4, _int_in(1, MAX_WIDTH)),
        Field("act", "tanh", _choice(lambda: list(mlp.ACTIVATIONS))),
        Field("pair", "sigmoid_bce", _choice(lambda: list(PAIRS))),
        Field("init", "xavier", _choice(lambda: list(mlp.INIT_SCHEMES))),
        Field("bs", 0, _int_choice(BATCH_OPTIONS)),
        Field("opt", "adam", _choice(lambda: list(optimizers.OPTIMIZERS))),
        Field("sched", "constant", _choice(schedule_keys)),
        Field("l1", 0.0, _float_in(0.0, 0.1)),
        Field("l2", 0.0, _float_in(0.0, 0.1)),
        Field("drop", 0.0, _float_in(0.0, 0.9)),
        Field("bn", False, _bool),
        Field("ep", 1000, _int_in(1, MAX_EPOCHS)),
        Field("wseed", 0, _int_in(0, 9999)),
    ]


def _hyper_parser(spec) -> Callable[[str], Any]:
    if spec.kind == "bool":
        return _bool

    def parse(text: str) -> float:
        value = number(text)
        if value is None:
            raise ValueError(f"{spec.name} {text!r} is not a number")
        low_ok = value >= spec.min if spec.min_inclusive else value > spec.min
        high_ok = value <= spec.max if spec.max_inclusive else value < spec.max
        if not (low_ok and high_ok):
            raise ValueError(f"{spec.name} {value} out of range")
        return int(value) if spec.kind == "int" else value
    return parse


def hyper_session_key(opt: str, name: str) -> str:
    return f"h_{opt}_{name}"


def sched_session_key(kind: str, name: str) -> str:
    return f"s_{kind}_{name}"


def dependent_fields(opt: str, sched: str) -> list[tuple[Field, str]]:
    """(URL field, session key) for the chosen optimizer's and schedule's parameters.

    In the URL they are plain names (``lr``, ``beta1``; ``s_gamma`` for a schedule);
    in the session they are per optimizer/schedule so switching back keeps the values.
    """
    out = []
    for spec in optimizer_hypers(opt):
        out.append((Field(spec.name, hyper_default(opt, spec), _hyper_parser(spec)),
                    hyper_session_key(opt, spec.name)))
    for spec in schedule_hypers(sched):
        default = int(spec.default) if spec.kind == "int" else float(spec.default)
        out.append((Field(f"s_{spec.name}", default, _hyper_parser(spec)),
                    sched_session_key(sched, spec.name)))
    return out


def _first(value) -> str:
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


def parse_query(query: Mapping[str, Any]) -> tuple[dict[str, Any], list[Note]]:
    """URL query -> (session values {session key: value}, a note per value not used as
    given).

    Only keys present in the query are returned; absent keys keep their defaults. Never
    raises. Each note (:class:`url_values.Note`) names the parameter and says what happened,
    as on the race page: a number outside its range is clamped to the nearest allowed value
    ("clamped"), an unreadable value or unknown choice falls back to its default ("reset"),
    a name that is no setting of this page, or an unknown scenario ``sc``, is "ignored".
    ``sc`` (a key of :data:`PRESETS`) comes back as ``values["nn_preset"]``, ``cures``
    (comma-separated keys of :data:`OVERFIT_CURES`) as ``values["nn_of_shown"]``.
    """
    values: dict[str, Any] = {}
    notes: list[Note] = []

    def read(f: Field, session_key: str) -> None:
        try:
            values[session_key] = f.parse(_first(query[f.key]))
        except OutOfRange as exc:
            values[session_key] = exc.nearest
            notes.append(Note(f.key, "clamped", _first(query[f.key]), _fmt(exc.nearest)))
        except (ValueError, TypeError, OverflowError):
            notes.append(Note(f.key, "reset", _first(query[f.key]), _fmt(f.default)))

    if SCENARIO_PARAM in query:
        name = _first(query[SCENARIO_PARAM])
        if name in PRESETS:
            values["nn_preset"] = name
        else:
            notes.append(Note(SCENARIO_PARAM, "ignored", name))
    if CURES_PARAM in query:  # the cures shown by the overfitting scenario's view
        asked = [k for k in _first(query[CURES_PARAM]).split(",") if k]
        shown = list(dict.fromkeys(k for k in asked if k in OVERFIT_CURES))
        values["nn_of_shown"] = shown
        if len(shown) != len(asked):
            notes.append(Note(CURES_PARAM, "partly" if shown else "ignored",
                              _first(query[CURES_PARAM]), ",".join(shown)))
    for f in base_fields():
        if f.key in query:
            read(f, f.key)
    opt = values.get("opt", "adam")
    sched = values.get("sched", "constant")
    for f, session_key in dependent_fields(opt, sched):
        if f.key in query:
            read(f, session_key)
    # a pair the dataset's task cannot use is reset too (to the task's first pair)
    task = dataset_task(values.get("ds", default_dataset()))
    if "pair" in values and values["pair"] not in pairs_for(task):
        del values["pair"]
        notes.append(Note("pair", "reset", _first(query["pair"]), pairs_for(task)[0]))
    known = url_keys(opt, sched) | FOREIGN
    for name in query:
        if name not in known:
            notes.append(Note(name, "ignored", _first(query[name])))
    return values, notes


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def to_query(config: Mapping[str, Any], scenario: str | None = None,
             cures: list[str] | None = None) -> dict[str, str]:
    """Config -> the query parameters that differ from their defaults (a short link); the
    scenario the controls came from (``sc``) first, when there is one, and the cures the
    overfitting scenario shows."""
    query = {SCENARIO_PARAM: scenario} if scenario else {}
    if scenario == OVERFITTING and cures:
        query[CURES_PARAM] = ",".join(cures)
    for f in base_fields():
        if f.key in config and config[f.key] != f.default:
            query[f.key] = _fmt(config[f.key])
    for spec_field, _ in dependent_fields(config["opt"], config["sched"]):
        name = spec_field.key
        value = config["hyper"].get(name) if not name.startswith("s_") else \
            config["sched_hyper"].get(name[2:])
        if value is not None and value != spec_field.default:
            query[name] = _fmt(value)
    return query


def url_keys(opt: str, sched: str) -> set[str]:
    """Every query key this page owns for the given optimizer and schedule."""
    keys = {SCENARIO_PARAM, CURES_PARAM} | {f.key for f in base_fields()}
    for o in optimizers.OPTIMIZERS:
        keys |= {spec.name for spec in optimizer_hypers(o)}
    for s in schedule_keys():
        keys |= {f"s_{spec.name}" for spec in schedule_hypers(s)}
    return keys


def config_hash(config: Mapping[str, Any], exclude=("ep",)) -> str:
    """Stable short hash of everything that defines an experiment (not the stop epoch)."""
    clean = {k: v for k, v in config.items() if k not in exclude}
    text = json.dumps(clean, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- experiment


@dataclass
class Experiment:
    """Everything fixed by a configuration: data, network, optimizer, schedule."""

    config: dict
    task: str
    n_classes: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    Y_train: np.ndarray
    Y_test: np.ndarray | None
    net: mlp.Network
    optimizer: Any
    schedule: Callable | None
    batch_size: int | None
    grid: tuple[np.ndarray, np.ndarray, np.ndarray]  # xs, ys, points (GRID*GRID, 2)

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"


def targets(net: mlp.Network, y: np.ndarray, n_classes: int, task: str) -> np.ndarray:
    """Labels -> what the loss compares the output with: y (n, 1) or one-hot (n, k)."""
    if task == "regression":
        return np.asarray(y, dtype=float).reshape(-1, 1)
    if net.sizes[-1] == 1:
        return np.asarray(y, dtype=float).reshape(-1, 1)
    return datasets.one_hot(np.asarray(y).astype(int), net.sizes[-1])


def output_units(pair: str, task: str, n_classes: int) -> int:
    if task == "regression":
        return 1
    if n_classes == 2 and pair != "softmax_cce":
        return 1
    return n_classes


def make_data(config: Mapping[str, Any], uploaded: tuple | None = None):
    """(X, y, task, n_classes) of the configured dataset (or the uploaded one)."""
    if config["ds"] == UPLOAD:
        if uploaded is None:
            raise ValueError("no file uploaded")
        X, y = uploaded
        y = np.asarray(y).astype(int)
        return np.asarray(X, float), y, ("binary" if y.max() <= 1 else "multiclass"), \
            int(y.max()) + 1
    spec = datasets.DATASETS[config["ds"]]
    X, y = datasets.make(config["ds"], n=int(config["n"]), noise=float(config["noise"]),
                         seed=int(config["dseed"]))
    return X, y, spec.task, int(spec.n_classes)


def build(config: Mapping[str, Any], uploaded: tuple | None = None) -> Experiment:
    """Configuration -> Experiment. Raises ValueError with a readable message if the
    combination is impossible (the page shows it)."""
    X, y, task, n_classes = make_data(config, uploaded)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    frac = float(config["test"])
    if len(X) >= 10 and frac > 0:
        X_train, X_test, y_train, y_test = datasets.split(X, y, frac, int(config["dseed"]))
        if len(X_test) == 0:
            X_test = y_test = None
    else:  # a four-point truth table has nothing to hold out
        X_train, y_train, X_test, y_test = X, y, None, None

    pair = config["pair"] if config["pair"] in pairs_for(task) else pairs_for(task)[0]
    output, loss = PAIRS[pair]
    k = output_units(pair, task, n_classes)
    hidden = [int(config["w"])] * int(config["hl"])
    net = mlp.Network(sizes=(X.shape[1], *hidden, k), activation=config["act"],
                      output=output, loss=loss,
                      batch_norm=bool(config["bn"]) and bool(hidden))
    opt = optimizers.make(config["opt"], **config["hyper"])
    schedule = None  # the schedule's t is the epoch (one "scheduler.step()" per epoch)
    if config["sched"] != "constant" or any(config["sched_hyper"].values()):
        schedule = schedules.make(config["sched"], **config["sched_hyper"])
    bs = int(config["bs"])
    batch_size = None if bs <= 0 or bs >= len(X_train) else bs

    xs, ys, points = make_grid(X, regression=(task == "regression"))
    return Experiment(
        config=dict(config), task=task, n_classes=n_classes, X_train=X_train,
        y_train=y_train, X_test=X_test, y_test=y_test,
        Y_train=targets(net, y_train, n_classes, task),
        Y_test=None if X_test is None else targets(net, y_test, n_classes, task),
        net=net, optimizer=opt, schedule=schedule, batch_size=batch_size,
        grid=(xs, ys, points))


def make_grid(X: np.ndarray, regression: bool = False):
    """Evaluation grid around the data: a GRID x GRID plane, or a line for 1-D inputs."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.15 * np.maximum(hi - lo, 1e-9) + 0.1
    lo, hi = lo - pad, hi + pad
    if regression or X.shape[1] == 1:
        xs = np.linspace(lo[0], hi[0], 200)
        return xs, None, xs[:, None]
    xs = np.linspace(lo[0], hi[0], GRID)
    ys = np.linspace(lo[1], hi[1], GRID)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def accuracy(exp: Experiment, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fraction of points classified right, per network (B,): the engine's rule
    (:func:`engine.mlp.accuracy`), batch norm with the training set's statistics (for the
    training set itself these are its own), as on the decision map."""
    return mlp.accuracy(exp.net, theta, X, y, reference=exp.X_train)


def predictions(exp: Experiment, theta: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The network's outputs (B, n, K) at ``points`` as the page shows them everywhere: no
    dropout, batch norm with the training set's statistics (:meth:`mlp.Network.predict`
    with ``reference``), so a point's value does not depend on the other points."""
    with np.errstate(all="ignore"):
        return exp.net.predict(theta, points, reference=exp.X_train)


def hidden_maps(exp: Experiment, theta: np.ndarray) -> list[np.ndarray]:
    """Each hidden layer's activations over ``exp.grid`` (ny, nx, width), batch norm with
    the training set's statistics (as :func:`predictions`)."""
    xs, ys, points = exp.grid
    with np.errstate(all="ignore"):
        _, hidden = exp.net.forward(theta, points, reference=exp.X_train)
    return [h[0].reshape(len(ys), len(xs), -1) for h in hidden]


def class_probabilities(exp: Experiment, theta: np.ndarray) -> np.ndarray:
    """What a decision map shows over ``exp.grid`` for network ``theta`` (1, P): P(class 1)
    (ny, nx) for a binary task, the class probabilities (ny, nx, k) otherwise. A linear
    (MSE) output is a score, not a probability: it is clipped into [0, 1] (binary) or to
    ≥ 0 and normalised (several classes)."""
    return class_probabilities_of(exp, theta)[0]


def class_probabilities_of(exp: Experiment, thetas: np.ndarray) -> np.ndarray:
    """:func:`class_probabilities` of B networks ``thetas`` (B, P) in one forward pass:
    (B, ny, nx) or (B, ny, nx, k)."""
    xs, ys, points = exp.grid
    probs = predictions(exp, thetas, points).reshape(len(thetas), len(ys), len(xs), -1)
    if exp.task == "binary":
        probs = probs[..., 0] if probs.shape[3] == 1 else probs[..., 1]
        return np.clip(np.nan_to_num(probs, nan=0.5), 0.0, 1.0)
    probs = np.clip(np.nan_to_num(probs, nan=0.0), 0.0, None)
    return probs / np.maximum(probs.sum(axis=3, keepdims=True), 1e-12)


def current_grads(exp: Experiment, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch objective and gradient at theta (no dropout), for the formula panel."""
    cfg = exp.config
    with np.errstate(all="ignore"):
        return exp.net.loss_and_grads(theta, exp.X_train, exp.Y_train, cfg["l1"], cfg["l2"])


# --------------------------------------------------------------------------- experiments


def compare(exp: Experiment, theta0: np.ndarray, chosen: Mapping[str, dict], epochs: int,
            weight_seed: int = 0) -> training.OptimizerComparison:
    """Train the same initial network with each optimizer in ``chosen`` (key -> hyper; at
    most MAX_COMPARE), epochs capped by the work budget. Results keyed by optimizer key."""
    cfg = exp.config
    chosen = dict(list(chosen.items())[:MAX_COMPARE])
    epochs = int(min(epochs, epoch_cap(exp, 1, len(chosen), COMPARE_MAX_EPOCHS)))
    return training.compare_optimizers(
        exp.net, theta0, exp.X_train, exp.Y_train, chosen, epochs,
        batch_size=exp.batch_size, schedule=exp.schedule, l1=cfg["l1"], l2=cfg["l2"],
        dropout=cfg["drop"], seed=weight_seed)


def epoch_cap(exp: Experiment, n_networks: int = 1, n_runs: int = 1,
              limit: int = MAX_EPOCHS) -> int:
    """Most epochs that ``n_runs`` separate trainings of ``n_networks`` networks each may
    take within WORK_BUDGET (at least 10, at most ``limit``)."""
    n = len(exp.X_train)
    steps = 1 if exp.batch_size is None else math.ceil(n / exp.batch_size)
    per_epoch = n_runs * (steps * STEP_UNITS + n_networks * n * exp.net.n_params)
    return int(max(10, min(limit, WORK_BUDGET // per_epoch)))


def seed_statistics(exp: Experiment, n_networks: int, max_epochs: int, target: float,
                    first_seed: int = 0,
                    progress: Callable[[float], None] | None = None) -> np.ndarray:
    """Epochs-to-solve of ``n_networks`` networks of this configuration that differ only in
    their initial weights (:func:`engine.training.seed_statistics`; -1 = never), with the
    work bounded: at most SEED_STAT_NETWORKS networks and the epochs the budget allows."""
    cfg = exp.config
    n_networks = int(min(n_networks, SEED_STAT_NETWORKS))
    max_epochs = int(min(max_epochs, epoch_cap(exp, n_networks, 1, SEED_STAT_MAX_EPOCHS)))
    return training.seed_statistics(
        exp.net, exp.X_train, exp.Y_train, exp.y_train, exp.optimizer, n_networks,
        max_epochs, target, regression=exp.is_regression, init=cfg["init"],
        first_seed=first_seed, batch_size=exp.batch_size, schedule=exp.schedule,
        l1=cfg["l1"], l2=cfg["l2"], dropout=cfg["drop"], progress=progress)
