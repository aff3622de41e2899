"""engine.descent: batched runs against written-out loops, closed forms and the divergence rule."""

from __future__ import annotations

import importlib.util
import math
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import descent, optimizers
from engine.descent import Run

# ---------------------------------------------------------------------------------------
# Small surfaces written out here, so the expected numbers do not depend on engine.surfaces.


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    f: float
    kind: str


@dataclass(frozen=True)
class Quadratic:
    """f = ½(λ₁x² + λ₂y²), ∇f = (λ₁x, λ₂y)."""

    lam1: float = 1.0
    lam2: float = 10.0
    domain: tuple = ((-2.0, 2.0), (-2.0, 2.0))
    minima: tuple = (Point(0.0, 0.0, 0.0, "global"),)
    start: tuple = (1.5, 1.0)

    def f(self, xy):
        xy = np.asarray(xy, dtype=np.float64)
        return 0.5 * (self.lam1 * xy[..., 0] ** 2 + self.lam2 * xy[..., 1] ** 2)

    def grad(self, xy):
        xy = np.asarray(xy, dtype=np.float64)
        return np.stack([self.lam1 * xy[..., 0], self.lam2 * xy[..., 1]], axis=-1)


@dataclass(frozen=True)
class SteepPower:
    """f = x²⁰⁰ + y²: finite (≈1.9e8) at x = 1.1, but one big step lands where x²⁰⁰ = inf."""

    domain: tuple = ((-2.0, 2.0), (-2.0, 2.0))
    minima: tuple = (Point(0.0, 0.0, 0.0, "global"),)
    start: tuple = (1.1, 0.5)

    def f(self, xy):
        xy = np.asarray(xy, dtype=np.float64)
        return xy[..., 0] ** 200 + xy[..., 1] ** 2

    def grad(self, xy):
        xy = np.asarray(xy, dtype=np.float64)
        return np.stack([200.0 * xy[..., 0] ** 199, 2.0 * xy[..., 1]], axis=-1)


@dataclass(frozen=True)
class Wells:
    """Two separated quadratic wells f = min((x−1)², (x+1)²) + y², minima (±1, 0).

    The ridge point (0, 0) is listed first (as a saddle) so that basin maps must skip it."""

    domain: tuple = ((-2.0, 2.0), (-1.0, 1.0))
    minima: tuple = (Point(0.0, 0.0, 1.0, "saddle"), Point(1.0, 0.0, 0.0, "global"),
                     Point(-1.0, 0.0, 0.0, "global"))
    start: tuple = (0.5, 0.5)

    def f(self, xy):
        x, y = np.asarray(xy, dtype=np.float64)[..., 0], np.asarray(xy)[..., 1]
        return np.minimum((x - 1) ** 2, (x + 1) ** 2) + y**2

    def grad(self, xy):
        x, y = np.asarray(xy, dtype=np.float64)[..., 0], np.asarray(xy)[..., 1]
        gx = np.where(x >= 0, 2 * (x - 1), 2 * (x + 1))
        return np.stack([gx, 2 * y], axis=-1)


def all_arrays(result: descent.DescentResult):
    """Every float array a plot could consume."""
    arrays = [result.path, result.loss, result.grad, result.step, result.lookahead,
              result.lr_multiplier]
    for fields in result.state:
        arrays.extend(fields.values())
    arrays.extend(result.effective_lr)
    return arrays


def assert_all_finite(result: descent.DescentResult) -> None:
    for array in all_arrays(result):
        assert np.isfinite(array).all()


def loop_one(surface, opt, start, steps, scales=None):
    """The reference: one run at a time, one opt.step per iteration, plain Python loop."""
    x = np.asarray(start, dtype=np.float64).reshape(1, 2)
    state = opt.init(x)
    path, loss, grad, states = [x[0].copy()], [float(surface.f(x)[0])], [], [state]
    for t in range(steps):
        g = surface.grad(x)
        grad.append(g[0].copy())
        x, state = opt.step(x, g, state, lr_scale=1.0 if scales is None else scales[t])
        path.append(x[0].copy())
        loss.append(float(surface.f(x)[0]))
        states.append(state)
    grad.append(surface.grad(x)[0].copy())
    return np.array(path), np.array(loss), np.array(grad), states


# ---------------------------------------------------------------------------------------
# Batched == per-run loop


