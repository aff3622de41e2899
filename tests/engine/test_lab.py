"""engine.lab: phase diagrams against single runs, and the closed-form stability regions
against the optimizers' own steps, eigenvalues and the measured divergence boundary."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import descent, expression, lab, optimizers
from engine.surfaces import SURFACES

QUADRATICS = {  # registry surfaces that are exact quadratics, and their Hessians
    "sphere": [[2.0, 0.0], [0.0, 2.0]],
    "elongated_bowl": [[1.0, 0.0], [0.0, 20.0]],
    "rotated_quadratic": [[50.5, -49.5], [-49.5, 50.5]],
    "saddle": [[2.0, 0.0], [0.0, -2.0]],
    "booth": [[10.0, 8.0], [8.0, 10.0]],
    "matyas": [[0.52, -0.48], [-0.48, 0.52]],
}


def test_second_axes_put_the_momentum_like_parameter_first():
    assert lab.second_axes("gd") == ("weight_decay",)
    assert lab.second_axes("momentum")[0] == "momentum"
    assert lab.second_axes("adam")[:2] == ("beta1", "beta2")
    assert lab.second_axes("rmsprop")[0] == "rho"
    assert "amsgrad" not in lab.second_axes("adam")  # a switch, not an axis
    for key in optimizers.OPTIMIZERS:
        assert "lr" not in lab.second_axes(key)


@pytest.mark.parametrize("key", list(SURFACES))
def test_quadratic_hessian_finds_exactly_the_quadratic_surfaces(key):
    hessian = lab.quadratic_hessian(SURFACES[key])
    if key in QUADRATICS:
        np.testing.assert_allclose(hessian, QUADRATICS[key], atol=1e-9)
    else:
        assert hessian is None


def test_quadratic_hessian_of_typed_formulas():
    surface = expression.parse("x**2 + 3*y**2 + x*y - 2*x + 1")
    np.testing.assert_allclose(lab.quadratic_hessian(surface), [[2, 1], [1, 6]], atol=1e-9)
    assert lab.quadratic_hessian(expression.parse("x**2 + y**4")) is None


# ----------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("key", lab.CLOSED_FORM_KEYS)
@pytest.mark.parametrize("lr,mu,wd", [(0.05, 0.9, 0.0), (0.3, 0.5, 0.2), (0.01, 0.0, 1.0)])
def test_iteration_matrix_is_the_optimizers_own_step(key, lr, mu, wd):
    lam = 3.0
    hyper = {"lr": lr, "weight_decay": wd} | ({} if key == "gd" else {"momentum": mu})
    opt = optimizers.make(key, **hyper)
    params = np.array([[1.3, -0.7]])
    state = opt.init(params)
    matrix = lab.iteration_matrix(key, lr, mu, lam + wd)
    vec = np.stack([params[0], np.zeros(2)])  # rows x, b; columns the two coordinates
    for _ in range(25):
        params, state = opt.step(params, lam * params, state)
        vec = matrix @ vec
        np.testing.assert_allclose(params[0], vec[0], rtol=1e-12, atol=1e-14)
        if key != "gd":
            np.testing.assert_allclose(state.buf[0], vec[1], rtol=1e-12, atol=1e-14)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(lab.CLOSED_FORM_KEYS),
       h=st.floats(1e-4, 8.0), mu=st.floats(0.0, 0.995), lam=st.floats(0.01, 100.0))
def test_closed_form_agrees_with_the_spectral_radius(key, h, mu, lam):
    """The inequality of the docstring against the eigenvalues of M (off the boundary)."""
    lr = h / lam
    limit = lab.stability_limit(key, lam, mu)
    if abs(lr / limit - 1.0) < 1e-6:
        return
    radius = np.abs(np.linalg.eigvals(lab.iteration_matrix(key, lr, mu, lam))).max()
    assert (radius < 1.0) == (lr < limit), (radius, lr, limit)


def test_stability_limits_are_the_written_formulas():
    assert lab.stability_limit("gd", 20.0) == pytest.approx(0.1)
    assert lab.stability_limit("gd", 20.0, weight_decay=5.0) == pytest.approx(2 / 25)
    assert lab.stability_limit("momentum", 20.0, 0.9) == pytest.approx(2 * 1.9 / 20)
    assert lab.stability_limit("nag", 20.0, 0.9) == pytest.approx(2 * 1.9 / 2.8 / 20)
    np.testing.assert_allclose(lab.stability_limit("momentum", 2.0, np.array([0.0, 0.5])),
                               [1.0, 1.5])
    assert lab.stability_limit("gd", -1.0) == np.inf
    with pytest.raises(ValueError, match="closed form"):
        lab.stability_limit("adam", 1.0)
    with pytest.raises(ValueError, match="momentum"):
        lab.stability_limit("momentum", 1.0, 1.0)


# ----------------------------------------------------------------------------- measured vs theory


CASES = [  # surface, optimizer, second axis, its range, lr range
    ("elongated_bowl", "momentum", "momentum", (0.0, 0.95), (1e-3, 1.0)),
    ("elongated_bowl", "nag", "momentum", (0.0, 0.95), (1e-3, 1.0)),
    ("elongated_bowl", "gd", "weight_decay", (0.0, 0.1), (1e-3, 1.0)),
    ("rotated_quadratic", "momentum", "momentum", (0.0, 0.9), (1e-4, 0.1)),
    ("booth", "momentum", "momentum", (0.0, 0.9), (1e-3, 0.5)),
    ("sphere", "gd", "weight_decay", (0.0, 0.1), (1e-2, 1.0)),
]


@pytest.mark.parametrize("surface_key,key,name,values_range,lr_range", CASES)
def test_measured_divergence_boundary_matches_the_closed_form(surface_key, key, name,
                                                             values_range, lr_range):
    surface = SURFACES[surface_key]
    lrs = lab.lr_values(*lr_range, 41)
    values = lab.axis_values(key, name, *values_range, 12)
    sweep = lab.phase_diagram(surface, key, lrs, name, values, surface.start, 500)
    curvature = float(np.linalg.eigvalsh(lab.quadratic_hessian(surface)).max())
    ratio = lrs[1] / lrs[0]  # one grid step on the log axis
    for i, value in enumerate(values):
        kwargs = {"weight_decay": value} if name == "weight_decay" else {"momentum": value}
        limit = lab.stability_limit(key, curvature, **kwargs)
        unstable = lrs > limit
        clear = (lrs > limit * ratio) | (lrs < limit / ratio)  # more than a cell away
        np.testing.assert_array_equal(sweep.diverged[i][clear], unstable[clear])
        if sweep.diverged[i].any():  # the measured boundary is within one cell of theory
            first = lrs[np.argmax(sweep.diverged[i])]
            assert limit / ratio <= first <= limit * ratio * ratio


def test_phase_diagram_cells_equal_single_runs():
    surface = SURFACES["rosenbrock"]
    lrs = lab.lr_values(1e-2, 0.3, 9)
    values = lab.axis_values("adam", "beta1", 0.0, 0.99, 5)
    sweep = lab.phase_diagram(surface, "adam", lrs, "beta1", values, surface.start, 300,
                              tol=1e-2, fixed={"beta2": 0.99})
    for i, j in [(0, 0), (2, 4), (4, 8), (3, 1)]:
        opt = optimizers.make("adam", lr=lrs[j], beta1=values[i], beta2=0.99)
        one = descent.run(surface, [descent.Run(opt, surface.start)], 300, record="path")
        # the same arithmetic; a scalar and a column of hyper-parameters may round apart
        assert sweep.final_loss[i, j] == pytest.approx(one.final_loss[0], rel=1e-9)
        assert sweep.diverged[i, j] == one.diverged[0]
        assert sweep.steps_to_tol[i, j] == one.steps_to_tolerance(1e-2, 0.0)[0]


def test_phase_diagram_marks_divergence_and_tolerance():
    surface = SURFACES["elongated_bowl"]
    sweep = lab.phase_diagram(surface, "gd", [0.05, 0.5], "weight_decay", [0.0], surface.start,
                              400, tol=1e-6)
    assert sweep.diverged.tolist() == [[False, True]]
    # GD at lr = 0.05 contracts x by 0.95 a step: f = ½x² ≈ 1.62·0.95^(2t) ≤ 1e-6 from t = 140
    assert sweep.steps_to_tol[0, 0] == 140
    assert sweep.steps_to_tol[0, 1] == -1
    assert sweep.momentum_name == "weight_decay"


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="lr"), "no float hyper-parameter"),
    (dict(steps=0), "steps"),
    (dict(steps=2001), "steps"),
    (dict(lrs=np.geomspace(1e-3, 1, 81)), "each axis"),
    (dict(lrs=np.geomspace(1e-3, 1, 80), values=np.linspace(0, 0.9, 80), steps=2000),
     "too much work"),
])
def test_phase_diagram_bounds(kwargs, match):
    args = dict(surface=SURFACES["sphere"], key="momentum", lrs=[0.1], name="momentum",
                values=[0.5], start=(1.0, 1.0), steps=10) | kwargs
    with pytest.raises(ValueError, match=match):
        lab.phase_diagram(**args)


def test_axis_values():
    np.testing.assert_allclose(lab.axis_values("momentum", "momentum", 0.0, 0.9, 4),
                               [0.0, 0.3, 0.6, 0.9])
    np.testing.assert_allclose(lab.axis_values("adam", "eps", 1e-8, 1e-2, 4),
                               [1e-8, 1e-6, 1e-4, 1e-2])
    with pytest.raises(ValueError, match="momentum must be"):
        lab.axis_values("momentum", "momentum", 0.0, 1.0, 4)
    with pytest.raises(ValueError):
        lab.lr_values(0.0, 1.0, 10)
