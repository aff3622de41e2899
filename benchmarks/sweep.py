"""Time a 100 × 100 lr × momentum sweep of 500 steps on Rosenbrock (target: < 1 s).

Run from the repository root:  python -m benchmarks.sweep

Also prints, for scale, a bare NumPy loop doing the same arithmetic (heavy-ball momentum
on Rosenbrock, no divergence checks, no recording): the ratio is the overhead of
``engine.descent`` (divergence rule, loss curve for steps-to-tolerance, optimizer API);
and the race page's fully recorded run of every optimizer.
"""

from __future__ import annotations

import time

import numpy as np

from engine import descent, optimizers
from engine.surfaces import SURFACES

TARGET_SECONDS = 1.0
N_LR, N_MOMENTUM, STEPS = 100, 100, 500


def best_of(fn, repeats: int = 3) -> float:
    """Minimum wall-clock time of ``repeats`` calls (the least disturbed measurement)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
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


def main() -> None:
    surface = SURFACES["rosenbrock"]
    lrs = np.geomspace(1e-5, 1e-2, N_LR)
    momenta = np.linspace(0.0, 0.99, N_MOMENTUM)
    start = surface.start

    def sweep():
        return descent.sweep_lr_momentum(surface, "momentum", lrs, momenta, start, STEPS)

    result = sweep()
    seconds = best_of(sweep)
    bare = best_of(lambda: bare_numpy_sweep(lrs, momenta, start, STEPS))
    print(f"lr x momentum sweep, {N_MOMENTUM}x{N_LR} runs x {STEPS} steps on Rosenbrock "
          f"(momentum optimizer, record='final')")
    print(f"  engine.descent.sweep_lr_momentum: {seconds:.3f} s   target < {TARGET_SECONDS:.1f} s"
          f"   -> {'OK' if seconds < TARGET_SECONDS else 'TOO SLOW'} "
          f"({seconds / TARGET_SECONDS:.2f} x target)")
    print(f"  bare NumPy loop (same arithmetic, no checks): {bare:.3f} s   "
          f"overhead ratio {seconds / bare:.2f}x")
    print(f"  diverged cells: {int(result.diverged.sum())} / {result.diverged.size}, "
          f"reached f <= {result.tol:g}: {int((result.steps_to_tol >= 0).sum())}")

    # For scale: the race page records everything (state, effective lr) for a few runs.
    runs = [descent.Run(optimizers.make(key, lr=surface.suggested_lr[key]), start, key)
            for key in optimizers.OPTIMIZERS]
    for steps in (300, 5000):
        race = best_of(lambda steps=steps: descent.run(surface, runs, steps, record="full"))
        print(f"  race, {len(runs)} optimizers x {steps} steps, record='full': {race:.3f} s "
              f"({race / steps * 1e6:.0f} us per step)")


if __name__ == "__main__":
    main()
