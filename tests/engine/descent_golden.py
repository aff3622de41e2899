"""Golden results of ``engine.descent``: the cases, their fingerprints, and the generator.

``engine.descent``'s stepping loop is tuned for speed; every such change must leave every
result bit for bit as it was.  This module defines a fixed set of descents (every surface,
every optimizer, noise, schedules, weight decay, divergence, invalid starts, typed
formulas, every record mode, the sweep wrappers) and turns each result into SHA-256 digests
of its arrays.  ``tests/engine/test_descent_golden.py`` recomputes them with the current code
and compares with ``tests/engine/data/descent_golden.npz``, written by this file run as a
script against a known-good engine (the one before the loop was tuned)::

    cd /tmp && PYTHONPATH=/path/to/known-good/checkout \
        python /path/to/this/checkout/tests/engine/descent_golden.py

(run from outside the repository so that ``engine`` is imported from PYTHONPATH).  Small
cases also store their arrays in full, so that a failure can name the first differing row.

One change was made on purpose: Adam, AdamW and NAdam used to round differently when
their learning rate was an array (a sweep) or when another run of their group had
diverged; they now round every run as they would alone, so that a learning-rate sweep
redraws a race's path exactly.  The digests of the cases that changed (only their Adam,
AdamW and NAdam columns moved, by rounding) are in ``descent_golden_row_exact.npz``,
written by ``--row-exact`` against the engine of that change; every other case still
compares with main's.

Bit-identical results are only defined for one floating-point library: NumPy dispatches
sin, exp, log, power … to CPU-specific SIMD code whose last bits differ between machines.
The file therefore stores a *fingerprint* of those functions.  Where it differs, only the
*portable* cases are compared: polynomial surfaces with only +, −, ×, ÷, x² and √ (IEEE
exact everywhere), the optimizers that use nothing else, no noise, no schedule.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine import descent, expression, optimizers, schedules
from engine.descent import Run
from engine.surfaces import SURFACES, make_elongated_bowl

DATA = Path(__file__).with_name("data") / "descent_golden.npz"
ROW_EXACT = DATA.with_name("descent_golden_row_exact.npz")
KEYS = tuple(optimizers.OPTIMIZERS)
ADAM_FAMILY = ("adam", "adamw", "nadam", "adamax")  # rules with bias-corrected moments
# Surfaces whose f and ∇f use only +, −, ×, x² (exact in IEEE arithmetic on every machine).
PORTABLE_SURFACES = ("sphere", "elongated_bowl", "rotated_quadratic", "saddle", "rosenbrock",
                     "himmelblau", "booth", "matyas")
PORTABLE_OPTIMIZERS = ("gd", "momentum", "nag", "adagrad", "rmsprop", "adadelta")
FULL_ARRAY_BYTES = 40_000  # cases whose arrays together are smaller are stored in full
# The race sweep's learning rates: 1-1.2-1.5-2-2.5-3-4-5-6-8 × 10^k over [1e-4, 1].
MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
SWEEP_LRS = np.array([m * 10.0**k for k in range(-4, 0) for m in MANTISSAS] + [1.0])


def result_arrays(result) -> dict[str, np.ndarray]:
    """Every array of a DescentResult (or SweepResult / BasinMap), by a stable name.

    For a DescentResult also the path, loss, gradient and look-ahead of the runs of other
    rules than the Adam family (by label), "<name>[not adam family]": the only arrays of
    the cases the row-exact change touched that must still be main's.
    """
    if isinstance(result, descent.DescentResult):
        arrays = {name: getattr(result, name) for name in (
            "path", "loss", "grad", "step", "lookahead", "lr_multiplier", "diverged",
            "diverged_at", "labels", "group")}
        others = ~np.isin(result.labels, ADAM_FAMILY)
        for name in ("path", "loss", "grad", "lookahead"):
            arrays[f"{name}[not adam family]"] = getattr(result, name)[:, others]
        arrays["steps"] = np.array(result.steps)
        arrays["record"] = np.array(result.record)
        for g, fields in enumerate(result.state):
            for name, rows in fields.items():
                arrays[f"state{g}.{name}"] = rows
        for g, rows in enumerate(result.effective_lr):
            arrays[f"effective_lr{g}"] = rows
        return arrays
    return {name: np.asarray(value) for name, value in vars(result).items()}


def digest(array: np.ndarray) -> np.ndarray:
    """First 16 bytes of the SHA-256 of dtype, shape and bytes, as a (16,) uint8 array:
    equal digests <=> bit-identical arrays (a chance collision is out of the question)."""
    array = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    h.update(array.tobytes())
    return np.frombuffer(h.digest()[:16], dtype=np.uint8)


# ---------------------------------------------------------------------------------------
# The cases: name -> (portable?, a function returning the result)


def _race(surface, keys=KEYS, lr_factor=1.0, start=None):
    start = surface.start if start is None else start
    return [Run(optimizers.make(k, lr=surface.suggested_lr[k] * lr_factor), start, k)
            for k in keys]


def _sweep(keys=("gd", "momentum", "rmsprop", "adam"), start=(-1.2, 1.0)):
    lrs = SWEEP_LRS.reshape(-1, 1)
    return [Run(optimizers.make(k, lr=lrs), start, k) for k in keys]


def _options_runs():
    """Every option at once: weight decay (coupled and AdamW's), per-run hyper-parameter
    arrays, mixed amsgrad, initial accumulator, several starts, lrs large enough to blow up."""
    make = optimizers.make
    return [
        Run(make("gd", lr=[0.01, 0.3, 3.0], weight_decay=0.05), (1.5, 1.4), "gd"),
        Run(make("momentum", lr=0.02, momentum=[0.0, 0.5, 0.9, 0.99], weight_decay=0.01),
            (1.5, 1.4), "momentum"),
        Run(make("nag", lr=[0.01, 0.5], momentum=0.9),
            np.array([[1.5, 1.4], [-1.0, 0.5]]), "nag"),
        Run(make("adagrad", lr=[0.3, 1e7], initial_accumulator=0.1, weight_decay=0.02),
            (1.5, 1.4)),
        Run(make("rmsprop", lr=[0.01, 0.01, 3e4], rho=[0.0, 0.9, 0.99]), (1.5, 1.4),
            "rmsprop"),
        Run(make("adadelta", lr=[1.0, 1e7], rho=0.9, eps=1e-4), (1.5, 1.4), "adadelta"),
        Run(make("adam", lr=[0.05, 0.05, 2e5, 3e5], amsgrad=[True, False, True, False],
                 weight_decay=0.01), (1.5, 1.4), "adam"),
        Run(make("adamw", lr=[0.05, 4e5], weight_decay=0.1), (1.5, 1.4), "adamw"),
        Run(make("nadam", lr=[0.02, 1e5], momentum_decay=0.01), (1.5, 1.4), "nadam"),
        Run(make("adamax", lr=[0.05, 1e5]), np.array([[1.5, 1.4], [0.1, -0.2]]), "adamax"),
    ]


@functools.cache
def _parse(text: str):
    return expression.parse(text)


def _scalar_only_schedule(t):
    if t < 20:  # an ``if`` on t: fails on arrays, so descent calls it once per step
        return 0.5
    return 1.0 / (1.0 + 0.01 * (t - 20))


def _cases() -> dict[str, tuple[bool, Callable[[], object]]]:
    cases: dict[str, tuple[bool, Callable[[], object]]] = {}
    surfaces = dict(SURFACES)
    surfaces["elongated_bowl_k200"] = make_elongated_bowl(200.0)
    for name, surface in surfaces.items():
        polynomial = name in PORTABLE_SURFACES
        steps = min(surface.default_steps, 150)  # the stories unfold early; keeps it quick
        cases[f"race/{name}"] = (False, lambda s=surface, n=steps: descent.run(
            s, _race(s), n, record="full"))
        cases[f"race_portable/{name}"] = (polynomial, lambda s=surface, n=steps: descent.run(
            s, _race(s, PORTABLE_OPTIMIZERS), n, record="full"))
        cases[f"blowup/{name}"] = (polynomial, lambda s=surface: descent.run(
            s, _race(s, PORTABLE_OPTIMIZERS, lr_factor=30.0), 100, record="full"))
        cases[f"blowup_noisy/{name}"] = (False, lambda s=surface: descent.run(
            s, _race(s, lr_factor=30.0), 100, noise=1.0, seed=5, record="full"))
        cases[f"sweep/{name}"] = (False, lambda s=surface: descent.run(
            s, _sweep(start=s.start), 150, record="path"))
        cases[f"sweep_noisy/{name}"] = (False, lambda s=surface: descent.run(
            s, _sweep(start=s.start), 150, noise=0.5, seed=9, record="path"))

    two_wells, rosenbrock = SURFACES["two_wells"], SURFACES["rosenbrock"]
    exponential = schedules.make("exponential", gamma=0.99, warmup=5)
    cosine = schedules.make("cosine", t_max=80, eta_min_ratio=0.01)
    for record in descent.RECORD_MODES:
        cases[f"options/{record}"] = (False, lambda r=record: descent.run(
            two_wells, _options_runs(), 80, noise=0.3, seed=11, schedule=exponential,
            record=r))
        cases[f"options_cosine/{record}"] = (False, lambda r=record: descent.run(
            rosenbrock, _options_runs(), 80, schedule=cosine, record=r))
        cases[f"options_quiet/{record}"] = (False, lambda r=record: descent.run(
            two_wells, _options_runs(), 80, record=r))
    cases["schedule/scalar_only"] = (True, lambda: descent.run(
        rosenbrock, _race(rosenbrock, PORTABLE_OPTIMIZERS, lr_factor=3.0), 200,
        schedule=_scalar_only_schedule, record="full"))
    cases["steps0/full"] = (False, lambda: descent.run(rosenbrock, _race(rosenbrock), 0))
    cases["steps0/final"] = (False, lambda: descent.run(
        rosenbrock, _race(rosenbrock), 0, record="final"))
    cases["steps1/path"] = (False, lambda: descent.run(
        rosenbrock, _race(rosenbrock), 1, noise=0.1, record="path"))

    formulas = ["log(x) + y^2", "1/x + y^2", "sqrt(x) + y", "exp(x*y)", "x^2 + y^2",
                "x + y", "2", "x", "sin(3*x)*cos(2*y) + 0.1*(x^2 + y^2)",
                "(1 - x)^2 + 100*(y - x^2)^2"]
    for text in formulas:
        def typed(text=text, factor=1.0, noise=0.0, record="full"):
            surface = _parse(text)
            return descent.run(surface, _race(surface, lr_factor=factor), 120, noise=noise,
                               seed=3, record=record)
        cases[f"typed/{text}"] = (False, typed)
        cases[f"typed_blowup/{text}"] = (False, lambda t=text: typed(t, 20.0, 0.2))
        cases[f"typed_sweep/{text}"] = (False, lambda t=text: typed(t, 1.0, 0.2, "path"))

    def invalid_starts(record="full", noise=0.0):
        surface = _parse("x^2 - log(x) + y^2")  # min at (1/√2, 0); NaN for x < 0
        starts = np.array([[1.0, 0.5], [-1.0, 0.5], [0.0, 0.0], [0.001, 1.0]])
        runs = [Run(optimizers.make(k, lr=surface.suggested_lr[k]), starts, k) for k in KEYS]
        return descent.run(surface, runs, 100, noise=noise, seed=2, record=record)

    for record in descent.RECORD_MODES:
        cases[f"invalid_starts/{record}"] = (False, lambda r=record: invalid_starts(r))
        cases[f"invalid_starts_noisy/{record}"] = (False, lambda r=record: invalid_starts(
            r, 0.5))

    cases["sweep_lr_momentum/rosenbrock"] = (False, lambda: descent.sweep_lr_momentum(
        rosenbrock, "nag", np.geomspace(1e-5, 1e-2, 12), np.linspace(0.0, 0.99, 10),
        rosenbrock.start, 300))
    cases["sweep_lr_momentum/noisy_adam"] = (False, lambda: descent.sweep_lr_momentum(
        two_wells, "adam", np.geomspace(1e-3, 1.0, 9), [0.0, 0.9, 0.99], (1.6, 1.4), 200,
        noise=0.5, seed=4, schedule=cosine))
    cases["basin_map/himmelblau"] = (False, lambda: descent.basin_map(
        SURFACES["himmelblau"], "momentum", {"lr": 0.005, "momentum": 0.9}, 12, 200))
    cases["basin_map/rastrigin_noisy"] = (False, lambda: descent.basin_map(
        SURFACES["rastrigin"], "adam", {"lr": 0.1}, 10, 150, noise=2.0, seed=8))
    return cases


CASES = _cases()


def fingerprint() -> dict[str, np.ndarray]:
    """Outputs of the floating-point functions the cases use beyond IEEE-exact arithmetic."""
    x = np.linspace(-30.0, 30.0, 4001)
    powers = [b ** float(n) for b in (0.9, 0.99, 0.999, 0.96) for n in range(1, 5000, 3)]
    return {
        "sin": np.sin(x), "cos": np.cos(x), "exp": np.exp(x), "log": np.log(np.abs(x) + 1e-3),
        "hypot": np.hypot(x, x[::-1]), "power": np.power(0.999, np.abs(x) * 100.0),
        "power_int": np.power(x, 3.0), "python_pow": np.array(powers),
        "normal": np.random.default_rng(0).standard_normal(50_000),
    }


def main(argv: list[str]) -> int:
    """Write DATA (no argument), or with ``--row-exact`` ROW_EXACT: the digests of every
    case whose digests differ from DATA's."""
    import engine

    names, digests, full = [], [], {}
    for case, (_, compute) in CASES.items():
        arrays = result_arrays(compute())
        for name, array in arrays.items():
            names.append(f"{case}::{name}")
            digests.append(digest(array))
        if sum(np.asarray(a).nbytes for a in arrays.values()) <= FULL_ARRAY_BYTES:
            full.update({f"array::{case}::{n}": a for n, a in arrays.items()})
    if argv == ["--row-exact"]:
        stored = np.load(DATA)
        before = dict(zip(stored["names"].tolist(), stored["digests"], strict=True))
        changed = {name.split("::")[0] for name, d in zip(names, digests, strict=True)
                   if not np.array_equal(before[name], d)}
        keep = [i for i, name in enumerate(names) if name.split("::")[0] in changed]
        np.savez_compressed(ROW_EXACT, names=np.array([names[i] for i in keep]),
                            digests=np.stack([digests[i] for i in keep]))
        print(f"engine from {Path(engine.__file__).parent}: {len(changed)} cases changed "
              f"-> {ROW_EXACT} ({ROW_EXACT.stat().st_size:,} bytes)")
        return 0
    fp = {f"fingerprint::{k}": digest(v) for k, v in fingerprint().items()}
    DATA.parent.mkdir(exist_ok=True)
    np.savez_compressed(DATA, names=np.array(names), digests=np.stack(digests),
                        portable=np.array([c for c, (p, _) in CASES.items() if p]),
                        numpy_version=np.array(np.__version__), **fp, **full)
    print(f"engine from {Path(engine.__file__).parent}: {len(CASES)} cases, {len(names)} "
          f"arrays, {len(full)} stored in full -> {DATA} ({DATA.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