def test_batched_groups_equal_per_run_loops():
    surface = Quadratic(lam1=1.0, lam2=25.0)
    starts_b = np.array([[1.5, 1.0], [-1.0, 0.3], [0.2, -1.7]])
    runs = [
        Run(optimizers.make("gd", lr=0.05), (1.5, 1.0), "gd"),
        Run(optimizers.make("momentum", lr=0.02, momentum=0.9), starts_b, "mom"),
        Run(optimizers.make("nag", lr=0.02, momentum=0.8), (-1.2, 0.7), "nag"),
        Run(optimizers.make("adam", lr=0.1), (1.5, -1.0), "adam"),
        Run(optimizers.make("adagrad", lr=0.5), (0.4, 1.9), "adagrad"),
    ]
    steps = 60
    result = descent.run(surface, runs, steps)
    assert result.path.shape == (steps + 1, 7, 2)
    assert list(result.labels) == ["gd", "mom", "mom", "mom", "nag", "adam", "adagrad"]
    assert list(result.group) == [0, 1, 1, 1, 2, 3, 4]
    column = 0
    for g, item in enumerate(runs):
        starts = np.asarray(item.starts, dtype=np.float64).reshape(-1, 2)
        for k, start in enumerate(starts):
            path, loss, grad, states = loop_one(surface, item.optimizer, start, steps)
            np.testing.assert_allclose(result.path[:, column], path, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(result.loss[:, column], loss, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(result.grad[:, column], grad, rtol=1e-12, atol=1e-14)
            for name, rows in result.state[g].items():
                expected = np.array([getattr(s, name)[0] for s in states])
                np.testing.assert_allclose(rows[:, k], expected, rtol=1e-12, atol=1e-14)
            column += 1
    assert not result.diverged.any()
    assert (result.diverged_at == -1).all()
    assert (result.n_valid == steps + 1).all()


def test_momentum_and_nag_written_out():
    """buf = μ·buf + g (buf₁ = g₁), x −= lr·buf; NAG: x −= lr·(g + μ·buf).

    Look-ahead drawn for NAG: x − lr·μ·buf."""
    surface = Quadratic(lam1=2.0, lam2=8.0)
    lr, mu, steps = 0.03, 0.85, 40
    runs = [
        Run(optimizers.make("momentum", lr=lr, momentum=mu), (1.0, -1.5)),
        Run(optimizers.make("nag", lr=lr, momentum=mu), (1.0, -1.5)),
    ]
    result = descent.run(surface, runs, steps)
    lam = np.array([2.0, 8.0])
    for column, nesterov in ((0, False), (1, True)):
        x = np.array([1.0, -1.5])
        buf = np.zeros(2)
        looks = [x.copy()]
        for t in range(steps):
            g = lam * x
            buf = g if t == 0 else mu * buf + g
            x = x - lr * (g + mu * buf if nesterov else buf)
            np.testing.assert_allclose(result.path[t + 1, column], x, rtol=1e-12, atol=1e-15)
            looks.append(x - lr * mu * buf if nesterov else x.copy())
        np.testing.assert_allclose(result.lookahead[:, column], np.array(looks), rtol=1e-12,
                                   atol=1e-15)


def test_gd_on_quadratic_matches_closed_form():
    """x_t = (1 − lr·λ₁)ᵗ x₀, y_t = (1 − lr·λ₂)ᵗ y₀; loss and steps follow."""
    surface = Quadratic(lam1=1.0, lam2=10.0)
    lr, steps, x0 = 0.15, 80, np.array([1.5, 1.0])
    result = descent.run(surface, [Run(optimizers.make("gd", lr=lr), x0)], steps)
    t = np.arange(steps + 1)
    expected = np.stack([(1 - lr * 1.0) ** t * x0[0], (1 - lr * 10.0) ** t * x0[1]], axis=1)
    np.testing.assert_allclose(result.path[:, 0], expected, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(result.loss[:, 0],
                               0.5 * (expected[:, 0] ** 2 + 10 * expected[:, 1] ** 2), rtol=1e-10)
    np.testing.assert_allclose(result.grad[:, 0], expected * [1.0, 10.0], rtol=1e-10,
                               atol=1e-300)
    np.testing.assert_allclose(result.step[:, 0], -lr * result.grad[:-1, 0], rtol=1e-12,
                               atol=1e-300)
    np.testing.assert_allclose(result.effective_lr[0], lr)


def test_step_rows_are_path_differences():
    surface = Quadratic()
    runs = [Run(optimizers.make("adam", lr=0.3), (1.0, 1.0)),
            Run(optimizers.make("gd", lr=0.25), (1.0, 1.0))]  # gd diverges: |1 − 0.25·10| > 1
    result = descent.run(surface, runs, 300, noise=0.3, seed=4)
    assert result.diverged.tolist() == [False, True]
    np.testing.assert_array_equal(result.step, result.path[1:] - result.path[:-1])


# ---------------------------------------------------------------------------------------
# Divergence


def first_invalid_gd(surface, lr, start, steps, bound):
    """Written-out GD with the documented rule: index of the first invalid iterate, or −1."""
    x = np.array(start, dtype=np.float64)
    last = None
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            f = float(surface.f(x))
            g = surface.grad(x)
            ok = (np.all(np.abs(x) <= bound) and abs(f) <= 1e12 and np.all(np.abs(g) <= 1e12))
            if not ok:
                return t, last
            last = (x.copy(), f, g.copy())
            x = x - lr * g
    return -1, last


def test_runaway_is_flagged_at_the_right_step_and_frozen():
    """GD with lr·λ = 2.2 on x²-like: x_t = (−1.2)ᵗ x₀ until f passes 1e12."""
    surface = Quadratic(lam1=2.0, lam2=2.0)  # f = x² + y²
    lr, steps = 1.1, 120
    runs = [Run(optimizers.make("gd", lr=lr), (1.0, 0.5), "blows"),
            Run(optimizers.make("gd", lr=0.1), (1.0, 0.5), "calm")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = descent.run(surface, runs, steps)
    bound = descent.position_bound(surface)
    at, (x_last, f_last, g_last) = first_invalid_gd(surface, lr, (1.0, 0.5), steps, bound)
    # f_t = 1.25·1.44ᵗ passes 1e12 first at t = 76 (|x| passes the position bound there too)
    assert at == math.floor(math.log(1e12 / 1.25) / math.log(1.44)) + 1 == 76
    assert result.diverged.tolist() == [True, False]
    assert result.diverged_at.tolist() == [at, -1]
    assert result.n_valid.tolist() == [at, steps + 1]
    np.testing.assert_allclose(result.path[at - 1, 0], x_last, rtol=1e-12)
    frozen_rows = (steps + 1 - at, 2)
    np.testing.assert_array_equal(result.path[at:, 0],
                                  np.broadcast_to(result.path[at - 1, 0], frozen_rows))
    np.testing.assert_array_equal(result.loss[at:, 0], result.loss[at - 1, 0])
    np.testing.assert_allclose(result.loss[at - 1, 0], f_last, rtol=1e-12)
    np.testing.assert_array_equal(result.grad[at:, 0], np.broadcast_to(g_last, frozen_rows))
    np.testing.assert_array_equal(result.step[at - 1:, 0], 0.0)
    # the calm run is exactly what it would be alone
    alone = descent.run(surface, [runs[1]], steps)
    np.testing.assert_array_equal(result.path[:, 1], alone.path[:, 0])
    assert_all_finite(result)


def test_loss_bound_trips_first_on_a_steep_bowl():
    """f = 10⁶(x² + y²), lr·λ = 2.2: f_t = 1.25e6·1.44ᵗ passes 1e12 at t = 38 (|x| ≈ 10³)."""
    surface = Quadratic(lam1=2e6, lam2=2e6)
    result = descent.run(surface, [Run(optimizers.make("gd", lr=1.1e-6), (1.0, 0.5))], 60)
    expected = math.floor(math.log(1e12 / 1.25e6) / math.log(1.44)) + 1
    assert expected == 38
    assert result.diverged_at.tolist() == [expected]
    assert np.abs(result.path[expected - 1, 0]).max() < 1e4  # far inside the position bound
    assert result.loss[expected - 1, 0] <= 1e12 < 1e6 * 1.25 * 1.44**expected


@dataclass(frozen=True)
class Slope:
    """f = −x − y: a constant gradient (−1, −1), the loss stays tiny compared to 1e12."""

    domain: tuple = ((-2.0, 2.0), (-2.0, 2.0))
    minima: tuple = ()

    def f(self, xy):
        xy = np.asarray(xy, dtype=np.float64)
        return -xy[..., 0] - xy[..., 1]

    def grad(self, xy):
        return -np.ones_like(np.asarray(xy, dtype=np.float64))


def test_position_bound_trips_on_a_slope():
    """Momentum on a plane runs off: flagged when |x| first exceeds 1e6 + 1e3·4."""
    lr, mu = 10.0, 0.999
    bound = descent.position_bound(Slope())
    assert bound == 1e6 + 4e3
    result = descent.run(Slope(), [Run(optimizers.make("momentum", lr=lr, momentum=mu),
                                       (0.0, 0.0))], 1000)
    x, buf, expected = 0.0, 0.0, -1
    for t in range(1000):
        buf = 1.0 if t == 0 else mu * buf + 1.0
        x += lr * buf
        if x > bound:
            expected = t + 1
            break
    assert 0 < expected < 1000
    assert result.diverged_at.tolist() == [expected]
    assert abs(result.loss[-1, 0]) < 1e7  # the loss bound was not what stopped it
    np.testing.assert_allclose(result.final_position[0], [x - lr * buf] * 2, rtol=1e-9)


@dataclass(frozen=True)
class LogX:
    """f = log x: finite for x > 0, a pole at x = 0, undefined beyond."""

    domain: tuple = ((-1.0, 2.0), (-1.0, 1.0))
    minima: tuple = ()

    def f(self, xy):
        return np.log(np.asarray(xy)[..., 0])

    def grad(self, xy):
        x = np.asarray(xy)[..., 0]
        return np.stack([1.0 / x, np.zeros_like(x)], axis=-1)


def test_gradient_bound_flags_a_start_next_to_a_pole():
    """log(x) at x = 1e-13: f ≈ −29.9 is fine, but ∂f/∂x = 1e13 > 1e12."""

    starts = np.array([[1e-13, 0.0], [1e-11, 0.0]])
    result = descent.run(LogX(), [Run(optimizers.make("gd", lr=1e-30), starts)], 5)
    assert result.diverged_at.tolist() == [0, -1]
    assert_all_finite(result)


def test_noisy_frozen_run_holds_its_last_noisy_gradient():
    surface = Quadratic(lam1=2.0, lam2=2.0)
    runs = [Run(optimizers.make("gd", lr=1.1), (1.0, 0.5)),
            Run(optimizers.make("gd", lr=0.1), (1.0, 0.5))]
    result = descent.run(surface, runs, 150, noise=0.5, seed=3)
    at = int(result.diverged_at[0])
    assert 0 < at < 150 and result.diverged_at[1] == -1
    rows = result.grad[at - 1:, 0]
    np.testing.assert_array_equal(rows, np.broadcast_to(rows[0], rows.shape))
    # and row at − 1 is the noisy gradient that step at − 1 used
    rng = np.random.default_rng(3)
    for _ in range(at - 1):
        rng.standard_normal((2, 2))
    xi = rng.standard_normal((2, 2))[0]
    np.testing.assert_allclose(rows[0], surface.grad(result.path[at - 1, 0]) + 0.5 * xi,
                               rtol=1e-12)
    # the calm run's noise does not depend on the other run's fate
    calm_neighbour = [Run(optimizers.make("gd", lr=0.01), (1.0, 0.5)), runs[1]]
    other = descent.run(surface, calm_neighbour, 150, noise=0.5, seed=3)
    assert not other.diverged.any()
    np.testing.assert_array_equal(other.path[:, 1], result.path[:, 1])


def test_overflow_to_inf_is_caught_and_others_unaffected():
    surface = SteepPower()
    lr = 3e-9  # step 0: x₁ = 1.1 − 3e-9·200·1.1¹⁹⁹ ≈ −102, and (−102)²⁰⁰ overflows
    with np.errstate(all="ignore"):
        x1 = 1.1 - lr * 200 * 1.1**199
        assert np.isinf(np.float64(x1) ** 200)
    runs = [Run(optimizers.make("momentum", lr=0.01, momentum=0.5), (0.3, 0.5), "ok"),
            Run(optimizers.make("gd", lr=lr), (1.1, 0.5), "boom"),
            Run(optimizers.make("adam", lr=0.01), (0.5, -0.5), "ok2")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = descent.run(surface, runs, 50)
    assert result.diverged.tolist() == [False, True, False]
    assert result.diverged_at.tolist() == [-1, 1, -1]
    np.testing.assert_array_equal(result.path[:, 1], np.broadcast_to([1.1, 0.5], (51, 2)))
    np.testing.assert_array_equal(result.step[:, 1], 0.0)
    assert result.loss[0, 1] == pytest.approx(1.1**200)
    np.testing.assert_array_equal(result.loss[:, 1], result.loss[0, 1])
    for column, item in ((0, runs[0]), (2, runs[2])):
        alone = descent.run(surface, [item], 50)
        np.testing.assert_array_equal(result.path[:, column], alone.path[:, 0])
        np.testing.assert_array_equal(result.loss[:, column], alone.loss[:, 0])
    alone_adam = descent.run(surface, [runs[2]], 50)
    np.testing.assert_array_equal(result.state[2]["exp_avg_sq"], alone_adam.state[0]["exp_avg_sq"])
    assert_all_finite(result)


def test_frozen_run_keeps_its_optimizer_state():
    """A diverging momentum run (lr·λ = 5 > 2(1+μ)): buf rows repeat the last finite buf."""
    surface = Quadratic(lam1=2.0, lam2=2.0)
    runs = [Run(optimizers.make("momentum", lr=2.5, momentum=0.9), (1.0, 1.0))]
    result = descent.run(surface, runs, 200)
    at = int(result.diverged_at[0])
    assert result.diverged[0] and at > 1
    buf = result.state[0]["buf"][:, 0]
    np.testing.assert_array_equal(buf[at:], np.broadcast_to(buf[at - 1], buf[at:].shape))
    # and up to there it is the written-out rule buf = μ·buf + g
    x, b = np.array([1.0, 1.0]), np.zeros(2)
    for t in range(at - 1):
        g = 2 * x
        b = g if t == 0 else 0.9 * b + g
        x = x - 2.5 * b
        np.testing.assert_allclose(buf[t + 1], b, rtol=1e-12)
    assert_all_finite(result)


@pytest.mark.skipif(importlib.util.find_spec("engine.expression") is None,
                    reason="engine.expression not written yet")
def test_log_surface_hits_nan_and_is_flagged():
    from engine import expression

    surface = expression.parse("log(x)")
    # GD from x = 1 with lr = 2: x₁ = 1 − 2·(1/1) = −1, log(−1) = NaN
    runs = [Run(optimizers.make("gd", lr=2.0), (1.0, 0.5), "nan"),
            Run(optimizers.make("gd", lr=0.01), (1.0, 0.5), "fine")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = descent.run(surface, runs, 30)
    assert result.diverged.tolist() == [True, False]
    assert result.diverged_at[0] == 1
    np.testing.assert_array_equal(result.path[1:, 0], np.broadcast_to([1.0, 0.5], (30, 2)))
    np.testing.assert_allclose(result.path[:, 1, 0], _gd_log_path(1.0, 0.01, 30), rtol=1e-12)
    assert_all_finite(result)


def _gd_log_path(x0, lr, steps):
    """GD on log(x): x ← x − lr/x."""
    xs = [x0]
    for _ in range(steps):
        xs.append(xs[-1] - lr / xs[-1])
    return xs


def test_invalid_start_is_frozen_at_step_zero():
    runs = [Run(optimizers.make("adam", lr=0.1), np.array([[-0.5, 0.0], [1.0, 0.0]]))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = descent.run(LogX(), runs, 10)
    assert result.diverged.tolist() == [True, False]
    assert result.diverged_at.tolist() == [0, -1]
    assert result.n_valid.tolist() == [1, 11]  # row 0, the (finite) start, is kept
    np.testing.assert_array_equal(result.path[:, 0], np.broadcast_to([-0.5, 0.0], (11, 2)))
    assert_all_finite(result)


# ---------------------------------------------------------------------------------------
# Noise and schedules


def test_noise_is_seeded_gaussian_added_to_the_gradient():
    surface = Quadratic()
    sigma, seed, steps = 0.7, 123, 25
    runs = [Run(optimizers.make("gd", lr=0.05), (1.0, 1.0)),
            Run(optimizers.make("momentum", lr=0.02, momentum=0.9), (-1.0, 0.5))]
    a = descent.run(surface, runs, steps, noise=sigma, seed=seed)
    b = descent.run(surface, runs, steps, noise=sigma, seed=seed)
    for x, y in zip(all_arrays(a), all_arrays(b), strict=True):
        np.testing.assert_array_equal(x, y)
    c = descent.run(surface, runs, steps, noise=sigma, seed=seed + 1)
    assert not np.allclose(a.path, c.path)
    # written out: g_t = ∇f(x_t) + σ·ξ_t, ξ_t = default_rng(seed).standard_normal((B, 2))
    rng = np.random.default_rng(seed)
    for t in range(steps):
        xi = rng.standard_normal((2, 2))
        np.testing.assert_allclose(a.grad[t], surface.grad(a.path[t]) + sigma * xi, rtol=1e-12)
    np.testing.assert_allclose(a.grad[steps], surface.grad(a.path[steps]), rtol=1e-12)
    # zero noise is exactly the noise-free run, whatever the seed
    quiet = descent.run(surface, runs, steps)
    zero = descent.run(surface, runs, steps, noise=0.0, seed=99)
    np.testing.assert_array_equal(quiet.path, zero.path)
    x = np.array([1.0, 1.0])
    for _ in range(steps):
        x = x - 0.05 * surface.grad(x)
    np.testing.assert_allclose(quiet.path[-1, 0], x, rtol=1e-12)


def test_schedule_scales_the_learning_rate_like_a_written_out_loop():
    surface = Quadratic(lam1=1.0, lam2=5.0)
    steps, lr = 40, 0.3

    def schedule(t):
        return 0.5 ** (t // 10)  # StepLR(step_size=10, gamma=0.5)

    opt = optimizers.make("gd", lr=lr)
    result = descent.run(surface, [Run(opt, (1.5, -1.0))], steps, schedule=schedule)
    np.testing.assert_array_equal(result.lr_multiplier, [schedule(t) for t in range(steps)])
    x = np.array([1.5, -1.0])
    for t in range(steps):
        x = x - lr * schedule(t) * np.array([1.0, 5.0]) * x
        np.testing.assert_allclose(result.path[t + 1, 0], x, rtol=1e-12)
    plain = descent.run(surface, [Run(opt, (1.5, -1.0))], steps)
    assert not np.allclose(plain.path[-1], result.path[-1])
    np.testing.assert_array_equal(plain.lr_multiplier, 1.0)
    # effective lr of the state after step t includes η(t)
    np.testing.assert_allclose(result.effective_lr[0][1:, 0, 0],
                               [lr * schedule(t) for t in range(steps)])
    # adaptive rule through opt.step(lr_scale=η(t)) one run at a time
    adam = optimizers.make("adam", lr=0.2)
    batched = descent.run(surface, [Run(adam, (1.5, -1.0))], steps, schedule=schedule)
    path, *_ = loop_one(surface, adam, (1.5, -1.0), steps,
                        scales=[schedule(t) for t in range(steps)])
    np.testing.assert_allclose(batched.path[:, 0], path, rtol=1e-12)


@pytest.mark.skipif(importlib.util.find_spec("engine.schedules") is None,
                    reason="engine.schedules not written yet")
def test_engine_schedule_is_accepted():
    from engine import schedules

    sched = schedules.make("exponential", gamma=0.95)
    surface = Quadratic()
    result = descent.run(surface, [Run(optimizers.make("gd", lr=0.1), (1.0, 1.0))], 30,
                         schedule=sched)
    np.testing.assert_allclose(result.lr_multiplier, [sched(t) for t in range(30)])
    np.testing.assert_allclose(result.lr_multiplier, 0.95 ** np.arange(30), rtol=1e-12)


def test_scalar_only_schedule_is_called_per_step():
    def warm(t):
        if t < 5:  # only works for a scalar t
            return (t + 1) / 5
        return 1.0

    surface = Quadratic()
    runs = [Run(optimizers.make("gd", lr=0.1), (1.0, 1.0))]
    result = descent.run(surface, runs, 12, schedule=warm)
    np.testing.assert_array_equal(result.lr_multiplier, [warm(t) for t in range(12)])


def test_bad_schedule_raises():
    surface = Quadratic()
    runs = [Run(optimizers.make("gd", lr=0.1), (1.0, 1.0))]
    with pytest.raises(ValueError, match="schedule"):
        descent.run(surface, runs, 5, schedule=lambda t: float("nan"))


# ---------------------------------------------------------------------------------------
# Record modes and bounds


def test_record_modes_agree():
    surface = Quadratic(lam1=1.0, lam2=30.0)
    runs = [Run(optimizers.make("nag", lr=0.02, momentum=0.9), (1.0, 1.0)),
            Run(optimizers.make("rmsprop", lr=0.05), np.array([[1.0, -1.0], [0.5, 0.5]])),
            Run(optimizers.make("gd", lr=0.1), (1.0, 1.0))]  # diverges: 0.1·30 > 2
    kw = dict(noise=0.1, seed=7)
    full = descent.run(surface, runs, 200, record="full", **kw)
    path = descent.run(surface, runs, 200, record="path", **kw)
    final = descent.run(surface, runs, 200, record="final", **kw)
    assert len(full.state) == 3 and full.state[0]["buf"].shape == (201, 1, 2)
    assert full.state[2] == {} and full.effective_lr[1].shape == (201, 2, 2)
    assert path.state == () and path.effective_lr == ()
    assert final.state == () and final.effective_lr == ()
    for name in ("path", "loss", "grad", "step", "lookahead"):
        np.testing.assert_array_equal(getattr(full, name), getattr(path, name))
    assert final.path.shape == (1, 4, 2) and final.step.shape == (0, 4, 2)
    np.testing.assert_array_equal(final.final_position, full.path[-1])
    np.testing.assert_array_equal(final.loss, full.loss)
    np.testing.assert_array_equal(final.grad[0], full.grad[-1])
    np.testing.assert_array_equal(final.lookahead[0], full.lookahead[-1])
    for r in (full, path, final):
        assert r.diverged.tolist() == [False, False, False, True]
        np.testing.assert_array_equal(r.diverged_at, full.diverged_at)
        assert_all_finite(r)


def test_steps_to_tolerance_is_first_hit():
    surface = Quadratic(lam1=1.0, lam2=1.0)
    lr = 0.1
    result = descent.run(surface, [Run(optimizers.make("gd", lr=lr), (1.0, 0.0))], 100,
                         record="final")
    # f_t = ½·(0.9^t)² ≤ 1e-4  ⇔  t ≥ log(2e-4) / (2 log 0.9)
    expected = math.ceil(math.log(2e-4) / (2 * math.log(0.9)))
    assert result.steps_to_tolerance(1e-4, 0.0).tolist() == [expected]
    assert result.steps_to_tolerance(1e-30, 0.0).tolist() == [-1]
    assert result.final_loss[0] == pytest.approx(0.5 * 0.81**100)


def test_work_bounds_raise_value_error():
    surface = Quadratic()
    gd = optimizers.make("gd", lr=0.1)
    with pytest.raises(ValueError, match="steps"):
        descent.run(surface, [Run(gd, (1.0, 1.0))], 5001)
    with pytest.raises(ValueError, match="steps"):
        descent.run(surface, [Run(gd, (1.0, 1.0))], -1)
    with pytest.raises(ValueError, match="too much work"):
        descent.run(surface, [Run(gd, np.zeros((4001, 2)))], 5000, record="final")
    with pytest.raises(ValueError, match="at most 64"):
        descent.run(surface, [Run(gd, np.zeros((65, 2)))], 10, record="full")
    with pytest.raises(ValueError, match='record="path"'):
        descent.run(surface, [Run(gd, np.zeros((1000, 2)))], 2000, record="path")
    with pytest.raises(ValueError, match="record"):
        descent.run(surface, [Run(gd, (1.0, 1.0))], 10, record="everything")
    with pytest.raises(ValueError, match="noise"):
        descent.run(surface, [Run(gd, (1.0, 1.0))], 10, noise=-1.0)
    with pytest.raises(ValueError, match="starts"):
        descent.run(surface, [Run(gd, (1.0, 1.0, 2.0))], 10)
    with pytest.raises(ValueError, match="finite"):
        descent.run(surface, [Run(gd, (np.nan, 1.0))], 10)
    sweep_opt = optimizers.make("gd", lr=np.full((3, 1), 0.1))
    with pytest.raises(ValueError, match="starts"):
        descent.run(surface, [Run(sweep_opt, np.zeros((2, 2)))], 10)
    # at the bounds it runs
    assert descent.run(surface, [Run(gd, np.zeros((64, 2)))], 5, record="full").path.shape \
        == (6, 64, 2)


def test_single_start_is_repeated_for_hyper_arrays():
    surface = Quadratic()
    lrs = np.array([[0.01], [0.05], [0.1]])
    result = descent.run(surface, [Run(optimizers.make("gd", lr=lrs), (1.0, 1.0))], 20,
                         record="path")
    for k, lr in enumerate(lrs[:, 0]):
        single = descent.run(surface, [Run(optimizers.make("gd", lr=lr), (1.0, 1.0))], 20)
        np.testing.assert_allclose(result.path[:, k], single.path[:, 0], rtol=1e-14)


# ---------------------------------------------------------------------------------------
# Sweeps and basin maps


def test_sweep_agrees_with_single_runs():
    surface = Quadratic(lam1=1.0, lam2=20.0)
    lrs = np.geomspace(1e-3, 0.2, 7)
    momenta = np.array([0.0, 0.5, 0.9, 0.99])
    start, steps = (1.5, 1.0), 150
    sweep = descent.sweep_lr_momentum(surface, "momentum", lrs, momenta, start, steps,
                                      tol=1e-6)
    assert sweep.final_loss.shape == sweep.diverged.shape == sweep.steps_to_tol.shape == (4, 7)
    assert sweep.momentum_name == "momentum" and sweep.target_f == 0.0
    assert sweep.diverged.any() and not sweep.diverged.all()
    assert np.isfinite(sweep.final_loss).all()
    for i, j in [(0, 0), (1, 3), (2, 5), (3, 6), (0, 6), (2, 2)]:
        opt = optimizers.make("momentum", lr=lrs[j], momentum=momenta[i])
        single = descent.run(surface, [Run(opt, start)], steps)
        assert sweep.final_loss[i, j] == pytest.approx(single.final_loss[0], rel=1e-12,
                                                       abs=1e-300)
        assert sweep.diverged[i, j] == single.diverged[0]
        assert sweep.steps_to_tol[i, j] == single.steps_to_tolerance(1e-6, 0.0)[0]
    # GD with momentum 0 on λ₂ = 20 is stable iff lr < 2/20
    np.testing.assert_array_equal(sweep.diverged[0], lrs >= 0.1)


def test_sweep_of_adam_sweeps_beta1_and_gd_is_refused():
    surface = Quadratic()
    sweep = descent.sweep_lr_momentum(surface, "adam", [0.01, 0.1], [0.0, 0.9], (1.0, 1.0), 20)
    assert sweep.momentum_name == "beta1"
    single = descent.run(surface, [Run(optimizers.make("adam", lr=0.1, beta1=0.9), (1.0, 1.0))],
                         20)
    assert sweep.final_loss[1, 1] == pytest.approx(single.final_loss[0], rel=1e-12)
    with pytest.raises(ValueError, match="momentum"):
        descent.sweep_lr_momentum(surface, "gd", [0.1], [0.5], (1.0, 1.0), 10)


def test_basin_map_agrees_with_single_runs():
    surface = Wells()
    hyper = {"lr": 0.1}
    bmap = descent.basin_map(surface, "gd", hyper, 9, 100)
    assert bmap.index.shape == (9, 9)
    np.testing.assert_allclose(bmap.xs, np.linspace(-2, 2, 9))
    np.testing.assert_allclose(bmap.ys, np.linspace(-1, 1, 9))
    # left half -> minimum 2 at (−1, 0), right half (x ≥ 0) -> minimum 1 at (1, 0)
    expected = np.where(bmap.xs >= 0, 1, 2)
    np.testing.assert_array_equal(bmap.index, np.broadcast_to(expected, (9, 9)))
    for i, j in [(0, 0), (4, 4), (8, 2), (3, 7)]:
        single = descent.run(surface, [Run(optimizers.make("gd", **hyper),
                                           (bmap.xs[j], bmap.ys[i]))], 100)
        np.testing.assert_allclose(bmap.final_position[i, j], single.final_position[0],
                                   rtol=1e-12, atol=1e-15)
        d = [math.dist(single.final_position[0], (p.x, p.y)) if p.kind != "saddle" else np.inf
             for p in surface.minima]
        assert bmap.index[i, j] == int(np.argmin(d))
    # too few steps to get within the radius -> −1 (also next to the listed saddle at x = 0)
    slow = descent.basin_map(surface, "gd", {"lr": 1e-4}, 5, 3)
    assert np.abs(slow.final_position[2, 2]).max() < 1e-3
    assert (slow.index[:, [0, 2, 4]] == -1).all()
    # diverging -> −1
    blown = descent.basin_map(surface, "gd", {"lr": 5.0}, 5, 50)
    assert blown.diverged.any()
    assert (blown.index[blown.diverged] == -1).all()


# ---------------------------------------------------------------------------------------
# Real surfaces


def test_basin_map_on_himmelblau_agrees_with_single_runs():
    surface = _surfaces().get("himmelblau")
    if surface is None:
        pytest.skip("engine.surfaces.SURFACES['himmelblau'] not available")
    hyper = {"lr": 0.01}
    bmap = descent.basin_map(surface, "gd", hyper, 11, 300)
    found = set(np.unique(bmap.index)) - {-1}
    assert len(found) == 4  # all four global minima have a basin
    for i, j in [(0, 0), (10, 10), (0, 10), (10, 0), (5, 7)]:
        start = (bmap.xs[j], bmap.ys[i])
        single = descent.run(surface, [Run(optimizers.make("gd", **hyper), start)], 300)
        np.testing.assert_allclose(bmap.final_position[i, j], single.final_position[0],
                                   rtol=1e-12, atol=1e-12)
        assert bmap.diverged[i, j] == single.diverged[0]
        end = single.final_position[0]
        candidates = [(math.dist(end, (p.x, p.y)), k) for k, p in enumerate(surface.minima)
                      if p.kind in ("global", "local")]
        dist, k = min(candidates)
        assert bmap.index[i, j] == (k if dist <= bmap.radius and not single.diverged[0] else -1)


def test_sweep_on_rosenbrock_agrees_with_single_runs():
    surface = _surfaces().get("rosenbrock")
    if surface is None:
        pytest.skip("engine.surfaces.SURFACES['rosenbrock'] not available")
    lrs = np.geomspace(1e-5, 1e-2, 12)
    momenta = np.linspace(0.0, 0.99, 9)
    sweep = descent.sweep_lr_momentum(surface, "nag", lrs, momenta, surface.start, 300)
    assert sweep.diverged.any() and not sweep.diverged.all()
    for i, j in [(0, 0), (8, 11), (4, 6), (8, 0), (0, 11)]:
        opt = optimizers.make("nag", lr=lrs[j], momentum=momenta[i])
        single = descent.run(surface, [Run(opt, surface.start)], 300)
        assert sweep.final_loss[i, j] == pytest.approx(single.final_loss[0], rel=1e-12)
        assert sweep.diverged[i, j] == single.diverged[0]
        assert sweep.steps_to_tol[i, j] == single.steps_to_tolerance(1e-3, 0.0)[0]


# ---------------------------------------------------------------------------------------
# Property test over the slider ranges


def _surfaces():
    try:  # engine.surfaces is written in parallel; its own tests report its errors
        from engine import surfaces
    except Exception:  # noqa: BLE001
        return {}
    return getattr(surfaces, "SURFACES", {})


_SURFACE_KEYS = sorted(_surfaces()) or ["missing"]


@pytest.mark.skipif(not _surfaces(), reason="engine.surfaces.SURFACES not available yet")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(_SURFACE_KEYS),
    opt_key=st.sampled_from(list(optimizers.OPTIMIZERS)),
    log_lr=st.floats(-5.0, 1.0),
    momentum=st.floats(0.0, 0.999),
    u=st.floats(0.0, 1.0),
    v=st.floats(0.0, 1.0),
    noise=st.sampled_from([0.0, 0.5]),
)
def test_property_finite_outputs_over_slider_ranges(key, opt_key, log_lr, momentum, u, v, noise):
    surface = _surfaces()[key]
    (xmin, xmax), (ymin, ymax) = surface.domain
    start = (xmin + u * (xmax - xmin), ymin + v * (ymax - ymin))
    names = {h.name for h in optimizers.OPTIMIZERS[opt_key].hyper}
    hyper = {"lr": 10.0**log_lr}
    if "momentum" in names:
        hyper["momentum"] = momentum
    if "beta1" in names:
        hyper["beta1"] = momentum
    runs = [Run(optimizers.make(opt_key, **hyper), start, opt_key),
            Run(optimizers.make("gd", lr=10.0**log_lr), surface.start, "gd")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = descent.run(surface, runs, 60, noise=noise, seed=1)
    assert_all_finite(result)
    assert result.path.shape == (61, 2, 2)
    frozen = result.diverged_at >= 0
    for b in np.flatnonzero(frozen):
        at = max(result.diverged_at[b], 1)
        np.testing.assert_array_equal(result.path[at:, b],
                                      np.broadcast_to(result.path[at - 1, b], (61 - at, 2)))


@pytest.mark.skipif(not _surfaces(), reason="engine.surfaces.SURFACES not available yet")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(_SURFACE_KEYS),
    opt_key=st.sampled_from(["momentum", "nag", "adam", "nadam", "adamax", "adamw"]),
    log_lr=st.tuples(st.floats(-5.0, 1.0), st.floats(-5.0, 1.0)),
    record=st.sampled_from(["path", "final"]),
)
def test_property_sweeps_are_finite(key, opt_key, log_lr, record):
    surface = _surfaces()[key]
    lrs = np.geomspace(10.0 ** min(log_lr), 10.0 ** max(log_lr), 6)
    momenta = np.array([0.0, 0.5, 0.9, 0.999])
    sweep = descent.sweep_lr_momentum(surface, opt_key, lrs, momenta, surface.start, 40)
    for grid in (sweep.final_loss, sweep.steps_to_tol):
        assert grid.shape == (4, 6) and np.isfinite(grid).all()
    name = sweep.momentum_name
    lr_col, mom_col = np.meshgrid(lrs, momenta)
    opt = optimizers.make(opt_key, lr=lr_col.reshape(-1, 1), **{name: mom_col.reshape(-1, 1)})
    result = descent.run(surface, [Run(opt, surface.start)], 40, noise=0.3, record=record)
    assert_all_finite(result)
    assert result.final_position.shape == (24, 2)


@pytest.mark.skipif(importlib.util.find_spec("engine.expression") is None,
                    reason="engine.expression not written yet")
@pytest.mark.parametrize("text", ["log(x)", "1/x + y^2", "sqrt(x) + y", "exp(x*y)",
                                  "x^4 - 10*y", "-exp(x^2 + y^2)"])
def test_typed_formulas_that_blow_up_stay_finite(text):
    from engine import expression

    try:
        surface = expression.parse(text)
    except ValueError:
        pytest.skip(f"{text!r} is outside the formula grammar")
    (xmin, xmax), (ymin, ymax) = surface.domain
    grid = np.stack(np.meshgrid(np.linspace(xmin, xmax, 5), np.linspace(ymin, ymax, 5)),
                    axis=-1).reshape(-1, 2)
    runs = [Run(optimizers.make(key, lr=lr), grid, key)
            for key, lr in (("gd", 0.5), ("adam", 0.1))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = descent.run(surface, runs, 100, noise=0.1, record="path")
    assert_all_finite(result)
    np.testing.assert_array_equal(result.step, result.path[1:] - result.path[:-1])


@pytest.mark.parametrize("key", _SURFACE_KEYS)
def test_every_surface_at_the_slider_extremes_stays_finite(key):
    """Every optimizer at lr 10 and 1e-5, momentum/β₁ 0.999, from the four domain corners."""
    if not _surfaces():
        pytest.skip("engine.surfaces.SURFACES not available yet")
    surface = _surfaces()[key]
    (xmin, xmax), (ymin, ymax) = surface.domain
    corners = np.array([[xmin, ymin], [xmin, ymax], [xmax, ymin], [xmax, ymax]], dtype=float)
    runs = []
    for opt_key, spec in optimizers.OPTIMIZERS.items():
        names = {h.name for h in spec.hyper}
        extra = {name: 0.999 for name in ("momentum", "beta1") if name in names}
        for lr in (10.0, 1e-5):
            runs.append(Run(optimizers.make(opt_key, lr=lr, **extra), corners, opt_key))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = descent.run(surface, runs, 200, noise=1.0, record="path")
    assert_all_finite(result)
    assert result.path.shape == (201, 80, 2)
