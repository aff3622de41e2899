"""engine.descent noise streams: a learning-rate sweep reproduces a noisy race exactly."""

from __future__ import annotations

import numpy as np
import pytest

from engine import descent, expression, optimizers
from engine.descent import Run
from engine.surfaces import SURFACES

KEYS = list(optimizers.OPTIMIZERS)
ROSENBROCK = SURFACES["rosenbrock"]
# A typed formula whose NaN region (x < 0) large steps jump into.
SURFACES_UNDER_TEST = {"rosenbrock": ROSENBROCK, "log": expression.parse("x^2 - log(x) + y^2")}
# The race page's sweep grid: 1-1.2-1.5-2-2.5-3-4-5-6-8 × 10^k over [1e-4, 1], plus a
# rate far beyond it, so that a run of every sweep group diverges at once.
GRID = np.array([m * 10.0**k for k in range(-4, 0)
                 for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)] + [1.0, 1e4])
SIGMA, SEED, STEPS = 3.0, 7, 400


def noisy_race(surface):
    """Every optimizer at the surface's suggested rate, plus a GD that blows up early."""
    runs = [Run(optimizers.make(k, lr=surface.suggested_lr[k]), surface.start, k)
            for k in KEYS]
    runs.append(Run(optimizers.make("gd", lr=0.5), surface.start, "gd too fast"))
    return runs


RACES = {name: descent.run(surface, noisy_race(surface), STEPS, noise=SIGMA, seed=SEED,
                           record="path")
         for name, surface in SURFACES_UNDER_TEST.items()}


@pytest.mark.parametrize("name", SURFACES_UNDER_TEST)
def test_each_race_has_an_early_divergence_and_finishers(name):
    race = RACES[name]
    assert race.diverged[-1] and 0 < race.diverged_at[-1] < 10
    assert not race.diverged[:-1].any()


@pytest.mark.parametrize("name", SURFACES_UNDER_TEST)
@pytest.mark.parametrize("b", range(len(KEYS)), ids=KEYS)
def test_sweep_on_the_race_stream_reproduces_the_race_run_exactly(b, name):
    """Run b's noise is stream b; its rule rounds the same as one row of a sweep (lr an
    array), whatever the other rows do (here one diverges at once, in every group)."""
    surface, race, key = SURFACES_UNDER_TEST[name], RACES[name], KEYS[b]
    lr = surface.suggested_lr[key]
    lrs = np.unique(np.append(GRID, lr))
    column = int(np.flatnonzero(lrs == lr)[0])
    sweep = descent.run(
        surface, [Run(optimizers.make(key, lr=lrs[:, None]), surface.start, key,
                      noise_stream=b)],
        STEPS, noise=SIGMA, seed=SEED, record="path", noise_streams=len(race.labels))
    for field in ("path", "loss", "grad", "step", "lookahead"):
        np.testing.assert_array_equal(getattr(sweep, field)[:, column],
                                      getattr(race, field)[:, b], err_msg=field)
    assert sweep.diverged_at[column] == race.diverged_at[b] == -1
    assert sweep.diverged[-1]  # lr = 1e4


def test_noise_follows_the_written_rule():
    """g_t of every run of a group with stream s = ∇f(x_t) + σ·Z_t[s], Z_t the t-th
    standard_normal((S, 2)) draw of default_rng(seed)."""
    surface, sigma, seed, steps, n_streams = SURFACES["sphere"], 0.7, 11, 30, 5
    runs = [
        Run(optimizers.make("momentum", lr=[[0.01], [0.05]]), (1.0, -0.5), "m", noise_stream=3),
        Run(optimizers.make("adam", lr=0.02), np.array([[0.3, 0.2], [-1.0, 1.5]]), "a",
            noise_stream=0),
    ]
    result = descent.run(surface, runs, steps, noise=sigma, seed=seed, record="path",
                         noise_streams=n_streams)
    assert not result.diverged.any()
    rng = np.random.default_rng(seed)
    stream = np.array([3, 3, 0, 0])
    for t in range(steps):
        z = rng.standard_normal((n_streams, 2))
        expected = surface.grad(result.path[t]) + sigma * z[stream]
        np.testing.assert_array_equal(result.grad[t], expected)


def test_each_run_on_its_own_batch_index_is_the_default():
    runs = noisy_race(ROSENBROCK)
    named = [Run(r.optimizer, r.starts, r.label, noise_stream=b) for b, r in enumerate(runs)]
    streamed = descent.run(ROSENBROCK, named, 200, noise=SIGMA, seed=SEED, record="full",
                           noise_streams=len(runs))
    default = descent.run(ROSENBROCK, runs, 200, noise=SIGMA, seed=SEED, record="full")
    for name in ("path", "loss", "grad", "step", "lookahead", "diverged_at"):
        np.testing.assert_array_equal(getattr(streamed, name), getattr(default, name))
    for a, b in zip(streamed.state, default.state, strict=True):
        for field in a:
            np.testing.assert_array_equal(a[field], b[field])


def test_a_stream_shared_by_two_groups_gives_them_the_same_noise():
    surface = SURFACES["sphere"]
    opt = optimizers.make("gd", lr=0.1)
    result = descent.run(surface, [Run(opt, (1.0, 1.0), noise_stream=1),
                                   Run(opt, (1.0, 1.0), noise_stream=1)],
                         50, noise=0.5, seed=3, record="path", noise_streams=2)
    np.testing.assert_array_equal(result.path[:, 0], result.path[:, 1])
    other = descent.run(surface, [Run(opt, (1.0, 1.0), noise_stream=0)], 50, noise=0.5,
                        seed=3, record="path", noise_streams=2)
    assert not np.array_equal(other.path[:, 0], result.path[:, 0])


@pytest.mark.parametrize(("streams", "kwargs", "message"), [
    ([None, 1], {"noise_streams": 2}, "every run must name a noise_stream"),
    ([0, 2], {"noise_streams": 2}, "noise_stream=2"),
    ([0, -1], {"noise_streams": 2}, "noise_stream=-1"),
    ([0, 1.5], {"noise_streams": 2}, "noise_stream=1.5"),
    ([0, True], {"noise_streams": 2}, "noise_stream=True"),
    ([0, "1"], {"noise_streams": 2}, "noise_stream='1'"),
    ([0, float("nan")], {"noise_streams": 2}, "noise_stream=nan"),
    ([0, None], {}, "noise_streams is not given"),
    ([0, 1], {"noise_streams": 0}, "noise_streams must be an integer >= 1"),
    ([0, 1], {"noise_streams": True}, "noise_streams must be an integer >= 1"),
    ([0, 1], {"noise_streams": 2.5}, "noise_streams must be an integer >= 1"),
    ([0, 1], {"noise_streams": "2"}, "noise_streams must be an integer >= 1"),
    ([0, 1], {"noise_streams": float("inf")}, "noise_streams must be an integer >= 1"),
    ([0, 1], {"noise_streams": 10_000_000}, "too much work"),
])
def test_bad_streams_raise_a_clear_value_error(streams, kwargs, message):
    opt = optimizers.make("gd", lr=0.1)
    runs = [Run(opt, (1.0, 1.0), f"run{i}", noise_stream=s) for i, s in enumerate(streams)]
    with pytest.raises(ValueError, match=message):
        descent.run(SURFACES["sphere"], runs, 10, noise=0.5, **kwargs)
