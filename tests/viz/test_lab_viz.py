"""viz.lab and viz.regression: the figures show exactly the engine's numbers, finite."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import descent, lab, regression, schedules
from engine.surfaces import SURFACES
from viz import lab as vl
from viz import regression as vr


def _decode(value):
    """Plotly 7 typed arrays {"dtype", "bdata", "shape"} -> lists; every number finite."""
    if isinstance(value, dict) and "bdata" in value:
        arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        if "shape" in value:
            arr = arr.reshape([int(n) for n in str(value["shape"]).split(",")])
        assert np.isfinite(arr).all() if arr.dtype.kind == "f" else True, "non-finite array"
        return arr.tolist()
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def finite_json(fig) -> dict:
    """The figure as the browser gets it: strict JSON (NaN or inf fail), typed arrays
    decoded (and checked finite)."""
    return _decode(json.loads(fig.to_json(),
                              parse_constant=lambda c: pytest.fail(f"{c} in figure")))


@pytest.fixture(scope="module")
def sweep():
    surface = SURFACES["elongated_bowl"]
    return lab.phase_diagram(surface, "momentum", lab.lr_values(1e-3, 1.0, 21), "momentum",
                             lab.axis_values("momentum", "momentum", 0.0, 0.9, 7),
                             surface.start, 300)


def traces(spec: dict, kind: str) -> list[dict]:
    return [tr for tr in spec["data"] if tr.get("type") == kind]


def test_phase_heatmap_is_the_engine_grid(sweep):
    limit = lab.stability_limit("momentum", 20.0, sweep.momenta)
    spec = finite_json(vl.phase_figure(sweep, color_by="loss", axis_label="μ", limit=limit,
                                       limit_label="theory", selected=(2, 3)))
    heat, overlay = traces(spec, "heatmap")[:2]
    z = np.array([[np.nan if v is None else v for v in row] for row in heat["z"]])
    gap = np.log10(np.maximum(sweep.final_loss - sweep.target_f, 1e-16))
    np.testing.assert_allclose(z[~sweep.diverged], gap[~sweep.diverged])
    assert np.isnan(z[sweep.diverged]).all()
    marks = np.array([[v is not None for v in row] for row in overlay["z"]])
    np.testing.assert_array_equal(marks, sweep.diverged)
    np.testing.assert_allclose(heat["x"], np.log10(sweep.lrs))
    # the theory line is log10 of the closed form, row by row
    line = next(tr for tr in traces(spec, "scatter") if tr.get("name") == "theory")
    np.testing.assert_allclose(line["x"], np.log10(limit))
    # the hover/click layer holds (lr, value, final loss) of every cell
    cells = next(tr for tr in traces(spec, "scatter") if tr.get("name") == "cells")
    custom = np.array(cells["customdata"]).reshape(7, 21, 3)
    np.testing.assert_allclose(custom[..., 0], np.broadcast_to(sweep.lrs, (7, 21)))
    np.testing.assert_allclose(custom[..., 1].T, np.broadcast_to(sweep.momenta, (21, 7)))
    np.testing.assert_allclose(custom[..., 2][~sweep.diverged],
                               sweep.final_loss[~sweep.diverged])


def test_steps_view_marks_unconverged_cells(sweep):
    spec = finite_json(vl.phase_figure(sweep, color_by="steps", axis_label="μ"))
    heat, unreached = traces(spec, "heatmap")[:2]
    z = np.array([[np.nan if v is None else v for v in row] for row in heat["z"]])
    ok = ~sweep.diverged & (sweep.steps_to_tol >= 0)
    np.testing.assert_array_equal(z[ok], sweep.steps_to_tol[ok])
    marks = np.array([[v is not None for v in row] for row in unreached["z"]])
    np.testing.assert_array_equal(marks, ~sweep.diverged & (sweep.steps_to_tol < 0))


@settings(max_examples=60, deadline=None)
@given(n_x=st.integers(2, 80), n_y=st.integers(2, 60), data=st.data())
def test_cell_at_finds_every_cell_centre(n_x, n_y, data):
    xs = np.log10(np.geomspace(1e-4, 1.0, n_x))
    ys = np.linspace(0.0, 0.99, n_y)
    i, j = data.draw(st.integers(0, n_y - 1)), data.draw(st.integers(0, n_x - 1))
    dx, dy = (xs[1] - xs[0]) * 0.4, (ys[1] - ys[0]) * 0.4  # anywhere inside the cell
    ox, oy = data.draw(st.floats(-1, 1)), data.draw(st.floats(-1, 1))
    assert vl.cell_at(xs[j] + ox * dx, ys[i] + oy * dy, xs, ys) == (i, j)


def test_basin_figure_colours_each_start_by_its_minimum():
    surface = SURFACES["two_wells"]
    maps = [descent.basin_map(surface, "gd", {"lr": 0.01}, 12, 300),
            descent.basin_map(surface, "momentum", {"lr": 0.01, "momentum": 0.9}, 12, 300)]
    spec = finite_json(vl.basin_figure(surface, maps, ["GD", "Momentum"]))
    heats = traces(spec, "heatmap")
    assert len(heats) == 2
    reached = sorted({int(v) for bm in maps for v in np.unique(bm.index) if v >= 0})
    for heat, bm in zip(heats, maps, strict=True):
        z = np.array(heat["z"])
        for k, m in enumerate(reached):  # one code per minimum, the same on both maps
            np.testing.assert_array_equal(z == k, bm.index == m)
        np.testing.assert_array_equal(z == len(reached) + 1, bm.diverged)
    # the legend names every reached minimum with its coordinates
    names = " ".join(str(tr.get("name")) for tr in spec["data"])
    for m in reached:
        assert f"{surface.minima[m].x:.4g}" in names


def test_schedule_figure_draws_base_times_multiplier():
    sched = schedules.make("step", step_size=10, gamma=0.5)
    curve = 0.2 * sched(np.arange(50))
    spec = finite_json(vl.schedule_figure({"step": curve}, {"step": "#000"}, base_lr=0.2))
    np.testing.assert_allclose(spec["data"][0]["y"], curve)
    assert curve[0] == 0.2 and curve[-1] == pytest.approx(0.2 * 0.5**4)


# ----------------------------------------------------------------------------- regression


@pytest.fixture(scope="module")
def trained():
    x, y = regression.make_data("linear", 40, 0.5, 0)
    runs = {m: regression.train("linear", x, y, "gd", {"lr": 0.05}, m, 10, (-2.0, 2.0))
            for m in (40, 8, 1)}
    return x, y, runs, regression.exact_minimum("linear", x, y)


def methods_of(runs):
    return [vr.Method(f"m={m}", "#000", "solid", r.path[:, 0], r.full_loss[:, 0],
                      r.updates_per_epoch) for m, r in runs.items()]


def test_contour_figure_draws_the_engine_paths_and_the_minimum(trained):
    x, y, runs, best = trained
    methods = methods_of(runs)
    box = vr.view_box(np.concatenate([m.path for m in methods] + [[[best.w, best.b]]]))
    ws, bs = np.linspace(*box[0], 40), np.linspace(*box[1], 30)
    gw, gb = np.meshgrid(ws, bs)
    grid = regression.loss("linear", x, y, np.stack([gw, gb], axis=-1))
    batch_grid = regression.loss("linear", x[:3], y[:3], np.stack([gw, gb], axis=-1))
    fig = vr.contour_figure(ws, bs, grid, methods, minimum=(best.w, best.b),
                            positions=[1, 2, 3],
                            batch=(batch_grid, runs[8].path[0, 0], runs[8].path[1, 0]))
    spec = finite_json(fig)
    for m in methods:
        path = next(tr for tr in spec["data"] if tr.get("name") == m.name)
        np.testing.assert_allclose(np.column_stack([path["x"], path["y"]]), m.path)
    star = next(tr for tr in spec["data"] if tr.get("marker", {}).get("symbol") == "star")
    assert (star["x"][0], star["y"][0]) == (pytest.approx(best.w), pytest.approx(best.b))
    contour = traces(spec, "contour")[0]
    assert np.argmin(np.array(contour["z"])) == np.argmin(grid)  # same bottom, log-shaded
    assert len(spec["layout"]["annotations"]) == 1  # the step of the shown batch


def test_view_box_holds_every_point():
    pts = np.random.default_rng(1).normal(size=(50, 2)) * [3, 0.1]
    (w0, w1), (b0, b1) = vr.view_box(pts)
    assert w0 < pts[:, 0].min() and w1 > pts[:, 0].max()
    assert b0 < pts[:, 1].min() and b1 > pts[:, 1].max() and b1 - b0 >= 1.0


def test_loss_curves_show_the_gap_to_the_minimum(trained):
    _, _, runs, best = trained
    spec = finite_json(vr.loss_curves_figure(methods_of(runs), best_loss=best.loss))
    per_epoch = [tr for tr in spec["data"] if tr.get("xaxis", "x") == "x"]
    for tr, run in zip(per_epoch, runs.values(), strict=True):
        np.testing.assert_allclose(tr["y"], np.maximum(run.full_loss[:, 0] - best.loss, 1e-16))
        np.testing.assert_allclose(tr["x"], np.arange(run.path.shape[0]) / run.updates_per_epoch)
    assert spec["layout"]["yaxis"]["type"] == "log"
    assert spec["layout"]["xaxis2"]["type"] == "log"


def test_data_figure_draws_the_fitted_sigmoid():
    x, y = regression.make_data("logistic", 30, 0.5, 2)
    spec = finite_json(vr.data_figure(x, y, "logistic", [("fit", "#000", "solid", 2.0, -1.0)]))
    line = spec["data"][1]
    expected = 1 / (1 + np.exp(-(2.0 * np.array(line["x"]) - 1.0)))
    np.testing.assert_allclose(line["y"], expected, rtol=1e-12)
    assert all(0 <= v <= 1 for v in line["y"]) and not math.isnan(line["y"][0])
