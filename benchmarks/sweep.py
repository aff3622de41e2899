"""Time engine.descent on the sweeps the app runs (Rosenbrock).

Run from the repository root:

    python -m benchmarks.sweep                       # our figures
    python -m benchmarks.sweep --against ../main   # ours and another checkout's, interleaved

Figures (best of ``--repeat`` calls each):

* the 100 × 100 lr × momentum sweep of 500 steps (``record="final"``, target < 1 s), with a
  bare NumPy loop doing the same arithmetic for scale (no divergence checks, no
  recording: the ratio is the overhead of ``engine.descent``);
* the race page's learning-rate sweep: gd, momentum, rmsprop and adam, each over the 41
  learning rates 1-1.2-1.5-2-2.5-3-4-5-6-8 × 10^k in its slider range [1e-4, 1], from
  Rosenbrock's start, ``record="path"``, 500 and 5000 steps (one batched call, B = 164;
  most of the large rates diverge within a few steps, as they do on the page);
* the race itself: every optimizer at Rosenbrock's suggested rate, ``record="full"``.

``--against DIR`` times another checkout (e.g. main) against this one: each round runs this
file once per checkout in a fresh process (PYTHONPATH=checkout, started outside the
repository so that ``engine`` is imported from there), alternating, so both see the same
machine load; the table shows the best round of each.  The shared machine is noisy: use
``--rounds`` ≥ 5.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from engine import descent, optimizers
from engine.surfaces import SURFACES

TARGET_SECONDS = 1.0
N_LR, N_MOMENTUM, STEPS = 100, 100, 500
RACE_SWEEP_KEYS = ("gd", "momentum", "rmsprop", "adam")
MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
ROOT = Path(__file__).resolve().parents[1]


# wall: elapsed time; cpu: this process's CPU time, which other processes on a shared,
# oversubscribed machine disturb far less (the loop is single-threaded, so on an idle
# machine the two agree).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def best_of(fn, repeats: int = 3, clock=time.perf_counter) -> float:
    """Minimum time of ``repeats`` calls (the least disturbed measurement)."""
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def bare_numpy_sweep(lrs, momenta, start, steps):
    """Heavy-ball momentum on Rosenbrock, written out: buf = μ·buf + g, x −= lr·buf."""
    lr, mu = (a.reshape(-1, 1) for a in np.meshgrid(lrs, momenta))
    x = np.repeat(np.asarray(start, dtype=np.float64).reshape(1, 2), lr.size, axis=0)
    buf = np.zeros_like(x)
    with np.errstate(all="ignore"):
        for t in range(steps):
            a, b = x[:, 0], x[:, 1]
            g = np.stack([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)], axis=1)
            buf = g if t == 0 else mu * buf + g
            x = x - lr * buf
    return x


def race_sweep_lrs(low: float, high: float) -> np.ndarray:
    """The race page's grid: mantissas 1, 1.2, 1.5, 2, … 8 times powers of ten in [low, high]."""
    exponents = range(int(np.floor(np.log10(low))), int(np.ceil(np.log10(high))) + 1)
    grid = np.array([m * 10.0**k for k in exponents for m in MANTISSAS])
    return grid[(grid >= low * (1 - 1e-12)) & (grid <= high * (1 + 1e-12))]


def race_sweep_runs(surface) -> list:
    """One group per optimizer, its learning rate swept over its slider range."""
    runs = []
    for key in RACE_SWEEP_KEYS:
        spec = optimizers.OPTIMIZERS[key].hyper_spec("lr")
        lrs = race_sweep_lrs(spec.slider_min, spec.slider_max).reshape(-1, 1)
        runs.append(descent.Run(optimizers.make(key, lr=lrs), surface.start, key))
    return runs


def figures(repeats: int, clock=time.perf_counter) -> dict[str, float]:
    """Best-of-``repeats`` seconds of every figure, keyed by a line of the table."""
    surface = SURFACES["rosenbrock"]
    lrs = np.geomspace(1e-5, 1e-2, N_LR)
    momenta = np.linspace(0.0, 0.99, N_MOMENTUM)
    out = {}
    out[f"lr x momentum sweep {N_MOMENTUM}x{N_LR} x {STEPS} steps, final"] = best_of(
        lambda: descent.sweep_lr_momentum(surface, "momentum", lrs, momenta, surface.start,
                                          STEPS), repeats, clock)
    sweep_runs = race_sweep_runs(surface)
    batch = sum(r.optimizer.hyper["lr"].shape[0] for r in sweep_runs)
    for steps in (500, 5000):
        out[f"race lr sweep {len(sweep_runs)} opt x {batch // len(sweep_runs)} lr x "
            f"{steps} steps, path"] = best_of(
            lambda steps=steps: descent.run(surface, sweep_runs, steps, record="path"),
            repeats, clock)
    race = [descent.Run(optimizers.make(key, lr=surface.suggested_lr[key]), surface.start, key)
            for key in optimizers.OPTIMIZERS]
    for steps in (300, 5000):
        out[f"race {len(race)} opt x {steps} steps, full"] = best_of(
            lambda steps=steps: descent.run(surface, race, steps, record="full"), repeats,
            clock)
    return out


