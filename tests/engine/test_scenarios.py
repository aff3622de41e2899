"""Every scenario's story is true with the real engine (numbers, not words)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine import descent, optimizers
from engine.scenarios import SCENARIOS, Scenario, scenario_hypers
from engine.surfaces import SURFACES, nearest_minimum


def race(scenario: Scenario, **overrides):
    """Run a scenario exactly as the page does; returns (result, {optimizer key: column})."""
    surface = SURFACES[scenario.surface]
    hypers = scenario_hypers(scenario, surface)
    runs = [descent.Run(optimizers.make(key, **hyper), scenario.start, key)
            for key, hyper in hypers]
    schedule = None
    if scenario.schedule is not None:
        from engine import schedules

        kind, params = scenario.schedule
        schedule = schedules.make(kind, **dict(params))
    kwargs = {"noise": scenario.noise, "seed": scenario.seed, "schedule": schedule,
              **overrides}
    result = descent.run(surface, runs, scenario.steps, **kwargs)
    return result, {key: b for b, (key, _) in enumerate(hypers)}


def y_sign_changes(path_y: np.ndarray) -> int:
    return int((np.sign(path_y[1:]) != np.sign(path_y[:-1])).sum())


def path_length(path: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(path, axis=0), axis=1).sum())


# ----------------------------------------------------------------------------- registry


def test_the_three_problems_of_plain_gd_come_first():
    assert list(SCENARIOS)[:3] == ["zigzag", "plateau", "local_minimum"]


def test_registry_covers_the_issue():
    assert set(SCENARIOS) == {
        "zigzag", "plateau", "local_minimum", "lr_too_large", "lr_too_small", "saddle",
        "rosenbrock", "rastrigin", "adagrad_fades",
    }


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=lambda s: s.key)
def test_scenario_is_well_formed(scenario):
    assert scenario.surface in SURFACES
    surface = SURFACES[scenario.surface]
    (xmin, xmax), (ymin, ymax) = surface.domain
    assert xmin <= scenario.start[0] <= xmax and ymin <= scenario.start[1] <= ymax
    assert 1 <= scenario.steps <= descent.MAX_STEPS
    assert scenario.noise >= 0
    keys = scenario.optimizer_keys
    assert len(keys) == len(set(keys)) >= 2
    for key, hyper in scenario_hypers(scenario, surface):
        optimizers.make(key, **hyper)  # raises on an invalid value
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", scenario.what_to_watch.strip()) if s]
    assert 2 <= len(sentences) <= 4, sentences
    hash(scenario)  # hashable: usable as a cache key


def test_scenario_hypers_layering():
    scenario = SCENARIOS["local_minimum"]
    surface = SURFACES[scenario.surface]
    hypers = dict(scenario_hypers(scenario, surface))
    assert hypers["momentum"]["lr"] == 0.01 and hypers["momentum"]["momentum"] == 0.9
    # not overridden: the registry default
    assert hypers["momentum"]["weight_decay"] == optimizers.OPTIMIZERS["momentum"].defaults[
        "weight_decay"]
    assert scenario.overrides("gd") == {"lr": 0.01}
    with pytest.raises(KeyError):
        scenario.overrides("adam")


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=lambda s: s.key)
def test_only_the_too_large_rate_diverges(scenario):
    result, col = race(scenario)
    diverged = {key for key, b in col.items() if result.diverged[b]}
    assert diverged == ({"gd"} if scenario.key == "lr_too_large" else set())
    assert np.isfinite(result.path).all() and np.isfinite(result.loss).all()


# ----------------------------------------------------------------------------- stories


def test_zigzag():
    result, col = race(SCENARIOS["zigzag"])
    gd, mom, adam = (result.path[:, col[k]] for k in ("gd", "momentum", "adam"))
    # GD crosses the valley floor y = 0 at every one of the first 30 steps: its y factor is
    # 1 - lr*kappa = 1 - 0.09*20 = -0.8
    assert y_sign_changes(gd[:31, 1]) == 30
    np.testing.assert_allclose(gd[1:11, 1] / gd[:10, 1], -0.8, rtol=1e-12)
    assert y_sign_changes(mom[:31, 1]) <= 10
    assert y_sign_changes(adam[:31, 1]) <= 2
    assert path_length(gd) > 2 * path_length(mom)
    assert path_length(gd) > 2 * path_length(adam)
    tol_steps = result.steps_to_tolerance(1e-3, 0.0)
    assert 0 < tol_steps[col["momentum"]] < tol_steps[col["gd"]]
    # Adam "first steps as far in x as in y: a straight diagonal ... not aimed at the centre"
    first = np.diff(adam[:7], axis=0)  # the first six steps
    np.testing.assert_allclose(np.abs(first[:, 0]), np.abs(first[:, 1]), rtol=0.05)
    start = np.asarray(SCENARIOS["zigzag"].start)
    assert abs(abs(start[1] / start[0]) - 1) > 0.3  # the centre is not on that diagonal
    # "It overshoots, circles in slowly and after 100 steps is the farthest from the bottom"
    assert np.sign(adam[:, 0]).max() > 0 and np.sign(adam[:, 1]).min() < 0  # past both axes
    final = result.loss[-1]
    assert final[col["adam"]] > max(final[col["gd"]], final[col["momentum"]])


def test_plateau():
    result, col = race(SCENARIOS["plateau"])
    assert result.loss[-1, col["gd"]] > 1.0  # still up on the shoulder
    assert result.loss[-1, col["rmsprop"]] < -0.5
    assert result.loss[-1, col["adam"]] < -0.99  # at the bottom of the funnel (f = -1)
    mean_step = np.linalg.norm(result.step, axis=2).mean(axis=0)
    assert mean_step[col["gd"]] < mean_step[col["adam"]] / 2


def test_plateau_story_quotes_the_engine():
    """The plateau's numbers are the run's: GD's share of the way to the minimum (not
    "hardly moves"), RMSProp's gap above the minimum, and why it stays there: per
    coordinate its steps keep the length lr (|Δ| = lr·|g|/√v ≈ lr once v ≈ g²) and flip
    sign every step, while Adam's (the average m of flipping gradients cancels) shrink."""
    plateau = SCENARIOS["plateau"]
    text = plateau.what_to_watch
    steps, covered = (float(v) for v in re.search(
        r"in (\d+) steps it covers only (\d+) % of the way", text).groups())
    gap, lr = (float(v) for v in re.search(
        r"stays ([\d.]+) above the minimum: each of its steps is about lr = ([\d.]+) long",
        text).groups())
    surface = SURFACES[plateau.surface]
    (best,) = [m for m in surface.minima if m.kind == "global"]
    result, col = race(plateau)
    assert steps == plateau.steps
    path = result.path[:, col["gd"]]
    distance = [np.hypot(*(p - (best.x, best.y))) for p in (path[0], path[-1])]
    assert abs(100 * (1 - distance[1] / distance[0]) - covered) < 0.5
    assert result.loss[-1, col["gd"]] > 1.0  # "still up on the shoulder"
    assert abs(result.loss[-1, col["rmsprop"]] - best.f - gap) < 0.0005
    assert lr == plateau.settings_for("rmsprop")["lr"]
    last = result.step[-50:, col["rmsprop"]]  # (50, 2) per-coordinate steps
    assert np.allclose(np.abs(last), lr, rtol=0.02)
    assert np.all(last[1:] * last[:-1] < 0)  # back and forth, in both coordinates
    adam = np.linalg.norm(result.step[-50:, col["adam"]], axis=1)
    assert adam.max() < lr / 50 and result.loss[-1, col["adam"]] - best.f < 1e-3


