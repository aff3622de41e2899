"""Every bound on the work one request may cause, one test each: just past the cap the
engine refuses with a message naming the limit (before it allocates or computes anything
big), and the cap itself (or a value next to it, when running it would be slow) is
accepted. The pages never offer more than these (their sliders and inputs stop below);
the engine is the backstop that keeps a shared classroom server responsive."""

from __future__ import annotations

import numpy as np
import pytest

from engine import datasets, descent, expression, mlp, optimizers
from engine.surfaces import SURFACES

BOWL = SURFACES["sphere"]


def gd_run(n: int = 1, lr: float = 0.1) -> descent.Run:
    return descent.Run(optimizers.make("gd", lr=lr), np.zeros((n, 2)) + 1.0)


# ----------------------------------------------------------------------------- descent


def test_steps_per_race_are_capped():
    ok = descent.run(BOWL, [gd_run()], descent.MAX_STEPS, record="final")
    assert ok.final_position.shape == (1, 2)
    with pytest.raises(ValueError, match=rf"steps must be an integer in \[0, "
                                         rf"{descent.MAX_STEPS}\]"):
        descent.run(BOWL, [gd_run()], descent.MAX_STEPS + 1, record="final")


def test_runs_times_steps_are_capped():
    runs = descent.MAX_WORK // 1000 + 1  # x 1000 steps: one unit over the cap
    with pytest.raises(ValueError, match=f"too much work: {runs} runs x 1000 steps"):
        descent.run(BOWL, [gd_run(runs)], 1000, record="final")


def test_runs_per_call_are_capped_even_without_steps():
    descent.run(BOWL, [gd_run(descent.MAX_BATCH)], 0, record="final")
    with pytest.raises(ValueError, match=f"too many runs: {descent.MAX_BATCH + 1:,}"):
        descent.run(BOWL, [gd_run(descent.MAX_BATCH + 1)], 0, record="final")


def test_recorded_optimizer_states_are_capped():
    descent.run(BOWL, [gd_run(descent.MAX_FULL_BATCH)], 3, record="full")
    with pytest.raises(ValueError, match=f"at most {descent.MAX_FULL_BATCH} runs"):
        descent.run(BOWL, [gd_run(descent.MAX_FULL_BATCH + 1)], 3, record="full")


def test_recorded_paths_are_capped():
    runs = descent.MAX_PATH_WORK // 1001 + 1
    with pytest.raises(ValueError, match=r'record="path" allows runs x \(steps\+1\)'):
        descent.run(BOWL, [gd_run(runs)], 1000, record="path")


def test_learning_rate_sweep_size_is_capped_before_the_grid_is_built():
    side = int(np.sqrt(descent.MAX_BATCH)) + 1  # side² > MAX_BATCH
    lrs = np.linspace(1e-3, 1e-1, side)
    with pytest.raises(ValueError, match=f"too many runs: {side:,} learning rates"):
        descent.sweep_lr_momentum(BOWL, "momentum", lrs, lrs, (1.0, 1.0), 10)
    small = descent.sweep_lr_momentum(BOWL, "momentum", lrs[:3], [0.0, 0.9], (1.0, 1.0), 10)
    assert small.final_loss.shape == (2, 3)


def test_basin_map_grid_is_capped():
    with pytest.raises(ValueError, match=r"grid_n must be an integer in \[2, 1000\]"):
        descent.basin_map(BOWL, "gd", {"lr": 0.1}, 1001, 10)


# ----------------------------------------------------------------------------- networks


def test_parameters_per_network_are_capped():
    with pytest.raises(ValueError, match=f"the limit is {mlp.MAX_PARAMS:,}"):
        mlp.Network(sizes=(2, 400, 400, 1))
    assert mlp.Network(sizes=(2, 16, 16, 16, 16, 1)).n_params < mlp.MAX_PARAMS