def _steps_of(name: str) -> int:
    return int(name.split(" steps")[0].split()[-1])


def _run_checkout(checkout: Path, repeats: int, clock: str) -> dict[str, float]:
    """This file's figures in a fresh process that imports ``engine`` from ``checkout``
    (checked: the process reports where its engine came from)."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    # -P: not this file's folder first on sys.path (benchmarks/engine.py would shadow the
    # engine package); a temporary working directory: PYTHONPATH alone decides.
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run(
            [sys.executable, "-P", str(Path(__file__).resolve()), "--json", "--repeat",
             str(repeats), "--clock", clock],
            env=env, cwd=cwd, capture_output=True, text=True, check=True,
        ).stdout
    report = json.loads(out.splitlines()[-1])
    if Path(report["engine"]).resolve() != (checkout / "engine").resolve():
        raise RuntimeError(f"timed {report['engine']} instead of {checkout / 'engine'}")
    return report["figures"]


def compare(other: Path, rounds: int, repeats: int, clock: str) -> None:
    ours: dict[str, float] = {}
    theirs: dict[str, float] = {}
    for _ in range(rounds):  # alternate, so both checkouts see the same machine load
        for checkout, best in ((other, theirs), (ROOT, ours)):
            for name, seconds in _run_checkout(checkout, repeats, clock).items():
                best[name] = min(best.get(name, float("inf")), seconds)
    print(f"best of {rounds} rounds x {repeats} calls, {clock} clock; 'other' = {other}")
    print(f"{'figure':<58} {'other ms':>9} {'ours ms':>9} {'other/ours':>10}  ours us/step")
    for name in ours:
        print(f"{name:<58} {theirs[name] * 1e3:9.1f} {ours[name] * 1e3:9.1f} "
              f"{theirs[name] / ours[name]:10.2f}  {ours[name] / _steps_of(name) * 1e6:8.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout to time alongside")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall (default) or cpu: this process's CPU time")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.json:
        import engine

        print(json.dumps({"engine": str(Path(engine.__file__).parent),
                          "figures": figures(args.repeat, CLOCKS[args.clock])}))
        return 0
    if args.against is not None:
        compare(args.against.resolve(), args.rounds, args.repeat, args.clock)
        return 0

    surface = SURFACES["rosenbrock"]
    lrs = np.geomspace(1e-5, 1e-2, N_LR)
    momenta = np.linspace(0.0, 0.99, N_MOMENTUM)
    result = descent.sweep_lr_momentum(surface, "momentum", lrs, momenta, surface.start, STEPS)
    clock = CLOCKS[args.clock]
    times = figures(args.repeat, clock)
    seconds = next(iter(times.values()))
    bare = best_of(lambda: bare_numpy_sweep(lrs, momenta, surface.start, STEPS), args.repeat,
                   clock)
    print(f"lr x momentum sweep, {N_MOMENTUM}x{N_LR} runs x {STEPS} steps on Rosenbrock "
          f"(momentum optimizer, record='final')")
    print(f"  engine.descent.sweep_lr_momentum: {seconds:.3f} s   target < {TARGET_SECONDS:.1f} s"
          f"   -> {'OK' if seconds < TARGET_SECONDS else 'TOO SLOW'} "
          f"({seconds / TARGET_SECONDS:.2f} x target)")
    print(f"  bare NumPy loop (same arithmetic, no checks): {bare:.3f} s   "
          f"overhead ratio {seconds / bare:.2f}x")
    print(f"  diverged cells: {int(result.diverged.sum())} / {result.diverged.size}, "
          f"reached f <= {result.tol:g}: {int((result.steps_to_tol >= 0).sum())}")
    for name, seconds in list(times.items())[1:]:
        print(f"  {name}: {seconds * 1e3:.1f} ms ({seconds / _steps_of(name) * 1e6:.0f} us "
              "per step)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