def test_local_minimum():
    scenario = SCENARIOS["local_minimum"]
    surface = SURFACES[scenario.surface]
    result, col = race(scenario)
    kinds = {}
    for key, b in col.items():
        index, distance = nearest_minimum(surface, result.path[-1, b])
        assert distance < 1e-3
        kinds[key] = surface.minima[index].kind
    assert kinds == {"gd": "local", "momentum": "global"}
    assert result.path[-1, col["gd"], 0] > 0 > result.path[-1, col["momentum"], 0]


def test_too_large_learning_rate():
    scenario = SCENARIOS["lr_too_large"]
    surface = SURFACES[scenario.surface]
    result, col = race(scenario)
    b = col["gd"]
    kappa = surface.params["kappa"]
    lr = scenario.overrides("gd")["lr"]
    assert abs(1 - lr * kappa) > 1  # the unstable factor the text quotes
    assert lr > 2 / kappa
    y = result.path[:, b, 1]
    np.testing.assert_allclose(y[1:11] / y[:10], 1 - lr * kappa, rtol=1e-12)
    assert 0 < result.diverged_at[b] < scenario.steps
    # after divergence the run is frozen at its last finite point
    last = result.diverged_at[b] - 1
    np.testing.assert_array_equal(result.path[-1, b], result.path[last, b])
    for key in ("momentum", "adam"):
        assert result.loss[-1, col[key]] < 1e-3