def test_networks_per_call_are_capped():
    net = mlp.Network(sizes=(2, 1), activation="tanh")
    assert net.init(mlp.MAX_NETWORKS).shape == (mlp.MAX_NETWORKS, net.n_params)
    with pytest.raises(ValueError, match=f"n_networks must be in 1 … {mlp.MAX_NETWORKS:,}"):
        net.init(mlp.MAX_NETWORKS + 1)
    X, y = datasets.make("xor")
    theta = np.zeros((mlp.MAX_NETWORKS + 1, net.n_params))
    with pytest.raises(ValueError, match=f"the limit is {mlp.MAX_NETWORKS:,}"):
        mlp.train(net, theta, X, y[:, None].astype(float), optimizers.make("gd", lr=0.1), 1)


def test_optimizer_steps_per_training_are_capped():
    net = mlp.Network(sizes=(2, 2, 1))
    X, y = datasets.make("xor_cloud", n=100, seed=0)
    Y = y[:, None].astype(float)
    opt = optimizers.make("gd", lr=0.1)
    epochs = mlp.MAX_TRAIN_STEPS // 100 + 1  # 100 single-sample steps per epoch
    with pytest.raises(ValueError, match=f"too many steps: {epochs:,} epochs x 100 "
                                         "mini-batches"):
        mlp.train(net, net.init(1), X, Y, opt, epochs, batch_size=1)
    done = mlp.train(net, net.init(1), X, Y, opt, 2, batch_size=1)
    assert done.loss.shape == (3, 1)


def test_work_per_training_is_capped():
    net = mlp.Network(sizes=(2, 4, 1))  # 17 parameters
    X, y = datasets.make("circle", n=2000, seed=0)
    Y = y[:, None].astype(float)
    per_epoch = 100 * 2000 * net.n_params
    epochs = mlp.MAX_TRAIN_WORK // per_epoch + 1
    with pytest.raises(ValueError, match=f"too much work: {epochs:,} epochs x 100 networks"):
        mlp.train(net, net.init(100), X, Y, optimizers.make("adam", lr=0.01), epochs)


# ----------------------------------------------------------------------------- data


def test_dataset_points_are_capped():
    X, _ = datasets.make("moons", n=datasets.MAX_POINTS, seed=1)
    assert X.shape == (datasets.MAX_POINTS, 2)
    with pytest.raises(datasets.DatasetError, match=f"n must be in 1 … "
                                                    f"{datasets.MAX_POINTS:,}"):
        datasets.make("moons", n=datasets.MAX_POINTS + 1)


def test_uploaded_rows_are_capped():
    rows = "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(datasets.MAX_ROWS))
    X, _ = datasets.parse_csv(rows.encode())
    assert len(X) == datasets.MAX_ROWS
    with pytest.raises(datasets.DatasetError, match=f"{datasets.MAX_ROWS:,} rows max"):
        datasets.parse_csv((rows + "1,1,1\n").encode())


def test_upload_bytes_are_capped_before_decoding():
    line = b"0.25,0.75,1\n"
    data = line * (datasets.MAX_UPLOAD_BYTES // len(line) + 1)
    with pytest.raises(datasets.DatasetError,
                       match=f"{len(data):,} bytes, {datasets.MAX_UPLOAD_BYTES:,} bytes max"):
        datasets.parse_csv(data)
    # the file is refused on its size alone: even bytes that are not text
    with pytest.raises(datasets.DatasetError, match="file too large"):
        datasets.parse_csv(b"\xff" * (datasets.MAX_UPLOAD_BYTES + 1))


# ----------------------------------------------------------------------------- formulas


def test_typed_formula_length_is_capped():
    at_cap = "x" + "+x" * ((expression.MAX_LENGTH - 1) // 2)
    assert len(at_cap) <= expression.MAX_LENGTH
    expression.parse(at_cap)
    with pytest.raises(expression.ExpressionError, match=f"the limit is "
                                                         f"{expression.MAX_LENGTH}"):
        expression.parse("x" * (expression.MAX_LENGTH + 1))