def test_too_small_learning_rate():
    scenario = SCENARIOS["lr_too_small"]
    result, col = race(scenario)
    lr = scenario.overrides("gd")["lr"]
    start_distance = np.hypot(*scenario.start)
    # on x² + y² GD multiplies the distance by (1 - 2 lr) per step
    expected = start_distance * (1 - 2 * lr) ** scenario.steps
    gd_distance = np.hypot(*result.path[-1, col["gd"]])
    np.testing.assert_allclose(gd_distance, expected, rtol=1e-9)
    assert gd_distance > 0.5 * start_distance
    for key in ("momentum", "adam"):
        assert np.hypot(*result.path[-1, col[key]]) < 1e-3


def test_saddle():
    scenario = SCENARIOS["saddle"]
    result, col = race(scenario)
    gd = result.path[-1, col["gd"]]
    assert abs(gd[1]) < 0.1 and np.hypot(*gd) < 0.2  # parked next to the saddle point
    for key in ("momentum", "adam"):
        assert abs(result.path[-1, col[key], 1]) > 1.0  # escaped downhill along y
    # the advice "turn on gradient noise": noise pushes GD off the ridge much further
    noisy = [abs(race(scenario, noise=1.0, seed=seed)[0].path[-1, col["gd"], 1])
             for seed in range(5)]
    assert np.mean(noisy) > 5 * abs(gd[1])


def test_rosenbrock():
    result, col = race(SCENARIOS["rosenbrock"])
    assert result.loss[-1, col["adam"]] < result.loss[-1, col["gd"]] / 50
    distance = np.linalg.norm(result.path[-1] - np.array([1.0, 1.0]), axis=1)
    assert distance[col["adam"]] < distance[col["gd"]] / 3
    # GD did drop into the valley: its loss fell a lot from the start
    assert result.loss[-1, col["gd"]] < result.loss[0, col["gd"]] / 2


def test_rastrigin():
    scenario = SCENARIOS["rastrigin"]
    surface = SURFACES[scenario.surface]
    result, col = race(scenario)
    index, distance = nearest_minimum(surface, result.path[-1, col["gd"]])
    # GD stays in the dimple nearest to its start: Rastrigin's minima sit near integers
    assert surface.minima[index].kind == "local" and distance < 1e-3
    np.testing.assert_allclose(result.path[-1, col["gd"]], np.round(scenario.start),
                               atol=0.05)
    assert result.loss[-1, col["momentum"]] < result.loss[-1, col["gd"]] / 5
    assert result.loss[-1, col["momentum"]] > 0  # ... but not the global minimum
    # "Gradient descent and Adam drop into the dimple nearest the start and stay"
    np.testing.assert_allclose(result.path[-1, col["adam"]], np.round(scenario.start),
                               atol=0.05)
    # "Momentum hops over four ridges to (0, 1), next to the global minimum but not in it"
    np.testing.assert_allclose(result.path[-1, col["momentum"]], (0.0, 1.0), atol=0.05)
    hops = abs(round(result.path[-1, col["momentum"], 0]) - round(scenario.start[0]))
    assert hops == 4
    index, _ = nearest_minimum(surface, result.path[-1, col["momentum"]])
    assert surface.minima[index].kind == "local"
    assert [p.kind for p in surface.minima].count("global") == 1  # one gold star


def test_adagrad_fades_below_rmsprop():
    scenario = SCENARIOS["adagrad_fades"]
    result, col = race(scenario)
    groups = {key: result.effective_lr[b] for key, b in col.items()}  # one run per group
    ada = groups["adagrad"][:, 0, :]  # (T+1, 2)
    rms = groups["rmsprop"][:, 0, :]
    # AdaGrad's effective rate only falls: lr / (sqrt(sum of g²) + eps), written out
    lr = scenario.overrides("adagrad")["lr"]
    g = result.grad[:-1, col["adagrad"]]
    eps = optimizers.OPTIMIZERS["adagrad"].defaults["eps"]
    expected = lr / (np.sqrt(np.cumsum(g**2, axis=0)) + eps)
    np.testing.assert_allclose(ada[1:], expected, rtol=1e-9)
    assert (np.diff(ada[1:], axis=0) <= 0).all()
    assert (ada[-1] < rms[-1] / 10).all()
    assert result.loss[-1, col["rmsprop"]] < result.loss[-1, col["adagrad"]] / 10
    # the words: AdaGrad "reaches the curved valley right beside its start and then hardly
    # moves (about 0.2 in 1000 steps, the loss still about 4)"
    path = result.path[:, col["adagrad"]]
    floor_gap = np.abs(path[:, 1] - path[:, 0] ** 2)  # Rosenbrock's valley floor: y = x²
    assert floor_gap[0] > 0.4 and floor_gap[-1] < 0.05 and floor_gap[200:].max() < 0.05
    assert 0.1 < np.linalg.norm(path[-1] - path[0]) < 0.3
    assert 3.5 < result.loss[-1, col["adagrad"]] < 4.5
    assert np.linalg.norm(result.step[-100:, col["adagrad"]], axis=1).max() < 1e-3
    # RMSProp "travels along the valley floor to within 0.4 of the minimum at (1, 1)"
    rms_path = result.path[:, col["rmsprop"]]
    assert np.linalg.norm(rms_path[-1] - (1.0, 1.0)) < 0.4
    assert np.abs(rms_path[500:, 1] - rms_path[500:, 0] ** 2).max() < 0.1


def test_the_words_quote_the_numbers_the_engine_gives():
    """The numbers and claims written in the stories are the engine's (a story that says
    Adam "heads almost straight for the centre" or that AdaGrad "slows down on the valley
    floor" near the minimum would fail here)."""
    ada = SCENARIOS["adagrad_fades"]
    travel, steps, loss, within = (float(v) for v in re.search(
        r"about ([\d.]+) in (\d+) steps, the loss still about ([\d.]+)\).*within ([\d.]+) of "
        r"the minimum at \(1, 1\)", ada.what_to_watch, re.S).groups())
    result, col = race(ada)
    path = result.path[:, col["adagrad"]]
    assert steps == ada.steps
    assert abs(np.linalg.norm(path[-1] - path[0]) - travel) < 0.05
    assert abs(result.loss[-1, col["adagrad"]] - loss) < 0.5
    assert np.linalg.norm(result.path[-1, col["rmsprop"]] - (1.0, 1.0)) < within

    zig = SCENARIOS["zigzag"].what_to_watch
    assert "straight for the centre" not in zig
    assert "farthest from the bottom of the three" in zig and "100 steps" in zig
    result, col = race(SCENARIOS["zigzag"])
    assert SCENARIOS["zigzag"].steps == 100
    assert np.argmax(result.loss[-1]) == col["adam"]

    ras = SCENARIOS["rastrigin"]
    assert "Momentum hops over four ridges to (0, 1)" in ras.what_to_watch
    result, col = race(ras)
    np.testing.assert_allclose(result.path[-1, col["momentum"]], (0.0, 1.0), atol=0.05)
